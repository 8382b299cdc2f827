import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import type { LedgerBackend, UsageRecord } from '../contracts/governance.ts';
import { BatchedLedger } from './ledger.ts';
import { PgLedgerBackend } from './ledger-pg.ts';
import { SqliteLedgerBackend } from './ledger-sqlite.ts';
import { ThreadedSqliteLedgerBackend } from './ledger-sqlite-thread.ts';
import { PG_URL, pgSchema } from './test-env.ts';
import { T0, usageRecord as record } from './test-records.ts';

const tick = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
const dir = mkdtempSync(join(tmpdir(), 'sy-ledger-'));
const schemas: (() => Promise<void>)[] = [];
const pgSchemas = new Map<string, string>();
after(async () => {
  rmSync(dir, { recursive: true, force: true });
  await Promise.all(schemas.map((drop) => drop()));
});

interface Kind {
  readonly name: string;
  /** A backend on the same storage each time it is called with the same name. */
  open(name: string): Promise<LedgerBackend>;
}

const kinds: Kind[] = [
  { name: 'sqlite', open: async (name) => new SqliteLedgerBackend({ path: join(dir, `${name}.db`) }) },
  {
    name: 'sqlite on a worker thread',
    open: async (name) => new ThreadedSqliteLedgerBackend({ path: join(dir, `threaded-${name}.db`) }),
  },
  {
    name: 'postgres',
    open: async (name) => {
      let schema = pgSchemas.get(name);
      if (schema === undefined) {
        const created = await pgSchema('ledger');
        schemas.push(created.drop);
        schema = created.schema;
        pgSchemas.set(name, schema);
      }
      return new PgLedgerBackend({ connectionString: PG_URL, table: `${schema}.usage` });
    },
  },
];

for (const kind of kinds) {
  describe(`usage ledger on ${kind.name}`, () => {
    test('writes in batches by size and by time, and flushes on close', async () => {
      const backend = await kind.open('batches');
      const reader = await kind.open('batches');
      await backend.page({}, 1, null); // create the table first (two concurrent CREATE TABLEs race on pg)
      await reader.page({}, 1, null);
      // A long interval keeps the size trigger and the time trigger apart even on a loaded machine.
      const ledger = new BatchedLedger({ backend, batchSize: 10, flushIntervalMs: 4000 });
      const count = async () => (await reader.page({}, 100, null)).records.length;
      const until = async (n: number, ms: number) => {
        const deadline = Date.now() + ms;
        while ((await count()) < n && Date.now() < deadline) await tick(10);
      };
      const t0 = Date.now();
      for (let i = 0; i < 25; i++) ledger.append(record(i));
      await until(20, 3000);
      assert.equal(await count(), 20, 'two full batches written');
      assert.equal(ledger.pending, 5);
      assert.ok(Date.now() - t0 < 3500, 'by size, before the timer');
      await until(25, 6000);
      assert.equal(await count(), 25, 'timer wrote the rest');
      for (let i = 25; i < 32; i++) ledger.append(record(i));
      await ledger.close();
      assert.equal((await reader.page({}, 100, null)).records.length, 32, 'nothing lost on close');
      await reader.close();
    });

    test('queries by key, team, tenant and time; pages; totals; export', async () => {
      const backend = await kind.open('query');
      const ledger = new BatchedLedger({ backend, batchSize: 1_000 });
      const records = Array.from({ length: 40 }, (_, i) => record(i));
      for (const r of records) ledger.append(r);
      await ledger.flush();

      const byKey = await ledger.page({ keyId: 'key-1' }, 100);
      assert.deepEqual(
        byKey.records,
        records.filter((r) => r.keyId === 'key-1'),
      );
      const window = await ledger.page({ tenant: 'acme', from: T0 + 10_000, to: T0 + 20_000 }, 100);
      assert.deepEqual(
        window.records.map((r) => r.requestId),
        ['req-10', 'req-12', 'req-14', 'req-16', 'req-18'],
      );
      const seen: string[] = [];
      let cursor: string | null = null;
      do {
        const page = await ledger.page({ team: 'team-2' }, 3, cursor);
        seen.push(...page.records.map((r) => r.requestId));
        cursor = page.next;
      } while (cursor !== null);
      assert.deepEqual(
        seen,
        records.filter((r) => r.team === 'team-2').map((r) => r.requestId),
      );

      const [total] = await ledger.totals({});
      assert.equal(total?.requests, 40);
      assert.equal(
        total?.inputTokens,
        records.reduce((s, r) => s + r.inputTokens, 0),
      );
      assert.equal(
        total?.outputTokens,
        records.reduce((s, r) => s + r.outputTokens, 0),
      );
      assert.ok(Math.abs((total?.costUsd ?? 0) - records.reduce((s, r) => s + (r.costUsd ?? 0), 0)) < 1e-9);
      const perTenant = await ledger.totals({}, 'tenant');
      assert.deepEqual(
        perTenant.map((t) => [t.group, t.requests]),
        [
          ['acme', 20],
          ['globex', 20],
        ],
      );

      let jsonl = '';
      for await (const chunk of ledger.export({ tenant: 'globex' }, 'jsonl')) jsonl += String(chunk);
      const lines = jsonl.trim().split('\n');
      assert.equal(lines.length, 20);
      assert.deepEqual(JSON.parse(lines[0] ?? ''), records[1]);
      let csv = '';
      for await (const chunk of ledger.export({}, 'csv')) csv += String(chunk);
      const rows = csv.trim().split('\r\n');
      assert.equal(rows.length, 41);
      assert.match(rows[0] ?? '', /^ts,request_id,key_id,/);
      assert.match(rows[1] ?? '', /^2025-06-01T00:00:00.000Z,req-0,key-0,api-key,acme,team-0,,chat,/);
      await ledger.close();
    });
  });
}

