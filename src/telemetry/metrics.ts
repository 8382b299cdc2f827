import { collectDefaultMetrics, Counter, Gauge, Registry } from 'prom-client';
import type { BudgetRemaining } from '../contracts/governance.ts';
import type { RequestContext } from '../contracts/request.ts';
import type { UpstreamEvents } from '../upstream/events.ts';
import type { PoolProvider } from '../upstream/pool-provider.ts';
import { registerBudgetGauge } from './budget-metrics.ts';
import { FastCounter, FastHistogram } from './fast-metrics.ts';
import { labelCaps, type LabelCaps } from './label-cap.ts';
import { registerPoolGauges } from './pool-metrics.ts';

// Prometheus metrics, one registry per gateway (so tests can run several gateways in one process).
// Label values come only from config (route, model, provider and target names), from discovery
// (endpoints) or from closed sets (status codes, error codes, token types): never from raw client input.
// Requests for an unknown model are counted under model="(unknown)". The labels a request steers
// (model, route, target, endpoint) are also capped at `metrics.max_label_values` distinct values each;
// later values are counted as "other" (label-cap.ts).

export interface MetricsOptions {
  /** Include prom-client's process metrics. */
  readonly process: boolean;
  /** Distinct values per request-steered label (default 100). */
  readonly maxLabelValues?: number;
}

interface GenAiChildren {
  readonly duration: { observe(v: number): void };
  readonly ttft: { observe(v: number): void };
  readonly tpot: { observe(v: number): void };
  readonly input: { observe(v: number): void };
  readonly output: { observe(v: number): void };
}

const OPERATION: Readonly<Record<string, string>> = {
  chat: 'chat',
  completions: 'text_completion',
  embeddings: 'embeddings',
  responses: 'chat',
  messages: 'chat',
};

interface ModelChildren {
  readonly genai: Map<string, GenAiChildren>;
  readonly duration: { observe(v: number): void };
  readonly ttft: { observe(v: number): void };
  readonly overhead: { observe(v: number): void };
  readonly input: { inc(v: number): void };
  readonly output: { inc(v: number): void };
  readonly cacheHits: { inc(): void };
}

const REJECTIONS: ReadonlySet<string> = new Set([
  'rate_limited',
  'budget_exceeded',
  'queue_full',
  'unauthorized',
  'forbidden',
  'state_unavailable',
  'pool_empty',
  'no_healthy_upstream',
]);

const LATENCY_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300];
const OVERHEAD_BUCKETS = [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1];

export class GatewayMetrics {
  readonly registry = new Registry();
  readonly requests: FastCounter<'route' | 'model' | 'provider' | 'target' | 'status'>;
  readonly duration: FastHistogram<'model'>;
  readonly ttft: FastHistogram<'model'>;
  readonly overhead: FastHistogram<'model'>;
  readonly tokens: FastCounter<'model' | 'type'>;
  readonly promptCacheHits: FastCounter<'model'>;
  readonly inFlight: Gauge;
  readonly upstreamErrors: Counter<'provider' | 'code'>;
  readonly reloads: Counter<'result'>;
  readonly retries: Counter<'provider' | 'reason'>;
  readonly fallbacks: Counter<'model' | 'from' | 'to' | 'reason'>;
  readonly ejections: Counter<'provider' | 'endpoint'>;
  readonly ejected: Gauge<'provider' | 'endpoint'>;
  readonly healthy: Gauge<'provider' | 'endpoint'>;
  readonly retryBudgetExhausted: Counter<'provider'>;
  readonly stateEvents: Counter<'component' | 'kind' | 'decision'>;
  readonly budgetAlerts: Counter<'kind' | 'scope' | 'metric'>;
  readonly ledgerDropped: Counter;
  readonly rejections: Counter<'reason' | 'route'>;
  readonly cost: Counter<'model' | 'provider'>;
  readonly picks: Counter<'pool' | 'endpoint'>;
  readonly genAiTokens: FastHistogram<'gen_ai_operation_name' | 'gen_ai_request_model' | 'gen_ai_token_type'>;
  readonly genAiDuration: FastHistogram<'gen_ai_operation_name' | 'gen_ai_request_model'>;
  readonly genAiTtft: FastHistogram<'gen_ai_operation_name' | 'gen_ai_request_model'>;
  readonly genAiTpot: FastHistogram<'gen_ai_operation_name' | 'gen_ai_request_model'>;
  /** Set by the gateway: the pools of the current Runtime. */
  poolSource: () => readonly PoolProvider[] = () => [];
  /** Set by the gateway: the remaining amounts of the budgets in use (gateway_budget_remaining). */
  budgetSource: () => Promise<readonly BudgetRemaining[]> = () => Promise.resolve([]);
  readonly caps: LabelCaps;

