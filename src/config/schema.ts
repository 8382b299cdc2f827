import { z } from 'zod';
import { governanceSchema } from '../policies/governance/config.ts';
import { tracingSchema } from '../telemetry/tracing-config.ts';
import { payloadLogSchema } from '../telemetry/payload-log-config.ts';
import { poolFields } from '../scheduling/pool-options.ts';
import {
  booleanish,
  duration,
  fieldMatch,
  headerMap,
  name,
  numberish,
  port,
  size,
  stringMatch,
} from './schema-types.ts';

// The one schema for switchyard.yaml. Types are inferred from it (see `Config`), defaults live here, and
// every object is strict so a misspelt key is an error with a hint rather than a silent no-op.
// Cross-references (a target naming a provider, duplicate names) are checked afterwards in validate.ts.

const serverSchema = z.strictObject({
  host: z.string().default('127.0.0.1'),
  port: port.default(8080),
  limits: z
    .strictObject({
      /** Largest request body accepted; checked while reading, before the body is buffered. */
      body: size.default(4_000_000),
      /** Largest request head (request line plus headers). Needs a restart to change. */
      headers: size.default(16_384),
    })
    .prefault({}),
  timeouts: z
    .strictObject({
      /** A client must finish sending its request head within this time. Restart to change. */
      headers: duration.default(10_000),
      /** A client must finish sending its whole request within this time. Restart to change. */
      request: duration.default(60_000),
      /** An idle keep-alive connection is closed after this time. */
      keep_alive: duration.default(5_000),
    })
    .prefault({}),
  /** Serve HTTPS (and optionally verify client certificates for mTLS identities). Restart to change. */
  tls: z
    .strictObject({
      /** PEM files. */
      cert: z.string().min(1),
      key: z.string().min(1),
      /** CA bundle that client certificates must chain to. */
      ca: z.string().min(1).optional(),
      /** none: no client certificates; optional: verified when sent; required: refuse connections without one. */
      client_auth: z.enum(['none', 'optional', 'required']).default('none'),
    })
    .optional(),
  /** On SIGTERM, in-flight requests get this long to finish before connections are closed. */
  drain_timeout: duration.default(30_000),
  /** Header that carries the request id in and out. */
  request_id_header: z.string().toLowerCase().default('x-request-id'),
  /** When a request sends this header with value 1/true, the response explains the routing decision. */
  debug_header: z.string().toLowerCase().default('x-switchyard-debug'),
});

const loggingSchema = z.strictObject({
  level: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  /** One JSON line per request on stdout. */
  access_log: booleanish.default(true),
});

const metricsSchema = z.strictObject({
  enabled: booleanish.default(true),
  path: z.string().startsWith('/').default('/metrics'),
  /** Process metrics (CPU, memory, event loop) from prom-client. */
  process: booleanish.default(true),
  /**
   * Distinct values kept per request-steered label (model, route, target, endpoint); later ones are
   * counted as "other". Read at start.
   */
  max_label_values: numberish(z.number().int().min(1).max(100_000)).default(100),
});

const providerTimeouts = z
  .strictObject({
    /** TCP/TLS connect. */
    connect: duration.default(5_000),
    /** From sending the request to the upstream's response headers (time to first byte). */
    first_byte: duration.default(120_000),
    /** Longest silence between two body chunks of an upstream response. */
    idle: duration.default(120_000),
    /** The whole upstream exchange, stream included. 0 disables. */
    total: duration.default(600_000),
  })
  .prefault({});

const retrySchema = z
  .strictObject({
    /** Retries on the same target after a retryable failure (connection, timeout, 429, 5xx). */
    attempts: numberish(z.number().int().min(0).max(10)).default(1),
    /** Backoff window of the first retry; it doubles per retry, with full jitter. */
    base: duration.default(100),
    max: duration.default(2_000),
    /** Longest Retry-After honoured; a longer one moves on to the next fallback instead. */
    retry_after_cap: duration.default(10_000),
  })
  .prefault({});

const outlierSchema = z
  .strictObject({
    /** Eject an endpoint after this many failures in a row. */
    consecutive_failures: numberish(z.number().int().min(1)).default(5),
    /** ...or when its failure rate over `window` reaches this (with at least `min_requests`). */
    failure_rate: numberish(z.number().min(0).max(1)).default(0.5),
    min_requests: numberish(z.number().int().min(1)).default(20),
    window: duration.default(30_000),
    /** First ejection lasts this long; each further ejection adds as much, up to max_ejection. */
    base_ejection: duration.default(5_000),
    max_ejection: duration.default(300_000),
    /** Never eject more than this share of a provider's endpoints at once. */
    max_ejected_share: numberish(z.number().min(0).max(1)).default(0.5),
  })
  .prefault({});

