import assert from 'node:assert/strict';
import { after, describe, test } from 'node:test';
import type { CounterRequest, CounterWindow, QuotaStore } from '../contracts/governance.ts';
import { MemoryQuotaStore } from './quota-memory.ts';
import { RedisQuotaStore } from './quota-redis.ts';
import { RedisState } from './redis-state.ts';
import { dropRedisPrefix, REDIS_URL, TEST_COMMAND_TIMEOUT_MS, uniqueName } from './test-env.ts';

// One contract suite for both QuotaStore backends, on a fake clock, plus Redis-only tests across
// instances (exactness under concurrency, expiry of a dead replica's holds).

const MINUTE: CounterWindow = { kind: 'sliding', ms: 60_000, bucketMs: 1_000 };
// Near real time: Redis expires keys by its own clock, so fake time must not lie in the past.
const T0 = Math.floor(Date.now() / 60_000) * 60_000 + 3_600_000;

function req(key: string, cap: number, amount: number, extra: Partial<CounterRequest> = {}): CounterRequest {
  return { key, window: MINUTE, cap, amount, hold: false, ...extra };
}

interface Backend {
  readonly name: string;
  make(clock: () => number, ttlMs?: number): Promise<QuotaStore>;
}

const prefix = uniqueName('quota') + ':';
const states: RedisState[] = [];
after(async () => {
  await Promise.all(states.map((s) => s.close()));
  await dropRedisPrefix(prefix);
});

async function redisState(): Promise<RedisState> {
  const state = new RedisState({ url: REDIS_URL, prefix, commandTimeoutMs: TEST_COMMAND_TIMEOUT_MS });
  states.push(state);
  assert.equal(await state.ready(), true, 'local Redis must be running on 127.0.0.1:6379');
  return state;
}

let run = 0;
const backends: Backend[] = [
  {
    name: 'memory',
    make: async (clock, ttl) => new MemoryQuotaStore({ clock, reservationTtlMs: ttl ?? 60_000 }),
  },
  {
    name: 'redis',
    make: async (clock, ttl) =>
      new RedisQuotaStore({ state: await redisState(), clock, reservationTtlMs: ttl ?? 60_000 }),
  },
];

