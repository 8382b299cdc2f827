import type { ProviderConfig } from '../config/schema.ts';
import type { RequestContext } from '../contracts/request.ts';
import type { EndpointState } from '../contracts/scheduling.ts';
import type { Translator } from '../contracts/translator.ts';
import type {
  AttemptOutcome,
  Endpoint,
  OutgoingRequest,
  Provider,
  RetrySettings,
  UpstreamTimeouts,
} from '../contracts/upstream.ts';
import { createPoolScheduler } from '../scheduling/pool-options.ts';
import type { PoolScheduler } from '../scheduling/pool-scheduler.ts';
import { providerHeaders, type HeaderPairs } from './auth.ts';
import type { UpstreamEvents } from './events.ts';
import type { OutlierDetector } from './outlier.ts';
import type { OriginPools } from './pools.ts';
import { outlierOf, retryOf, timeoutsOf } from './providers.ts';

// A pool of self-hosted model servers (vLLM, SGLang, TGI, …) serving the same models. Each request's
// endpoint is chosen by the pool's scheduler (filters → scorers → picker over live telemetry, with flow
// control when saturated); each endpoint has its own undici pool and its own circuit (outlier ejection
// takes it out of the picker's candidates until the ejection ends).

type PoolRow = Extract<ProviderConfig, { type: 'pool' }>;

export class PoolProvider implements Provider {
  readonly name: string;
  readonly type = 'pool';
  readonly translator: Translator;
  readonly timeouts: UpstreamTimeouts;
  readonly retry: RetrySettings;
  readonly scheduler: PoolScheduler;
  private readonly base: string;
  private readonly headers: HeaderPairs;
  private readonly pools: OriginPools;
  private readonly row: PoolRow;
  private readonly endpoints = new Map<string, Endpoint>();
  private readonly outlier: OutlierDetector;
  private readonly timers = new Set<NodeJS.Timeout>();
  private started = false;

  constructor(row: PoolRow, deps: { pools: OriginPools; events: UpstreamEvents }, translator: Translator) {
    this.name = row.name;
    this.row = row;
    this.translator = translator;
    this.timeouts = timeoutsOf(row);
    this.retry = retryOf(row);
    this.base = row.base_path.endsWith('/') ? row.base_path.slice(0, -1) : row.base_path;
    this.headers = providerHeaders(row);
    this.pools = deps.pools;
    this.scheduler = createPoolScheduler(row.name, row);
    this.outlier = outlierOf(row, deps.events, (id, ejected, until) => this.setEjected(id, ejected, until));
  }

  get ready(): boolean {
    return this.started;
  }

  path(relative: string): string {
    return this.base + relative;
  }

  authorize(req: OutgoingRequest): void {
    for (const [k, v] of this.headers) req.headers[k] = v;
  }

  endpoint(ctx: RequestContext): Endpoint | Promise<Endpoint> {
    const chosen = this.scheduler.acquire(ctx);
    return chosen instanceof Promise ? chosen.then((s) => this.toEndpoint(s)) : this.toEndpoint(chosen);
  }

  release(endpoint: Endpoint, ctx: RequestContext, outcome: AttemptOutcome): void {
    this.scheduler.release(endpoint.id, ctx);
    if (outcome === 'neutral') return;
    if (outcome === 'failure') this.scheduler.avoid(ctx, endpoint.id);
    const group = this.scheduler.endpoints.all().map((e) => e.id);
    this.outlier.record(endpoint.id, outcome === 'success', group);
  }

  start(): void {
    void this.scheduler.start().then(() => {
      this.started = true;
    });
  }

  async close(): Promise<void> {
    for (const t of this.timers) clearTimeout(t);
    await this.scheduler.close();
  }

  private toEndpoint(state: EndpointState): Endpoint {
    let endpoint = this.endpoints.get(state.id);
    if (endpoint === undefined) {
      const dispatcher = this.pools.forOrigin(
        state.origin,
        this.row.max_connections,
        this.row.timeouts.connect,
      );
      endpoint = { id: state.id, origin: state.origin, dispatcher };
      this.endpoints.set(state.id, endpoint);
    }
    return endpoint;
  }

  private setEjected(id: string, ejected: boolean, until: number): void {
    const state = this.scheduler.endpoints.all().find((e) => e.id === id);
    if (state === undefined) return;
    state.ejected = ejected;
    if (!ejected) return;
    // When the ejection ends the endpoint is half-open: back among the candidates; its next result
    // closes the circuit or ejects it again for longer.
    const timer = setTimeout(
      () => {
        this.timers.delete(timer);
        state.ejected = false;
      },
      Math.max(0, until - Date.now()),
    );
    timer.unref();
    this.timers.add(timer);
  }
}
