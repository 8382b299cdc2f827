import { z } from 'zod';
import type {
  BudgetEvent,
  BudgetRule,
  CalendarSource,
  CounterState,
  CounterWindow,
  GovernanceServices,
} from '../../contracts/governance.ts';
import type { Policy, PolicyFactory } from '../../contracts/policy.ts';
import type { RequestContext } from '../../contracts/request.ts';
import { GatewayError } from '../../core/errors.ts';
import { newRequestId } from '../../core/ids.ts';
import {
  appliesTo,
  capFor,
  counterKey,
  formatResetDuration,
  heldCounters,
  mergeCounters,
  type Planned,
  retryHeaders,
  settleHold,
  slidingWindow,
} from './counters.ts';
import { budgetRule } from './params.ts';
import { costOf } from './prices.ts';
import { governanceState } from './request-state.ts';
import { governanceOf } from './services-of.ts';
import { tokenEstimate } from './token-estimate.ts';

// Budgets: tokens and USD over calendar windows (day, week, month in the configured time zone) or rolling
// windows, per key, user, team, tenant, model or route.
//
// Precedence: there is none to resolve. Every budget that applies to a request must hold, so a key's
// budget, its user's, its team's and its tenant's are all checked (and charged) together; the tightest
// one decides. Priority factors let lower classes stop early on a shared budget. A soft limit fires the
// alert hook once per crossing; refusals fire it as `hard`.
//
// Each request reserves its estimate (prompt tokens + completion budget; USD from the model's price) and
// settles to actual usage in onEnd. USD is counted in integer nano-dollars.

export const budgetParams = z.strictObject({
  budgets: z.array(budgetRule).default([]),
  /** Also apply the budgets stored on the caller's virtual key. */
  key_budgets: z.boolean().default(true),
});

export type BudgetParams = z.infer<typeof budgetParams>;

export type BudgetServices = Pick<
  GovernanceServices,
  'quotas' | 'prices' | 'estimation' | 'calendar' | 'clock' | 'onBudgetEvent'
>;

type Metric = 'tokens' | 'usd';
export const BUDGET_METRICS: readonly Metric[] = ['tokens', 'usd'];
const METRICS = BUDGET_METRICS;
/** USD is counted in integer nano-dollars. */
export const NANO = 1e9;

/** The counter a budget rule uses for one scope value and metric at time `now`. */
export function budgetCounter(
  calendar: CalendarSource,
  spec: { readonly rule: BudgetRule; readonly value: string; readonly metric: Metric; readonly now: number },
): { key: string; window: CounterWindow } {
  const { rule, value, metric, now } = spec;
  const w = rule.window;
  const tag = w.kind === 'rolling' ? `r${w.ms}` : w.unit;
  const window: CounterWindow =
    w.kind === 'rolling' ? slidingWindow(w.ms) : { kind: 'fixed', ...calendar.window(w.unit, now) };
  return { key: counterKey('bg', rule.scope, value, `${metric}:${tag}`), window };
}

interface Meta {
  readonly metric: Metric;
  readonly rule: BudgetRule;
  readonly value: string;
  /** In counter units (tokens or nano-USD). */
  readonly limit: number;
}

class BudgetPolicy implements Policy {
  readonly type = 'budget';
  readonly name: string;
  readonly #rules: readonly BudgetRule[];
  readonly #keyBudgets: boolean;
  readonly #services: BudgetServices;

  constructor(name: string, params: BudgetParams, services: BudgetServices) {
    this.name = name;
    this.#rules = params.budgets;
    this.#keyBudgets = params.key_budgets;
    this.#services = services;
  }

  #amount(ctx: RequestContext, metric: Metric): number {
    const e = tokenEstimate(ctx, this.#services.estimation);
    if (metric === 'tokens') return e.input + e.output;
    const price = this.#services.prices.lookup(ctx.provider, ctx.model);
    if (price === null) return 0; // unknown price: admit while under budget, charge actual cost later
    const usage = { inputTokens: e.input, outputTokens: e.output, cachedInputTokens: 0, cacheWriteTokens: 0 };
    return Math.ceil(costOf({ ...usage, reasoningTokens: 0 }, price) * NANO);
  }

