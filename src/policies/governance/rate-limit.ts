import { z } from 'zod';
import type {
  CounterState,
  CounterWindow,
  GovernanceServices,
  RateLimitRule,
} from '../../contracts/governance.ts';
import type { PolicyFactory } from '../../contracts/policy.ts';
import type { RequestContext } from '../../contracts/request.ts';
import { GatewayError } from '../../core/errors.ts';
import { CounterPolicy, type Share } from './admission.ts';
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
import { rateLimitRule } from './params.ts';
import type { RequestGovernance } from './request-state.ts';
import { governanceOf } from './services-of.ts';
import { tokenEstimate } from './token-estimate.ts';

// Rate limits: requests and tokens per sliding window and concurrent requests, per key, user, team,
// tenant, model or route, several at once. All counters are acquired in one atomic step (all must pass,
// a refusal consumes nothing), together with those of the budget policies after it (admission.ts).
// Tokens are reserved from an estimate and settled to actual usage in onEnd; concurrency slots are
// released there. OpenAI-style x-ratelimit-* headers report the tightest limit.

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

/** One counter of a rule, worked out once: everything but the scope value and the amount. */
interface Meta {
  readonly rule: RateLimitRule;
  readonly metric: Metric;
  readonly limit: number;
  /** The limit as the x-ratelimit-limit-* header shows it. */
  readonly limitText: string;
  readonly caps: Caps;
  readonly window: CounterWindow;
  readonly keys: CounterKeys;
}

interface Compiled {
  readonly rule: RateLimitRule;
  readonly metas: readonly Meta[];
}

const NONE: CounterWindow = { kind: 'none' };

function compile(rule: RateLimitRule): Compiled {
  const metas: Meta[] = [];
  const window = slidingWindow(rule.windowMs);
  for (const metric of ['requests', 'tokens', 'concurrent'] as const) {
    const limit = rule[metric];
    if (limit === null) continue;
    const tag = metric === 'concurrent' ? 'c' : `${metric}:${rule.windowMs}`;
    metas.push({
      rule,
      metric,
      limit,
      limitText: String(limit),
      caps: capsFor(limit, rule.priority),
      window: metric === 'concurrent' ? NONE : window,
      keys: new CounterKeys('rl', rule.scope, tag),
    });
  }
  return { rule, metas };
}

/** Compiled limits of a key record. */
const compiledOf = perKeyRecord((record) => record.limits, compile);

class RateLimitPolicy extends CounterPolicy<Meta> {
  readonly type = 'rate-limit';
  readonly #rules: readonly Compiled[];
  readonly #keyLimits: boolean;
  readonly #headers: boolean;
  readonly #services: RateLimitServices;
  /** Some rule of the policy's own limits tokens. */
  readonly #tokens: boolean;

  constructor(name: string, params: RateLimitParams, services: RateLimitServices) {
    super(
      name,
      services,
      params.limits.some((r) => r.tokens !== null),
    );
    this.#rules = params.limits.map(compile);
    this.#keyLimits = params.key_limits;
    this.#headers = params.headers;
    this.#services = services;
    this.#tokens = params.limits.some((r) => r.tokens !== null);
  }

  usesEstimate(state: RequestGovernance): boolean {
    if (this.#tokens) return true;
    return this.#keyLimits && state.key !== null && state.key.limits.some((r) => r.tokens !== null);
  }

  plan(ctx: RequestContext, state: RequestGovernance): Planned<Meta>[] {
    const planned: Planned<Meta>[] = [];
    this.#planRules(ctx, state, this.#rules, planned);
    if (this.#keyLimits && state.key !== null && state.key.limits.length > 0) {
      this.#planRules(ctx, state, compiledOf(state.key), planned);
    }
    return mergeCounters(planned);
  }

  #planRules(
    ctx: RequestContext,
    state: RequestGovernance,
    rules: readonly Compiled[],
    out: Planned<Meta>[],
  ): void {
    for (const { rule, metas } of rules) {
      const value = appliesTo(rule, ctx);
      if (value === null) continue;
      for (const meta of metas) {
        const key = meta.keys.key(value);
        const { window } = meta;
        const cap = meta.caps[ctx.priority];
        if (meta.metric === 'concurrent') {
          out.push({ key, window, cap, amount: 1, hold: true, settle: 'release', meta, value });
        } else if (meta.metric === 'requests') {
          out.push({ key, window, cap, amount: 1, hold: false, settle: null, meta, value });
        } else {
          const e = tokenEstimate(ctx, this.#services.estimation, state);
          const amount = e.input + e.output;
          out.push({ key, window, cap, amount, hold: true, settle: 'tokens', meta, value });
        }
      }
    }
  }

  admitted(ctx: RequestContext, { planned, states, at, degraded }: Share<Meta>): void {
    if (!degraded && this.#headers && planned.length > 0) {
      this.#limitHeaders(ctx.responseHeaders, planned, states, at);
    }
  }

  refused({ planned, states, at }: Share<Meta>, failed: number, retryAfterMs: number): GatewayError {
    const headers = retryHeaders(retryAfterMs);
    if (this.#headers) this.#limitHeaders(headers, planned, states, at);
    const p = planned[failed];
    return new GatewayError('rate_limited', p === undefined ? 'Rate limit reached.' : describe(p), {
      headers,
    });
  }

  /** x-ratelimit-{limit,remaining,reset}-{requests,tokens} for the tightest counter of each metric. */
  #limitHeaders(
    out: Record<string, string>,
    planned: readonly Planned<Meta>[],
    states: readonly CounterState[],
    at: number,
  ): void {
    for (const names of HEADERS) {
      let tightest: Meta | null = null;
      let remaining = Infinity;
      let reset = 0;
      for (let i = 0; i < planned.length; i++) {
        const { meta } = planned[i]!;
        const s = states[at + i];
        if (meta.metric !== names.metric || s === undefined) continue;
        const left = Math.max(0, meta.limit - s.used);
        if (left < remaining) {
          tightest = meta;
          remaining = left;
          reset = s.resetMs;
        }
      }
      if (tightest === null) continue;
      out[names.limit] = tightest.limitText;
      out[names.remaining] = String(remaining);
      out[names.reset] = formatResetDuration(reset);
    }
  }
}

/** The header names per metric, as constants (a name built per request costs a string each time). */
const HEADERS = [
  {
    metric: 'requests',
    limit: 'x-ratelimit-limit-requests',
    remaining: 'x-ratelimit-remaining-requests',
    reset: 'x-ratelimit-reset-requests',
  },
  {
    metric: 'tokens',
    limit: 'x-ratelimit-limit-tokens',
    remaining: 'x-ratelimit-remaining-tokens',
    reset: 'x-ratelimit-reset-tokens',
  },
] as const;

function describe(p: Planned<Meta>): string {
  const { rule, metric, limit } = p.meta;
  const who = rule.scope === 'global' ? 'the gateway' : `${rule.scope} ${p.value}`;
  if (metric === 'concurrent') return `Too many concurrent requests for ${who} (limit ${limit}).`;
  return `Rate limit reached for ${who}: ${limit} ${metric} per ${formatResetDuration(rule.windowMs)}.`;
}

export const rateLimitFactory: PolicyFactory<RateLimitParams> = {
  type: 'rate-limit',
  description:
    'Requests, tokens per window and concurrent requests per key, user, team, tenant, model or route.',
  params: rateLimitParams,
  create: (name, params, services) => new RateLimitPolicy(name, params, governanceOf(services, name)),
};
