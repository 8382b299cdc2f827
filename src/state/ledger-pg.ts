import type pg from 'pg';
import type {
  LedgerBackend,
  UsageFilter,
  UsageGroup,
  UsagePage,
  UsageRecord,
  UsageTotals,
} from '../contracts/governance.ts';
import { lockedDdl, tableName } from './key-rows.ts';
import { pgPool } from './key-store-pg.ts';
import {
  cursor,
  GROUP_COLUMN,
  LEDGER_COLUMNS,
  LEDGER_INDEXES,
  ledgerColumnsSql,
  ledgerWhere,
  recordFromRow,
  TOTAL_COLUMNS,
  totalsFromRow,
} from './ledger-columns.ts';

// The shared ledger in PostgreSQL. A batch is one INSERT … SELECT FROM unnest(column arrays): one
// statement with one parameter per column whatever the batch size. Costs are numeric (exact sums).

export interface PgLedgerOptions {
  readonly pool?: pg.Pool;
  readonly connectionString?: string;
  readonly table?: string;
}

const TYPES = {
  ts: 'timestamptz',
  text: 'text',
  int: 'bigint',
  bool: 'boolean',
  usd: 'numeric(24,12)',
} as const;

export class PgLedgerBackend implements LedgerBackend {
  readonly #pool: pg.Pool;
  readonly #owned: boolean;
  readonly #table: string;
  #ready: Promise<void> | null = null;

  constructor(options: PgLedgerOptions) {
    const { pool, owned } = pgPool(options);
    this.#pool = pool;
    this.#owned = owned;
    this.#table = tableName(options.table ?? 'switchyard_usage');
  }

  async #query(sql: string, args: unknown[]): Promise<Record<string, unknown>[]> {
    this.#ready ??= this.#create().catch((err: unknown) => {
      this.#ready = null;
      throw err;
    });
    await this.#ready;
    return (await this.#pool.query<Record<string, unknown>>(sql, args)).rows;
  }

  async #create(): Promise<void> {
    const t = this.#table;
    const bare = t.replace('.', '_');
    const ddl = [`CREATE TABLE IF NOT EXISTS ${t} (seq bigserial PRIMARY KEY, ${ledgerColumnsSql(TYPES)})`];
    for (const [suffix, columns] of LEDGER_INDEXES) {
      ddl.push(`CREATE INDEX IF NOT EXISTS ${bare}_${suffix} ON ${t} (${columns})`);
    }
    await this.#pool.query(lockedDdl(t, ddl));
  }

  async insert(records: readonly UsageRecord[]): Promise<void> {
    if (records.length === 0) return;
    const arrays = LEDGER_COLUMNS.map(([field, , kind]) =>
      records.map((r) => (kind === 'ts' ? new Date(r.ts) : r[field])),
    );
    const casts = LEDGER_COLUMNS.map(([, , kind], i) => `$${i + 1}::${TYPES[kind]}[]`);
    const names = LEDGER_COLUMNS.map(([, c]) => c);
    await this.#query(
      `INSERT INTO ${this.#table} (${names.join(', ')}) SELECT * FROM unnest(${casts.join(', ')})`,
      arrays,
    );
  }

  #where(filter: UsageFilter, after: string | null): { sql: string; args: unknown[] } {
    const args: unknown[] = [];
    const sql = ledgerWhere(filter, after, {
      bind: (v) => {
        args.push(v);
        return `$${args.length}`;
      },
      time: (ms) => new Date(ms),
    });
    return { sql, args };
  }

  async page(filter: UsageFilter, limit: number, after: string | null): Promise<UsagePage> {
    const { sql, args } = this.#where(filter, after);
    args.push(limit);
    const rows = await this.#query(
      `SELECT * FROM ${this.#table}${sql} ORDER BY ts, seq LIMIT $${args.length}`,
      args,
    );
    const last = rows.at(-1);
    return {
      records: rows.map(recordFromRow),
      next:
        rows.length < limit || last === undefined
          ? null
          : cursor((last.ts as Date).getTime(), Number(last.seq)),
    };
  }

  async totals(filter: UsageFilter, groupBy: UsageGroup | null): Promise<UsageTotals[]> {
    const { sql, args } = this.#where(filter, null);
    const grp = groupBy === null ? 'NULL' : GROUP_COLUMN[groupBy];
    const tail = groupBy === null ? '' : ` GROUP BY grp ORDER BY grp`;
    const rows = await this.#query(
      `SELECT ${grp} AS grp, ${TOTAL_COLUMNS} FROM ${this.#table}${sql}${tail}`,
      args,
    );
    return rows.map(totalsFromRow);
  }

  async close(): Promise<void> {
    if (this.#owned) await this.#pool.end();
  }
}
