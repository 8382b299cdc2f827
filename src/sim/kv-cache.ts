// The paged KV cache: a fixed pool of blocks with reference counts, and automatic prefix caching.
// As in vLLM's V1 block pool, every block with no reference sits in one free queue ordered by release
// time; allocation takes the front (least recently released) and evicts the block's cached hash, if
// any. A cached block that is free can be revived by a prefix hit, which takes it out of the queue.
// Sequences release their blocks tail first, so the shared prefix of a prompt outlives its unique end.
// Invariant: free count + blocks with refCount > 0 = numBlocks.

const NONE = -1;

export class KvCache {
  readonly numBlocks: number;
  readonly blockSize: number;
  private readonly prefixCaching: boolean;
  private readonly refCount: Int32Array;
  private readonly hashOf: Float64Array;
  private readonly prev: Int32Array;
  private readonly next: Int32Array;
  private readonly cached = new Map<number, number>();
  private head = NONE;
  private tail = NONE;
  private free = 0;

  constructor(numBlocks: number, blockSize: number, prefixCaching = true) {
    this.numBlocks = numBlocks;
    this.blockSize = blockSize;
    this.prefixCaching = prefixCaching;
    this.refCount = new Int32Array(numBlocks);
    this.hashOf = new Float64Array(numBlocks).fill(NONE);
    this.prev = new Int32Array(numBlocks).fill(NONE);
    this.next = new Int32Array(numBlocks).fill(NONE);
    for (let id = 0; id < numBlocks; id++) this.append(id);
  }

  get numFree(): number {
    return this.free;
  }

  /** Fraction of blocks held by sequences (vLLM: 1 − free/total); cached free blocks count as free. */
  get usage(): number {
    return 1 - this.free / this.numBlocks;
  }

  /** Blocks whose content is in the prefix cache (held or free). */
  get numCached(): number {
    return this.cached.size;
  }

  /** Ids of the leading blocks of `hashes` found in the cache, at most `max`. No side effects. */
  matchPrefix(hashes: readonly number[], max: number): number[] {
    const ids: number[] = [];
    if (!this.prefixCaching) return ids;
    const n = Math.min(hashes.length, max);
    for (let i = 0; i < n; i++) {
      const id = this.cached.get(hashes[i] ?? NONE);
      if (id === undefined) break;
      ids.push(id);
    }
    return ids;
  }

  /** Whether `n` new blocks fit after reviving the given prefix hits. */
  canAllocate(n: number, hits: readonly number[]): boolean {
    let revived = 0;
    for (const id of hits) if (this.refCount[id] === 0) revived++;
    return this.free - revived >= n;
  }

  /** Take a reference on cached blocks (prefix hits). */
  touch(ids: readonly number[]): void {
    for (const id of ids) {
      if (this.refCount[id] === 0) this.unlink(id);
      this.refCount[id] = (this.refCount[id] ?? 0) + 1;
    }
  }

  /** Allocate `n` fresh blocks into `out`, or return false (allocating nothing) when too few are free. */
  allocate(n: number, out: number[]): boolean {
    if (n > this.free) return false;
    for (let k = 0; k < n; k++) {
      const id = this.head;
      this.unlink(id);
      const hash = this.hashOf[id] ?? NONE;
      if (hash !== NONE) {
        if (this.cached.get(hash) === id) this.cached.delete(hash);
        this.hashOf[id] = NONE;
      }
      this.refCount[id] = 1;
      out.push(id);
    }
    return true;
  }

  /** Drop one reference on each block, last block first; blocks reaching zero join the free queue. */
  release(ids: readonly number[]): void {
    for (let k = ids.length - 1; k >= 0; k--) {
      const id = ids[k] ?? NONE;
      const rc = (this.refCount[id] ?? 0) - 1;
      this.refCount[id] = rc;
      if (rc === 0) this.append(id);
    }
  }

  /** Record a full block's hash so later prompts with the same prefix can reuse it. */
  register(id: number, hash: number): void {
    if (!this.prefixCaching || this.hashOf[id] !== NONE || this.cached.has(hash)) return;
    this.hashOf[id] = hash;
    this.cached.set(hash, id);
  }

  private append(id: number): void {
    this.prev[id] = this.tail;
    this.next[id] = NONE;
    if (this.tail === NONE) this.head = id;
    else this.next[this.tail] = id;
    this.tail = id;
    this.free++;
  }

  private unlink(id: number): void {
    const p = this.prev[id] ?? NONE;
    const n = this.next[id] ?? NONE;
    if (p === NONE) this.head = n;
    else this.next[p] = n;
    if (n === NONE) this.tail = p;
    else this.prev[n] = p;
    this.prev[id] = NONE;
    this.next[id] = NONE;
    this.free--;
  }
}
