import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import pg from 'pg';
import { parse, stringify } from 'yaml';
import { chatCompletion, startFakeUpstream, type FakeUpstream } from './fake-upstream.ts';
import {
  configFile,
  type GatewayProcess,
  metricValue,
  PrivateRedis,
  spawnGateway,
  spawnGateways,
} from './gateway-process.ts';
import { waitFor } from './harness.ts';
import { dropRedisPrefix, PG_URL, REDIS_URL, uniqueName } from '../src/state/test-env.ts';

// Correctness across replicas with real processes: `switchyard serve` three times from a config derived
// from examples/governed.yaml, sharing the local Redis (limits, budgets, holds) and one PostgreSQL ledger
// table. A request limit holds across them, a token budget is not overspent, a killed replica's holds
// lapse after the reservation TTL, the ledger adds up to exactly what clients were told, and with Redis
// stopped each replica fails open or closed as configured and recovers by itself.

const EXAMPLE = readFileSync(new URL('../examples/governed.yaml', import.meta.url), 'utf8');
const ADMIN = 'admin-token-for-replica-tests';
const DEMO = 'sy-demo-secret-for-tests';
const BUDGET = 'sy-budget-secret-for-tests';
const LEDGER = 'sy-ledger-secret-for-tests';
const HOLDER = 'sy-holder-secret-for-tests';
/** Tokens the budget key may spend per rolling hour. */
const BUDGET_TOKENS = 1_800;
/** Reservation TTL: short, so a dead replica's holds lapse within the test. */
const TTL_MS = 2_000;
/** Tokens the fake upstream reports for its default chat answer (11 prompt + 7 completion). */
const DEFAULT_USAGE = 18;

interface Options {
  readonly prefix: string;
  readonly failMode: 'open' | 'closed';
  readonly table?: string;
}

/** examples/governed.yaml with this test's state, limits and keys. */
function governedYaml(o: Options): string {
  const doc = parse(EXAMPLE);
  const gov = doc.governance;
  gov.fail_mode = o.failMode;
  // A generous command timeout: on a busy 2-core machine the default 40 ms would turn slow replies into
  // fail-closed refusals, which is not what these tests count (src/state/redis-failure.test.ts does).
  gov.command_timeout = '2s';
  gov.redis_prefix = o.prefix;
  gov.reservation_ttl = `${TTL_MS}ms`;
  if (o.table !== undefined) gov.ledger = { ...gov.ledger, table: o.table, flush_interval: '200ms' };
  gov.keys[0].limits = [{ requests: 1000, window: '1m' }];
  const key = (id: string, secret: string, extra: object): object => ({
    id,
    secret,
    tenant: 'replica-tests',
    models: ['mock-model'],
    ...extra,
  });
  gov.keys.push(
    key('budget', BUDGET, { budgets: [{ tokens: BUDGET_TOKENS, window: '1h' }] }),
    key('ledger', LEDGER, {}),
    key('holder', HOLDER, { limits: [{ concurrent: 2 }], budgets: [{ tokens: 100_000, window: '1h' }] }),
  );
  doc.logging = { level: 'warn', access_log: false };
  doc.metrics = { process: false };
  return stringify(doc);
}

interface Reply {
  readonly status: number;
  readonly headers: Headers;
  readonly body: any;
}

async function chat(url: string, secret: string, extra: object = {}): Promise<Reply> {
  const res = await fetch(`${url}/v1/chat/completions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${secret}` },
    body: JSON.stringify({
      model: 'mock-model',
      max_tokens: 30,
      messages: [{ role: 'user', content: 'hi' }],
      ...extra,
    }),
  });
  const text = await res.text();
  const body = res.headers.get('content-type')?.includes('json') === true ? JSON.parse(text) : text;
  return { status: res.status, headers: res.headers, body };
}

async function admin(url: string, path: string): Promise<any> {
  const res = await fetch(`${url}/admin${path}`, { headers: { authorization: `Bearer ${ADMIN}` } });
  assert.equal(res.status, 200, `GET /admin${path}`);
  return res.json();
}