test('a failing backend keeps the batch and retries it; CSV cells are escaped', async () => {
  const written: UsageRecord[] = [];
  let failures = 1;
  const backend: LedgerBackend = {
    insert: async (records) => {
      if (failures-- > 0) throw new Error('database down');
      written.push(...records);
    },
    page: async () => ({ records: written, next: null }),
    totals: async () => [],
    close: async () => {},
  };
  const events: string[] = [];
  const ledger = new BatchedLedger({ backend, batchSize: 2, onEvent: (e) => events.push(e.kind) });
  ledger.append(record(1, { user: '=cmd()', errorCode: 'a,"b"' }));
  ledger.append(record(2));
  await tick(10);
  assert.deepEqual(events, ['error']);
  assert.equal(ledger.pending, 2);
  let csv = '';
  await ledger.flush();
  assert.equal(written.length, 2);
  for await (const chunk of ledger.export({}, 'csv')) csv += String(chunk);
  assert.ok(csv.includes(`,'=cmd(),`));
  assert.ok(csv.includes(`,"a,""b""",`));
  await ledger.close();
});

test('past max_queue the oldest records are dropped and counted; the rest are written in order', async () => {
  const written: UsageRecord[] = [];
  let down = true;
  const backend: LedgerBackend = {
    insert: async (records) => {
      if (down) throw new Error('database down');
      written.push(...records);
    },
    page: async () => ({ records: written, next: null }),
    totals: async () => [],
    close: async () => {},
  };
  let dropped = 0;
  const ledger = new BatchedLedger({
    backend,
    batchSize: 3,
    maxQueue: 5_000,
    flushIntervalMs: 60_000,
    onDrop: (n) => (dropped += n),
  });
  for (let i = 0; i < 12_000; i++) ledger.append(record(i));
  await tick(5);
  // The first batch (0-2) was being written when the queue filled; it failed and went back to the head.
  assert.equal(ledger.pending, 5_003);
  assert.equal(dropped, 6_997);
  down = false;
  await ledger.flush();
  assert.deepEqual(
    written.map((r) => r.requestId),
    ['req-0', 'req-1', 'req-2', ...Array.from({ length: 5_000 }, (_, i) => `req-${7_000 + i}`)],
  );
  await ledger.close();
});

test('an in-memory ledger keeps only its newest max records', async () => {
  const backend = new ThreadedSqliteLedgerBackend({ path: ':memory:', maxRecords: 50 });
  for (let batch = 0; batch < 4; batch++) {
    await backend.insert(Array.from({ length: 30 }, (_, i) => record(batch * 30 + i)));
  }
  const [totals] = await backend.totals({}, null);
  assert.equal(totals?.requests, 50);
  const page = await backend.page({}, 100, null);
  const ids = page.records.map((r) => Number(r.requestId.slice('req-'.length))).sort((a, b) => a - b);
  assert.deepEqual(
    ids,
    Array.from({ length: 50 }, (_, i) => 70 + i),
  );
  // Rows written 25 to a statement and one by one read back whole.
  for (const n of [99, 119]) {
    assert.deepEqual(
      page.records.find((r) => r.requestId === `req-${n}`),
      record(n),
    );
  }
  await backend.close();
});