const healthSchema = z
  .strictObject({
    enabled: booleanish.default(false),
    /** Probed with GET, relative to the origin; 2xx passes. */
    path: z.string().startsWith('/').default('/health'),
    interval: duration.default(10_000),
    timeout: duration.default(2_000),
    healthy_threshold: numberish(z.number().int().min(1)).default(1),
    unhealthy_threshold: numberish(z.number().int().min(1)).default(2),
    /** Also send a one-token completion to this model (its upstream name) on each probe. */
    inference_model: z.string().min(1).optional(),
    /** Keep endpoints out of rotation, and /readyz not ready, until a first probe passes. */
    prewarm: booleanish.default(false),
  })
  .prefault({});

const authSchema = z.discriminatedUnion('type', [
  z.strictObject({ type: z.literal('none') }),
  /** Authorization: Bearer <token>. */
  z.strictObject({ type: z.literal('bearer'), token: z.string().min(1) }),
  /** A named header carrying the key verbatim (Azure's api-key, Anthropic's x-api-key…). */
  z.strictObject({ type: z.literal('header'), header: z.string().min(1), value: z.string().min(1) }),
]);

const providerCommon = {
  name,
  /** Base URL including any path prefix, e.g. https://api.openai.com/v1 or http://10.0.0.5:8000/v1. */
  base_url: z.url({
    protocol: /^https?$/,
    error: 'expected an http(s) URL such as http://127.0.0.1:8000/v1',
  }),
  auth: authSchema.default({ type: 'none' }),
  /** Extra headers sent upstream on every request. */
  headers: headerMap.default({}),
  timeouts: providerTimeouts,
  /** Connections kept per upstream origin. */
  max_connections: numberish(z.number().int().min(1).max(10_000)).default(256),
  retry: retrySchema,
  outlier: outlierSchema,
  health: healthSchema,
};

const openaiProvider = z.strictObject({
  type: z.literal('openai'),
  ...providerCommon,
});

const azureProvider = z.strictObject({
  type: z.literal('azure'),
  ...providerCommon,
  /** Azure OpenAI api-version query parameter. */
  api_version: z.string().min(1).default('2024-10-21'),
});

const anthropicProvider = z.strictObject({
  type: z.literal('anthropic'),
  ...providerCommon,
  /** Sent as anthropic-version (a configured header overrides it). */
  version: z.string().min(1).default('2023-06-01'),
  /** max_tokens sent when an OpenAI-style request gives none (Anthropic requires it). */
  default_max_tokens: numberish(z.number().int().min(1)).default(4096),
});

const geminiProvider = z.strictObject({
  type: z.literal('gemini'),
  ...providerCommon,
});

const bedrockProvider = z.strictObject({
  type: z.literal('bedrock'),
  ...providerCommon,
  /** AWS region used in the SigV4 signature, e.g. us-east-1. */
  region: z.string().min(1),
  /** AWS credentials; usually "${AWS_ACCESS_KEY_ID}" and friends. */
  credentials: z.strictObject({
    access_key_id: z.string().min(1),
    secret_access_key: z.string().min(1),
    session_token: z.string().optional(),
  }),
});

const { base_url: _baseUrl, ...poolCommon } = providerCommon;

/** A pool of self-hosted model servers behind one endpoint picker (see docs/scheduling.md). */
const poolProvider = z.strictObject({
  type: z.literal('pool'),
  ...poolCommon,
  /** API prefix on every endpoint. */
  base_path: z.string().startsWith('/').default('/v1'),
  ...poolFields,
});

export const providerSchema = z.discriminatedUnion('type', [
  poolProvider,
  openaiProvider,
  azureProvider,
  anthropicProvider,
  geminiProvider,
  bedrockProvider,
]);

const targetSchema = z.strictObject({
  provider: z.string().min(1),
  /** The model name the upstream knows (for Azure, the deployment name). Defaults to the public name. */
  model: z.string().min(1).optional(),
  /** Relative share of traffic for weighted splits (canary, A/B). */
  weight: numberish(z.number().min(0)).default(1),
  /** Arm label shown in the x-switchyard-target header and metrics; defaults to provider/model. */
  name: name.optional(),
});

const modelSchema = z.strictObject({
  /** Public model name clients send. */
  name: z.string().min(1),
  aliases: z.array(z.string().min(1)).default([]),
  targets: z.array(targetSchema).min(1, 'a model needs at least one target'),
  /** Tried in order when the chosen target fails (connection, timeout, 429, 5xx, error before content). */
  fallbacks: z.array(targetSchema).default([]),
  /** Tried in order when the prompt does not fit the context window (larger-context models). */
  context_fallbacks: z.array(targetSchema).default([]),
  /** Tried in order when the provider refuses the content. */
  content_fallbacks: z.array(targetSchema).default([]),
  /** Listed in GET /v1/models (set false to serve a model without advertising it). */
  listed: booleanish.default(true),
});

