import { z } from 'zod';
import type {
  BudgetEvent,
  BudgetReporter,
  BudgetRule,
  CounterWindow,
  GovernanceServices,
} from '../../contracts/governance.ts';
import type { PolicyFactory } from '../../contracts/policy.ts';
import type { RequestContext } from '../../contracts/request.ts';
import { GatewayError } from '../../core/errors.ts';
import { CounterPolicy, type Share } from './admission.ts';
import { BUDGET_METRICS, type BudgetMetric, NANO } from './budget-counter.ts';
import { budgetStatuses, type BudgetQuery, type BudgetStatus } from './budget-status.ts';
import { budgetsInUseOf, type BudgetsInUse } from './budgets-in-use.ts';
import {
  appliesTo,
  type Caps,
  CounterKeys,
  capsFor,
  formatResetDuration,
  mergeCounters,
  perKeyRecord,
  type Planned,
  retryHeaders,
  slidingWindow,
} from './counters.ts';
import { budgetRule } from './params.ts';
import { costOf } from './prices.ts';
import type { RequestGovernance } from './request-state.ts';
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
//
// The scope values charged are remembered in a bounded set (budgets-in-use.ts, one lookup per counter per
// request), so the gateway_budget_remaining gauge can read their remaining amounts when scraped.

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

type Metric = BudgetMetric;
const METRICS = BUDGET_METRICS;

/** One counter of a rule, worked out once: everything but the scope value, window and amount. */
interface Meta {
  readonly rule: BudgetRule;
  readonly metric: Metric;
  /** In counter units (tokens or nano-USD). */
  readonly limit: number;
  readonly caps: Caps;
  readonly keys: CounterKeys;
}

interface Compiled {
  readonly rule: BudgetRule;
  /** The rolling window, or null for a calendar one (found per request). */
  readonly sliding: CounterWindow | null;
  readonly metas: readonly Meta[];
}

function compile(rule: BudgetRule): Compiled {
  const w = rule.window;
  const tag = w.kind === 'rolling' ? `r${w.ms}` : w.unit;
  const metas: Meta[] = [];
  for (const metric of METRICS) {
    const raw = rule[metric];
    if (raw === null) continue;
    const limit = metric === 'usd' ? Math.round(raw * NANO) : raw;
    const keys = new CounterKeys('bg', rule.scope, `${metric}:${tag}`);
    metas.push({ rule, metric, limit, caps: capsFor(limit, rule.priority), keys });
  }
  return { rule, sliding: w.kind === 'rolling' ? slidingWindow(w.ms) : null, metas };
}

/** Compiled budgets of a key record. */
const compiledOf = perKeyRecord((record) => record.budgets, compile);

class BudgetPolicy extends CounterPolicy<Meta> implements BudgetReporter {
  readonly type = 'budget';
  readonly #params: BudgetParams;
  readonly #rules: readonly Compiled[];
  readonly #keyBudgets: boolean;
  readonly #services: BudgetServices;
  readonly #inUse: BudgetsInUse;

  constructor(name: string, params: BudgetParams, deps: { services: BudgetServices; maxIds: number }) {
    super(name, deps.services, params.budgets.length > 0);
    this.#params = params;
    this.#rules = params.budgets.map(compile);
    this.#keyBudgets = params.key_budgets;
    this.#services = deps.services;
    this.#inUse = budgetsInUseOf(deps.services.quotas, name, deps.maxIds);
  }