  constructor(options: MetricsOptions) {
    const registers = [this.registry];
    this.caps = labelCaps(options.maxLabelValues ?? 100);
    this.requests = new FastCounter({
      name: 'gateway_requests_total',
      help: 'Requests by route, public model, provider, chosen target (split arm) and HTTP status.',
      labelNames: ['route', 'model', 'provider', 'target', 'status'],
      registers,
    });
    this.duration = new FastHistogram({
      name: 'gateway_inference_duration_seconds',
      help: 'Time from request arrival to the end of the response, per public model.',
      labelNames: ['model'],
      buckets: LATENCY_BUCKETS,
      registers,
    });
    this.ttft = new FastHistogram({
      name: 'gateway_time_to_first_token_seconds',
      help: 'Time from request arrival to the first streamed byte sent to the client, per model.',
      labelNames: ['model'],
      buckets: LATENCY_BUCKETS,
      registers,
    });
    this.overhead = new FastHistogram({
      name: 'gateway_overhead_seconds',
      help: 'Time spent in the gateway itself (request duration minus time waiting on upstreams).',
      labelNames: ['model'],
      buckets: OVERHEAD_BUCKETS,
      registers,
    });
    this.tokens = new FastCounter({
      name: 'gateway_tokens_total',
      help: 'Tokens by model and type (input, output, cached_input, cache_write, reasoning).',
      labelNames: ['model', 'type'],
      registers,
    });
    this.promptCacheHits = new FastCounter({
      name: 'gateway_prompt_cache_hits_total',
      help: "Requests whose usage reported cached input tokens (the provider's prompt cache), per model.",
      labelNames: ['model'],
      registers,
    });
    this.inFlight = new Gauge({
      name: 'gateway_requests_in_flight',
      help: 'Requests being served now.',
      registers,
    });
    this.upstreamErrors = new Counter({
      name: 'gateway_upstream_errors_total',
      help: 'Failed upstream exchanges by provider and error code.',
      labelNames: ['provider', 'code'],
      registers,
    });
    this.reloads = new Counter({
      name: 'gateway_config_reloads_total',
      help: 'Configuration reloads by result (ok, error).',
      labelNames: ['result'],
      registers,
    });
    this.retries = new Counter({
      name: 'gateway_retries_total',
      help: 'Retries on the same target, by provider and the error that caused them.',
      labelNames: ['provider', 'reason'],
      registers,
    });
    this.fallbacks = new Counter({
      name: 'gateway_fallbacks_total',
      help: 'Failovers from one target to the next, by model, targets and reason.',
      labelNames: ['model', 'from', 'to', 'reason'],
      registers,
    });
    this.ejections = new Counter({
      name: 'gateway_endpoint_ejections_total',
      help: 'Outlier ejections (circuit opened) by provider and endpoint.',
      labelNames: ['provider', 'endpoint'],
      registers,
    });
    this.ejected = new Gauge({
      name: 'gateway_endpoint_ejected',
      help: '1 while an endpoint is ejected.',
      labelNames: ['provider', 'endpoint'],
      registers,
    });
    this.healthy = new Gauge({
      name: 'gateway_endpoint_healthy',
      help: '1 when an endpoint passes its active health checks, 0 when not.',
      labelNames: ['provider', 'endpoint'],
      registers,
    });
    this.retryBudgetExhausted = new Counter({
      name: 'gateway_retry_budget_exhausted_total',
      help: 'Retries not made because the retry budget was spent.',
      labelNames: ['provider'],
      registers,
    });
    this.stateEvents = new Counter({
      name: 'gateway_state_events_total',
      help: 'Shared-state (Redis, key store, ledger) errors and transitions; decision says whether the request was admitted (open) or refused (closed).',
      labelNames: ['component', 'kind', 'decision'],
      registers,
    });
    this.budgetAlerts = new Counter({
      name: 'gateway_budget_alerts_total',
      help: 'Budget soft-limit alerts and hard refusals by scope and metric.',
      labelNames: ['kind', 'scope', 'metric'],
      registers,
    });
    this.ledgerDropped = new Counter({
      name: 'gateway_ledger_dropped_total',
      help: 'Usage records the ledger could not keep.',
      registers,
    });
    this.rejections = new Counter({
      name: 'gateway_rejections_total',
      help: 'Requests refused by the gateway itself, by reason (rate_limited, budget_exceeded, queue_full, unauthorized, forbidden, …) and route.',
      labelNames: ['reason', 'route'],
      registers,
    });
    this.cost = new Counter({
      name: 'gateway_cost_usd_total',
      help: 'Money spent in USD, by public model and provider, from the price table.',
      labelNames: ['model', 'provider'],
      registers,
    });
    // OpenTelemetry GenAI semantic-convention metrics, in Prometheus naming.
    const genai = ['gen_ai_operation_name', 'gen_ai_request_model'] as const;
    this.genAiTokens = new FastHistogram({
      name: 'gen_ai_client_token_usage',
      help: 'Tokens per request by type (input, output), OpenTelemetry GenAI convention.',
      labelNames: [...genai, 'gen_ai_token_type'],
      buckets: [1, 4, 16, 64, 256, 1024, 4096, 16384, 65536, 262144, 1048576, 4194304],
      registers,
    });
    this.genAiDuration = new FastHistogram({
      name: 'gen_ai_client_operation_duration_seconds',
      help: 'Request duration, OpenTelemetry GenAI convention.',
      labelNames: genai,
      buckets: LATENCY_BUCKETS,
      registers,
    });
    this.genAiTtft = new FastHistogram({
      name: 'gen_ai_server_time_to_first_token_seconds',
      help: 'Time to first token of streamed responses, OpenTelemetry GenAI convention.',
      labelNames: genai,
      buckets: LATENCY_BUCKETS,
      registers,
    });
    this.genAiTpot = new FastHistogram({
      name: 'gen_ai_server_time_per_output_token_seconds',
      help: 'Time per output token after the first (streams), OpenTelemetry GenAI convention.',
      labelNames: genai,
      buckets: [0.001, 0.0025, 0.005, 0.01, 0.02, 0.04, 0.06, 0.08, 0.1, 0.15, 0.2, 0.3, 0.5, 1],
      registers,
    });
    this.picks = new Counter({
      name: 'gateway_endpoint_picks_total',
      help: "Requests sent to each pool endpoint (the picker's choices).",
      labelNames: ['pool', 'endpoint'],
      registers,
    });
    registerPoolGauges({ registers, pools: () => this.poolSource(), endpointCap: this.caps.endpoint });
    registerBudgetGauge({ registers, budgets: () => this.budgetSource() });
    if (options.process) collectDefaultMetrics({ register: this.registry });
  }

