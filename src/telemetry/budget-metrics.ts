import { Gauge, type Registry } from 'prom-client';
import type { BudgetRemaining, BudgetReporter, BudgetWindow } from '../contracts/governance.ts';
import type { Policy } from '../contracts/policy.ts';

// gateway_budget_remaining: what is left of each budget in use, read from the quota store when Prometheus
// scrapes (nothing is recorded per request but the budget policy's bounded set of ids). A policy whose
// store cannot be read (Redis down) contributes no samples rather than failing the scrape. Budgets that
// share a counter (same scope, id, metric and window, from two rules or two budget policies) are one
// series: the smallest remaining amount, the one that refuses first.

/** The budgets the policies of the current Runtime report; those whose store fails are left out. */
export async function budgetsOf(policies: readonly Policy[]): Promise<BudgetRemaining[]> {
  const reporters = policies.filter(isBudgetReporter);
  if (reporters.length === 0) return [];
  const results = await Promise.allSettled(reporters.map((p) => p.budgetsInUse()));
  const out: BudgetRemaining[] = [];
  for (const r of results) if (r.status === 'fulfilled') out.push(...r.value);
  return out;
}

function isBudgetReporter(p: Policy): p is Policy & BudgetReporter {
  return typeof (p as Partial<BudgetReporter>).budgetsInUse === 'function';
}

const UNITS: readonly (readonly [string, number])[] = [
  ['d', 86_400_000],
  ['h', 3_600_000],
  ['m', 60_000],
  ['s', 1_000],
];

/** The `window` label: the calendar unit (day, week, month) or the rolling length (7d, 1h, 90s). */
export function windowLabel(w: BudgetWindow): string {
  if (w.kind === 'calendar') return w.unit;
  for (const [suffix, ms] of UNITS) if (w.ms % ms === 0) return `${w.ms / ms}${suffix}`;
  return `${w.ms}ms`;
}

export function registerBudgetGauge(deps: {
  readonly registers: Registry[];
  readonly budgets: () => Promise<readonly BudgetRemaining[]>;
}): Gauge<'scope' | 'id' | 'metric' | 'window'> {
  return new Gauge({
    name: 'gateway_budget_remaining',
    help: 'Remaining amount of each budget in use (tokens, or USD for metric="usd"), read at scrape time.',
    labelNames: ['scope', 'id', 'metric', 'window'],
    registers: deps.registers,
    async collect() {
      this.reset();
      const least = new Map<string, { labels: readonly [string, string, string, string]; value: number }>();
      const budgets = await deps.budgets().catch(() => []);
      for (const b of budgets) {
        const labels = [b.scope, b.id, b.metric, windowLabel(b.window)] as const;
        const name = labels.join('\u0000');
        const seen = least.get(name);
        if (seen === undefined) least.set(name, { labels, value: b.remaining });
        else seen.value = Math.min(seen.value, b.remaining);
      }
      for (const { labels, value } of least.values()) this.labels(...labels).set(value);
    },
  });
}
