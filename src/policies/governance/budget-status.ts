import type { BudgetRule, CalendarSource, LimitScope, QuotaStore } from '../../contracts/governance.ts';
import { BUDGET_METRICS, budgetCounter, NANO } from './budget-counter.ts';

// Remaining budget for one key, user, team or tenant: what the admin API and the
// gateway_budget_remaining gauge show. Reads the same counters the budget policy charges, without
// changing them.

export interface BudgetStatus {
  readonly scope: LimitScope;
  readonly id: string;
  readonly metric: 'tokens' | 'usd';
  readonly window: BudgetRule['window'];
  readonly limit: number;
  /** Committed usage in the current window plus live reservations (USD for usd). */
  readonly used: number;
  readonly remaining: number;
  /** When the window resets (calendar) or the count next falls (rolling), ms since epoch. */
  readonly resetAt: number;
}

type StatusServices = {
  readonly quotas: QuotaStore;
  readonly calendar: CalendarSource;
  readonly clock: () => number;
};

/** One subject and the rules that may apply to it (those of other scopes or ids are skipped). */
export interface BudgetQuery {
  readonly rules: readonly BudgetRule[];
  readonly subject: { readonly scope: LimitScope; readonly id: string };
}

export function budgetStatus(
  services: StatusServices,
  rules: readonly BudgetRule[],
  subject: { readonly scope: LimitScope; readonly id: string },
): Promise<BudgetStatus[]> {
  return budgetStatuses(services, [{ rules, subject }]);
}

/** The status of every applicable budget of several subjects, read with one `peek`. */
export async function budgetStatuses(
  services: StatusServices,
  queries: readonly BudgetQuery[],
): Promise<BudgetStatus[]> {
  const now = services.clock();
  const rows: Omit<BudgetStatus, 'used' | 'remaining' | 'resetAt'>[] = [];
  const counters = [];
  for (const { rules, subject } of queries) {
    for (const rule of rules) {
      if (rule.scope !== subject.scope || (rule.id !== null && rule.id !== subject.id)) continue;
      for (const metric of BUDGET_METRICS) {
        const limit = rule[metric];
        if (limit === null) continue;
        counters.push(budgetCounter(services.calendar, { rule, value: subject.id, metric, now }));
        rows.push({ scope: rule.scope, id: subject.id, metric, window: rule.window, limit });
      }
    }
  }
  if (counters.length === 0) return [];
  const states = await services.quotas.peek(counters);
  return rows.map((row, i) => {
    const s = states[i] ?? { used: 0, resetMs: 0 };
    const used = row.metric === 'usd' ? s.used / NANO : s.used;
    return { ...row, used, remaining: Math.max(0, row.limit - used), resetAt: now + s.resetMs };
  });
}
