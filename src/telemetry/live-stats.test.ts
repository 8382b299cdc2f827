import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { Identity, RequestContext } from '../contracts/request.ts';
import { bucketOf, bucketUpper, HIST_BUCKETS, quantile } from './live-histogram.ts';
import { LiveStats, NONE } from './live-stats.ts';

// The live aggregator against a fake clock: per-second series, windows, percentiles, bounded names,
// the decision ring and the explanation sampler.

const T0 = 1_700_000_000_000; // a whole second

function identity(id: string, team: string | null): Identity {
  return {
    id,
    kind: 'api-key',
    tenant: null,
    team,
    user: null,
    allowedModels: null,
    priority: null,
    metadata: {},
  };
}

function ctx(over: Partial<RequestContext> & { input?: number; output?: number } = {}): RequestContext {
  const { input = 10, output = 5, ...rest } = over;
  return {
    id: 'req-1',
    receivedAt: T0,
    model: 'm1',
    route: 'default',
    target: 'pool/m1',
    provider: 'pool',
    endpoint: 'http://e1',
    status: 200,
    outcome: 'ok',
    errorCode: null,
    stream: false,
    ttftMs: null,
    durationMs: 100,
    usage: {
      inputTokens: input,
      outputTokens: output,
      cachedInputTokens: 0,
      cacheWriteTokens: 0,
      reasoningTokens: 0,
    },
    costUsd: 0.001,
    identity: null,
    priority: 'standard',
    attempts: 1,
    explain: null,
    ...rest,
  } as RequestContext;
}

function clock(start = T0) {
  const c = { now: start, fn: () => c.now };
  return c;
}

describe('live histogram', () => {
  it('puts durations in √2-wide buckets and reads quantiles within a bucket width', () => {
    assert.equal(bucketOf(0), 0);
    assert.equal(bucketOf(Number.NaN), 0);
    assert.equal(bucketOf(1), 0);
    assert.equal(bucketOf(2), 2);
    assert.equal(bucketOf(1e12), HIST_BUCKETS - 1);
    for (let i = 1; i < HIST_BUCKETS - 1; i++) assert.equal(bucketOf(bucketUpper(i)), i);
    const h = new Uint32Array(HIST_BUCKETS);
    for (let ms = 1; ms <= 1000; ms++) h[bucketOf(ms)]! += 1;
    for (const [q, exact] of [
      [0.5, 500],
      [0.95, 950],
      [0.99, 990],
    ] as const) {
      const v = quantile(h, q)!;
      assert.ok(Math.abs(v - exact) / exact < 0.21, `q${q}: ${v} vs ${exact}`);
    }
    assert.equal(quantile(new Uint32Array(HIST_BUCKETS), 0.5), null);
  });
});

