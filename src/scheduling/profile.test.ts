import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { EndpointState, SchedulingRequest } from '../contracts/scheduling.ts';
import { builtinRegistry, profileFrom } from './builtins.ts';
import { EndpointSet } from './endpoint-set.ts';
import { LeastRequestsPicker, MaxScorePicker, RoundRobinPicker, WeightedRandomPicker } from './pickers.ts';
import { hashPrompt } from './prefix-hash.ts';
import { emptyCycleState, SchedulingProfile } from './profile.ts';
import { buildProfile, formatProfileProblems } from './registry.ts';

// Pickers' choice distributions, the profile run (filters → weighted scorers → picker, explain), and
// buildProfile's validation.

function pool(n: number): EndpointState[] {
  const set = new EndpointSet({ engine: 'vllm', staleAfterMs: 0 });
  for (let i = 0; i < n; i++) set.upsert({ url: `http://10.0.2.${i + 1}:8000` });
  return [...set.all()];
}

function request(over: Partial<SchedulingRequest> = {}): SchedulingRequest {
  return {
    id: 'r',
    model: 'm',
    adapter: null,
    promptTokens: 10,
    tokenCost: 20,
    prefixHashes: [],
    prefixBlockChars: 64,
    sessionKey: null,
    priority: 'standard',
    tenant: 't',
    ...over,
  };
}

function counts(pick: () => number, n: number, trials: number): number[] {
  const c = new Array<number>(n).fill(0);
  for (let i = 0; i < trials; i++) c[pick()]!++;
  return c;
}

describe('pickers', () => {
  const eps = pool(4);
  const req = request();

  it('max-score takes the best and breaks ties uniformly', () => {
    const p = new MaxScorePicker('m');
    assert.equal(p.pick(req, eps, Float64Array.of(0.1, 2.5, 0.3, 2.4)), 1);
    const c = counts(() => p.pick(req, eps, Float64Array.of(1, 3, 3, 3)), 4, 30_000);
    assert.equal(c[0], 0);
    for (const k of [1, 2, 3]) assert.ok(Math.abs(c[k]! - 10_000) < 600, `tie share ${c[k]}`);
  });

  it('weighted-random picks in proportion to the totals (uniform when all are 0)', () => {
    const p = new WeightedRandomPicker('w');
    const c = counts(() => p.pick(req, eps, Float64Array.of(1, 0, 3, 0)), 4, 40_000);
    assert.deepEqual([c[1], c[3]], [0, 0]);
    assert.ok(Math.abs(c[2]! / c[0]! - 3) < 0.25, `ratio ${c[2]! / c[0]!}`);
    const z = counts(() => p.pick(req, eps, new Float64Array(4)), 4, 20_000);
    for (const v of z) assert.ok(Math.abs(v - 5000) < 500);
  });

  it('round-robin cycles; least-requests takes the fewest in flight', () => {
    const rr = new RoundRobinPicker('rr');
    assert.deepEqual(
      [0, 1, 2, 3, 4].map(() => rr.pick(req, eps)),
      [0, 1, 2, 3, 0],
    );
    eps[0]!.inFlight = 3;
    eps[1]!.inFlight = 1;
    eps[2]!.inFlight = 2;
    eps[3]!.inFlight = 1;
    const lr = new LeastRequestsPicker('lr');
    const c = counts(() => lr.pick(req, eps), 4, 4000);
    assert.deepEqual([c[0], c[2]], [0, 0]);
    assert.ok(c[1]! > 1700 && c[3]! > 1700);
  });
});

describe('profile run', () => {
  it('the default profile follows the cached prefix, until load outweighs it', () => {
    const eps = pool(4);
    const profile = profileFrom('default');
    const text = 'You are a support bot for ACME. Follow the policy manual closely. '.repeat(20);
    const first = request({ prefixHashes: hashPrompt('m', text + 'question one') });
    const home = profile.pick(first, eps, null)!;
    const again = request({ prefixHashes: hashPrompt('m', text + 'question two, a different one') });
    for (let i = 0; i < 20; i++) assert.equal(profile.pick(again, eps, null), home);
    // The home endpoint is both the busiest and the fullest: load (2 + 2) outweighs the prefix (3).
    (home as EndpointState).waiting = 6;
    (home as EndpointState).kvUsage = 0.8;
    assert.notEqual(profile.pick(again, eps, null), home);
  });

  it('explains: filters, weights, per-candidate scores, the choice and why', () => {
    const eps = pool(3);
    eps[0]!.waiting = 2;
    eps[1]!.kvUsage = 0.5;
    eps[2]!.health = 'unhealthy';
    const profile = profileFrom('default');
    const explain = emptyCycleState();
    const chosen = profile.pick(request(), eps, explain);
    assert.equal(chosen, eps[1]);
    assert.equal(explain.profile, 'default');
    assert.deepEqual(explain.filters, [{ name: 'healthy', kept: 2 }]);
    assert.deepEqual(explain.weights, {
      'prefix-cache': 3,
      'queue-depth': 2,
      'kv-cache-utilization': 2,
      'session-affinity': 5,
    });
    assert.deepEqual(explain.candidates[1], {
      endpoint: eps[1]!.id,
      scores: { 'prefix-cache': 0, 'queue-depth': 1, 'kv-cache-utilization': 0.5, 'session-affinity': 0 },
      total: 3,
    });
    assert.equal(explain.candidates[0]!.total, 2);
    assert.equal(explain.chosen, eps[1]!.id);
    assert.match(explain.reason, /max-score chose .* \(total 3, best 3\) from 2 candidates/);
    JSON.stringify(explain);
  });

  it('clamps scores to [0,1] (NaN → 0) and returns null when filters leave nothing', () => {
    const eps = pool(3);
    const wild = {
      type: 'wild',
      name: 'wild',
      score(_r: SchedulingRequest, e: readonly unknown[], out: Float64Array): void {
        for (let j = 0; j < e.length; j++) out[j] = j === 0 ? 7 : j === 1 ? -3 : NaN;
      },
    };
    const profile = new SchedulingProfile('t', {
      filters: [],
      scorers: [{ scorer: wild, weight: 2 }],
      picker: new MaxScorePicker('m'),
    });
    const explain = emptyCycleState();
    assert.equal(profile.pick(request(), eps, explain), eps[0]);
    assert.deepEqual(
      explain.candidates.map((c) => c.total),
      [2, 0, 0],
    );
    for (const e of eps) e.health = 'unhealthy';
    const strict = profileFrom({ filters: [{ type: 'healthy' }], picker: { type: 'random' } });
    const why = emptyCycleState();
    assert.equal(strict.pick(request(), eps, why), null);
    assert.equal(why.reason, 'no endpoint passed the filters');
  });
});

