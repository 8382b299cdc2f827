import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { KvCache } from './kv-cache.ts';

/** Allocate n blocks and register them under the given hashes, like a finished prefill. */
function fill(kv: KvCache, hashes: number[]): number[] {
  const ids: number[] = [];
  assert.ok(kv.allocate(hashes.length, ids));
  hashes.forEach((h, i) => kv.register(ids[i]!, h));
  return ids;
}

describe('sim KV cache', () => {
  it('finds the cached prefix of a chain, up to the first miss and the cap', () => {
    const kv = new KvCache(16, 16);
    const ids = fill(kv, [11, 12, 13]);
    assert.deepEqual(kv.matchPrefix([11, 12, 13, 14], 10), ids);
    assert.deepEqual(kv.matchPrefix([11, 99, 13], 10), ids.slice(0, 1));
    assert.deepEqual(kv.matchPrefix([11, 12, 13], 2), ids.slice(0, 2));
    assert.deepEqual(kv.matchPrefix([99], 10), []);
  });

  it('keeps freed blocks cached and revives them on a hit', () => {
    const kv = new KvCache(8, 16);
    const ids = fill(kv, [1, 2, 3]);
    kv.release(ids);
    assert.equal(kv.numFree, 8);
    assert.equal(kv.usage, 0);
    assert.equal(kv.numCached, 3);
    const hits = kv.matchPrefix([1, 2, 3], 3);
    assert.ok(kv.canAllocate(5, hits));
    assert.ok(!kv.canAllocate(6, hits), 'revived blocks are no longer free');
    kv.touch(hits);
    assert.equal(kv.numFree, 5);
    assert.equal(kv.usage, 3 / 8);
  });

  it('evicts the least recently released blocks first, a sequence tail before its prefix', () => {
    const kv = new KvCache(6, 16);
    const a = fill(kv, [1, 2, 3]);
    const b = fill(kv, [4, 5, 6]);
    kv.release(a); // queue: 3, 2, 1 (tail first)
    kv.release(b); // queue: 3, 2, 1, 6, 5, 4
    const out: number[] = [];
    assert.ok(kv.allocate(2, out));
    assert.deepEqual(kv.matchPrefix([1], 1).length, 1, 'prefix block of a survives');
    assert.deepEqual(kv.matchPrefix([1, 2, 3], 3).length, 1, 'tail blocks of a were evicted');
    assert.deepEqual(kv.matchPrefix([4, 5, 6], 3).length, 3, 'b, released later, is intact');
    assert.equal(kv.numCached, 4);
  });

  it('refuses an allocation that does not fit, allocating nothing', () => {
    const kv = new KvCache(4, 16);
    const held: number[] = [];
    assert.ok(kv.allocate(3, held));
    const out: number[] = [];
    assert.equal(kv.allocate(2, out), false);
    assert.deepEqual(out, []);
    assert.equal(kv.numFree, 1);
    kv.release(held);
    assert.ok(kv.allocate(4, out));
  });

  it('shares a block between sequences by reference count', () => {
    const kv = new KvCache(4, 16);
    const ids = fill(kv, [7]);
    kv.touch(kv.matchPrefix([7], 1)); // a second sequence hits
    kv.release(ids);
    assert.equal(kv.numFree, 3, 'still held by the second sequence');
    kv.release(ids);
    assert.equal(kv.numFree, 4);
  });

  it('does not cache when prefix caching is off', () => {
    const kv = new KvCache(4, 16, false);
    fill(kv, [1]);
    assert.deepEqual(kv.matchPrefix([1], 1), []);
  });
});
