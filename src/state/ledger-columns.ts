import type { UsageFilter, UsageGroup, UsageRecord, UsageTotals } from '../contracts/governance.ts';
import { scalarText } from './key-rows.ts';

// The usage ledger's table, described once for both SQL backends and the CSV export: record field,
// column, and kind. Times are ms since epoch in SQLite and timestamptz in PostgreSQL.

type Kind = 'ts' | 'text' | 'int' | 'bool' | 'usd';

export const LEDGER_COLUMNS = [
  ['ts', 'ts', 'ts'],
  ['requestId', 'request_id', 'text'],
  ['keyId', 'key_id', 'text'],
  ['identityKind', 'identity_kind', 'text'],
  ['tenant', 'tenant', 'text'],
  ['team', 'team', 'text'],
  ['user', 'user_id', 'text'],
  ['api', 'api', 'text'],
  ['route', 'route', 'text'],
  ['model', 'model', 'text'],
  ['upstreamModel', 'upstream_model', 'text'],
  ['provider', 'provider', 'text'],
  ['endpoint', 'endpoint', 'text'],
  ['stream', 'stream', 'bool'],
  ['inputTokens', 'input_tokens', 'int'],
  ['outputTokens', 'output_tokens', 'int'],
  ['cachedInputTokens', 'cached_input_tokens', 'int'],
  ['cacheWriteTokens', 'cache_write_tokens', 'int'],
  ['reasoningTokens', 'reasoning_tokens', 'int'],
  ['costUsd', 'cost_usd', 'usd'],
  ['status', 'status', 'int'],
  ['outcome', 'outcome', 'text'],
  ['errorCode', 'error_code', 'text'],
  ['latencyMs', 'latency_ms', 'int'],
  ['ttftMs', 'ttft_ms', 'int'],
  ['usageSource', 'usage_source', 'text'],
  ['attempts', 'attempts', 'int'],
] as const satisfies readonly (readonly [keyof UsageRecord, string, Kind])[];

const NULLABLE: ReadonlySet<string> = new Set([
  'key_id',
  'identity_kind',
  'tenant',
  'team',
  'user_id',
  'upstream_model',
  'provider',
  'endpoint',
  'cost_usd',
  'error_code',
  'ttft_ms',
]);

/** Column definitions for a dialect. */
export function ledgerColumnsSql(types: Readonly<Record<Kind, string>>): string {
  return LEDGER_COLUMNS.map(([, c, kind]) => `${c} ${types[kind]}${NULLABLE.has(c) ? '' : ' NOT NULL'}`).join(
    ', ',
  );
}

export const LEDGER_INDEXES = [
  ['key_ts', 'key_id, ts'],
  ['team_ts', 'team, ts'],
  ['tenant_ts', 'tenant, ts'],
  ['ts', 'ts'],
] as const;

/** A row read back from SQL (numbers may arrive as strings, times as Date) → record. */
export function recordFromRow(row: Readonly<Record<string, unknown>>): UsageRecord {
  const out: Record<string, unknown> = {};
  for (const [field, column, kind] of LEDGER_COLUMNS) {
    const v = row[column];
    if (v === null || v === undefined) out[field] = null;
    else if (kind === 'ts') out[field] = v instanceof Date ? v.getTime() : Number(v);
    else if (kind === 'int' || kind === 'usd') out[field] = Number(v);
    else if (kind === 'bool') out[field] = v === true || v === 1 || v === '1';
    else out[field] = scalarText(v);
  }
  return out as unknown as UsageRecord;
}

export const GROUP_COLUMN: Readonly<Record<UsageGroup, string>> = {
  key: 'key_id',
  tenant: 'tenant',
  team: 'team',
  user: 'user_id',
  model: 'model',
  provider: 'provider',
};

const FILTER_COLUMN = [
  ['keyId', 'key_id'],
  ['tenant', 'tenant'],
  ['team', 'team'],
  ['user', 'user_id'],
  ['model', 'model'],
] as const;

/**
 * WHERE clause for a filter and an optional (ts, seq) cursor. `bind` records a value and returns its
 * placeholder; `time` converts ms to the dialect's time value.
 */
export function ledgerWhere(
  filter: UsageFilter,
  after: string | null,
  dialect: { readonly bind: (v: unknown) => string; readonly time: (ms: number) => unknown },
): string {
  const where: string[] = [];
  for (const [field, column] of FILTER_COLUMN) {
    const v = filter[field];
    if (v !== undefined) where.push(`${column} = ${dialect.bind(v)}`);
  }
  if (filter.from !== undefined) where.push(`ts >= ${dialect.bind(dialect.time(filter.from))}`);
  if (filter.to !== undefined) where.push(`ts < ${dialect.bind(dialect.time(filter.to))}`);
  if (after !== null) {
    const [ts, seq] = parseCursor(after);
    const gt = dialect.bind(dialect.time(ts));
    const eq = dialect.bind(dialect.time(ts));
    where.push(`(ts > ${gt} OR (ts = ${eq} AND seq > ${dialect.bind(seq)}))`);
  }
  return where.length === 0 ? '' : ' WHERE ' + where.join(' AND ');
}

export function cursor(ts: number, seq: number): string {
  return `${ts}.${seq}`;
}

function parseCursor(value: string): [number, number] {
  const m = /^(\d+)\.(\d+)$/.exec(value);
  if (m === null) throw new Error('invalid usage cursor');
  return [Number(m[1]), Number(m[2])];
}

export const TOTAL_COLUMNS =
  'COUNT(*) AS requests, SUM(input_tokens) AS input_tokens, SUM(output_tokens) AS output_tokens, ' +
  'SUM(cached_input_tokens) AS cached_input_tokens, SUM(cache_write_tokens) AS cache_write_tokens, ' +
  'SUM(reasoning_tokens) AS reasoning_tokens, SUM(cost_usd) AS cost_usd';

export function totalsFromRow(row: Readonly<Record<string, unknown>>): UsageTotals {
  const n = (v: unknown): number => (v === null || v === undefined ? 0 : Number(v));
  return {
    group: row.grp === null || row.grp === undefined ? null : scalarText(row.grp),
    requests: n(row.requests),
    inputTokens: n(row.input_tokens),
    outputTokens: n(row.output_tokens),
    cachedInputTokens: n(row.cached_input_tokens),
    cacheWriteTokens: n(row.cache_write_tokens),
    reasoningTokens: n(row.reasoning_tokens),
    costUsd: n(row.cost_usd),
  };
}
