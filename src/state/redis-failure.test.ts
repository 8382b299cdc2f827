import assert from 'node:assert/strict';
import net from 'node:net';
import { after, test } from 'node:test';
import { GatewayError } from '../core/errors.ts';
import type { CounterRequest, StateEvent } from '../contracts/governance.ts';
import { RedisQuotaStore } from './quota-redis.ts';
import { RedisState } from './redis-state.ts';
import { dropRedisPrefix, uniqueName } from './test-env.ts';

// Redis unavailable: the store decides within 50 ms, reports it, and recovers by itself. A loopback TCP
// proxy in front of the real Redis lets the test cut, stall and restore the connection.

const prefix = uniqueName('fail') + ':';
after(() => dropRedisPrefix(prefix));

const counter: CounterRequest = {
  key: 'k',
  window: { kind: 'sliding', ms: 60_000, bucketMs: 1_000 },
  cap: 10,
  amount: 1,
  hold: false,
};

async function closedPort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as net.AddressInfo;
  await new Promise((r) => server.close(r));
  return port;
}

class Proxy {
  readonly sockets = new Set<net.Socket>();
  server: net.Server | null = null;
  stalled = false;
  port = 0;

  async start(port = 0): Promise<void> {
    this.server = net.createServer((client) => {
      const upstream = net.connect(6379, '127.0.0.1');
      for (const s of [client, upstream]) {
        this.sockets.add(s);
        s.on('error', () => {});
        s.on('close', () => this.sockets.delete(s));
      }
      client.on('data', (d) => void (this.stalled || upstream.write(d)));
      upstream.on('data', (d) => void client.write(d));
      client.on('close', () => upstream.destroy());
      upstream.on('close', () => client.destroy());
    });
    await new Promise<void>((r) => this.server?.listen(port, '127.0.0.1', r));
    this.port = (this.server.address() as net.AddressInfo).port;
  }

  async stop(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    await new Promise((r) => this.server?.close(r));
  }
}

/**
 * The median decision time is under 50 ms. (A median, so a test machine starved of CPU for a moment
 * does not fail the suite; every decision must still come within a bounded 250 ms.)
 */
function assertDecidedIn50(times: readonly number[]): void {
  const sorted = [...times].sort((a, b) => a - b);
  const median = sorted[Math.floor(sorted.length / 2)] ?? Infinity;
  const shown = times.map((t) => t.toFixed(1)).join(', ');
  assert.ok(median < 50, `decided in ${shown} ms`);
  assert.ok((sorted.at(-1) ?? 0) < 250, `decided in ${shown} ms`);
}

for (const failMode of ['open', 'closed'] as const) {
  test(`Redis unreachable → fail ${failMode} within 50 ms, reported`, async () => {
    const events: StateEvent[] = [];
    const state = new RedisState({ url: `redis://127.0.0.1:${await closedPort()}`, prefix });
    const store = new RedisQuotaStore({ state, failMode, onEvent: (e) => events.push(e) });
    const times: number[] = [];
    for (let i = 0; i < 3; i++) {
      const started = performance.now();
      if (failMode === 'open') {
        const r = await store.acquire(`h${i}`, [counter]);
        assert.equal(r.ok && r.degraded, true);
      } else {
        await assert.rejects(store.acquire(`h${i}`, [counter]), (err: unknown) => {
          assert.ok(err instanceof GatewayError);
          assert.equal(err.code, 'state_unavailable');
          assert.equal(err.status, 503);
          return true;
        });
      }
      times.push(performance.now() - started);
      await new Promise((r) => setTimeout(r, 30));
    }
    assertDecidedIn50(times);
    assert.equal(events.filter((e) => e.component === 'quota' && e.decision === failMode).length, 3);
    await store.close();
    await state.close();
  });
}

test('a stalled Redis times out within 50 ms; a lost one is reported down, then up when it returns', async () => {
  const proxy = new Proxy();
  await proxy.start();
  const events: StateEvent[] = [];
  const state = new RedisState({
    url: `redis://127.0.0.1:${proxy.port}`,
    prefix,
    onEvent: (e) => events.push(e),
  });
  const store = new RedisQuotaStore({ state, failMode: 'closed' });
  assert.equal(await state.ready(), true);
  assert.equal((await store.acquire('a', [counter])).ok, true);

  proxy.stalled = true;
  const stalled: number[] = [];
  for (let i = 0; i < 3; i++) {
    const started = performance.now();
    await assert.rejects(store.acquire(`b${i}`, [counter]), GatewayError);
    stalled.push(performance.now() - started);
  }
  assertDecidedIn50(stalled);
  proxy.stalled = false;

  const port = proxy.port;
  await proxy.stop();
  await new Promise((r) => setTimeout(r, 20));
  const started = performance.now();
  await assert.rejects(store.acquire('c', [counter]), GatewayError);
  assertDecidedIn50([performance.now() - started]);
  assert.ok(events.some((e) => e.kind === 'down'));

  await proxy.start(port);
  const back = await state.ready(3_000);
  assert.equal(back, true, 'reconnects by itself');
  assert.equal(events.at(-1)?.kind, 'up');
  assert.equal((await store.acquire('d', [counter])).ok, true);
  await store.close();
  await state.close();
  await proxy.stop();
});
