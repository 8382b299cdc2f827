import assert from 'node:assert/strict';
import { test } from 'node:test';
import { PgKeyStore } from './key-store-pg.ts';
import { PgLedgerBackend } from './ledger-pg.ts';
import { PG_URL, pgSchema } from './test-env.ts';

// Replicas starting together create the shared PostgreSQL tables at once. Without the advisory lock the
// losers of CREATE TABLE IF NOT EXISTS failed on pg_type's unique index: a 500 from the admin API, a
// ledger batch written late, a key lookup refused.

test('stores on separate connections create their tables at the same moment without failing', async () => {
  const { schema, drop } = await pgSchema('ddl');
  const ledgers = Array.from(
    { length: 4 },
    () => new PgLedgerBackend({ connectionString: PG_URL, table: `${schema}.usage` }),
  );
  const keys = Array.from(
    { length: 4 },
    () => new PgKeyStore({ connectionString: PG_URL, table: `${schema}.keys` }),
  );
  try {
    const results = await Promise.allSettled([
      ...ledgers.map((l) => l.page({}, 1, null)),
      ...keys.map((k) => k.get('nobody')),
    ]);
    const failed = results.flatMap((r) => (r.status === 'rejected' ? [String(r.reason)] : []));
    assert.deepEqual(failed, []);
  } finally {
    await Promise.all([...ledgers, ...keys].map((s) => s.close()));
    await drop();
  }
});