const policySchema = z.strictObject({
  /** Policy type id, e.g. request-caps or headers. */
  type: z.string().min(1),
  name: name.optional(),
  params: z.record(z.string(), z.unknown()).default({}),
});

const matchSchema = z
  .strictObject({
    /** Header conditions, by lower-case header name. */
    headers: z.record(z.string(), stringMatch).optional(),
    /** Request body conditions, by dotted path (e.g. metadata.tier, max_tokens). */
    fields: z.record(z.string(), fieldMatch).optional(),
    /** Condition on the model the client asked for. */
    model: stringMatch.optional(),
    /** Restrict the rule to some APIs. */
    api: z.array(z.enum(['chat', 'completions', 'embeddings', 'responses', 'messages'])).optional(),
  })
  .refine((m) => Object.keys(m).length > 0, 'an empty match would match everything; omit the rule instead');

const routeSchema = z.strictObject({
  name,
  match: matchSchema,
  /** Public model (or alias) the request is sent to when the rule matches. Defaults to the requested one. */
  model: z.string().min(1).optional(),
  /** Merge concurrent small embedding requests for the same model into one upstream call. */
  embeddings_batching: z
    .strictObject({
      /** Flush when this many inputs are waiting. */
      max_inputs: numberish(z.number().int().min(2).max(2048)).default(64),
      /** ...or when the oldest has waited this long. */
      max_delay: duration.default(10),
    })
    .optional(),
  /** Scheduling priority of the route's requests (overrides the x-switchyard-priority header; an API key's priority overrides both). */
  priority: z.enum(['critical', 'standard', 'sheddable']).optional(),
  /** Policies added for requests on this route, after the global ones. */
  policies: z.array(policySchema).default([]),
  /** Log prompts and/or responses, redacted, in this route's access-log lines (never logged otherwise). */
  log_payloads: payloadLogSchema.optional(),
});

const resilienceSchema = z
  .strictObject({
    /** Concurrent retries may be at most this share of live requests. */
    retry_budget: numberish(z.number().min(0).max(1)).default(0.2),
    /** ...but this many are always allowed. */
    min_retry_concurrency: numberish(z.number().int().min(0)).default(3),
  })
  .prefault({});

/**
 * A fleet of simulated model servers that `switchyard serve` starts in-process before the gateway. Their
 * URLs are given to the config as ${SWITCHYARD_SIM_ENDPOINTS} (comma-separated). For demos and tests.
 */
const simulatorSchema = z.strictObject({
  replicas: numberish(z.number().int().min(1).max(64)).default(4),
  model: z.string().min(1).default('sim-model'),
  /** Wall time per simulated second (0.1 = ten times faster than a real GPU). */
  time_scale: numberish(z.number().positive()).default(1),
  engine: z.enum(['vllm', 'sglang', 'tgi']).default('vllm'),
  /** Further simulator options (camelCase, as in src/sim/options.ts), e.g. { numGpuBlocks: 2048 }. */
  options: z.record(z.string(), z.unknown()).default({}),
});

export const configSchema = z.strictObject({
  simulator: simulatorSchema.optional(),
  server: serverSchema.prefault({}),
  logging: loggingSchema.prefault({}),
  metrics: metricsSchema.prefault({}),
  /** OpenTelemetry traces over OTLP/HTTP (see docs/tracing.md). Read at start. */
  tracing: tracingSchema.prefault({}),
  resilience: resilienceSchema,
  /** Identities, limits, budgets, prices and the usage ledger (see docs/governance.md). */
  governance: governanceSchema.prefault({}),
  /** The admin API and dashboard; enabled only when a token is set. */
  admin: z
    .strictObject({
      /** Bearer token for /admin and /ui; usually "${SWITCHYARD_ADMIN_TOKEN:-}". Empty disables both. */
      token: z.string().default(''),
    })
    .prefault({}),
  providers: z.array(providerSchema).default([]),
  models: z.array(modelSchema).default([]),
  /** Ordered rules; the first whose match holds decides the route. */
  routes: z.array(routeSchema).default([]),
  /** Policies applied to every request, in order. */
  policies: z.array(policySchema).default([]),
});

export type Config = z.infer<typeof configSchema>;
export type ConfigInput = z.input<typeof configSchema>;
export type ProviderConfig = z.infer<typeof providerSchema>;
/** Providers with one base URL (everything but pools). */
export type HostedProviderConfig = Exclude<ProviderConfig, { type: 'pool' }>;
export type ModelConfig = z.infer<typeof modelSchema>;
export type RouteConfig = z.infer<typeof routeSchema>;
export type PolicyConfig = z.infer<typeof policySchema>;
export type TargetConfig = z.infer<typeof targetSchema>;
