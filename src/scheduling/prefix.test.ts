import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { EndpointState, SchedulingRequest } from '../contracts/scheduling.ts';
import { PrefixCacheScorer } from './affinity-scorers.ts';
import { EndpointSet } from './endpoint-set.ts';
import { BlockHasher, hashPrompt } from './prefix-hash.ts';
import { PrefixIndex } from './prefix-index.ts';

// Chained block hashes, the per-endpoint LRU index and the prefix-cache scorer built on them.

const SYSTEM = 'You are a helpful assistant for ACME Corp. Answer briefly and cite the manual. '.repeat(8);

function pool(n: number): { set: EndpointSet; eps: EndpointState[] } {
  const set = new EndpointSet({ engine: 'vllm', staleAfterMs: 0 });
  for (let i = 0; i < n; i++) set.upsert({ url: `http://10.0.1.${i + 1}:8000` });
  return { set, eps: [...set.all()] };
}

function request(hashes: number[]): SchedulingRequest {
  return {
    id: 'r',
    model: 'm',
    adapter: null,
    promptTokens: 0,
    tokenCost: 0,
    prefixHashes: hashes,
    prefixBlockChars: 64,
    sessionKey: null,
    priority: 'standard',
    tenant: 't',
  };
}

function match(index: PrefixIndex, hashes: number[], eps: readonly EndpointState[]): number[] {
  const out = new Float64Array(eps.length);
  index.match(hashes, eps, out);
  return [...out];
}

describe('prefix block hashes', () => {
  it('are chained: a shared prefix gives the same leading hashes, then they diverge', () => {
    const qa = 'What is the warranty period for the X100 vacuum cleaner? '.repeat(3);
    const qb = 'How do I reset the router? Please give me the exact steps. '.repeat(3);
    const a = hashPrompt('m', SYSTEM + qa);
    const b = hashPrompt('m', SYSTEM + qb);
    const shared = Math.floor(SYSTEM.length / 64);
    assert.deepEqual(a.slice(0, shared), b.slice(0, shared));
    assert.notEqual(a[shared], b[shared]);
    assert.notEqual(a[shared + 1], undefined);
    assert.notEqual(a[shared + 1], b[shared + 1]);
    assert.equal(a.length, Math.floor((SYSTEM.length + qa.length) / 64)); // trailing partial block dropped
  });

  it('depend on the model, on the previous block, and stop at maxBlocks', () => {
    assert.notDeepEqual(hashPrompt('m1', SYSTEM), hashPrompt('m2', SYSTEM));
    const x = 'x'.repeat(64);
    const h = hashPrompt('m', x + x);
    assert.notEqual(h[0], h[1], 'equal blocks at different positions hash differently');
    assert.equal(hashPrompt('m', SYSTEM, 64, 3).length, 3);
    for (const v of h) assert.ok(Number.isSafeInteger(v) && v >= 0);
  });

  it('give the same result however the text is split into pieces', () => {
    const h = new BlockHasher(64, 256);
    h.reset('m');
    for (let i = 0; i < SYSTEM.length; i += 37) h.feed(SYSTEM.slice(i, i + 37));
    assert.equal(h.length, SYSTEM.length);
    assert.deepEqual(h.take(), hashPrompt('m', SYSTEM));
  });
});

describe('prefix index', () => {
  it('matches the longest held prefix per endpoint', () => {
    const { eps } = pool(3);
    const index = new PrefixIndex();
    const long = hashPrompt('m', SYSTEM + 'q1 '.repeat(60));
    const other = hashPrompt('m', 'something else entirely '.repeat(20));
    index.add(long.slice(0, 4), eps[0]!, 1000);
    index.add(long, eps[1]!, 1000);
    index.add(other, eps[2]!, 1000);
    assert.deepEqual(match(index, long, eps), [4, long.length, 0]);
  });

  it('evicts least recently used blocks, tail blocks before head blocks', () => {
    const { eps } = pool(1);
    const index = new PrefixIndex();
    const a = hashPrompt('m', SYSTEM + 'a'.repeat(256)); // shared head, unique tail
    index.add(a, eps[0]!, a.length);
    const b = hashPrompt('m', SYSTEM + 'b'.repeat(256));
    index.add(b, eps[0]!, a.length); // b's head is a's head: only b's 4 tail blocks are new
    assert.equal(index.size(eps[0]!.slot), a.length);
    const shared = Math.floor(SYSTEM.length / 64);
    // a's unique tail was the oldest and went first; the shared head survives.
    assert.deepEqual(match(index, a, eps), [shared]);
    assert.deepEqual(match(index, b, eps), [b.length]);
  });

  it('forgets a slot that another endpoint took over', () => {
    const { set, eps } = pool(2);
    const index = new PrefixIndex();
    const h = hashPrompt('m', SYSTEM);
    index.add(h, eps[1]!, 1000);
    set.remove(eps[1]!.id);
    set.upsert({ url: 'http://10.0.1.99:8000' });
    const newcomer = set.get('http://10.0.1.99:8000')!;
    assert.equal(newcomer.slot, eps[1]!.slot);
    assert.deepEqual(match(index, h, [eps[0]!, newcomer]), [0, 0]);
    index.add(h.slice(0, 2), newcomer, 1000);
    assert.deepEqual(match(index, h, [eps[0]!, newcomer]), [0, 2]);
  });
});

describe('prefix-cache scorer', () => {
  it('scores the matched share of the prompt and learns from picks', () => {
    const { eps } = pool(2);
    const scorer = new PrefixCacheScorer('p', { lruCapacity: 1000, charsPerToken: 4 });
    const first = request(hashPrompt('m', SYSTEM + 'first question '.repeat(4)));
    const second = request(hashPrompt('m', SYSTEM + 'second question, different '.repeat(4)));
    const out = new Float64Array(2);
    scorer.score(first, eps, out);
    assert.deepEqual([...out], [0, 0]);
    scorer.onPicked(first, eps[1]!);
    scorer.score(second, eps, out);
    const shared = Math.floor(SYSTEM.length / 64);
    assert.equal(out[0], 0);
    assert.equal(out[1], shared / second.prefixHashes.length);
    scorer.score(request([]), eps, out);
    assert.deepEqual([...out], [0, 0]);
  });

  it('sizes each endpoint’s LRU from the engine’s reported KV cache', () => {
    const { eps } = pool(2);
    const scorer = new PrefixCacheScorer('p', { lruCapacity: 777, charsPerToken: 4 });
    Object.assign(eps[0]!, { kvBlocks: 8192, blockSize: 16 });
    const req = request([1]);
    assert.equal(scorer.capacity(req, eps[0]!), (8192 * 16 * 4) / 64);
    assert.equal(scorer.capacity(req, eps[1]!), 777);
  });
});