  /** Remaining amounts of the budgets charged since start (at most maxIds subjects; kept over reloads). */
  budgetsInUse(): Promise<BudgetStatus[]> {
    const queries: BudgetQuery[] = [];
    for (const subject of this.#inUse.subjects()) {
      const own = this.#keyBudgets && subject.record !== null ? subject.record.budgets : [];
      queries.push({
        subject,
        rules: own.length === 0 ? this.#params.budgets : [...this.#params.budgets, ...own],
      });
    }
    return budgetStatuses(this.#services, queries);
  }

  #amount(ctx: RequestContext, state: RequestGovernance, metric: Metric): number {
    const e = tokenEstimate(ctx, this.#services.estimation, state);
    if (metric === 'tokens') return e.input + e.output;
    const price = this.#services.prices.lookup(ctx.provider, ctx.model);
    if (price === null) return 0; // unknown price: admit while under budget, charge actual cost later
    const usage = { inputTokens: e.input, outputTokens: e.output, cachedInputTokens: 0, cacheWriteTokens: 0 };
    return Math.ceil(costOf({ ...usage, reasoningTokens: 0 }, price) * NANO);
  }

  usesEstimate(state: RequestGovernance): boolean {
    // Every budget reserves tokens or USD, both from the estimate.
    return this.#rules.length > 0 || (this.#keyBudgets && state.key !== null && state.key.budgets.length > 0);
  }

  plan(ctx: RequestContext, state: RequestGovernance): Planned<Meta>[] {
    const planned: Planned<Meta>[] = [];
    const now = this.#services.clock();
    this.#planRules(ctx, state, this.#rules, { now, out: planned });
    if (this.#keyBudgets && state.key !== null && state.key.budgets.length > 0) {
      this.#planRules(ctx, state, compiledOf(state.key), { now, out: planned });
    }
    return mergeCounters(planned);
  }

  #planRules(
    ctx: RequestContext,
    state: RequestGovernance,
    rules: readonly Compiled[],
    { now, out }: { readonly now: number; readonly out: Planned<Meta>[] },
  ): void {
    for (const { rule, sliding, metas } of rules) {
      const value = appliesTo(rule, ctx);
      if (value === null) continue;
      const window = sliding ?? this.#calendarWindow(rule.window, now);
      for (const meta of metas) {
        const key = meta.keys.key(value);
        const subject = this.#inUse.note(key, rule.scope, value);
        if (subject !== null && rule.scope === 'key') subject.record = state.key;
        out.push({
          key,
          window,
          cap: meta.caps[ctx.priority],
          amount: this.#amount(ctx, state, meta.metric),
          hold: true,
          settle: meta.metric,
          meta,
          value,
        });
      }
    }
  }

  #calendarWindow(w: BudgetRule['window'], now: number): CounterWindow {
    if (w.kind !== 'calendar') return slidingWindow(w.ms);
    return { kind: 'fixed', ...this.#services.calendar.window(w.unit, now) };
  }

  admitted(_ctx: RequestContext, { planned, states, at, degraded }: Share<Meta>): void {
    if (degraded) return;
    for (let i = 0; i < planned.length; i++) {
      const p = planned[i]!;
      const soft = p.meta.rule.soft;
      const s = states[at + i];
      if (soft === null || s === undefined) continue;
      const threshold = p.meta.limit * soft;
      if (s.used >= threshold && s.used - p.amount < threshold) this.#event('soft', p, s.used);
    }
  }

  refused({ planned, states, at }: Share<Meta>, failed: number, retryAfterMs: number): GatewayError {
    const p = planned[failed];
    const state = states[at + failed];
    if (p !== undefined && state !== undefined) this.#event('hard', p, state.used);
    return new GatewayError('budget_exceeded', p === undefined ? 'Budget exhausted.' : describe(p), {
      headers: retryHeaders(retryAfterMs),
    });
  }

  #event(kind: BudgetEvent['kind'], p: Planned<Meta>, used: number): void {
    const { metric, limit, rule } = p.meta;
    const scale = metric === 'usd' ? NANO : 1;
    const event = { kind, scope: rule.scope, id: p.value, metric, used: used / scale, limit: limit / scale };
    try {
      this.#services.onBudgetEvent(event);
    } catch {
      // An alert hook must not fail the request.
    }
  }
}

function describe(p: Planned<Meta>): string {
  const { rule, metric, limit } = p.meta;
  const who = rule.scope === 'global' ? 'the gateway' : `${rule.scope} ${p.value}`;
  const w = rule.window;
  const per = w.kind === 'calendar' ? `per ${w.unit}` : `per rolling ${formatResetDuration(w.ms)}`;
  const amount = metric === 'usd' ? `$${(limit / NANO).toFixed(2)}` : `${limit} tokens`;
  return `Budget exhausted for ${who}: ${amount} ${per}.`;
}

export const budgetFactory: PolicyFactory<BudgetParams> = {
  type: 'budget',
  description:
    'Token and USD budgets over calendar or rolling windows, reserved up front and settled to usage.',
  params: budgetParams,
  create: (name, params, services) =>
    new BudgetPolicy(name, params, {
      services: governanceOf(services, name),
      maxIds: services.maxLabelValues ?? 100,
    }),
};
