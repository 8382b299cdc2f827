import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { GatewayError } from '../core/errors.ts';
import type { PriorityClass, RequestContext } from '../contracts/request.ts';
import type { EndpointState } from '../contracts/scheduling.ts';
import { profileFrom } from './builtins.ts';
import { StaticDiscovery } from './endpoint-set.ts';
import { FlowQueue } from './flow-queue.ts';
import { PoolScheduler, type FlowSettings } from './pool-scheduler.ts';

// Flow control: class order, tenant fairness, bounds; the pool scheduler's shedding, waiting, max wait,
// cancellation and bounded release when capacity frees.

interface Item {
  readonly priority: PriorityClass;
  readonly tenant: string;
  readonly n: number;
}

describe('flow queue', () => {
  it('serves classes strictly in order and tenants in turn within a class', () => {
    const q = new FlowQueue<Item>({ critical: 10, standard: 10, sheddable: 10 });
    let n = 0;
    const push = (priority: PriorityClass, tenant: string) => q.push({ priority, tenant, n: n++ });
    for (let i = 0; i < 4; i++) push('standard', 'big');
    push('standard', 'small');
    push('sheddable', 'x');
    push('standard', 'small');
    push('critical', 'c');
    assert.deepEqual([q.depth('critical'), q.depth('standard'), q.depth('sheddable')], [1, 6, 1]);
    const order: string[] = [];
    for (let item = q.shift(); item !== undefined; item = q.shift()) order.push(`${item.tenant}${item.n}`);
    assert.deepEqual(order, ['c7', 'big0', 'small4', 'big1', 'small6', 'big2', 'big3', 'x5']);
    assert.equal(q.size, 0);
  });

  it('is bounded per class and removes items from the middle', () => {
    const q = new FlowQueue<Item>({ critical: 1, standard: 2, sheddable: 0 });
    assert.equal(q.push({ priority: 'sheddable', tenant: 'a', n: 0 }), false);
    const a = { priority: 'standard' as const, tenant: 'a', n: 1 };
    const b = { priority: 'standard' as const, tenant: 'b', n: 2 };
    assert.ok(q.push(a) && q.push(b));
    assert.equal(q.push({ priority: 'standard', tenant: 'c', n: 3 }), false);
    assert.ok(q.remove(a));
    assert.equal(q.remove(a), false);
    assert.equal(q.shift(), b);
  });
});

const FLOW: FlowSettings = {
  enabled: true,
  maxQueue: { critical: 100, standard: 100, sheddable: 0 },
  maxWaitMs: { critical: 5_000, standard: 5_000, sheddable: 0 },
  retryAfterSeconds: 2,
};

async function scheduler(n: number, flow: Partial<FlowSettings> = {}): Promise<PoolScheduler> {
  const urls = Array.from({ length: n }, (_, i) => ({ url: `http://127.0.0.1:${9100 + i}` }));
  const s = new PoolScheduler({
    name: 'p',
    engine: 'vllm',
    profile: profileFrom('default'),
    discovery: new StaticDiscovery(urls),
    scrape: null,
    saturation: { queueDepth: 2, kvUsage: 0.9 },
    flow: { ...FLOW, ...flow },
  });
  await s.start();
  return s;
}

function ctx(over: Partial<RequestContext> = {}): RequestContext & { abort(): void } {
  const ac = new AbortController();
  const c = {
    id: `r${Math.random()}`,
    body: { model: 'm', messages: [{ role: 'user', content: 'hello' }] },
    clientHeaders: {},
    model: 'm',
    upstreamModel: 'm',
    identity: null,
    priority: 'standard',
    debug: false,
    explain: null,
    signal: ac.signal,
    startedAt: performance.now(),
    ttftMs: null,
    status: 0,
    ...over,
    abort: () => ac.abort(),
  };
  return c as unknown as RequestContext & { abort(): void };
}

function saturate(s: PoolScheduler): void {
  for (const e of s.endpoints.all()) e.waiting = 9;
}

