import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { RequestContext } from '../contracts/request.ts';
import type { EndpointState } from '../contracts/scheduling.ts';
import { createPoolScheduler, poolSchema } from './pool-options.ts';

// The pool config schema (defaults, endpoint lists, profile problems with their paths) and a compiled
// pool end to end: real loopback metric servers, the first scrape at start, picks that follow the
// telemetry, and a queued request woken by a scrape that shows capacity.

const servers: Server[] = [];
after(async () => {
  for (const s of servers) {
    s.closeAllConnections();
    await new Promise((r) => s.close(r));
  }
});

async function metricsServer(state: { waiting: number }): Promise<string> {
  const server = createServer((_req, res) => {
    res.writeHead(200, { 'content-type': 'text/plain' });
    res.end(
      `vllm:num_requests_waiting{model_name="m"} ${state.waiting}\nvllm:kv_cache_usage_perc{model_name="m"} 0.3\n`,
    );
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  servers.push(server);
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

function ctx(): RequestContext {
  return {
    id: 'r',
    body: { messages: [{ role: 'user', content: 'hi' }] },
    clientHeaders: {},
    model: 'm',
    upstreamModel: 'm',
    identity: null,
    priority: 'standard',
    debug: false,
    explain: null,
    signal: new AbortController().signal,
    startedAt: performance.now(),
    ttftMs: null,
    status: 0,
  } as unknown as RequestContext;
}

describe('pool config', () => {
  it('fills defaults and reads a comma-separated endpoint list', () => {
    const c = poolSchema.parse({ endpoints: 'http://127.0.0.1:9001, http://127.0.0.1:9002/v1' });
    assert.deepEqual(c.endpoints, [{ url: 'http://127.0.0.1:9001' }, { url: 'http://127.0.0.1:9002/v1' }]);
    assert.equal(c.engine, 'vllm');
    assert.equal(c.profile, 'default');
    assert.deepEqual(c.scrape, {
      enabled: true,
      interval: 50,
      timeout: 500,
      stale_after: 1000,
      unhealthy_after: 3,
    });
    assert.deepEqual(c.flow_control.max_wait, { critical: 60_000, standard: 30_000, sheddable: 0 });
    assert.equal(c.session.header, 'x-session-id');
  });

  it('reports problems with their paths, inside a written-out profile too', () => {
    const r = poolSchema.safeParse({
      engine: 'ollama',
      endpoints: [{ url: 'not a url' }],
      scrape: { interval: 'soon' },
      profile: {
        scorers: [{ type: 'queue-depth', params: { running_weight: -1 } }],
        picker: { type: 'best' },
      },
    });
    assert.equal(r.success, false);
    if (r.success) return;
    const paths = r.error.issues.map((i) => i.path.join('.'));
    for (const p of [
      'engine',
      'scrape.interval',
      'profile.scorers.0.params.running_weight',
      'profile.picker.type',
    ]) {
      assert.ok(paths.includes(p), `${p} in ${paths.join(' | ')}`);
    }
    assert.ok(paths.some((p) => p.startsWith('endpoints')));
    assert.equal(poolSchema.safeParse({ endpoints: [], profile: 'fastest' }).success, false);
  });
});

describe('compiled pool', () => {
  it('scrapes at start, picks by telemetry, and wakes queued requests when a scrape shows room', async () => {
    const busy = { waiting: 4 };
    const idle = { waiting: 0 };
    const [busyUrl, idleUrl] = [await metricsServer(busy), await metricsServer(idle)];
    const config = poolSchema.parse({
      endpoints: `${busyUrl},${idleUrl}`,
      scrape: { interval: '10ms', timeout: '200ms', stale_after: '500ms' },
      saturation: { queue_depth: 5 },
    });
    const pool = createPoolScheduler('sim', config);
    await pool.start();
    const first = pool.acquire(ctx()) as EndpointState;
    assert.equal(first.origin, idleUrl, 'the shorter queue wins on the first request');
    assert.equal(first.waiting, 0);

    busy.waiting = 9;
    idle.waiting = 9;
    await new Promise((r) => setTimeout(r, 60));
    assert.equal(pool.saturated(), true);
    const waiting = pool.acquire(ctx());
    assert.ok(waiting instanceof Promise);
    idle.waiting = 1;
    const woken = await waiting;
    assert.equal(woken.origin, idleUrl);
    await pool.close();
  });
});
