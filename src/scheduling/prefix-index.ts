import type { EndpointView } from '../contracts/scheduling.ts';

// An approximate index of which endpoint holds which prompt prefix, built only from the gateway's own
// routing decisions (as GIE's prefix indexer): when a request is sent to an endpoint, its block hashes
// are recorded for that endpoint, in a per-endpoint cache whose capacity mirrors the engine's KV cache.
//
// Each endpoint's cache is a Map in insertion order with a second-chance ("clock") eviction: a lookup
// hit on add sets the entry's reference bit in place (no delete/re-insert, so no churn in the Map);
// eviction walks the entries oldest first with a live iterator (the clock hand), gives referenced ones
// a second chance at the end of the order and removes the first unreferenced one. That approximates
// LRU at O(1) per block with no rehashing storms. A request's blocks are inserted tail first, so its
// head blocks are the newest and leave last: like vLLM, which frees a sequence's blocks tail first,
// the shared prefix of many prompts outlives their unique ends.
//
// Matching probes each endpoint's cache: first block, last block, then a binary search between them.
// Block hashes are chained, so an endpoint holding block i held blocks 0..i−1 when it was recorded;
// eviction keeps that mostly true (heads are newest), and the index is an estimate anyway. A pick costs
// at most 2 + log2(blocks) lookups per endpoint, whatever the pool size or prompt length.

interface EndpointCache {
  /** The endpoint whose entries these are; a slot taken over by another endpoint starts afresh. */
  owner: string;
  /** hash → reference bit (1 = used since the hand last passed). */
  readonly entries: Map<number, number>;
  hand: MapIterator<number> | null;
}

export class PrefixIndex {
  private readonly caches: (EndpointCache | undefined)[] = [];

  /** Entries held for a slot (tests, metrics). */
  size(slot: number): number {
    return this.caches[slot]?.entries.size ?? 0;
  }

  /** For each endpoint, the number of leading `hashes` it probably holds, written to out[j]. */
  match(hashes: readonly number[], endpoints: readonly EndpointView[], out: Float64Array): void {
    const n = hashes.length;
    for (let j = 0; j < endpoints.length; j++) {
      const e = endpoints[j]!;
      const cache = this.caches[e.slot];
      if (n === 0 || cache === undefined || cache.owner !== e.id || !cache.entries.has(hashes[0]!)) {
        out[j] = 0;
        continue;
      }
      const entries = cache.entries;
      if (entries.has(hashes[n - 1]!)) {
        out[j] = n;
        continue;
      }
      let held = 1; // blocks [0, held) are held
      let missing = n - 1; // block `missing` is not
      while (missing - held > 0) {
        const mid = (held + missing) >>> 1;
        if (entries.has(hashes[mid]!)) held = mid + 1;
        else missing = mid;
      }
      out[j] = held;
    }
  }

  /** Record that `endpoint` now caches `hashes`; keep at most `capacity` entries for it. */
  add(hashes: readonly number[], endpoint: EndpointView, capacity: number): void {
    let cache = this.caches[endpoint.slot];
    if (cache === undefined) {
      cache = { owner: endpoint.id, entries: new Map(), hand: null };
      this.caches[endpoint.slot] = cache;
    } else if (cache.owner !== endpoint.id) {
      cache.owner = endpoint.id;
      cache.entries.clear();
      cache.hand = null;
    }
    const entries = cache.entries;
    for (let i = hashes.length - 1; i >= 0; i--) {
      const h = hashes[i]!;
      if (entries.has(h)) entries.set(h, 1);
      else entries.set(h, 0);
    }
    while (entries.size > capacity) this.evictOne(cache);
  }

  /** Forget everything a slot holds. */
  clear(slot: number): void {
    this.caches[slot] = undefined;
  }

  private evictOne(cache: EndpointCache): void {
    const entries = cache.entries;
    for (;;) {
      let step = cache.hand?.next();
      if (step === undefined || step.done === true) {
        cache.hand = entries.keys();
        step = cache.hand.next();
        if (step.done === true) return;
      }
      const h = step.value;
      const referenced = entries.get(h) === 1;
      entries.delete(h);
      if (!referenced) return;
      entries.set(h, 0); // second chance: to the back of the order, unreferenced
    }
  }
}
