import type { DatabaseSync, SQLInputValue, StatementSync } from 'node:sqlite';
import type {
  LedgerBackend,
  UsageFilter,
  UsageGroup,
  UsagePage,
  UsageRecord,
  UsageTotals,
} from '../contracts/governance.ts';
import { encodeRows, rowValues, type RowBatch } from './ledger-rows.ts';
import { openSqlite } from './key-store-sqlite.ts';
import { tableName } from './key-rows.ts';
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

// The embedded ledger: node:sqlite, a file (WAL) or ":memory:". A batch is one transaction. node:sqlite is
// synchronous, so a batch briefly holds the event loop (about 1-2 ms per 1000 rows); batching keeps that
// off the per-request path.

export interface SqliteLedgerOptions {
  readonly path: string;
  readonly table?: string;
  /** Keep at most this many records, deleting the oldest (for ":memory:", which would otherwise grow without end). */
  readonly maxRecords?: number;
}

const TYPES = { ts: 'INTEGER', text: 'TEXT', int: 'INTEGER', bool: 'INTEGER', usd: 'REAL' } as const;

/** Rows per multi-row INSERT (× the columns stays far below SQLite's limit on bound parameters). */
const ROWS_PER_INSERT = 25;

export class SqliteLedgerBackend implements LedgerBackend {
  readonly #db: DatabaseSync;
  readonly #table: string;
  readonly #insert: StatementSync;
  readonly #insertMany: StatementSync;
  /** Deletes all but the newest N rows (seq only grows); null when the ledger keeps everything. */
  readonly #trim: StatementSync | null;
  readonly #maxRecords: number;

  constructor(options: SqliteLedgerOptions) {
    this.#maxRecords = options.maxRecords ?? 0;
    this.#db = openSqlite(options.path);
    const t = (this.#table = tableName(options.table ?? 'switchyard_usage'));
    this.#db.exec(
      `CREATE TABLE IF NOT EXISTS ${t} (seq INTEGER PRIMARY KEY AUTOINCREMENT, ${ledgerColumnsSql(TYPES)})`,
    );
    // The bounded in-memory ledger (at most maxRecords rows) is scanned whole by a query in a few
    // milliseconds; its indexes would cost every insert, and every trim, about as much again.
    if (!(options.path === ':memory:' && this.#maxRecords > 0)) {
      for (const [suffix, columns] of LEDGER_INDEXES) {
        this.#db.exec(`CREATE INDEX IF NOT EXISTS ${t}_${suffix} ON ${t} (${columns})`);
      }
    }
    const names = LEDGER_COLUMNS.map(([, c]) => c);
    const row = `(${names.map(() => '?').join(', ')})`;
    const insert = `INSERT INTO ${t} (${names.join(', ')}) VALUES `;
    this.#insert = this.#db.prepare(insert + row);
    this.#insertMany = this.#db.prepare(insert + Array<string>(ROWS_PER_INSERT).fill(row).join(', '));
    this.#trim =
      this.#maxRecords > 0
        ? this.#db.prepare(`DELETE FROM ${t} WHERE seq <= (SELECT MAX(seq) FROM ${t}) - ?`)
        : null;
  }

  async insert(records: readonly UsageRecord[]): Promise<void> {
    return this.insertRows(encodeRows(records));
  }

  /** The ledger thread's insert: records already flattened (ledger-rows.ts). */
  async insertRows(batch: RowBatch): Promise<void> {
    this.#db.exec('BEGIN');
    try {
      // ROWS_PER_INSERT rows per statement (fewer calls into SQLite), the rest one by one.
      const width = LEDGER_COLUMNS.length;
      const many = new Array<string | number | null>(ROWS_PER_INSERT * width);
      let i = 0;
      for (; i + ROWS_PER_INSERT <= batch.count; i += ROWS_PER_INSERT) {
        for (let j = 0; j < ROWS_PER_INSERT; j++) rowValues(batch, i + j, many, j * width);
        this.#insertMany.run(...many);
      }
      const one = new Array<string | number | null>(width);
      for (; i < batch.count; i++) {
        rowValues(batch, i, one, 0);
        this.#insert.run(...one);
      }
      this.#trim?.run(this.#maxRecords);
      this.#db.exec('COMMIT');
    } catch (err) {
      this.#db.exec('ROLLBACK');
      throw err;
    }
  }

  #where(filter: UsageFilter, after: string | null): { sql: string; args: SQLInputValue[] } {
    const args: SQLInputValue[] = [];
    const sql = ledgerWhere(filter, after, {
      bind: (v) => {
        args.push(v as SQLInputValue);
        return '?';
      },
      time: (ms) => ms,
    });
    return { sql, args };
  }

  async page(filter: UsageFilter, limit: number, after: string | null): Promise<UsagePage> {
    const { sql, args } = this.#where(filter, after);
    const rows = this.#db
      .prepare(`SELECT * FROM ${this.#table}${sql} ORDER BY ts, seq LIMIT ?`)
      .all(...args, limit);
    const last = rows.at(-1);
    return {
      records: rows.map(recordFromRow),
      next: rows.length < limit || last === undefined ? null : cursor(Number(last.ts), Number(last.seq)),
    };
  }

  async totals(filter: UsageFilter, groupBy: UsageGroup | null): Promise<UsageTotals[]> {
    const { sql, args } = this.#where(filter, null);
    const grp = groupBy === null ? 'NULL' : GROUP_COLUMN[groupBy];
    const tail = groupBy === null ? '' : ` GROUP BY grp ORDER BY grp`;
    const rows = this.#db
      .prepare(`SELECT ${grp} AS grp, ${TOTAL_COLUMNS} FROM ${this.#table}${sql}${tail}`)
      .all(...args);
    return rows.map(totalsFromRow);
  }

  async close(): Promise<void> {
    if (this.#db.isOpen) this.#db.close();
  }
}
