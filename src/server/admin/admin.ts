import { timingSafeEqual } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { z } from 'zod';
import { GatewayError, toGatewayError } from '../../core/errors.ts';
import type { BudgetRule, UsageFilter, UsageGroup } from '../../contracts/governance.ts';
import type { Config } from '../../config/schema.ts';
import { budgetRule } from '../../policies/governance/params.ts';
import { budgetStatus } from '../../policies/governance/budget-status.ts';
import type { ManagedGovernance } from '../../policies/governance/services.ts';
import { readJsonBody } from '../body.ts';
import { sendError, sendJson } from '../respond.ts';
import { keysApi } from './keys-api.ts';
import { handleDashboard, type DashboardDeps } from './dashboard-api.ts';

// The admin API under /admin, behind its own bearer credential (admin.token; disabled when empty):
// keys, usage (totals, records, export) and remaining budgets. JSON in, JSON out, OpenAI-shaped errors.

export interface AdminDeps {
  readonly gov: ManagedGovernance;
  readonly config: () => Config;
  /** Extra read-only routes (the dashboard's status feed). */
  readonly status: () => unknown;
  /** GET /admin/dashboard: what the /ui page polls. */
  readonly dashboard: DashboardDeps;
}

/** Constant-time bearer check. */
export function adminAuthorized(req: IncomingMessage, token: string): boolean {
  if (token === '') return false;
  const header = req.headers.authorization;
  const given = typeof header === 'string' && header.startsWith('Bearer ') ? header.slice(7) : '';
  const a = Buffer.from(given);
  const b = Buffer.from(token);
  return a.length === b.length && timingSafeEqual(a, b);
}

const GROUPS: ReadonlySet<string> = new Set(['key', 'tenant', 'team', 'user', 'model', 'provider']);

function usageFilter(q: URLSearchParams): UsageFilter {
  const filter: Record<string, unknown> = {};
  if (q.has('key')) filter.keyId = q.get('key');
  for (const k of ['tenant', 'team', 'user', 'model'] as const) if (q.has(k)) filter[k] = q.get(k);
  for (const k of ['from', 'to'] as const) {
    const v = q.get(k);
    if (v === null) continue;
    const ms = /^\d+$/.test(v) ? Number(v) : Date.parse(v);
    if (Number.isNaN(ms))
      throw new GatewayError('invalid_request', `${k} must be an ISO time or ms since epoch`, { param: k });
    filter[k] = ms;
  }
  return filter;
}

function configuredBudgets(config: Config): BudgetRule[] {
  const rows = [...config.policies, ...config.routes.flatMap((r) => r.policies)].filter(
    (p) => p.type === 'budget',
  );
  return rows.flatMap((p) => z.array(budgetRule).parse((p.params as { budgets?: unknown }).budgets ?? []));
}

async function route(deps: AdminDeps, req: IncomingMessage, res: ServerResponse, url: URL): Promise<void> {
  const { gov } = deps;
  const path = url.pathname;
  const query = url.searchParams;
  const parts = path
    .split('/')
    .filter((p) => p !== '')
    .slice(1); // drop "admin"
  const method = req.method ?? 'GET';
  const [area, ...rest] = parts;
  if (area === 'keys') {
    const length = req.headers['content-length'];
    const hasBody =
      (length !== undefined && length !== '0') || req.headers['transfer-encoding'] !== undefined;
    const body =
      (method === 'POST' || method === 'PATCH') && hasBody ? await readJsonBody(req, 1_000_000) : undefined;
    const out = await keysApi(gov, method, rest, { query, body });
    return sendJson(res, out.status, JSON.stringify(out.body));
  }
  if (method !== 'GET') throw new GatewayError('method_not_allowed', `Use GET for /admin/${area ?? ''}.`);
  if (area === 'usage') {
    if (gov.ledger === null)
      throw new GatewayError('not_found', 'The usage ledger is disabled (governance.ledger.store: none).');
    await gov.ledger.flush();
    const filter = usageFilter(query);
    if (rest[0] === 'records') {
      const page = await gov.ledger.page(
        filter,
        Math.min(1000, Number(query.get('limit') ?? 100)),
        query.get('after'),
      );
      return sendJson(res, 200, JSON.stringify({ object: 'list', data: page.records, next: page.next }));
    }
    if (rest[0] === 'export') {
      const format = query.get('format') === 'csv' ? 'csv' : 'jsonl';
      res.writeHead(200, { 'content-type': format === 'csv' ? 'text/csv' : 'application/x-ndjson' });
      gov.ledger.export(filter, format).pipe(res);
      return;
    }
    const group = query.get('group_by');
    if (group !== null && !GROUPS.has(group))
      throw new GatewayError('invalid_request', `group_by must be one of ${[...GROUPS].join(', ')}`, {
        param: 'group_by',
      });
    const totals = await gov.ledger.totals(filter, (group as UsageGroup | null) ?? null);
    return sendJson(res, 200, JSON.stringify({ object: 'list', data: totals }));
  }
  if (area === 'budgets') {
    const scope = query.get('scope') ?? 'key';
    const id = query.get('id');
    if (id === null) throw new GatewayError('invalid_request', 'id is required', { param: 'id' });
    let rules = configuredBudgets(deps.config());
    if (scope === 'key') rules = [...rules, ...((await gov.keys.get(id))?.budgets ?? [])];
    const status = await budgetStatus(gov, rules, { scope: scope as BudgetRule['scope'], id });
    return sendJson(res, 200, JSON.stringify({ object: 'list', data: status }));
  }
  if (area === 'status') return sendJson(res, 200, JSON.stringify(deps.status()));
  if (area === 'dashboard') return handleDashboard(deps.dashboard, res, url);
  throw new GatewayError('not_found', `No admin route for ${path}.`);
}

export async function handleAdmin(
  deps: AdminDeps,
  req: IncomingMessage,
  res: ServerResponse,
  url: URL,
): Promise<void> {
  try {
    await route(deps, req, res, url);
  } catch (err) {
    sendError(res, toGatewayError(err), { surface: 'openai', close: !req.complete });
  }
}
