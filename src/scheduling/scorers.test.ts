import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { EndpointState, SchedulingRequest, Scorer } from '../contracts/scheduling.ts';
import { LoraAffinityScorer, SessionAffinityScorer } from './affinity-scorers.ts';
import { EndpointSet } from './endpoint-set.ts';
import { HealthyFilter, LoraCapableFilter, NotSaturatedFilter } from './filters.ts';
import {
  InflightTokensScorer,
  KvCacheUtilizationScorer,
  LatencyScorer,
  QueueDepthScorer,
} from './load-scorers.ts';
import { ResourceWeightedScorer } from './resource-weighted-scorer.ts';

// Each scorer's behaviour on hand-set endpoint states, and the filters' fallbacks.

function pool(n: number): EndpointState[] {
  const set = new EndpointSet({ engine: 'vllm', staleAfterMs: 0 });
  for (let i = 0; i < n; i++) set.upsert({ url: `http://10.0.0.${i + 1}:8000` });
  return [...set.all()];
}

function request(over: Partial<SchedulingRequest> = {}): SchedulingRequest {
  return {
    id: 'r1',
    model: 'm',
    adapter: null,
    promptTokens: 100,
    tokenCost: 356,
    prefixHashes: [],
    prefixBlockChars: 64,
    sessionKey: null,
    priority: 'standard',
    tenant: 't',
    ...over,
  };
}

function scores(scorer: Scorer, eps: readonly EndpointState[], req = request()): number[] {
  const out = new Float64Array(eps.length);
  scorer.score(req, eps, out);
  return [...out].map((v) => Math.round(v * 1000) / 1000);
}

describe('load scorers', () => {
  it('queue-depth: min-max over waiting + sent-since-scrape; stale scores 0; all equal → 1', () => {
    const eps = pool(4);
    eps[0]!.waiting = 0;
    eps[1]!.waiting = 4;
    eps[2]!.waiting = 1;
    eps[2]!.dispatchedSinceScrape = 1;
    eps[3]!.stale = true;
    assert.deepEqual(scores(new QueueDepthScorer('q', 0), eps), [1, 0, 0.5, 0]);
    assert.deepEqual(scores(new QueueDepthScorer('q', 0), pool(3)), [1, 1, 1]);
  });

  it('queue-depth: running requests count at running_weight', () => {
    const eps = pool(2);
    eps[0]!.running = 10;
    assert.deepEqual(scores(new QueueDepthScorer('q', 0), eps), [1, 1]);
    assert.deepEqual(scores(new QueueDepthScorer('q', 0.5), eps), [0, 1]);
  });

  it('kv-cache-utilization: 1 − use, stale 0', () => {
    const eps = pool(3);
    eps[0]!.kvUsage = 0.25;
    eps[1]!.kvUsage = 0.9;
    eps[2]!.stale = true;
    assert.deepEqual(scores(new KvCacheUtilizationScorer('kv'), eps), [0.75, 0.1, 0]);
  });

  it('inflight-tokens and latency: fewer is better, no observation is neutral', () => {
    const eps = pool(3);
    eps[0]!.inFlightTokens = 1000;
    eps[1]!.inFlightTokens = 3000;
    assert.deepEqual(scores(new InflightTokensScorer('t'), eps), [0.667, 0, 1]);
    eps[0]!.ttftEwmaMs = 100;
    eps[1]!.ttftEwmaMs = 300;
    assert.deepEqual(scores(new LatencyScorer('l', 'ttft'), eps), [1, 0, 0.5]);
    eps[0]!.latencyEwmaMs = 900;
    eps[1]!.latencyEwmaMs = 500;
    assert.deepEqual(scores(new LatencyScorer('l', 'e2e'), eps), [0, 1, 0.5]);
  });

  it('resource-weighted: the factors blend, free memory scales by cache size', () => {
    const eps = pool(2);
    // A big card half full has more room than a small card a quarter full.
    Object.assign(eps[0]!, { kvBlocks: 10_000, blockSize: 16, kvUsage: 0.5, ttftEwmaMs: 200 });
    Object.assign(eps[1]!, { kvBlocks: 2_000, blockSize: 16, kvUsage: 0.25, ttftEwmaMs: 100 });
    const f = { kvUtilization: 0.4, freeMemory: 0.3, latency: 0.3, queue: 0, inflightTokens: 0 };
    const s = scores(new ResourceWeightedScorer('r', f), eps);
    // e0: 0.4·0.5 + 0.3·1 + 0.3·0 = 0.5; e1: 0.4·0.75 + 0.3·(24000/80000) + 0.3·1 = 0.69
    assert.deepEqual(s, [0.5, 0.69]);
    eps[1]!.stale = true;
    assert.deepEqual(scores(new ResourceWeightedScorer('r', f), eps), [0.5, 0.3]);
  });
});