describe('LiveStats', () => {
  it('counts requests, errors, rejections, tokens and cost per model and second', () => {
    const c = clock();
    const live = new LiveStats({ clock: c.fn, seconds: 60 });
    for (let s = 0; s < 10; s++) {
      c.now = T0 + s * 1000 + 10;
      for (let i = 0; i < 4; i++) live.observe(ctx({ durationMs: 50 + i * 10 }));
      live.observe(ctx({ status: 502, outcome: 'error', errorCode: 'upstream_error' }));
      live.observe(ctx({ model: 'm2', status: 429, outcome: 'error', input: 0, output: 0, costUsd: null }));
    }
    c.now = T0 + 10_000 + 500;
    const snap = live.snapshot({ step: 1 });
    assert.equal(snap.observed, 60);
    assert.equal(snap.end, Math.floor(T0 / 1000) + 9);
    assert.equal(snap.totals.requests, 60);
    assert.equal(snap.totals.rps, 6);
    assert.equal(snap.totals.errors, 10);
    assert.equal(snap.totals.rejected, 10);
    assert.equal(snap.totals.error_rate, 0.1667);
    const m1 = snap.models.find((m) => m.name === 'm1')!;
    assert.equal(m1.summary.requests, 50);
    assert.equal(m1.summary.input_tokens, 500);
    assert.equal(m1.summary.output_tokens, 250);
    assert.equal(m1.summary.cost_usd, 0.05);
    assert.equal(m1.summary.ttft_ms.p50, null, 'no streams, no TTFT');
    const p50 = m1.summary.latency_ms.p50!;
    assert.ok(p50 > 50 && p50 < 110, `p50 ${p50}`);
    assert.equal(m1.series.requests.length, snap.seconds);
    assert.deepEqual(m1.series.requests.slice(-10), Array(10).fill(5));
    assert.equal(
      m1.series.requests.slice(0, -10).reduce((a, b) => a + b, 0),
      0,
    );
    assert.equal(m1.series.latency_p95_ms.at(-11), null);
    assert.equal(snap.models.find((m) => m.name === 'm2')!.summary.rejected, 10);
  });

  it('leaves the current second out, and lets old seconds fall out of the window and the ring', () => {
    const c = clock();
    const live = new LiveStats({ clock: c.fn, seconds: 30 });
    live.observe(ctx());
    assert.equal(live.snapshot().totals.requests, 0, 'the current second is not complete yet');
    c.now += 1000;
    assert.equal(live.snapshot({ step: 1 }).totals.requests, 1);
    assert.deepEqual(live.snapshot({ step: 1 }).models[0]!.series.requests.at(-1), 1);
    c.now += 29_000;
    assert.equal(live.snapshot().models.length, 0, 'out of the window');
    // The ring wraps onto the old slot: it is zeroed before the new second is counted.
    live.observe(ctx());
    c.now += 1000;
    const snap = live.snapshot({ step: 1 });
    assert.equal(snap.totals.requests, 1);
    assert.equal(
      snap.models[0]!.series.requests.reduce((a, b) => a + b, 0),
      1,
    );
  });

  it('aligns points of several seconds so they keep their seconds between snapshots', () => {
    const c = clock();
    const live = new LiveStats({ clock: c.fn, seconds: 60 });
    for (let s = 0; s < 6; s++) {
      c.now = T0 + s * 1000;
      live.observe(ctx());
    }
    c.now = T0 + 6000;
    const a = live.snapshot({ step: 3, seconds: 30 });
    assert.equal(a.seconds, 30);
    assert.equal(a.models[0]!.series.requests.length, 10);
    assert.equal((a.end + 1) % 3, 0);
    assert.ok(a.last >= a.end && a.last < a.end + 3);
    assert.equal(a.totals.requests, 6, 'summaries reach the last complete second');
    for (let s = 1; s <= 3; s++) {
      c.now = T0 + 6000 + s * 1000;
      const b = live.snapshot({ step: 3, seconds: 30 });
      const shift = (b.end - a.end) / 3;
      assert.ok(Number.isInteger(shift));
      const before = a.models[0]!.series.requests;
      const after = b.models[0]!.series.requests;
      assert.deepEqual(after.slice(0, after.length - shift), before.slice(shift));
    }
  });

  it('keeps TTFT for streams only', () => {
    const c = clock();
    const live = new LiveStats({ clock: c.fn });
    live.observe(ctx({ stream: true, ttftMs: 20, durationMs: 400 }));
    live.observe(ctx({ stream: false, ttftMs: 300, durationMs: 400 }));
    c.now += 1000;
    const m = live.snapshot().models[0]!;
    assert.ok(m.summary.ttft_ms.p99! <= 23, JSON.stringify(m.summary.ttft_ms));
    assert.ok(m.summary.latency_ms.p50! > 280);
  });

  it('lists the top keys and teams by tokens and merges the rest as (other)', () => {
    const c = clock();
    const live = new LiveStats({ clock: c.fn, topK: 2 });
    for (let k = 1; k <= 5; k++)
      for (let i = 0; i < k; i++)
        live.observe(ctx({ identity: identity(`key-${k}`, k % 2 === 0 ? 'even' : 'odd'), input: 100 }));
    live.observe(ctx({ identity: null }));
    c.now += 1000;
    const snap = live.snapshot({ step: 1 });
    assert.deepEqual(
      snap.keys.map((k) => [k.name, k.requests]),
      [
        ['key-5', 5],
        ['key-4', 4],
        ['(other)', 7],
      ],
    );
    const other = snap.keys[2]!;
    assert.equal(other.input_tokens, 610);
    assert.equal(other.series.tokens.at(-1), 610 + 7 * 5);
    assert.deepEqual(
      snap.teams.map((t) => [t.name, t.requests]),
      [
        ['odd', 9],
        ['even', 6],
        ['(other)', 1],
      ],
    );
    const all = new LiveStats({ clock: c.fn });
    all.observe(ctx({ identity: null }));
    c.now += 1000;
    assert.deepEqual(
      all.snapshot().teams.map((t) => t.name),
      [NONE],
    );
  });

  it('bounds the names it tracks: extra models count as (other) until an idle row can be reused', () => {
    const c = clock();
    const live = new LiveStats({ clock: c.fn, seconds: 20, maxModels: 2 });
    for (const model of ['a', 'b', 'c', 'd']) live.observe(ctx({ model }));
    c.now += 1000;
    assert.deepEqual(
      live.snapshot().models.map((m) => [m.name, m.summary.requests]),
      [
        ['a', 1],
        ['b', 1],
        ['(other)', 2],
      ],
    );
    c.now += 20_000;
    live.observe(ctx({ model: 'e' }));
    c.now += 1000;
    assert.deepEqual(
      live.snapshot().models.map((m) => m.name),
      ['e'],
    );
  });

  it('gives each endpoint its share of its pool', () => {
    const c = clock();
    const live = new LiveStats({ clock: c.fn });
    for (let i = 0; i < 3; i++) live.observe(ctx({ endpoint: 'http://e1' }));
    live.observe(ctx({ endpoint: 'http://e2', status: 500, outcome: 'error' }));
    live.observe(ctx({ endpoint: 'https://api.example', provider: 'hosted' }));
    c.now += 1000;
    assert.deepEqual(live.snapshot().endpoints, [
      { endpoint: 'http://e1', pool: 'pool', requests: 3, errors: 0, share: 0.75 },
      { endpoint: 'http://e2', pool: 'pool', requests: 1, errors: 1, share: 0.25 },
      { endpoint: 'https://api.example', pool: 'hosted', requests: 1, errors: 0, share: 1 },
    ]);
  });

  it('keeps the last decisions, newest first, with the pick explanation, and not the context', () => {
    const live = new LiveStats({ clock: clock().fn, decisions: 3 });
    const explain = {
      pool: 'pool',
      chosen: 'http://e2',
      reason: 'max-score chose http://e2',
      candidates: [
        { endpoint: 'http://e1', scores: { 'queue-depth': 0.5 }, total: 0.5 },
        { endpoint: 'http://e2', scores: { 'queue-depth': 1 }, total: 1 },
      ],
    };
    for (let i = 1; i <= 5; i++) {
      const c = ctx({ id: `req-${i}`, explain: i === 5 ? explain : null });
      live.observe(c);
      c.status = 999; // the record is a copy
    }
    const d = live.snapshot().decisions;
    assert.deepEqual(
      d.map((x) => x.id),
      ['req-5', 'req-4', 'req-3'],
    );
    assert.equal(d[0]!.status, 200);
    assert.equal(d[0]!.pick!.chosen, 'http://e2');
    assert.deepEqual(
      d[0]!.pick!.candidates.map((x) => x.total),
      [0.5, 1],
    );
    assert.equal(d[1]!.pick, null);
    assert.equal(new LiveStats().snapshot().decisions.length, 0);
  });

  it('asks for a few explanations a second, and only while a dashboard reads snapshots', () => {
    const c = clock();
    const live = new LiveStats({ clock: c.fn, explainPerSecond: 2 });
    assert.equal(live.wantsExplain(), false);
    live.snapshot();
    assert.deepEqual([live.wantsExplain(), live.wantsExplain(), live.wantsExplain()], [true, true, false]);
    c.now += 1000;
    assert.equal(live.wantsExplain(), true);
    c.now += 31_000;
    assert.equal(live.wantsExplain(), false);
  });

  it('serialises to JSON without loss', () => {
    const live = new LiveStats();
    live.observe(ctx({ explain: { candidates: [{ endpoint: 'x', scores: {}, total: 1 }] } }));
    const snap = live.snapshot();
    assert.deepEqual(JSON.parse(JSON.stringify(snap)), snap);
  });
});
