import { z } from 'zod';
import type {
  BudgetRule,
  BudgetWindow,
  ModelPrice,
  PriorityFactors,
  RateLimitRule,
} from '../../contracts/governance.ts';
import type { PriorityClass } from '../../contracts/request.ts';
import { parseDuration } from '../../core/units.ts';

// Schema pieces for governance config (YAML, snake_case) and their normalised forms (camelCase rule
// objects from contracts/governance.ts). Used by the policy factories' params and by `governanceSchema`.

const NUMERIC = /^-?\d+(?:\.\d+)?$/;
const numeric = <T extends z.ZodType<number>>(schema: T) =>
  z.preprocess((v) => (typeof v === 'string' && NUMERIC.test(v.trim()) ? Number(v) : v), schema);

export const durationMs = z.union([z.string(), z.number()]).transform((value, ctx) => {
  const ms = parseDuration(value);
  if (ms === null || ms <= 0) {
    ctx.addIssue({
      code: 'custom',
      message: `expected a duration such as "30s" or "1m", got ${JSON.stringify(value)}`,
    });
    return z.NEVER;
  }
  return ms;
});

const positiveInt = numeric(z.number().int().positive());
const positive = numeric(z.number().positive());
const fraction = numeric(z.number().gt(0).max(1));

export const priorityClass = z.enum(['critical', 'standard', 'sheddable']);
export const limitScope = z.enum(['key', 'user', 'team', 'tenant', 'model', 'route', 'global']);

/** Fraction of a limit each priority class may fill, e.g. { sheddable: 0.8, standard: 0.95 }. */
const priorityFactors = z.strictObject({
  critical: fraction.optional(),
  standard: fraction.optional(),
  sheddable: fraction.optional(),
});

type FactorsInput = z.infer<typeof priorityFactors> | undefined;

function factors(input: FactorsInput): PriorityFactors | null {
  if (input === undefined) return null;
  const out: Partial<Record<PriorityClass, number>> = {};
  for (const c of ['critical', 'standard', 'sheddable'] as const) {
    const v = input[c];
    if (v !== undefined) out[c] = v;
  }
  return Object.keys(out).length === 0 ? null : out;
}

/** Only this scope value; omitted = every value gets its own counter. */
const scopeId = z.string().min(1).optional();

const rateLimitFields = {
  requests: positiveInt.optional(),
  tokens: positiveInt.optional(),
  /** The window for requests and tokens; default 1m (sliding). */
  window: durationMs.default(60_000),
  concurrent: positiveInt.optional(),
  priority: priorityFactors.optional(),
};

function toRateLimit(r: {
  scope: RateLimitRule['scope'];
  id?: string | undefined;
  requests?: number | undefined;
  tokens?: number | undefined;
  window: number;
  concurrent?: number | undefined;
  priority?: FactorsInput;
}): RateLimitRule {
  return {
    scope: r.scope,
    id: r.id ?? null,
    requests: r.requests ?? null,
    tokens: r.tokens ?? null,
    windowMs: r.window,
    concurrent: r.concurrent ?? null,
    priority: factors(r.priority),
  };
}

const hasLimit = (r: {
  requests?: number | undefined;
  tokens?: number | undefined;
  concurrent?: number | undefined;
}): boolean => r.requests !== undefined || r.tokens !== undefined || r.concurrent !== undefined;
const LIMIT_MESSAGE = 'a limit needs at least one of requests, tokens, concurrent';

export const rateLimitRule = z
  .strictObject({ scope: limitScope, id: scopeId, ...rateLimitFields })
  .refine(hasLimit, LIMIT_MESSAGE)
  .transform(toRateLimit);

/** A limit attached to one key (no scope: it is the key's). */
export const keyRateLimitRule = z
  .strictObject(rateLimitFields)
  .refine(hasLimit, LIMIT_MESSAGE)
  .transform((r) => toRateLimit({ ...r, scope: 'key' }));

/** day | week | month (calendar, in the configured time zone) or a duration (rolling), e.g. "24h". */
export const budgetWindow = z.union([z.string(), z.number()]).transform((value, ctx): BudgetWindow => {
  if (value === 'day' || value === 'week' || value === 'month') return { kind: 'calendar', unit: value };
  const ms = parseDuration(value);
  if (ms === null || ms <= 0) {
    ctx.addIssue({
      code: 'custom',
      message: 'expected day, week, month or a rolling duration such as "24h"',
    });
    return z.NEVER;
  }
  return { kind: 'rolling', ms };
});

const budgetFields = {
  tokens: positiveInt.optional(),
  usd: positive.optional(),
  window: budgetWindow.default({ kind: 'calendar', unit: 'month' }),
  /** Fraction at which a soft-limit alert fires, e.g. 0.8. */
  soft: fraction.optional(),
  priority: priorityFactors.optional(),
};

function toBudget(r: {
  scope: BudgetRule['scope'];
  id?: string | undefined;
  tokens?: number | undefined;
  usd?: number | undefined;
  window: BudgetWindow;
  soft?: number | undefined;
  priority?: FactorsInput;
}): BudgetRule {
  return {
    scope: r.scope,
    id: r.id ?? null,
    tokens: r.tokens ?? null,
    usd: r.usd ?? null,
    window: r.window,
    soft: r.soft ?? null,
    priority: factors(r.priority),
  };
}

const hasBudget = (r: { tokens?: number | undefined; usd?: number | undefined }): boolean =>
  r.tokens !== undefined || r.usd !== undefined;
const BUDGET_MESSAGE = 'a budget needs tokens or usd';

export const budgetRule = z
  .strictObject({ scope: limitScope, id: scopeId, ...budgetFields })
  .refine(hasBudget, BUDGET_MESSAGE)
  .transform(toBudget);

export const keyBudgetRule = z
  .strictObject(budgetFields)
  .refine(hasBudget, BUDGET_MESSAGE)
  .transform((r) => toBudget({ ...r, scope: 'key' }));

/** USD per 1M tokens. */
export const modelPrice = z
  .strictObject({
    input: numeric(z.number().min(0)),
    output: numeric(z.number().min(0)),
    cached_input: numeric(z.number().min(0)).optional(),
    cache_write: numeric(z.number().min(0)).optional(),
    reasoning: numeric(z.number().min(0)).optional(),
  })
  .transform((p): ModelPrice => ({
    input: p.input,
    output: p.output,
    ...(p.cached_input === undefined ? {} : { cachedInput: p.cached_input }),
    ...(p.cache_write === undefined ? {} : { cacheWrite: p.cache_write }),
    ...(p.reasoning === undefined ? {} : { reasoning: p.reasoning }),
  }));