  private get poolNames(): ReadonlySet<string> {
    const pools = this.poolSource();
    if (pools !== this.cachedPools) {
      this.cachedPools = pools;
      this.cachedNames = new Set(pools.map((p) => p.name));
    }
    return this.cachedNames;
  }

  private cachedPools: readonly PoolProvider[] = [];
  private cachedNames: ReadonlySet<string> = new Set();

  /** Upstream-layer events as metrics. */
  upstreamEvents(): UpstreamEvents {
    return {
      ejection: (provider, endpoint, ejected) => {
        const ep = this.caps.endpoint.fold(endpoint);
        if (ejected) this.ejections.labels(provider, ep).inc();
        this.ejected.labels(provider, ep).set(ejected ? 1 : 0);
      },
      health: (provider, endpoint, healthy) =>
        this.healthy.labels(provider, this.caps.endpoint.fold(endpoint)).set(healthy ? 1 : 0),
      retry: (provider, reason) => this.retries.labels(provider, reason).inc(),
      fallback: (model, from, to, reason) => {
        const { model: models, target } = this.caps;
        this.fallbacks.labels(models.fold(model), target.fold(from), target.fold(to), reason).inc();
      },
      retryBudgetExhausted: (provider) => this.retryBudgetExhausted.labels(provider).inc(),
    };
  }

  /** Per-model children, cached: prom-client's labels() hashes its arguments on every call. */
  private readonly perModel = new Map<string, ModelChildren>();
  private readonly requestChildren = new Map<string, { inc(): void }>();
  /** gateway_cost_usd_total children by model and provider (labels() hashes its labels on every call). */
  private readonly costChildren = new Map<string, { inc(v: number): void }>();

