import { GatewayError } from '../core/errors.ts';
import type { HostedProviderConfig, ProviderConfig } from '../config/schema.ts';
import type {
  AttemptOutcome,
  Endpoint,
  OutgoingRequest,
  Provider,
  RetrySettings,
  UpstreamTimeouts,
} from '../contracts/upstream.ts';
import type { Translator } from '../contracts/translator.ts';
import { providerHeaders, type HeaderPairs } from './auth.ts';
import { HealthChecker } from './health.ts';
import { OutlierDetector } from './outlier.ts';
import type { OriginPools } from './pools.ts';
import type { UpstreamEvents } from './events.ts';

// Providers built from config rows. Every OpenAI-compatible server is the same class with a different
// base URL, auth and headers; Azure differs only in its path (deployment, api-version). Each provider
// keeps its endpoint's circuit (outlier ejection) and, when configured, an active health checker.

function basePath(baseUrl: string): string {
  const path = new URL(baseUrl).pathname;
  return path.endsWith('/') ? path.slice(0, -1) : path;
}

export function timeoutsOf(config: ProviderConfig): UpstreamTimeouts {
  const t = config.timeouts;
  return { connectMs: t.connect, firstByteMs: t.first_byte, idleMs: t.idle, totalMs: t.total };
}

export function retryOf(config: ProviderConfig): RetrySettings {
  const r = config.retry;
  return { attempts: r.attempts, baseMs: r.base, maxMs: r.max, retryAfterCapMs: r.retry_after_cap };
}

export function outlierOf(
  config: ProviderConfig,
  events: UpstreamEvents,
  onChange?: (id: string, ejected: boolean, untilMs: number) => void,
): OutlierDetector {
  const o = config.outlier;
  return new OutlierDetector(
    {
      consecutive: o.consecutive_failures,
      rate: o.failure_rate,
      minRequests: o.min_requests,
      windowMs: o.window,
      baseMs: o.base_ejection,
      maxMs: o.max_ejection,
      maxEjectedShare: o.max_ejected_share,
    },
    (id, ejected, until) => {
      events.ejection(config.name, id, ejected);
      onChange?.(id, ejected, until);
    },
  );
}

export function healthOf(
  config: ProviderConfig,
  events: UpstreamEvents,
  headers: HeaderPairs,
  chatPath: string,
): HealthChecker | null {
  const h = config.health;
  if (!h.enabled) return null;
  return new HealthChecker(
    {
      path: h.path,
      intervalMs: h.interval,
      timeoutMs: h.timeout,
      healthyThreshold: h.healthy_threshold,
      unhealthyThreshold: h.unhealthy_threshold,
      inference:
        h.inference_model === undefined
          ? null
          : { path: chatPath, model: h.inference_model, headers: Object.fromEntries(headers) },
      startUnhealthy: h.prewarm,
    },
    (id, healthy) => events.health(config.name, id, healthy),
  );
}

/** A provider with one origin (a hosted API or a single model server). */
export class SingleEndpointProvider implements Provider {
  readonly name: string;
  readonly type: string;
  readonly translator: Translator;
  readonly timeouts: UpstreamTimeouts;
  readonly retry: RetrySettings;
  protected readonly base: string;
  private readonly headers: HeaderPairs;
  private readonly target: Endpoint;
  private readonly outlier: OutlierDetector;
  private readonly health: HealthChecker | null;

  constructor(
    config: HostedProviderConfig,
    deps: { pools: OriginPools; events: UpstreamEvents },
    translator: Translator,
  ) {
    this.name = config.name;
    this.type = config.type;
    this.translator = translator;
    this.timeouts = timeoutsOf(config);
    this.retry = retryOf(config);
    this.base = basePath(config.base_url);
    this.headers = providerHeaders(config);
    const origin = new URL(config.base_url).origin;
    this.target = { id: origin, origin, dispatcher: deps.pools.forProvider(config) };
    this.outlier = outlierOf(config, deps.events);
    this.health = healthOf(
      config,
      deps.events,
      this.headers,
      this.path('/chat/completions', config.health.inference_model ?? ''),
    );
    this.health?.add(this.target);
  }

  get ready(): boolean {
    return this.health === null || this.health.settled;
  }

  path(relative: string, _model: string): string {
    return this.base + relative;
  }

  authorize(req: OutgoingRequest): void {
    for (const [k, v] of this.headers) req.headers[k] = v;
  }

  endpoint(): Endpoint {
    const id = this.target.id;
    if ((this.health !== null && !this.health.isHealthy(id)) || !this.outlier.admits(id)) {
      throw new GatewayError(
        'no_healthy_upstream',
        `The provider '${this.name}' is unavailable (failing health checks or ejected).`,
      );
    }
    return this.target;
  }

  release(endpoint: Endpoint, _ctx: unknown, outcome: AttemptOutcome): void {
    if (outcome !== 'neutral') this.outlier.record(endpoint.id, outcome === 'success');
  }

  start(): void {
    this.health?.start();
  }

  async close(): Promise<void> {
    this.health?.stop();
  }
}

/** Azure OpenAI: /openai/deployments/{deployment}/chat/completions?api-version=… */
export class AzureProvider extends SingleEndpointProvider {
  private readonly query: string;

  constructor(
    config: Extract<ProviderConfig, { type: 'azure' }>,
    deps: { pools: OriginPools; events: UpstreamEvents },
    translator: Translator,
  ) {
    super(config, deps, translator);
    this.query = `?api-version=${encodeURIComponent(config.api_version)}`;
  }

  override path(relative: string, model: string): string {
    // The Responses API on Azure is not deployment-scoped.
    if (relative === '/responses') return `${this.base}/responses${this.query}`;
    return `${this.base}/deployments/${encodeURIComponent(model)}${relative}${this.query}`;
  }
}
