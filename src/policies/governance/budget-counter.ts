import type { BudgetRule, CalendarSource, CounterWindow } from '../../contracts/governance.ts';
import { counterKey, slidingWindow } from './counters.ts';

// The counters budgets are kept in, shared by the budget policy (which charges them) and budget-status.ts
// (which reads them).

export type BudgetMetric = 'tokens' | 'usd';
export const BUDGET_METRICS: readonly BudgetMetric[] = ['tokens', 'usd'];
/** USD is counted in integer nano-dollars. */
export const NANO = 1e9;

/** The counter a budget rule uses for one scope value and metric at time `now`. */
export function budgetCounter(
  calendar: CalendarSource,
  spec: {
    readonly rule: BudgetRule;
    readonly value: string;
    readonly metric: BudgetMetric;
    readonly now: number;
  },
): { key: string; window: CounterWindow } {
  const { rule, value, metric, now } = spec;
  const w = rule.window;
  const tag = w.kind === 'rolling' ? `r${w.ms}` : w.unit;
  const window: CounterWindow =
    w.kind === 'rolling' ? slidingWindow(w.ms) : { kind: 'fixed', ...calendar.window(w.unit, now) };
  return { key: counterKey('bg', rule.scope, value, `${metric}:${tag}`), window };
}