describe('pool scheduler flow control', () => {
  it('picks synchronously while the pool has room, and accounts for the request', async () => {
    const s = await scheduler(2);
    const c = ctx({ debug: true, explainWanted: true });
    const e = s.acquire(c) as EndpointState;
    assert.equal(typeof e.id, 'string');
    assert.equal(e.inFlight, 1);
    assert.equal(e.dispatchedSinceScrape, 1);
    assert.equal((c.explain as { pool: string }).pool, 'p');
    assert.equal((c.explain as { chosen: string }).chosen, e.id);
    c.ttftMs = 40;
    c.status = 200;
    s.release(e.id, c);
    assert.equal(e.inFlight, 0);
    assert.equal(e.inFlightTokens, 0);
    assert.ok(e.latencyEwmaMs >= 0 && e.ttftEwmaMs <= 40);
    s.release(e.id, c); // a second release is ignored
    assert.equal(e.inFlight, 0);
    await s.close();
  });

  it('sheds sheddable requests at once when saturated (429 queue_full + Retry-After)', async () => {
    const s = await scheduler(2);
    saturate(s);
    assert.throws(
      () => s.acquire(ctx({ priority: 'sheddable' })),
      (err: unknown) =>
        err instanceof GatewayError &&
        err.code === 'queue_full' &&
        err.status === 429 &&
        err.headers?.['retry-after'] === '2',
    );
    await s.close();
  });

  it('queues others, critical first, and releases only as much as freed capacity allows', async () => {
    const s = await scheduler(2);
    saturate(s);
    const done: string[] = [];
    const waits = [
      ...['s1', 's2', 's3'].map((id) => ({ id, p: s.acquire(ctx({ priority: 'standard' })) })),
      ...['c1', 'c2'].map((id) => ({ id, p: s.acquire(ctx({ priority: 'critical' })) })),
    ];
    for (const w of waits) {
      assert.ok(w.p instanceof Promise);
      w.p.then(
        () => done.push(w.id),
        () => {},
      );
    }
    assert.deepEqual([s.queueDepth('critical'), s.queueDepth('standard')], [2, 3]);
    const [free] = s.endpoints.all();
    free!.waiting = 0; // room for 2 (queue_depth 2) until the next scrape
    s.endpoints.changed();
    await new Promise((r) => setImmediate(r));
    assert.deepEqual(done, ['c1', 'c2']);
    assert.equal(free!.dispatchedSinceScrape, 2);
    free!.dispatchedSinceScrape = 0; // a scrape: the engine took them
    s.endpoints.changed();
    await new Promise((r) => setImmediate(r));
    assert.deepEqual(done, ['c1', 'c2', 's1', 's2']);
    assert.deepEqual(s.queueDepths(), { critical: 0, standard: 1, sheddable: 0 });
    await s.close();
    await assert.rejects(
      Promise.resolve(waits[2]!.p),
      (err: unknown) => err instanceof GatewayError && err.code === 'shutting_down',
    );
  });

  it('rejects after the class max wait, and on client abort, leaving the queue empty', async () => {
    const s = await scheduler(1, { maxWaitMs: { critical: 5_000, standard: 30, sheddable: 0 } });
    saturate(s);
    const started = performance.now();
    await assert.rejects(
      Promise.resolve(s.acquire(ctx())),
      (err: unknown) =>
        err instanceof GatewayError && err.code === 'queue_full' && err.headers?.['retry-after'] === '2',
    );
    assert.ok(performance.now() - started >= 25);
    const c = ctx({ priority: 'critical' });
    const p = s.acquire(c);
    assert.equal(s.queueDepth('critical'), 1);
    c.abort();
    await assert.rejects(Promise.resolve(p), { name: 'AbortError' });
    assert.equal(s.queueDepth('critical'), 0);
    await s.close();
  });

  it('is bounded: a full class queue refuses with queue_full', async () => {
    const s = await scheduler(1, { maxQueue: { critical: 0, standard: 1, sheddable: 0 } });
    saturate(s);
    const first = s.acquire(ctx());
    await assert.rejects(
      Promise.resolve(s.acquire(ctx())),
      (err: unknown) => err instanceof GatewayError && err.code === 'queue_full',
    );
    await s.close();
    await assert.rejects(Promise.resolve(first));
  });

  it('an empty pool is a 503 pool_empty; a pool whose endpoints all failed is no_healthy_upstream', async () => {
    const empty = await scheduler(0);
    assert.throws(
      () => empty.acquire(ctx()),
      (err: unknown) => err instanceof GatewayError && err.code === 'pool_empty' && err.status === 503,
    );
    await empty.close();
    const s = await scheduler(2);
    for (const e of s.endpoints.all()) e.health = 'unhealthy';
    assert.throws(
      () => s.acquire(ctx()),
      (err: unknown) => err instanceof GatewayError && err.code === 'no_healthy_upstream',
    );
    await s.close();
  });

  it('endpoints join and leave at run time', async () => {
    const s = await scheduler(1);
    s.endpoints.upsert({ url: 'http://127.0.0.1:9200' });
    assert.equal(s.endpoints.size, 2);
    const [first] = s.endpoints.all();
    s.endpoints.remove(first!.id);
    const e = s.acquire(ctx()) as EndpointState;
    assert.equal(e.id, 'http://127.0.0.1:9200');
    await s.close();
  });
});
