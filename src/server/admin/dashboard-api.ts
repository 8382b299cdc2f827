import type { ServerResponse } from 'node:http';
import { z } from 'zod';
import { GatewayError } from '../../core/errors.ts';
import type { BudgetRule, LimitScope } from '../../contracts/governance.ts';
import type { Config } from '../../config/schema.ts';
import { budgetRule } from '../../policies/governance/params.ts';
import { budgetStatus, type BudgetStatus } from '../../policies/governance/budget-status.ts';
import type { ManagedGovernance } from '../../policies/governance/services.ts';
import type { LiveSnapshot } from '../../telemetry/live-snapshot.ts';
import type { LiveStats } from '../../telemetry/live-stats.ts';
import { OTHER } from '../../telemetry/live-series.ts';
import { NONE } from '../../telemetry/live-stats.ts';
import { sendJson } from '../respond.ts';

// GET /admin/dashboard: what the /ui page polls once a second. The live aggregates, the gateway status
// (pools and endpoints) and, when governance is wired in, the remaining budgets of the busiest keys and
// teams and of every budget configured for a named subject. Behind the admin credential like all /admin.

export interface BudgetSubject {
  readonly scope: LimitScope;
  readonly id: string;
}

/** Remaining budgets for some subjects; may be slow (Redis), so the API caches it briefly. */
export type BudgetSource = (subjects: readonly BudgetSubject[]) => Promise<readonly BudgetStatus[]>;

export interface DashboardDeps {
  readonly live: LiveStats;
  readonly status: () => unknown;
  readonly budgets?: BudgetSource;
}

export interface DashboardPayload {
  readonly live: LiveSnapshot;
  readonly status: unknown;
  /** null when no budget source is wired or it failed; [] when no budget applies. */
  readonly budgets: readonly BudgetStatus[] | null;
}

const MAX_SUBJECTS = 20;
const BUDGET_TTL_MS = 2000;
const cache = new WeakMap<BudgetSource, { at: number; value: Promise<readonly BudgetStatus[] | null> }>();

function intParam(q: URLSearchParams, name: string, max: number): number | undefined {
  const v = q.get(name);
  if (v === null) return undefined;
  if (!/^\d{1,6}$/.test(v) || Number(v) < 1 || Number(v) > max)
    throw new GatewayError('invalid_request', `${name} must be an integer from 1 to ${max}`, { param: name });
  return Number(v);
}

/** The keys and teams of the snapshot, busiest first, without the "(none)"/"(other)" buckets. */
function subjectsOf(live: LiveSnapshot): BudgetSubject[] {
  const named = (rows: readonly { name: string }[], scope: LimitScope): BudgetSubject[] =>
    rows.filter((r) => r.name !== NONE && r.name !== OTHER).map((r) => ({ scope, id: r.name }));
  return [...named(live.keys, 'key'), ...named(live.teams, 'team')].slice(0, MAX_SUBJECTS);
}

function budgetsOf(source: BudgetSource, live: LiveSnapshot): Promise<readonly BudgetStatus[] | null> {
  const hit = cache.get(source);
  if (hit !== undefined && live.now - hit.at < BUDGET_TTL_MS) return hit.value;
  const value = source(subjectsOf(live)).catch(() => null);
  cache.set(source, { at: live.now, value });
  return value;
}

export async function dashboardPayload(
  deps: DashboardDeps,
  query: URLSearchParams,
): Promise<DashboardPayload> {
  const seconds = intParam(query, 'seconds', deps.live.seconds);
  const step = intParam(query, 'step', 60);
  const live = deps.live.snapshot({
    ...(seconds === undefined ? {} : { seconds }),
    ...(step === undefined ? {} : { step }),
  });
  const budgets = deps.budgets === undefined ? null : await budgetsOf(deps.budgets, live);
  return { live, status: deps.status(), budgets };
}

/** Answers GET /admin/dashboard?seconds=&step= (the caller has checked the admin credential). */
export async function handleDashboard(deps: DashboardDeps, res: ServerResponse, url: URL): Promise<void> {
  const payload = await dashboardPayload(deps, url.searchParams);
  sendJson(res, 200, JSON.stringify(payload), { 'cache-control': 'no-store' });
}

/**
 * Budgets from governance: the rules of every `budget` policy in the config (and, for keys, the key's
 * own), for the subjects asked about plus every subject a configured rule names.
 */
export function governanceBudgets(gov: ManagedGovernance, config: () => Config): BudgetSource {
  return async (subjects) => {
    const c = config();
    const rows = [...c.policies, ...c.routes.flatMap((r) => r.policies)].filter((p) => p.type === 'budget');
    const rules: BudgetRule[] = rows.flatMap((p) =>
      z.array(budgetRule).parse((p.params as { budgets?: unknown }).budgets ?? []),
    );
    const all = new Map<string, BudgetSubject>();
    for (const s of subjects) all.set(`${s.scope}\u0000${s.id}`, s);
    for (const { scope, id } of rules)
      if (id !== null && all.size < MAX_SUBJECTS) all.set(`${scope}\u0000${id}`, { scope, id });
    const out = await Promise.all(
      [...all.values()].map(async (s) => {
        const own = s.scope === 'key' ? ((await gov.keys.get(s.id))?.budgets ?? []) : [];
        return budgetStatus(gov, [...rules, ...own], { scope: s.scope, id: s.id });
      }),
    );
    return out.flat();
  };
}