/** Tokens used (committed + held) on a key's budget, read through one replica's admin API. */
async function budgetUsed(url: string, key: string): Promise<number> {
  return (await admin(url, `/budgets?scope=key&id=${key}`)).data[0].used;
}

/** A key's budget once it reads `expected` (settlements are fire and forget), or after 2 s as it is. */
async function budgetSettles(url: string, key: string, expected: number): Promise<number> {
  const deadline = Date.now() + 2_000;
  for (;;) {
    const used = await budgetUsed(url, key);
    if (used === expected || Date.now() > deadline) return used;
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** The usage the fake upstream reports for its i-th scripted answer: varied, so sums mean something. */
function usageOf(i: number): { prompt_tokens: number; completion_tokens: number } {
  return { prompt_tokens: 5 + (i % 11), completion_tokens: 1 + ((i * 7) % 17) };
}

/** The usage frame of an SSE body the client asked usage for. */
function streamUsage(text: string): { prompt_tokens: number; completion_tokens: number } {
  const frames = text.split('\n\n').filter((f) => f.startsWith('data: {'));
  const usage = frames.map((f) => JSON.parse(f.slice(6)).usage).filter((u) => u != null);
  assert.equal(usage.length, 1, `one usage frame in ${text}`);
  return usage[0];
}

describe('three gateway processes sharing Redis and a PostgreSQL ledger', () => {
  const prefix = uniqueName('replicas') + ':';
  const table = uniqueName('replicas');
  let upstream: FakeUpstream;
  let config: ReturnType<typeof configFile>;
  let env: Record<string, string>;
  let gws: GatewayProcess[] = [];

  /** Ledger totals for a key once every replica has flushed and `requests` records are in. */
  async function ledgerTotals(key: string, requests: number): Promise<any> {
    const deadline = Date.now() + 5_000;
    for (;;) {
      // Each replica flushes its own queue before answering; the table is shared.
      let row: any = null;
      for (const gw of gws) row = (await admin(gw.url, `/usage?key=${key}`)).data[0];
      if (row?.requests === requests || Date.now() > deadline) return row;
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  before(async () => {
    upstream = await startFakeUpstream();
    config = configFile(governedYaml({ prefix, failMode: 'closed', table }));
    env = {
      UPSTREAM_URL: upstream.url,
      DEMO_KEY: DEMO,
      STATE_URL: REDIS_URL,
      LEDGER_URL: PG_URL,
      SWITCHYARD_ADMIN_TOKEN: ADMIN,
    };
    gws = await spawnGateways(config.path, env, 3);
  });

  after(async () => {
    await Promise.all(gws.map((g) => g.stop()));
    await upstream?.close();
    config?.remove();
    await dropRedisPrefix(prefix);
    const client = new pg.Client({ connectionString: PG_URL });
    await client.connect();
    await client.query(`DROP TABLE IF EXISTS ${table}`);
    await client.end();
  });

  it('the three create the shared ledger table together on first use', async () => {
    // First in this block: the table does not exist yet. Three replicas reading it at once each run
    // CREATE TABLE IF NOT EXISTS, which PostgreSQL does not make safe against a concurrent creation.
    const replies = await Promise.all(
      gws.map((g) => fetch(`${g.url}/admin/usage`, { headers: { authorization: `Bearer ${ADMIN}` } })),
    );
    const statuses = replies.map((r) => r.status);
    const rows = await Promise.all(replies.map(async (r) => (await r.json()) as any));
    assert.deepEqual(statuses, [200, 200, 200], JSON.stringify(rows));
    for (const row of rows) assert.equal(row.data[0].requests, 0);
  });

  it('a limit of 1000 requests per minute admits between 1000 and 1010 across the three', async (t) => {
    const WORKERS = 18;
    const EACH = 60;
    const admitted = [0, 0, 0];
    let refused = 0;
    const other: string[] = [];
    await Promise.all(
      Array.from({ length: WORKERS }, async (_, w) => {
        for (let n = 0; n < EACH; n++) {
          const at = (w + n) % 3;
          const r = await chat(gws[at]!.url, DEMO);
          if (r.status === 200) admitted[at]!++;
          else if (r.status === 429 && r.body.error?.code === 'rate_limited') refused++;
          else other.push(`${r.status} ${JSON.stringify(r.body)}`);
        }
      }),
    );
    const total = admitted[0]! + admitted[1]! + admitted[2]!;
    t.diagnostic(`admitted ${total} (${admitted.join(' + ')}), refused ${refused}`);
    assert.deepEqual(other, []);
    assert.ok(total >= 1000 && total <= 1010, `admitted ${total} (${admitted.join(' + ')})`);
    assert.equal(total + refused, WORKERS * EACH);
    for (const n of admitted) assert.ok(n > 200, `every replica admitted its share: ${admitted.join(', ')}`);
    // One ledger record per request, refused ones included; tokens only for the admitted.
    const row = await ledgerTotals('demo', WORKERS * EACH);
    assert.equal(row.requests, WORKERS * EACH);
    assert.equal(row.inputTokens, total * 11);
    assert.equal(row.outputTokens, total * 7);
  });

  it('a token budget shared by the three is overspent by at most one reservation', async (t) => {
    const [a, b] = [gws[0]!.url, gws[1]!.url];
    // One slow request on replica a: its reservation shows on the budget through replica b.
    upstream.script('/v1/chat/completions', { delayMs: 700, json: chatCompletion('mock-model') });
    const slow = chat(a, BUDGET);
    let reservation = 0;
    const deadline = Date.now() + 3_000;
    while (reservation === 0 && Date.now() < deadline) reservation = await budgetUsed(b, 'budget');
    assert.equal((await slow).status, 200);
    assert.ok(reservation > DEFAULT_USAGE, `a reservation (${reservation}) covers the usage`);
    assert.equal(await budgetSettles(b, 'budget', DEFAULT_USAGE), DEFAULT_USAGE, 'settled to actual usage');

    let admitted = 1;
    let refused = 0;
    const other: string[] = [];
    const take = async (url: string): Promise<boolean> => {
      const r = await chat(url, BUDGET);
      if (r.status === 200) {
        assert.equal(r.body.usage.total_tokens, DEFAULT_USAGE);
        admitted++;
        return true;
      }
      if (r.status === 429 && r.body.error?.code === 'budget_exceeded') refused++;
      else other.push(`${r.status} ${JSON.stringify(r.body)}`);
      return false;
    };
    // Twelve clients spread over the three replicas until each is refused, then one at a time until
    // refused: every token the budget allows is spent, and no more than one reservation over. (The bound
    // needs reservations that cover usage, as here: an upstream answering beyond max_tokens, or a prompt
    // counted low, lets each request in flight at the limit overspend by its shortfall.)
    await Promise.all(
      Array.from({ length: 12 }, async (_, w) => {
        for (let n = 0; n < 200 && (await take(gws[(w + n) % 3]!.url)); n++);
      }),
    );
    for (let n = 0; n < 50 && (await take(gws[n % 3]!.url)); n++);
    assert.deepEqual(other, []);
    assert.equal(refused, 13);
    const charged = await budgetSettles(gws[2]!.url, 'budget', admitted * DEFAULT_USAGE);
    t.diagnostic(`reservation ${reservation}, admitted ${admitted}, charged ${charged} of ${BUDGET_TOKENS}`);
    assert.equal(charged, admitted * DEFAULT_USAGE, 'the counter holds exactly the usage of the admitted');
    assert.ok(charged <= BUDGET_TOKENS + reservation, `charged ${charged} of ${BUDGET_TOKENS}`);
    assert.ok(charged > BUDGET_TOKENS - reservation, `charged ${charged}: the budget was used up`);
    const row = await ledgerTotals('budget', admitted + refused);
    assert.equal(row.inputTokens + row.outputTokens, charged);
  });

  it('ledger totals equal the sum of what each response reported, across the three', async () => {
    const N = 60;
    upstream.script(
      '/v1/chat/completions',
      ...Array.from({ length: N }, (_, i) => {
        const u = usageOf(i);
        const json = chatCompletion('mock-model');
        return { json: { ...json, usage: { ...u, total_tokens: u.prompt_tokens + u.completion_tokens } } };
      }),
    );
    const seen = { requests: 0, input: 0, output: 0, picoUsd: 0 };
    const count = (u: { prompt_tokens: number; completion_tokens: number }): void => {
      seen.requests++;
      seen.input += u.prompt_tokens;
      seen.output += u.completion_tokens;
      // The example's price for mock-model: $0.5 / $1.5 per million, rounded per request to 1e-12 USD.
      seen.picoUsd += Math.round((u.prompt_tokens * 0.5 + u.completion_tokens * 1.5) * 1e6);
    };
    const run = async (n: number, stream: boolean): Promise<void> => {
      await Promise.all(
        Array.from({ length: 6 }, async (_, w) => {
          for (let i = w; i < n; i += 6) {
            const extra = stream ? { stream: true, stream_options: { include_usage: true } } : {};
            const r = await chat(gws[i % 3]!.url, LEDGER, extra);
            assert.equal(r.status, 200, JSON.stringify(r.body));
            count(stream ? streamUsage(r.body) : r.body.usage);
          }
        }),
      );
    };
    await run(N, false); // the scripted, varied usage
    await run(15, true); // streamed answers: usage from the final frame
    const row = await ledgerTotals('ledger', N + 15);
    assert.equal(row.requests, seen.requests);
    assert.equal(row.inputTokens, seen.input);
    assert.equal(row.outputTokens, seen.output);
    assert.ok(
      Math.abs(row.costUsd - seen.picoUsd / 1e12) < 1e-12,
      `cost ${row.costUsd} vs ${seen.picoUsd}e-12`,
    );
    const metrics = await Promise.all(gws.map(async (g) => (await fetch(`${g.url}/metrics`)).text()));
    for (const text of metrics)
      assert.equal(metricValue(text, 'gateway_state_events_total', { component: 'ledger' }), 0);
  });

  it("a killed replica's holds lapse after the reservation TTL", async (t) => {
    const doomed = await spawnGateway(config.path, env);
    try {
      // Two slow requests take the holder key's two concurrency slots and two token reservations.
      upstream.script(
        '/v1/chat/completions',
        { delayMs: 5_000, json: chatCompletion('mock-model') },
        { delayMs: 5_000, json: chatCompletion('mock-model') },
      );
      const before = upstream.requests.length;
      const slow = [chat(doomed.url, HOLDER), chat(doomed.url, HOLDER)].map((p) => p.catch(() => null));
      await waitFor(() => upstream.requests.length >= before + 2, 5_000);
      const held = await budgetUsed(gws[0]!.url, 'holder');
      assert.ok(held > 2 * DEFAULT_USAGE, `two reservations held: ${held}`);
      const full = await chat(gws[1]!.url, HOLDER);
      assert.equal(full.status, 429);
      assert.equal(full.body.error.code, 'rate_limited');

      await doomed.stop('SIGKILL');
      const killedAt = Date.now();
      await Promise.all(slow);
      // Not released by the dying process: only the TTL frees them.
      assert.equal((await chat(gws[2]!.url, HOLDER)).status, 429, 'held right after the kill');
      let used = held;
      while (used !== 0 && Date.now() - killedAt < 3 * TTL_MS) {
        await new Promise((r) => setTimeout(r, 50));
        used = await budgetUsed(gws[0]!.url, 'holder');
      }
      const freedAfter = Date.now() - killedAt;
      t.diagnostic(`held ${held} tokens; freed ${freedAfter} ms after the kill (TTL ${TTL_MS} ms)`);
      assert.equal(used, 0, 'nothing of the dead replica is still held');
      // The last heartbeat was at most TTL/3 before the kill; allow a loaded machine some slack.
      assert.ok(freedAfter <= TTL_MS + 750, `freed ${freedAfter} ms after the kill (TTL ${TTL_MS} ms)`);
      const again = await chat(gws[1]!.url, HOLDER);
      assert.equal(again.status, 200, 'a concurrency slot is free again');
      assert.equal(await budgetSettles(gws[2]!.url, 'holder', DEFAULT_USAGE), DEFAULT_USAGE);
    } finally {
      await doomed.stop();
    }
  });
});

describe('Redis stopped under two gateway processes', () => {
  it('fail_mode open keeps admitting (degraded), closed answers 503; both recover by themselves', async (t) => {
    const redis = new PrivateRedis();
    const upstream = await startFakeUpstream();
    const configs = (['open', 'closed'] as const).map((failMode) =>
      configFile(governedYaml({ prefix: uniqueName('stopped') + ':', failMode })),
    );
    const env = { UPSTREAM_URL: upstream.url, DEMO_KEY: DEMO, LEDGER_URL: 'sqlite::memory:' };
    let gws: GatewayProcess[] = [];
    try {
      await redis.start();
      gws = await Promise.all(configs.map((c) => spawnGateway(c.path, { ...env, STATE_URL: redis.url })));
      const [open, closed] = gws as [GatewayProcess, GatewayProcess];
      for (const g of gws) {
        const r = await chat(g.url, DEMO);
        assert.equal(r.status, 200);
        assert.equal(r.headers.get('x-ratelimit-limit-requests'), '1000');
      }

      await redis.stop();
      const down = { open: [] as string[], closed: [] as string[] };
      for (let i = 0; i < 8; i++) {
        const o = await chat(open.url, DEMO);
        down.open.push(`${o.status}:${o.headers.get('x-ratelimit-limit-requests') ?? 'degraded'}`);
        const c = await chat(closed.url, DEMO);
        down.closed.push(`${c.status}:${c.body.error?.code}:${c.headers.get('retry-after')}`);
      }
      assert.deepEqual(down.open, Array(8).fill('200:degraded'));
      assert.deepEqual(down.closed, Array(8).fill('503:state_unavailable:1'));
      const events = async (g: GatewayProcess, labels: Record<string, string>): Promise<number> =>
        metricValue(await (await fetch(`${g.url}/metrics`)).text(), 'gateway_state_events_total', labels);
      assert.ok((await events(open, { component: 'quota', kind: 'error', decision: 'open' })) >= 8);
      assert.ok((await events(closed, { component: 'quota', kind: 'error', decision: 'closed' })) >= 8);
      assert.equal(await events(open, { decision: 'closed' }), 0);
      assert.equal(await events(closed, { decision: 'open' }), 0);
      for (const g of gws)
        assert.ok((await events(g, { component: 'redis', kind: 'down' })) >= 1, 'the loss is reported');

      await redis.start(); // same port: the gateways reconnect on their own
      const back = Date.now();
      let recovered = false;
      const unexpected: string[] = [];
      while (!recovered && Date.now() - back < 5_000) {
        await new Promise((r) => setTimeout(r, 100));
        const [o, c] = await Promise.all([chat(open.url, DEMO), chat(closed.url, DEMO)]);
        if (o.status !== 200) unexpected.push(`open ${o.status}`);
        if (c.status !== 200 && c.status !== 503) unexpected.push(`closed ${c.status}`);
        recovered = o.headers.get('x-ratelimit-limit-requests') === '1000' && c.status === 200;
      }
      t.diagnostic(`recovered ${Date.now() - back} ms after Redis returned`);
      assert.ok(recovered, 'both admit through Redis again');
      assert.deepEqual(unexpected, []);
      // Up at start, down, up again.
      for (const g of gws) assert.ok((await events(g, { component: 'redis', kind: 'up' })) >= 2);
    } finally {
      await Promise.all(gws.map((g) => g.stop()));
      await redis.stop();
      await upstream.close();
      for (const c of configs) c.remove();
    }
  });
});
