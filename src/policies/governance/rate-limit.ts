import { z } from 'zod';
import type { CounterState, GovernanceServices, RateLimitRule } from '../../contracts/governance.ts';
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
import { rateLimitRule } from './params.ts';
import { governanceState } from './request-state.ts';
import { governanceOf } from './services-of.ts';
import { tokenEstimate } from './token-estimate.ts';

// Rate limits: requests and tokens per sliding window and concurrent requests, per key, user, team,
// tenant, model or route, several at once. All counters are acquired in one atomic step (all must pass,
// a refusal consumes nothing). Tokens are reserved from an estimate and settled to actual usage in onEnd;
// concurrency slots are released there. OpenAI-style x-ratelimit-* headers report the tightest limit.

export const rateLimitParams = z.strictObject({
  limits: z.array(rateLimitRule).default([]),
  /** Also apply the limits stored on the caller's virtual key. */
  key_limits: z.boolean().default(true),
  /** Send x-ratelimit-* headers. */
  headers: z.boolean().default(true),
});

export type RateLimitParams = z.infer<typeof rateLimitParams>;

export type RateLimitServices = Pick<GovernanceServices, 'quotas' | 'prices' | 'estimation'>;

type Metric = 'requests' | 'tokens' | 'concurrent';
const METRICS: readonly Metric[] = ['requests', 'tokens', 'concurrent'];

interface Meta {
  readonly metric: Metric;
  readonly rule: RateLimitRule;
  readonly value: string;
  readonly limit: number;
}

class RateLimitPolicy implements Policy {
  readonly type = 'rate-limit';
  readonly name: string;
  readonly #rules: readonly RateLimitRule[];
  readonly #keyLimits: boolean;
  readonly #headers: boolean;
  readonly #services: RateLimitServices;

  constructor(name: string, params: RateLimitParams, services: RateLimitServices) {
    this.name = name;
    this.#rules = params.limits;
    this.#keyLimits = params.key_limits;
    this.#headers = params.headers;
    this.#services = services;
  }

  #plan(ctx: RequestContext, rules: readonly RateLimitRule[]): Planned<Meta>[] {
    const planned: Planned<Meta>[] = [];
    for (const rule of rules) {
      const value = appliesTo(rule, ctx);
      if (value === null) continue;
      for (const metric of METRICS) {
        const limit = rule[metric];
        if (limit !== null) planned.push(this.#counter(ctx, { metric, rule, value, limit }));
      }
    }
    return mergeCounters(planned);
  }

  #counter(ctx: RequestContext, meta: Meta): Planned<Meta> {
    const { metric, rule, value, limit } = meta;
    const cap = capFor(limit, rule.priority, ctx.priority);
    if (metric === 'concurrent') {
      const key = counterKey('rl', rule.scope, value, 'c');
      return {
        request: { key, window: { kind: 'none' }, cap, amount: 1, hold: true },
        settle: 'release',
        meta,
      };
    }
    const window = slidingWindow(rule.windowMs);
    const key = counterKey('rl', rule.scope, value, `${metric}:${rule.windowMs}`);
    if (metric === 'requests')
      return { request: { key, window, cap, amount: 1, hold: false }, settle: null, meta };
    const e = tokenEstimate(ctx, this.#services.estimation);
    return { request: { key, window, cap, amount: e.input + e.output, hold: true }, settle: 'tokens', meta };
  }

  async onRequest(ctx: RequestContext): Promise<void> {
    const state = governanceState(ctx);
    const own = this.#keyLimits && state.key !== null ? state.key.limits : [];
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
      const headers = { ...retryHeaders(result.retryAfterMs), ...this.#limitHeaders(planned, result.states) };
      throw new GatewayError(
        'rate_limited',
        failed === undefined ? 'Rate limit reached.' : describe(failed.meta),
        {
          headers,
        },
      );
    }
    const held = heldCounters(planned);
    if (held.length > 0) state.holds.set(this, { id: holdId, counters: held });
    if (!result.degraded) Object.assign(ctx.responseHeaders, this.#limitHeaders(planned, result.states));
  }

  onEnd(ctx: RequestContext): void {
    settleHold(ctx, this, this.#services.quotas, this.#services.prices);
  }

  /** x-ratelimit-{limit,remaining,reset}-{requests,tokens} for the tightest counter of each metric. */
  #limitHeaders(planned: readonly Planned<Meta>[], states: readonly CounterState[]): Record<string, string> {
    const out: Record<string, string> = {};
    if (!this.#headers) return out;
    for (const metric of ['requests', 'tokens'] as const) {
      let best: { limit: number; remaining: number; reset: number } | null = null;
      for (const [i, p] of planned.entries()) {
        const s = states[i];
        if (p.meta.metric !== metric || s === undefined) continue;
        const remaining = Math.max(0, p.meta.limit - s.used);
        if (best === null || remaining < best.remaining)
          best = { limit: p.meta.limit, remaining, reset: s.resetMs };
      }
      if (best === null) continue;
      out[`x-ratelimit-limit-${metric}`] = String(best.limit);
      out[`x-ratelimit-remaining-${metric}`] = String(best.remaining);
      out[`x-ratelimit-reset-${metric}`] = formatResetDuration(best.reset);
    }
    return out;
  }
}

function describe(meta: Meta): string {
  const who = meta.rule.scope === 'global' ? 'the gateway' : `${meta.rule.scope} ${meta.value}`;
  if (meta.metric === 'concurrent') return `Too many concurrent requests for ${who} (limit ${meta.limit}).`;
  return `Rate limit reached for ${who}: ${meta.limit} ${meta.metric} per ${formatResetDuration(meta.rule.windowMs)}.`;
}

export const rateLimitFactory: PolicyFactory<RateLimitParams> = {
  type: 'rate-limit',
  description:
    'Requests, tokens per window and concurrent requests per key, user, team, tenant, model or route.',
  params: rateLimitParams,
  create: (name, params, services) => new RateLimitPolicy(name, params, governanceOf(services, name)),
};