  #plan(ctx: RequestContext, rules: readonly BudgetRule[]): Planned<Meta>[] {
    const now = this.#services.clock();
    const planned: Planned<Meta>[] = [];
    for (const rule of rules) {
      const value = appliesTo(rule, ctx);
      if (value === null) continue;
      for (const metric of METRICS) {
        const raw = rule[metric];
        if (raw === null) continue;
        const limit = metric === 'usd' ? Math.round(raw * NANO) : raw;
        const cap = capFor(limit, rule.priority, ctx.priority);
        const { key, window } = budgetCounter(this.#services.calendar, { rule, value, metric, now });
        const amount = this.#amount(ctx, metric);
        planned.push({
          request: { key, window, cap, amount, hold: true },
          settle: metric,
          meta: { metric, rule, value, limit },
        });
      }
    }
    return mergeCounters(planned);
  }

  async onRequest(ctx: RequestContext): Promise<void> {
    const state = governanceState(ctx);
    const own = this.#keyBudgets && state.key !== null ? state.key.budgets : [];
    const rules = own.length === 0 ? this.#rules : [...this.#rules, ...own];
    if (rules.length === 0) return;
    const planned = this.#plan(ctx, rules);
    if (planned.length === 0) return;
    const holdId = newRequestId();
    const result = await this.#services.quotas.acquire(
      holdId,
      planned.map((p) => p.request),
    );
    if (!result.ok) {
      const failed = planned[result.failed];
      const state = result.states[result.failed];
      if (failed !== undefined && state !== undefined) this.#event('hard', failed.meta, state.used);
      throw new GatewayError(
        'budget_exceeded',
        failed === undefined ? 'Budget exhausted.' : describe(failed.meta),
        {
          headers: retryHeaders(result.retryAfterMs),
        },
      );
    }
    state.holds.set(this, { id: holdId, counters: heldCounters(planned) });
    if (!result.degraded) this.#softAlerts(planned, result.states);
  }

  #softAlerts(planned: readonly Planned<Meta>[], states: readonly CounterState[]): void {
    for (const [i, p] of planned.entries()) {
      const soft = p.meta.rule.soft;
      const s = states[i];
      if (soft === null || s === undefined) continue;
      const threshold = p.meta.limit * soft;
      if (s.used >= threshold && s.used - p.request.amount < threshold) this.#event('soft', p.meta, s.used);
    }
  }

  #event(kind: BudgetEvent['kind'], meta: Meta, used: number): void {
    const scale = meta.metric === 'usd' ? NANO : 1;
    const { scope } = meta.rule;
    const event = {
      kind,
      scope,
      id: meta.value,
      metric: meta.metric,
      used: used / scale,
      limit: meta.limit / scale,
    };
    try {
      this.#services.onBudgetEvent(event);
    } catch {
      // An alert hook must not fail the request.
    }
  }

  onEnd(ctx: RequestContext): void {
    settleHold(ctx, this, this.#services.quotas, this.#services.prices);
  }
}

function describe(meta: Meta): string {
  const who = meta.rule.scope === 'global' ? 'the gateway' : `${meta.rule.scope} ${meta.value}`;
  const w = meta.rule.window;
  const per = w.kind === 'calendar' ? `per ${w.unit}` : `per rolling ${formatResetDuration(w.ms)}`;
  const amount = meta.metric === 'usd' ? `$${(meta.limit / NANO).toFixed(2)}` : `${meta.limit} tokens`;
  return `Budget exhausted for ${who}: ${amount} ${per}.`;
}

export const budgetFactory: PolicyFactory<BudgetParams> = {
  type: 'budget',
  description:
    'Token and USD budgets over calendar or rolling windows, reserved up front and settled to usage.',
  params: budgetParams,
  create: (name, params, services) => new BudgetPolicy(name, params, governanceOf(services, name)),
};
