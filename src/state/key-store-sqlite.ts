import { DatabaseSync, type SQLInputValue } from 'node:sqlite';
import type { KeyFields, KeyFilter, KeyRecord, KeyStore } from '../contracts/governance.ts';
import { applyKeyFields } from './key-secrets.ts';
import { KEY_COLUMNS, keyFromRow, keyTableColumns, keyToRow, tableName } from './key-rows.ts';

// Keys in an embedded SQLite database (node:sqlite), a file or ":memory:". Several processes may share
// a file (WAL mode, busy timeout); revocations then reach other processes through the cache TTL or the
// Redis bus.

export interface SqliteKeyStoreOptions {
  /** File path or ":memory:". */
  readonly path: string;
  readonly table?: string;
}

export function openSqlite(path: string): DatabaseSync {
  const db = new DatabaseSync(path);
  db.exec('PRAGMA busy_timeout = 5000');
  if (path !== ':memory:') db.exec('PRAGMA journal_mode = WAL');
  return db;
}

export class SqliteKeyStore implements KeyStore {
  readonly #db: DatabaseSync;
  readonly #table: string;

  constructor(options: SqliteKeyStoreOptions) {
    this.#db = openSqlite(options.path);
    this.#table = tableName(options.table ?? 'switchyard_keys');
    this.#db.exec(`CREATE TABLE IF NOT EXISTS ${this.#table} (${keyTableColumns('INTEGER')})`);
  }

  #one(where: string, value: string): KeyRecord | null {
    const row = this.#db.prepare(`SELECT * FROM ${this.#table} WHERE ${where} = ?`).get(value);
    return row === undefined ? null : keyFromRow(row);
  }

  #write(record: KeyRecord, verb: 'INSERT' | 'REPLACE'): void {
    const row = keyToRow(record);
    const marks = KEY_COLUMNS.map(() => '?').join(', ');
    this.#db
      .prepare(`${verb} INTO ${this.#table} (${KEY_COLUMNS.join(', ')}) VALUES (${marks})`)
      .run(...KEY_COLUMNS.map((c): SQLInputValue => row[c]));
  }

  async insert(record: KeyRecord): Promise<void> {
    this.#write(record, 'INSERT');
  }

  async get(id: string): Promise<KeyRecord | null> {
    return this.#one('id', id);
  }

  async getByHash(hash: string): Promise<KeyRecord | null> {
    return this.#one('hash', hash);
  }

  async list(filter: KeyFilter): Promise<KeyRecord[]> {
    const where: string[] = [];
    const args: string[] = [];
    for (const [column, value] of [
      ['tenant', filter.tenant],
      ['team', filter.team],
      ['user_id', filter.user],
    ] as const) {
      if (value !== undefined) {
        where.push(`${column} = ?`);
        args.push(value);
      }
    }
    if (filter.includeRevoked !== true) where.push('revoked_at IS NULL');
    const sql = `SELECT * FROM ${this.#table}${where.length > 0 ? ' WHERE ' + where.join(' AND ') : ''}`;
    return this.#db
      .prepare(sql + ' ORDER BY created_at, id')
      .all(...args)
      .map(keyFromRow);
  }

  async update(id: string, fields: KeyFields): Promise<KeyRecord | null> {
    const current = this.#one('id', id);
    if (current === null) return null;
    const next = applyKeyFields(current, fields);
    this.#write(next, 'REPLACE');
    return next;
  }

  async revoke(id: string, at: number): Promise<KeyRecord | null> {
    this.#db
      .prepare(`UPDATE ${this.#table} SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL`)
      .run(at, id);
    return this.#one('id', id);
  }

  async close(): Promise<void> {
    if (this.#db.isOpen) this.#db.close();
  }
}