describe('affinity scorers', () => {
  it('lora-affinity: loaded 1, room 0.8, queued 0.6, full 0; no adapter → all 1', () => {
    const eps = pool(4);
    Object.assign(eps[0]!, { runningLoras: ['a'], maxLoras: 2 });
    Object.assign(eps[1]!, { runningLoras: ['b'], maxLoras: 2 });
    Object.assign(eps[2]!, { runningLoras: ['b'], waitingLoras: ['a'], maxLoras: 2 });
    Object.assign(eps[3]!, { runningLoras: ['b', 'c'], maxLoras: 2 });
    assert.deepEqual(scores(new LoraAffinityScorer('l'), eps, request({ adapter: 'a' })), [1, 0.8, 0.6, 0]);
    assert.deepEqual(scores(new LoraAffinityScorer('l'), eps), [1, 1, 1, 1]);
  });

  it('session-affinity: stays on the holder until it saturates, then moves', () => {
    const eps = pool(3);
    const s = new SessionAffinityScorer('s', {
      maxSessions: 10,
      thresholds: { queueDepth: 5, kvUsage: 0.9 },
    });
    const req = request({ sessionKey: 'conv-1' });
    assert.deepEqual(scores(s, eps, req), [0, 0, 0]);
    s.onPicked(req, eps[1]!);
    assert.deepEqual(scores(s, eps, req), [0, 1, 0]);
    assert.deepEqual(scores(s, eps, request({ sessionKey: 'other' })), [0, 0, 0]);
    eps[1]!.waiting = 5; // saturated: no preference, the others decide
    assert.deepEqual(scores(s, eps, req), [0, 0, 0]);
    s.onPicked(req, eps[2]!);
    assert.equal(s.holder('conv-1'), eps[2]!.id);
  });

  it('session-affinity: bounded, least recently used session evicted first', () => {
    const eps = pool(1);
    const s = new SessionAffinityScorer('s', { maxSessions: 2, thresholds: { queueDepth: 5, kvUsage: 0.9 } });
    s.onPicked(request({ sessionKey: 'a' }), eps[0]!);
    s.onPicked(request({ sessionKey: 'b' }), eps[0]!);
    s.onPicked(request({ sessionKey: 'a' }), eps[0]!); // a is now the most recent
    s.onPicked(request({ sessionKey: 'c' }), eps[0]!);
    assert.equal(s.holder('b'), undefined);
    assert.equal(s.holder('a'), eps[0]!.id);
    assert.equal(s.holder('c'), eps[0]!.id);
  });
});

describe('filters', () => {
  it('healthy drops unhealthy (and stale when asked); empty unless fallback', () => {
    const eps = pool(3);
    eps[0]!.health = 'unhealthy';
    eps[1]!.stale = true;
    const out: EndpointState[] = [];
    new HealthyFilter('h', { dropStale: false, fallback: false }).filter(request(), eps, out);
    assert.deepEqual(out, [eps[1], eps[2]]);
    out.length = 0;
    new HealthyFilter('h', { dropStale: true, fallback: false }).filter(request(), eps, out);
    assert.deepEqual(out, [eps[2]]);
    out.length = 0;
    eps[2]!.health = 'unhealthy';
    new HealthyFilter('h', { dropStale: true, fallback: true }).filter(request(), eps, out);
    assert.equal(out.length, 3);
  });

  it('not-saturated keeps endpoints with room, or all when none has', () => {
    const eps = pool(3);
    eps[0]!.waiting = 9;
    eps[1]!.kvUsage = 0.95;
    const f = new NotSaturatedFilter('n', { queueDepth: 5, kvUsage: 0.9 });
    const out: EndpointState[] = [];
    f.filter(request(), eps, out);
    assert.deepEqual(out, [eps[2]]);
    eps[2]!.stale = true;
    out.length = 0;
    f.filter(request(), eps, out);
    assert.equal(out.length, 3);
  });

  it('lora-capable keeps endpoints with the adapter or room for it', () => {
    const eps = pool(3);
    Object.assign(eps[0]!, { runningLoras: ['x', 'y'], maxLoras: 2 });
    Object.assign(eps[1]!, { runningLoras: ['a', 'y'], maxLoras: 2 });
    Object.assign(eps[2]!, { runningLoras: ['x'], maxLoras: 2 });
    const out: EndpointState[] = [];
    new LoraCapableFilter('l').filter(request({ adapter: 'a' }), eps, out);
    assert.deepEqual(out, [eps[1], eps[2]]);
  });
});
