// Chained hashes over fixed-size character blocks of a prompt, as GIE's approximate prefix scorer
// computes them: the chain starts from a hash of the model (different models share no cache), and
// block i's hash covers its characters and block i−1's hash, so equal hashes at position i mean equal
// prompts up to the end of block i. A trailing partial block is not hashed (engines cache full blocks
// only). The gateway does not tokenise for this: 64 characters ≈ vLLM's 16-token block at ~4 chars
// per token. Text is fed in pieces (message by message) without being joined into one string.
//
// Each block is hashed with two 32-bit multiply-xor lanes (cyrb53-style) and the next block is seeded
// with both lanes (64 bits of chain state). The value handed out per block is 30 bits of it: a small
// integer that V8 keeps unboxed (a Smi), so index lookups allocate nothing. At 30 bits a lookup in an
// index of n entries is a false hit with probability n / 2^30 (~1e-5 at 10k entries): harmless for an
// index that is an estimate anyway.

const KEY_MASK = 0x3fffffff;

export class BlockHasher {
  private readonly blockChars: number;
  private readonly maxBlocks: number;
  private h1 = 0;
  private h2 = 0;
  private filled = 0;
  private p1 = 0;
  private p2 = 0;
  private chars = 0;
  private out: number[] = [];

  constructor(blockChars: number, maxBlocks: number) {
    this.blockChars = blockChars;
    this.maxBlocks = maxBlocks;
  }

  /** Start a new prompt for `model`. */
  reset(model: string): void {
    this.out = [];
    this.chars = 0;
    this.p1 = 0;
    this.p2 = 0;
    this.begin();
    for (let i = 0; i < model.length; i++) {
      const c = model.charCodeAt(i);
      this.h1 = Math.imul(this.h1 ^ c, 2654435761);
      this.h2 = Math.imul(this.h2 ^ c, 1597334677);
    }
    this.finish();
    this.begin();
  }

  /** Characters fed since reset (all of them, also past maxBlocks). */
  get length(): number {
    return this.chars;
  }

  feed(text: string): void {
    this.chars += text.length;
    if (this.out.length >= this.maxBlocks) return;
    let h1 = this.h1;
    let h2 = this.h2;
    let filled = this.filled;
    for (let i = 0; i < text.length; i++) {
      const c = text.charCodeAt(i);
      h1 = Math.imul(h1 ^ c, 2654435761);
      h2 = Math.imul(h2 ^ c, 1597334677);
      if (++filled === this.blockChars) {
        this.h1 = h1;
        this.h2 = h2;
        this.out.push(this.finish());
        if (this.out.length >= this.maxBlocks) return;
        this.begin();
        h1 = this.h1;
        h2 = this.h2;
        filled = 0;
      }
    }
    this.h1 = h1;
    this.h2 = h2;
    this.filled = filled;
  }

  /** The block hashes of everything fed since reset. The array is handed over, not reused. */
  take(): number[] {
    const out = this.out;
    this.out = [];
    return out;
  }

  private begin(): void {
    this.h1 = 0xdeadbeef ^ this.p1;
    this.h2 = 0x41c6ce57 ^ this.p2;
    this.filled = 0;
  }

  /** Close the current block: its lanes become the chain state; returns the block's key. */
  private finish(): number {
    let h1 = this.h1;
    let h2 = this.h2;
    h1 = Math.imul(h1 ^ (h1 >>> 16), 2246822507);
    h1 ^= Math.imul(h2 ^ (h2 >>> 13), 3266489909);
    h2 = Math.imul(h2 ^ (h2 >>> 16), 2246822507);
    h2 ^= Math.imul(h1 ^ (h1 >>> 13), 3266489909);
    this.p1 = h1;
    this.p2 = h2;
    return (h1 ^ (h2 >>> 7)) & KEY_MASK;
  }
}

/** Block hashes of one text (tests and simple callers). */
export function hashPrompt(model: string, text: string, blockChars = 64, maxBlocks = 256): number[] {
  const h = new BlockHasher(blockChars, maxBlocks);
  h.reset(model);
  h.feed(text);
  return h.take();
}