  private modelChildren(model: string): ModelChildren {
    let c = this.perModel.get(model);
    if (c === undefined) {
      c = {
        genai: new Map(),
        duration: this.duration.labels(model),
        ttft: this.ttft.labels(model),
        overhead: this.overhead.labels(model),
        input: this.tokens.labels(model, 'input'),
        output: this.tokens.labels(model, 'output'),
        cacheHits: this.promptCacheHits.labels(model),
      };
      this.perModel.set(model, c);
    }
    return c;
  }

  private observeGenAi(c: ModelChildren, model: string, ctx: RequestContext): void {
    const op = OPERATION[ctx.api] ?? 'chat';
    let g = c.genai.get(op);
    if (g === undefined) {
      g = {
        duration: this.genAiDuration.labels(op, model),
        ttft: this.genAiTtft.labels(op, model),
        tpot: this.genAiTpot.labels(op, model),
        input: this.genAiTokens.labels(op, model, 'input'),
        output: this.genAiTokens.labels(op, model, 'output'),
      };
      c.genai.set(op, g);
    }
    g.duration.observe(ctx.durationMs / 1000);
    const u = ctx.usage;
    if (u.inputTokens > 0) g.input.observe(u.inputTokens);
    if (u.outputTokens > 0) g.output.observe(u.outputTokens);
    if (ctx.stream && ctx.ttftMs !== null) {
      g.ttft.observe(ctx.ttftMs / 1000);
      if (u.outputTokens > 1) g.tpot.observe((ctx.durationMs - ctx.ttftMs) / 1000 / (u.outputTokens - 1));
    }
  }

  /** Record a finished request. Called once per request, whatever its outcome. */
  observe(ctx: RequestContext): void {
    const caps = this.caps;
    const model = caps.model.fold(ctx.model === '' ? '(unknown)' : ctx.model);
    const route = caps.route.fold(ctx.route);
    const target = ctx.target === null ? '' : caps.target.fold(ctx.target);
    const key = `${route}\u0000${model}\u0000${ctx.provider ?? ''}\u0000${target}\u0000${ctx.status}`;
    let counter = this.requestChildren.get(key);
    if (counter === undefined) {
      counter = this.requests.labels(route, model, ctx.provider ?? '', target, String(ctx.status));
      this.requestChildren.set(key, counter);
    }
    counter.inc();
    const c = this.modelChildren(model);
    c.duration.observe(ctx.durationMs / 1000);
    if (ctx.ttftMs !== null && ctx.stream) c.ttft.observe(ctx.ttftMs / 1000);
    if (ctx.provider !== null) c.overhead.observe(Math.max(0, ctx.durationMs - ctx.upstreamMs) / 1000);
    const u = ctx.usage;
    this.observeGenAi(c, model, ctx);
    if (u.inputTokens > 0) c.input.inc(u.inputTokens);
    if (u.outputTokens > 0) c.output.inc(u.outputTokens);
    if (u.cachedInputTokens > 0) {
      this.tokens.labels(model, 'cached_input').inc(u.cachedInputTokens);
      c.cacheHits.inc();
    }
    if (u.cacheWriteTokens > 0) this.tokens.labels(model, 'cache_write').inc(u.cacheWriteTokens);
    if (u.reasoningTokens > 0) this.tokens.labels(model, 'reasoning').inc(u.reasoningTokens);
    if (
      ctx.endpoint !== null &&
      ctx.provider !== null &&
      ctx.target !== null &&
      this.poolNames.has(ctx.provider)
    ) {
      this.picks.labels(ctx.provider, caps.endpoint.fold(ctx.endpoint)).inc();
    }
    if (ctx.costUsd !== null && ctx.costUsd > 0) {
      const provider = ctx.provider ?? '';
      const name = `${model}\u0000${provider}`;
      let cost = this.costChildren.get(name);
      if (cost === undefined) {
        cost = this.cost.labels(model, provider);
        this.costChildren.set(name, cost);
      }
      cost.inc(ctx.costUsd);
    }
    if (ctx.errorCode !== null && REJECTIONS.has(ctx.errorCode))
      this.rejections.labels(ctx.errorCode, route).inc();
    if (ctx.errorCode !== null && ctx.provider !== null && ctx.errorCode.startsWith('upstream')) {
      this.upstreamErrors.labels(ctx.provider, ctx.errorCode).inc();
    }
  }
}
