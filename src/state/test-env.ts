import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import pg from 'pg';

// Shared by tests that need the local Redis and PostgreSQL (loopback only). Each run uses its own key
// prefix or schema and removes it afterwards.

export const REDIS_URL = process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';
export const PG_URL = process.env.TEST_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/test';

/**
 * Tests of exactness under concurrency use a generous Redis command timeout: with the production 40 ms,
 * a loaded test machine would turn slow replies into fail-open admissions, which is what that timeout is
 * for, but not what those tests measure (redis-failure.test.ts covers the timeout).
 */
export const TEST_COMMAND_TIMEOUT_MS = 2_000;

export function uniqueName(kind: string): string {
  return `sy_test_${kind}_${process.pid}_${randomBytes(4).toString('hex')}`;
}

/** Deletes every Redis key under a prefix. */
export async function dropRedisPrefix(prefix: string): Promise<void> {
  const r = new Redis(REDIS_URL);
  try {
    let cursor = '0';
    do {
      const [next, keys] = await r.scan(cursor, 'MATCH', prefix + '*', 'COUNT', 1000);
      cursor = next;
      if (keys.length > 0) await r.del(...keys);
    } while (cursor !== '0');
  } finally {
    r.disconnect();
  }
}

/** Creates a fresh schema; returns its name and a function that drops it. */
export async function pgSchema(kind: string): Promise<{ schema: string; drop: () => Promise<void> }> {
  const schema = uniqueName(kind);
  const client = new pg.Client({ connectionString: PG_URL });
  await client.connect();
  await client.query(`CREATE SCHEMA ${schema}`);
  await client.end();
  return {
    schema,
    drop: async () => {
      const c = new pg.Client({ connectionString: PG_URL });
      await c.connect();
      await c.query(`DROP SCHEMA ${schema} CASCADE`);
      await c.end();
    },
  };
}