for (const backend of backends) {
  describe(`QuotaStore contract: ${backend.name}`, () => {
    let now = T0;
    const clock = (): number => now;
    const k = (name: string): string => `${backend.name}:${run++}:${name}`;

    test('admits up to the cap, then refuses with a retry time', async () => {
      now = T0;
      const store = await backend.make(clock);
      const key = k('rpm');
      for (let i = 0; i < 3; i++) {
        const r = await store.acquire(`h${i}`, [req(key, 3, 1)]);
        assert.equal(r.ok, true);
        assert.equal(r.states[0]?.used, i + 1);
        now += 10_000;
      }
      const refused = await store.acquire('h4', [req(key, 3, 1)]);
      assert.equal(refused.ok, false);
      // The first request (at T0, bucket T0/1000) leaves the window at T0 + 60 s; now is T0 + 30 s.
      if (!refused.ok) assert.equal(refused.retryAfterMs, 30_000);
      now = T0 + 60_000;
      assert.equal((await store.acquire('h5', [req(key, 3, 1)])).ok, true);
      await store.close();
    });

    test('all or nothing: a refusal by one counter consumes none', async () => {
      now = T0;
      const store = await backend.make(clock);
      const [a, b] = [k('a'), k('b')];
      await store.acquire('x', [req(b, 5, 5)]);
      const r = await store.acquire('y', [req(a, 10, 4), req(b, 5, 1)]);
      assert.equal(r.ok, false);
      if (!r.ok) assert.equal(r.failed, 1);
      const [sa, sb] = await store.peek([
        { key: a, window: MINUTE },
        { key: b, window: MINUTE },
      ]);
      assert.equal(sa?.used, 0);
      assert.equal(sb?.used, 5);
      await store.close();
    });

    test('holds count until settled, then the actual amount replaces them', async () => {
      now = T0;
      const store = await backend.make(clock);
      const key = k('tpm');
      const r = await store.acquire('t1', [req(key, 1_000, 800, { hold: true })]);
      assert.equal(r.ok, true);
      assert.equal((await store.acquire('t2', [req(key, 1_000, 300, { hold: true })])).ok, false);
      await store.settle('t1', [{ key, window: MINUTE, actual: 120 }]);
      assert.equal((await store.peek([{ key, window: MINUTE }]))[0]?.used, 120);
      assert.equal((await store.acquire('t3', [req(key, 1_000, 300, { hold: true })])).ok, true);
      await store.close();
    });

    test('a hold that is never settled expires after the TTL', async () => {
      now = T0;
      const store = await backend.make(clock, 5_000);
      const key = k('conc');
      const none: CounterWindow = { kind: 'none' };
      assert.equal(
        (await store.acquire('c1', [{ key, window: none, cap: 1, amount: 1, hold: true }])).ok,
        true,
      );
      assert.equal(
        (await store.acquire('c2', [{ key, window: none, cap: 1, amount: 1, hold: true }])).ok,
        false,
      );
      now += 5_001;
      assert.equal(
        (await store.acquire('c3', [{ key, window: none, cap: 1, amount: 1, hold: true }])).ok,
        true,
      );
      await store.settle('c3', [{ key, window: none, actual: 0 }]);
      assert.equal((await store.peek([{ key, window: none }]))[0]?.used, 0);
      await store.close();
    });

    test('fixed windows count per window and reset at its end', async () => {
      now = T0;
      const store = await backend.make(clock);
      const key = k('day');
      const day: CounterWindow = { kind: 'fixed', start: T0 - 1_000, end: T0 + 10_000 };
      assert.equal(
        (await store.acquire('d1', [{ key, window: day, cap: 100, amount: 60, hold: false }])).ok,
        true,
      );
      const r = await store.acquire('d2', [{ key, window: day, cap: 100, amount: 60, hold: false }]);
      assert.equal(r.ok, false);
      if (!r.ok) assert.equal(r.retryAfterMs, 10_000);
      // A hold settled after the window ended is still charged to the window it was taken in.
      assert.equal(
        (await store.acquire('d3', [{ key, window: day, cap: 100, amount: 30, hold: true }])).ok,
        true,
      );
      now = T0 + 20_000;
      await store.settle('d3', [{ key, window: day, actual: 25 }]);
      assert.equal((await store.peek([{ key, window: day }]))[0]?.used, 85);
      const next: CounterWindow = { kind: 'fixed', start: T0 + 10_000, end: T0 + 30_000 };
      assert.equal((await store.peek([{ key, window: next }]))[0]?.used, 0);
      await store.close();
    });

    test('an amount over the cap, or a zero amount at the cap, is refused', async () => {
      now = T0;
      const store = await backend.make(clock);
      const key = k('big');
      assert.equal((await store.acquire('b1', [req(key, 100, 101)])).ok, false);
      assert.equal((await store.acquire('b2', [req(key, 100, 100)])).ok, true);
      assert.equal((await store.acquire('b3', [req(key, 100, 0)])).ok, false);
      await store.close();
    });
  });
}

describe('RedisQuotaStore across replicas', () => {
  test('two instances × 200 concurrent acquisitions with a cap of 100 admit exactly 100', async () => {
    const [a, b] = [
      new RedisQuotaStore({ state: await redisState() }),
      new RedisQuotaStore({ state: await redisState() }),
    ];
    const key = `exact:${run++}`;
    const attempts = Array.from({ length: 400 }, (_, i) =>
      (i % 2 === 0 ? a : b).acquire(`e${i}`, [
        req(key, 100, 1),
        req(key + ':t', 1_000_000, 7, { hold: true }),
      ]),
    );
    const results = await Promise.all(attempts);
    assert.equal(results.filter((r) => r.ok).length, 100);
    assert.equal((await a.peek([{ key, window: MINUTE }]))[0]?.used, 100);
    assert.equal((await b.peek([{ key: key + ':t', window: MINUTE }]))[0]?.used, 700);
    await Promise.all([a.close(), b.close()]);
  });

  test("a live replica keeps its holds; a dead replica's holds expire after the TTL", async () => {
    const ttl = 300;
    const alive = new RedisQuotaStore({ state: await redisState(), reservationTtlMs: ttl });
    const other = new RedisQuotaStore({ state: await redisState(), reservationTtlMs: ttl });
    const key = `dead:${run++}`;
    const slot = (_id: string): CounterRequest => ({
      key,
      window: { kind: 'none' },
      cap: 1,
      amount: 1,
      hold: true,
    });
    assert.equal((await alive.acquire('r1', [slot('r1')])).ok, true);
    await new Promise((r) => setTimeout(r, ttl * 2));
    assert.equal((await other.acquire('r2', [slot('r2')])).ok, false, 'heartbeat keeps the hold');
    await alive.close(); // dies without settling
    const started = Date.now();
    let freed = false;
    while (!freed && Date.now() - started < ttl * 4) {
      await new Promise((r) => setTimeout(r, 25));
      const r = await other.acquire('r3', [slot('r3')]);
      freed = r.ok;
    }
    assert.equal(freed, true);
    // Freed once the TTL has passed since the last heartbeat (bounded; loose for a loaded machine).
    assert.ok(Date.now() - started <= ttl * 3, `freed after ${Date.now() - started} ms`);
    await other.close();
  });
});

