import assert from 'node:assert/strict';
import { after, describe, test } from 'node:test';
import type { KeyStore } from '../contracts/governance.ts';
import { CachedKeyDirectory } from './key-directory.ts';
import { buildKeyRecord, generateSecret, hashSecret, randomBase62 } from './key-secrets.ts';
import { MemoryKeyStore } from './key-store-memory.ts';
import { PgKeyStore } from './key-store-pg.ts';
import { SqliteKeyStore } from './key-store-sqlite.ts';
import { RedisInvalidationBus } from './redis-bus.ts';
import { RedisState } from './redis-state.ts';
import {
  dropRedisPrefix,
  PG_URL,
  pgSchema,
  REDIS_URL,
  TEST_COMMAND_TIMEOUT_MS,
  uniqueName,
} from './test-env.ts';

const cleanups: (() => Promise<void>)[] = [];
after(async () => {
  for (const c of cleanups.reverse()) await c();
});

async function pgTable(): Promise<string> {
  const { schema, drop } = await pgSchema('keys');
  cleanups.push(drop);
  return `${schema}.keys`;
}

test('secrets are sy- + 40 base62 characters, hashed with SHA-256, with a short visible prefix', () => {
  const secret = generateSecret();
  assert.match(secret, /^sy-[0-9A-Za-z]{40}$/);
  assert.notEqual(generateSecret(), secret);
  const record = buildKeyRecord(secret, { team: 'a' }, { id: 'key_1', now: 1 });
  assert.equal(record.hash, hashSecret(secret));
  assert.match(record.hash, /^[0-9a-f]{64}$/);
  assert.equal(record.prefix, secret.slice(0, 9));
  assert.ok(!JSON.stringify(record).includes(secret.slice(9)));
  const counts = new Map<string, number>();
  for (const c of randomBase62(62_000)) counts.set(c, (counts.get(c) ?? 0) + 1);
  assert.equal(counts.size, 62);
  for (const n of counts.values()) assert.ok(n > 800 && n < 1_200, 'uniform');
});

const stores: { name: string; make: () => Promise<KeyStore> }[] = [
  { name: 'memory', make: async () => new MemoryKeyStore() },
  { name: 'sqlite', make: async () => new SqliteKeyStore({ path: ':memory:' }) },
  {
    name: 'postgres',
    make: async () => new PgKeyStore({ connectionString: PG_URL, table: await pgTable() }),
  },
];

for (const { name, make } of stores) {
  describe(`KeyStore contract: ${name}`, () => {
    test('insert, look up, list, update, revoke', async () => {
      const store = await make();
      const now = Date.now();
      const a = buildKeyRecord(
        generateSecret(),
        {
          name: 'ci',
          tenant: 't1',
          team: 'red',
          user: 'ann',
          allowedModels: ['gpt-4o'],
          expiresAt: now + 1_000,
          metadata: { env: 'ci' },
          priority: 'sheddable',
          limits: [
            {
              scope: 'key',
              id: null,
              requests: 10,
              tokens: null,
              windowMs: 60_000,
              concurrent: 2,
              priority: null,
            },
          ],
        },
        { id: 'key_a', now },
      );
      const b = buildKeyRecord(
        generateSecret(),
        { tenant: 't1', team: 'blue' },
        { id: 'key_b', now: now + 1 },
      );
      await store.insert(a);
      await store.insert(b);
      await assert.rejects(store.insert(a));
      assert.deepEqual(await store.get('key_a'), a);
      assert.deepEqual(await store.getByHash(b.hash), b);
      assert.equal(await store.getByHash('0'.repeat(64)), null);
      assert.deepEqual(
        (await store.list({ tenant: 't1' })).map((r) => r.id),
        ['key_a', 'key_b'],
      );
      assert.deepEqual(
        (await store.list({ team: 'blue' })).map((r) => r.id),
        ['key_b'],
      );
      const updated = await store.update('key_b', { allowedModels: ['m'], metadata: { x: 'y' } });
      assert.deepEqual(updated?.allowedModels, ['m']);
      assert.deepEqual((await store.get('key_b'))?.metadata, { x: 'y' });
      const revoked = await store.revoke('key_a', now + 5);
      assert.equal(revoked?.revokedAt, now + 5);
      assert.equal((await store.revoke('key_a', now + 9))?.revokedAt, now + 5, 'first revocation kept');
      assert.deepEqual(
        (await store.list({})).map((r) => r.id),
        ['key_b'],
      );
      assert.equal((await store.list({ includeRevoked: true })).length, 2);
      assert.equal(await store.update('nope', {}), null);
      await store.close();
    });
  });
}