describe('last scores (for gateway_endpoint_score)', () => {
  it('keep each endpoint’s last clamped scores and weighted total, per scorer, across picks', () => {
    const set = new EndpointSet({ engine: 'vllm', staleAfterMs: 0 });
    for (let i = 0; i < 3; i++) set.upsert({ url: `http://10.0.3.${i + 1}:8000` });
    const eps = [...set.all()];
    eps[0]!.waiting = 2;
    eps[1]!.kvUsage = 0.5;
    const profile = profileFrom('default');
    const board = profile.lastScores;
    assert.deepEqual(board.scorers, [
      'prefix-cache',
      'queue-depth',
      'kv-cache-utilization',
      'session-affinity',
    ]);
    for (const e of eps) assert.ok(Number.isNaN(board.total(e)), 'nothing before the first pick');
    const explain = emptyCycleState();
    profile.pick(request(), eps, explain);
    for (const c of explain.candidates) {
      const e = eps.find((x) => x.id === c.endpoint)!;
      board.scorers.forEach((name, s) => assert.equal(board.score(e, s), c.scores[name], `${e.id} ${name}`));
      assert.equal(board.total(e), c.total);
    }
    // An endpoint filtered out keeps its last scores; the others are updated by the next pick.
    eps[2]!.health = 'unhealthy';
    eps[1]!.kvUsage = 1;
    const before = board.total(eps[2]!);
    profile.pick(request(), eps, null);
    assert.equal(board.total(eps[2]!), before);
    assert.equal(board.score(eps[1]!, 2), 0);
    // A newcomer that reuses a departed endpoint's slot starts without scores.
    set.remove(eps[2]!.id);
    set.upsert({ url: 'http://10.0.3.9:8000' });
    const newcomer = set.get('http://10.0.3.9:8000')!;
    assert.equal(newcomer.slot, eps[2]!.slot);
    assert.ok(Number.isNaN(board.total(newcomer)));
    assert.ok(Number.isNaN(board.score(newcomer, 0)));
  });

  it('grows past the first 64 slots', () => {
    const eps = pool(100);
    const profile = profileFrom('default');
    profile.pick(request(), eps, null);
    assert.equal(profile.lastScores.score(eps[99]!, 1), 1); // idle: full queue-depth score
    assert.ok(profile.lastScores.total(eps[99]!) > 0);
  });
});

describe('buildProfile', () => {
  it('reports every problem with its path in one pass and builds nothing', () => {
    const r = buildProfile(
      {
        filters: [{ type: 'healthy', params: { drop_stale: 'yes' } }, { type: 'max-score' }],
        scorers: [
          { type: 'queue-depth', weight: -1 },
          { type: 'prefix-cache', params: { lru_capacity: 0, extra: 1 } },
          { type: 'nope' },
          { kind: 'scorer' },
        ],
        picker: { type: 'round-robin' },
      },
      builtinRegistry(),
    );
    assert.equal(r.ok, false);
    if (r.ok) return;
    const paths = r.problems.map((p) => p.path.join('.'));
    for (const expected of [
      'filters.0.params.drop_stale',
      'filters.1.type',
      'scorers.0.weight',
      'scorers.1.params.lru_capacity',
      'scorers.1.params',
      'scorers.2.type',
      'scorers.3.type',
    ]) {
      assert.ok(paths.includes(expected), `${expected} in ${paths.join(' ')}`);
    }
    assert.match(
      formatProfileProblems(r.problems),
      /^filters\[1\]\.type: unknown filter type 'max-score' \('max-score' is a picker\)/m,
    );
    const missing = buildProfile({ scorers: [] }, builtinRegistry());
    assert.ok(!missing.ok && missing.problems.some((p) => p.path.join('.') === 'picker'));
  });

  it('builds named plugins with weights and params; duplicate scorer names are an error', () => {
    const ok = buildProfile(
      {
        name: 'custom',
        scorers: [
          {
            type: 'resource-weighted',
            name: 'res',
            weight: '1.5',
            params: { factors: { kv_utilization: 1 } },
          },
          { type: 'latency', params: { metric: 'e2e' } },
        ],
        picker: { type: 'weighted-random' },
      },
      builtinRegistry(),
    );
    assert.ok(ok.ok);
    if (!ok.ok) return;
    assert.equal(ok.profile.name, 'custom');
    assert.deepEqual(
      ok.profile.scorers.map((s) => [s.scorer.name, s.weight]),
      [
        ['res', 1.5],
        ['latency', 1],
      ],
    );
    const dup = buildProfile(
      { scorers: [{ type: 'latency' }, { type: 'latency' }], picker: { type: 'max-score' } },
      builtinRegistry(),
    );
    assert.equal(dup.ok, false);
  });
});
