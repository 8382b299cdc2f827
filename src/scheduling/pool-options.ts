import { z } from 'zod';
import type { EndpointSpec, ProfileConfig } from '../contracts/scheduling.ts';
import { builtinRegistry, NAMED_PROFILES, profileFrom } from './builtins.ts';
import { parseEndpointList, StaticDiscovery } from './endpoint-set.ts';
import { durationMs, fraction, nonNegative, nonNegativeInt, positive, positiveInt } from './params.ts';
import { PoolScheduler } from './pool-scheduler.ts';
import { buildProfile } from './registry.ts';
import type { DiscoverySource } from '../contracts/scheduling.ts';

// The config of a pool provider (the fields beside name/type/timeouts in a providers[] row), as one
// zod object the config schema can spread into its pool variant, and `createPoolScheduler` to compile
// it. Keys are snake_case like the rest of the YAML. A written-out profile is checked here, with the
// same registry it will be built from, so its problems are reported with their config paths.

export const engineKind = z.enum(['vllm', 'sglang', 'tgi', 'trtllm', 'nim']);

const endpointEntry = z.union([
  z.url(),
  z.strictObject({
    url: z.url(),
    id: z.string().min(1).optional(),
    engine: engineKind.optional(),
    metrics_url: z.url().optional(),
  }),
]);

/** A comma-separated list of base URLs (e.g. from ${POOL_ENDPOINTS}) or a list of entries. */
const endpointsField = z.union([z.string(), z.array(endpointEntry)]).transform((v): EndpointSpec[] =>
  typeof v === 'string'
    ? parseEndpointList(v)
    : v.map((e) =>
        typeof e === 'string'
          ? { url: e }
          : {
              url: e.url,
              ...(e.id === undefined ? {} : { id: e.id }),
              ...(e.engine === undefined ? {} : { engine: e.engine }),
              ...(e.metrics_url === undefined ? {} : { metricsUrl: e.metrics_url }),
            },
      ),
);

const profileField = z.union([z.string(), z.record(z.string(), z.unknown())]).superRefine((value, ctx) => {
  if (typeof value === 'string') {
    if (!(value in NAMED_PROFILES)) {
      ctx.addIssue({
        code: 'custom',
        message: `unknown profile '${value}'; known: ${Object.keys(NAMED_PROFILES).join(', ')}`,
      });
    }
    return;
  }
  const built = buildProfile(value, builtinRegistry());
  if (!built.ok)
    for (const p of built.problems) ctx.addIssue({ code: 'custom', message: p.message, path: [...p.path] });
});

const scrapeField = z.strictObject({
  /** false: no scraping (telemetry-free profiles such as round-robin). */
  enabled: z.boolean().default(true),
  interval: durationMs.default(50),
  timeout: durationMs.default(500),
  /** Telemetry older than this is stale; stale endpoints count as saturated. */
  stale_after: durationMs.default(1_000),
  /** Metrics path when an endpoint gives no metrics_url (default: the engine's). */
  path: z.string().startsWith('/').optional(),
  unhealthy_after: positiveInt.default(3),
  /** KV capacity in tokens, for engines that do not report it (TGI). */
  capacity_tokens: positiveInt.optional(),
});

/** The pool fields of a provider row. */
export const poolFields = {
  engine: engineKind.default('vllm'),
  endpoints: endpointsField,
  profile: profileField.default('default'),
  scrape: scrapeField.prefault({}),
  saturation: z
    .strictObject({ queue_depth: nonNegative.default(5), kv_usage: fraction.default(0.9) })
    .prefault({}),
  flow_control: z
    .strictObject({
      enabled: z.boolean().default(true),
      /** Requests waiting at most, per class (sheddable requests are never queued: they are shed). */
      max_queue: z
        .strictObject({
          critical: nonNegativeInt.default(1000),
          standard: nonNegativeInt.default(1000),
          sheddable: nonNegativeInt.default(0),
        })
        .prefault({}),
      /** Longest wait for capacity, per class, before a 429. */
      max_wait: z
        .strictObject({
          critical: durationMs.default(60_000),
          standard: durationMs.default(30_000),
          sheddable: durationMs.default(0),
        })
        .prefault({}),
      retry_after: durationMs.default(1_000),
    })
    .prefault({}),
  prefix: z
    .strictObject({
      block_chars: positiveInt.default(64),
      max_blocks: positiveInt.default(256),
      chars_per_token: positive.default(4),
    })
    .prefault({}),
  session: z
    .strictObject({
      header: z.string().toLowerCase().nullable().default('x-session-id'),
      cookie: z.string().nullable().default(null),
      user_field: z.boolean().default(true),
    })
    .prefault({}),
  /** Model names that are LoRA adapters on the engines (requests for them get LoRA affinity). */
  adapters: z.array(z.string().min(1)).default([]),
  default_output_tokens: positiveInt.default(256),
  ewma_alpha: fraction.default(0.2),
};

export const poolSchema = z.strictObject(poolFields);
export type PoolConfig = z.output<typeof poolSchema>;

/** Compile a validated pool config. `discovery` replaces the static endpoint list (Kubernetes later). */
export function createPoolScheduler(name: string, c: PoolConfig, discovery?: DiscoverySource): PoolScheduler {
  const flow = c.flow_control;
  const saturation = { queueDepth: c.saturation.queue_depth, kvUsage: c.saturation.kv_usage };
  return new PoolScheduler({
    name,
    engine: c.engine,
    profile: profileFrom(c.profile as string | ProfileConfig, { saturation }),
    discovery: discovery ?? new StaticDiscovery(c.endpoints),
    scrape: !c.scrape.enabled
      ? null
      : {
          intervalMs: c.scrape.interval,
          timeoutMs: c.scrape.timeout,
          staleAfterMs: c.scrape.stale_after,
          unhealthyAfter: c.scrape.unhealthy_after,
          ...(c.scrape.path === undefined ? {} : { metricsPath: c.scrape.path }),
          ...(c.scrape.capacity_tokens === undefined
            ? {}
            : { hints: { capacityTokens: c.scrape.capacity_tokens } }),
        },
    saturation,
    flow: {
      enabled: flow.enabled,
      maxQueue: flow.max_queue,
      maxWaitMs: flow.max_wait,
      retryAfterSeconds: Math.max(1, Math.ceil(flow.retry_after / 1000)),
    },
    request: {
      prefixBlockChars: c.prefix.block_chars,
      prefixMaxBlocks: c.prefix.max_blocks,
      charsPerToken: c.prefix.chars_per_token,
      sessionHeader: c.session.header,
      sessionCookie: c.session.cookie,
      sessionFromUser: c.session.user_field,
      adapters: new Set(c.adapters),
      defaultOutputTokens: c.default_output_tokens,
    },
    ewmaAlpha: c.ewma_alpha,
  });
}
