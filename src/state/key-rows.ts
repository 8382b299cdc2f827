import type { BudgetRule, KeyRecord, RateLimitRule } from '../contracts/governance.ts';
import type { PriorityClass } from '../contracts/request.ts';

// Key records as SQL rows, shared by the SQLite and PostgreSQL stores. Lists and maps are JSON text, so
// the two schemas stay the same; times are integer ms since epoch.

export const KEY_COLUMNS = [
  'id',
  'hash',
  'prefix',
  'name',
  'tenant',
  'team',
  'user_id',
  'allowed_models',
  'allowed_routes',
  'expires_at',
  'metadata',
  'priority',
  'limits',
  'budgets',
  'created_at',
  'revoked_at',
] as const;

export type KeyRow = Record<(typeof KEY_COLUMNS)[number], string | number | null>;

/** Column definitions; `big` is the 64-bit integer type name of the dialect. */
export function keyTableColumns(big: string): string {
  return `id TEXT PRIMARY KEY, hash TEXT NOT NULL UNIQUE, prefix TEXT NOT NULL, name TEXT, tenant TEXT,
    team TEXT, user_id TEXT, allowed_models TEXT, allowed_routes TEXT, expires_at ${big}, metadata TEXT NOT NULL,
    priority TEXT, limits TEXT NOT NULL, budgets TEXT NOT NULL, created_at ${big} NOT NULL, revoked_at ${big}`;
}

export function keyToRow(r: KeyRecord): KeyRow {
  return {
    id: r.id,
    hash: r.hash,
    prefix: r.prefix,
    name: r.name,
    tenant: r.tenant,
    team: r.team,
    user_id: r.user,
    allowed_models: r.allowedModels === null ? null : JSON.stringify(r.allowedModels),
    allowed_routes: r.allowedRoutes === null ? null : JSON.stringify(r.allowedRoutes),
    expires_at: r.expiresAt,
    metadata: JSON.stringify(r.metadata),
    priority: r.priority,
    limits: JSON.stringify(r.limits),
    budgets: JSON.stringify(r.budgets),
    created_at: r.createdAt,
    revoked_at: r.revokedAt,
  };
}

/** A scalar SQL value as text (objects, which no text column holds, as JSON). */
export function scalarText(v: unknown): string {
  if (typeof v === 'string') return v;
  if (typeof v === 'number' || typeof v === 'bigint' || typeof v === 'boolean') return String(v);
  return JSON.stringify(v) ?? '';
}

function str(v: unknown): string | null {
  return v === null || v === undefined ? null : scalarText(v);
}

function int(v: unknown): number | null {
  return v === null || v === undefined ? null : Number(v);
}

function json<T>(v: unknown, fallback: T): T {
  return typeof v === 'string' ? (JSON.parse(v) as T) : fallback;
}

export function keyFromRow(row: Readonly<Record<string, unknown>>): KeyRecord {
  return {
    id: String(row.id),
    hash: String(row.hash),
    prefix: String(row.prefix),
    name: str(row.name),
    tenant: str(row.tenant),
    team: str(row.team),
    user: str(row.user_id),
    allowedModels: json<string[] | null>(row.allowed_models, null),
    allowedRoutes: json<string[] | null>(row.allowed_routes, null),
    expiresAt: int(row.expires_at),
    metadata: json<Record<string, string>>(row.metadata, {}),
    priority: str(row.priority) as PriorityClass | null,
    limits: json<RateLimitRule[]>(row.limits, []),
    budgets: json<BudgetRule[]>(row.budgets, []),
    createdAt: Number(row.created_at),
    revokedAt: int(row.revoked_at),
  };
}

const IDENT = /^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)?$/;

/** A table name safe to splice into SQL (optionally schema-qualified). */
export function tableName(name: string): string {
  if (!IDENT.test(name)) throw new Error(`invalid table name "${name}"`);
  return name;
}

/**
 * PostgreSQL DDL for a table, as one simple query (so one implicit transaction) behind a transaction-scoped
 * advisory lock on the table's name. CREATE … IF NOT EXISTS is not safe against a concurrent creation (the
 * loser fails on pg_type's unique index), and replicas starting together create their tables at once.
 */
export function lockedDdl(table: string, statements: readonly string[]): string {
  return [`SELECT pg_advisory_xact_lock(hashtext('${tableName(table)}'))`, ...statements].join(';\n');
}