describe('RedisQuotaStore replica shares', () => {
  const slot = (key: string, amount = 5): CounterRequest => ({
    key,
    window: { kind: 'none' },
    cap: 100,
    amount,
    hold: true,
  });
  const used = async (store: QuotaStore, key: string): Promise<number | undefined> =>
    (await store.peek([{ key, window: { kind: 'none' } }]))[0]?.used;

  test('a call that failed after Redis applied it is undone by the next call (resync)', async () => {
    const state = await redisState();
    // A reply lost after the script ran: what a command timeout looks like from the client.
    let lose = false;
    const real = state.run.bind(state);
    state.run = async (...args) => {
      const reply = await real(...args);
      if (lose) {
        lose = false;
        throw new Error('Command timed out');
      }
      return reply;
    };
    const store = new RedisQuotaStore({ state, failMode: 'open' });
    const other = new RedisQuotaStore({ state: await redisState() });
    const key = `lost:${run++}`;
    assert.equal((await store.acquire('h1', [slot(key)])).ok, true);
    lose = true;
    const lost = await store.acquire('h2', [slot(key, 7)]);
    assert.deepEqual([lost.ok, lost.ok && lost.degraded], [true, true]);
    assert.equal(await used(other, key), 12, 'Redis applied the lost acquisition');
    // The store's next call resets its share to what it knows: h1's 5.
    assert.equal(await used(store, key), 5);
    await store.settle('h2', [{ key, window: { kind: 'none' }, actual: 0 }]);
    assert.equal(await used(other, key), 5, 'settling the degraded h2 gives back nothing');
    await store.settle('h1', [{ key, window: { kind: 'none' }, actual: 0 }]);
    assert.equal(await used(other, key), 0);
    await Promise.all([store.close(), other.close()]);
  });

  test('a settlement gives back what its request reserved, once, even when a counter is named twice', async () => {
    const a = new RedisQuotaStore({ state: await redisState() });
    const b = new RedisQuotaStore({ state: await redisState() });
    const key = `twice:${run++}`;
    assert.equal((await a.acquire('x1', [slot(key, 3), slot(key, 4)])).ok, true);
    assert.equal((await b.acquire('y1', [slot(key, 10)])).ok, true);
    assert.equal(await used(b, key), 17);
    const none: CounterWindow = { kind: 'none' };
    await a.settle('x1', [
      { key, window: none, actual: 0 },
      { key, window: none, actual: 0 },
    ]);
    assert.equal(await used(b, key), 10, "b's share is untouched");
    await b.settle('y1', [{ key, window: none, actual: 0 }]);
    assert.equal(await used(a, key), 0);
    await Promise.all([a.close(), b.close()]);
  });

  test('a hold older than maxHold stops counting while its replica lives on', async () => {
    const store = new RedisQuotaStore({ state: await redisState(), reservationTtlMs: 150, maxHoldMs: 100 });
    const other = new RedisQuotaStore({ state: await redisState() });
    const key = `stale:${run++}`;
    assert.equal((await store.acquire('s1', [slot(key)])).ok, true);
    assert.equal(await used(other, key), 5);
    const started = Date.now();
    while ((await used(other, key)) !== 0 && Date.now() - started < 2_000) {
      await new Promise((r) => setTimeout(r, 25));
    }
    assert.equal(await used(other, key), 0);
    await Promise.all([store.close(), other.close()]);
  });
});