describe('CachedKeyDirectory', () => {
  test('caches lookups, remembers unknown secrets briefly, and evicts on revoke', async () => {
    let now = 1_000_000;
    let reads = 0;
    const store = new MemoryKeyStore();
    const getByHash = store.getByHash.bind(store);
    store.getByHash = async (hash) => {
      reads++;
      return getByHash(hash);
    };
    const dir = new CachedKeyDirectory({ store, clock: () => now });
    const { record, secret } = await dir.create({ team: 'red' });
    assert.match(record.id, /^key_/);
    await Promise.all([dir.authenticate(secret), dir.authenticate(secret)]);
    assert.equal(reads, 1, 'concurrent misses share one read');
    assert.equal((await dir.authenticate(secret))?.id, record.id);
    assert.equal(reads, 1);
    assert.equal(await dir.authenticate('sy-unknown'), null);
    assert.equal(await dir.authenticate('sy-unknown'), null);
    assert.equal(reads, 2, 'unknown secret cached');
    now += 1_001;
    await dir.authenticate(secret);
    assert.equal(reads, 3, 'TTL expired');
    // Found by its secret from here on (no hash), until the TTL or an invalidation.
    assert.equal((await dir.authenticate(secret))?.id, record.id);
    assert.equal((await dir.authenticate(secret))?.id, record.id);
    assert.equal(reads, 3);
    now += 1_001;
    await dir.authenticate(secret);
    assert.equal(reads, 4, 'the record found by its secret expires with the TTL too');
    assert.equal((await dir.authenticate(secret))?.revokedAt, null);
    await dir.revoke(record.id);
    assert.notEqual((await dir.authenticate(secret))?.revokedAt, null, 'revocation drops it at once');
  });

  test('declare() adds a config key with its own secret once, and refreshes it', async () => {
    const dir = new CachedKeyDirectory({ store: new MemoryKeyStore() });
    const first = await dir.declare('demo-secret', { team: 'a' });
    assert.match(first.id, /^cfg_[0-9a-f]{16}$/);
    const again = await dir.declare('demo-secret', { team: 'b' });
    assert.equal(again.id, first.id);
    assert.equal((await dir.authenticate('demo-secret'))?.team, 'b');
    assert.equal((await dir.declare('other', { id: 'demo' })).id, 'demo');
  });

  test('a revocation on one replica is visible on another within 1 s (Redis bus, PostgreSQL store)', async () => {
    const prefix = uniqueName('bus') + ':';
    const table = await pgTable();
    const replicas = [0, 1].map(() => {
      const state = new RedisState({ url: REDIS_URL, prefix, commandTimeoutMs: TEST_COMMAND_TIMEOUT_MS });
      const store = new PgKeyStore({ connectionString: PG_URL, table });
      // A long TTL: only the bus can make the revocation visible in time.
      const dir = new CachedKeyDirectory({ store, bus: new RedisInvalidationBus(state), ttlMs: 60_000 });
      cleanups.push(async () => {
        await dir.close();
        await state.close();
      });
      return dir;
    });
    cleanups.push(() => dropRedisPrefix(prefix));
    const [a, b] = replicas as [CachedKeyDirectory, CachedKeyDirectory];
    await Promise.all([a.start(), b.start()]);
    const { record, secret } = await a.create({ tenant: 't' });
    assert.equal((await b.authenticate(secret))?.revokedAt, null, 'cached on b');
    const started = Date.now();
    await a.revoke(record.id);
    let seen = false;
    while (!seen && Date.now() - started < 1_000) {
      seen = (await b.authenticate(secret))?.revokedAt !== null;
      if (!seen) await new Promise((r) => setTimeout(r, 5));
    }
    assert.equal(seen, true, 'revocation visible on the other replica');
    assert.ok(Date.now() - started < 1_000);
  });
});
