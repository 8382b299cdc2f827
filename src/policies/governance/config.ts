import { z } from 'zod';
import { durationMs, keyBudgetRule, keyRateLimitRule, modelPrice, priorityClass } from './params.ts';

// The `governance:` section of switchyard.yaml: state backend, key store, declared keys, prices, the
// usage ledger, calendar settings and token estimation. Limits and budgets themselves are policy params
// (rate-limit, budget) or live on keys.

const NUMERIC = /^\d+$/;
const count = z.preprocess(
  (v) => (typeof v === 'string' && NUMERIC.test(v.trim()) ? Number(v) : v),
  z.number().int().positive(),
);

/** memory | sqlite::memory: | sqlite:<path> | postgres://… */
const storeUrl = z
  .string()
  .regex(/^(memory|sqlite:.+|postgres(ql)?:\/\/.+)$/, 'expected memory, sqlite:<path> or postgres://…');

const validZone = (tz: string): boolean => {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: tz });
    return true;
  } catch {
    return false;
  }
};

const WEEKDAYS = ['sunday', 'monday', 'tuesday', 'wednesday', 'thursday', 'friday', 'saturday'] as const;

export const keyConfigSchema = z.strictObject({
  /** Stable id (default: derived from the secret's hash). */
  id: z.string().min(1).optional(),
  /** The secret clients send (e.g. ${DEMO_KEY}); stored hashed. */
  secret: z.string().min(8, 'a key secret needs at least 8 characters'),
  name: z.string().optional(),
  tenant: z.string().optional(),
  team: z.string().optional(),
  user: z.string().optional(),
  models: z.array(z.string().min(1)).optional(),
  routes: z.array(z.string().min(1)).optional(),
  /** ISO 8601 time. */
  expires_at: z.iso.datetime({ offset: true }).optional(),
  metadata: z.record(z.string(), z.string()).default({}),
  priority: priorityClass.optional(),
  limits: z.array(keyRateLimitRule).default([]),
  budgets: z.array(keyBudgetRule).default([]),
});

export const governanceSchema = z.strictObject({
  /** memory (one node) or redis://… (replicas share limits, budgets and key revocations). */
  state: z
    .string()
    .regex(/^(memory|rediss?:\/\/.+)$/, 'expected memory or redis://host:port')
    .default('memory'),
  /** What to do when Redis does not answer: admit (open) or refuse with 503 (closed). */
  fail_mode: z.enum(['open', 'closed']).default('open'),
  redis_prefix: z.string().default('sy:'),
  /** Redis command timeout: the fail-open/closed decision time. */
  command_timeout: durationMs.default(40),
  /** A reservation not kept alive by its replica lapses after this long. */
  reservation_ttl: durationMs.default(30_000),
  key_store: storeUrl.default('memory'),
  /** How long a looked-up key is trusted (revocations also propagate over Redis at once). */
  key_cache_ttl: durationMs.optional(),
  keys: z.array(keyConfigSchema).default([]),
  /** IANA time zone for day/week/month budget windows. */
  time_zone: z.string().refine(validZone, 'unknown IANA time zone').default('UTC'),
  week_start: z.enum(WEEKDAYS).default('monday'),
  /** Completion tokens reserved when a request sets no max_tokens. */
  default_max_tokens: count.default(1024),
  max_tokenize_chars: count.default(65_536),
  /** USD per 1M tokens by "model" (prefix) or "provider/model"; overrides the shipped defaults. */
  prices: z.record(z.string(), modelPrice).default({}),
  default_prices: z.boolean().default(true),
  ledger: z
    .strictObject({
      /** sqlite::memory:, sqlite:<path>, postgres://… or none. */
      store: z.union([storeUrl, z.literal('none')]).default('sqlite::memory:'),
      table: z.string().default('switchyard_usage'),
      batch_size: count.default(500),
      flush_interval: durationMs.default(1_000),
      max_queue: count.default(100_000),
      /** With sqlite::memory:, the oldest records are dropped past this many (memory stays bounded). */
      memory_max_records: count.default(100_000),
    })
    .prefault({}),
});

export type GovernanceConfig = z.infer<typeof governanceSchema>;
export type GovernanceConfigInput = z.input<typeof governanceSchema>;
export type KeyConfig = z.infer<typeof keyConfigSchema>;

export const WEEKDAY_INDEX: Readonly<Record<(typeof WEEKDAYS)[number], number>> = {
  sunday: 0,
  monday: 1,
  tuesday: 2,
  wednesday: 3,
  thursday: 4,
  friday: 5,
  saturday: 6,
};
