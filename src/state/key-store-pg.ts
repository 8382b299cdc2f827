import type pg from 'pg';
import { loadPg } from '../core/optional-deps.ts';
import type { KeyFields, KeyFilter, KeyRecord, KeyStore } from '../contracts/governance.ts';
import { applyKeyFields } from './key-secrets.ts';
import { KEY_COLUMNS, keyFromRow, keyTableColumns, keyToRow, lockedDdl, tableName } from './key-rows.ts';

// Keys in PostgreSQL, shared by every replica. The table is created on first use.

export interface PgKeyStoreOptions {
  /** A pool shared with other stores, or a connection string for a pool of our own. */
  readonly pool?: pg.Pool;
  readonly connectionString?: string;
  readonly table?: string;
}

export function pgPool(options: { readonly pool?: pg.Pool; readonly connectionString?: string }): {
  pool: pg.Pool;
  owned: boolean;
} {
  if (options.pool !== undefined) return { pool: options.pool, owned: false };
  if (options.connectionString === undefined)
    throw new Error('PostgreSQL store needs a pool or connectionString');
  const pool = new (loadPg().Pool)({ connectionString: options.connectionString, max: 10 });
  // An idle client losing its connection must not crash the process; the next query reconnects.
  pool.on('error', () => {});
  return { pool, owned: true };
}

export class PgKeyStore implements KeyStore {
  readonly #pool: pg.Pool;
  readonly #owned: boolean;
  readonly #table: string;
  #ready: Promise<void> | null = null;

  constructor(options: PgKeyStoreOptions) {
    const { pool, owned } = pgPool(options);
    this.#pool = pool;
    this.#owned = owned;
    this.#table = tableName(options.table ?? 'switchyard_keys');
  }

  async #query(sql: string, args: unknown[]): Promise<Record<string, unknown>[]> {
    this.#ready ??= this.#pool
      .query(
        lockedDdl(this.#table, [`CREATE TABLE IF NOT EXISTS ${this.#table} (${keyTableColumns('BIGINT')})`]),
      )
      .then(
        () => undefined,
        (err: unknown) => {
          this.#ready = null;
          throw err;
        },
      );
    await this.#ready;
    const result = await this.#pool.query<Record<string, unknown>>(sql, args);
    return result.rows;
  }

  async #one(where: string, value: string): Promise<KeyRecord | null> {
    const rows = await this.#query(`SELECT * FROM ${this.#table} WHERE ${where} = $1`, [value]);
    return rows[0] === undefined ? null : keyFromRow(rows[0]);
  }

  async #write(record: KeyRecord, upsert: boolean): Promise<void> {
    const row = keyToRow(record);
    const marks = KEY_COLUMNS.map((_, i) => `$${i + 1}`).join(', ');
    // An update never un-revokes: a revocation racing an update wins.
    const sets = KEY_COLUMNS.filter((c) => c !== 'id' && c !== 'revoked_at').map(
      (c) => `${c} = EXCLUDED.${c}`,
    );
    sets.push(`revoked_at = COALESCE(${this.#table}.revoked_at, EXCLUDED.revoked_at)`);
    const conflict = upsert ? ` ON CONFLICT (id) DO UPDATE SET ${sets.join(', ')}` : '';
    await this.#query(
      `INSERT INTO ${this.#table} (${KEY_COLUMNS.join(', ')}) VALUES (${marks})${conflict}`,
      KEY_COLUMNS.map((c) => row[c]),
    );
  }

  async insert(record: KeyRecord): Promise<void> {
    await this.#write(record, false);
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
        args.push(value);
        where.push(`${column} = $${args.length}`);
      }
    }
    if (filter.includeRevoked !== true) where.push('revoked_at IS NULL');
    const clause = where.length > 0 ? ' WHERE ' + where.join(' AND ') : '';
    const rows = await this.#query(`SELECT * FROM ${this.#table}${clause} ORDER BY created_at, id`, args);
    return rows.map(keyFromRow);
  }

  async update(id: string, fields: KeyFields): Promise<KeyRecord | null> {
    const current = await this.#one('id', id);
    if (current === null) return null;
    const next = applyKeyFields(current, fields);
    await this.#write(next, true);
    return next;
  }

  async revoke(id: string, at: number): Promise<KeyRecord | null> {
    await this.#query(`UPDATE ${this.#table} SET revoked_at = $1 WHERE id = $2 AND revoked_at IS NULL`, [
      at,
      id,
    ]);
    return this.#one('id', id);
  }

  async close(): Promise<void> {
    if (this.#owned) await this.#pool.end();
  }
}
