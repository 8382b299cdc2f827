import { GatewayError } from '../core/errors.ts';
import type { PriorityClass, RequestContext } from '../contracts/request.ts';
import type {
  DiscoverySource,
  EndpointState,
  EngineKind,
  Profile,
  SchedulingRequest,
} from '../contracts/scheduling.ts';
import type { EngineHints } from './engine-metrics.ts';
import { EndpointSet } from './endpoint-set.ts';
import { FlowQueue, PRIORITY_CLASSES, type Queued } from './flow-queue.ts';
import { emptyCycleState } from './profile.ts';
import { isPoolSaturated, type SaturationThresholds } from './saturation.ts';
import { SchedulingRequestBuilder, type RequestOptions } from './scheduling-request.ts';
import { Scraper } from './scraper.ts';

// One self-hosted pool at run time: its endpoints (from a discovery source), their scraper, the
// scheduling profile and flow control. `acquire` picks an endpoint for a request, synchronously when
// the pool has room; when it is saturated, sheddable requests are refused at once (429 + Retry-After)
// and others wait in the flow queue until capacity frees (a scrape, a finished request) or their
// class's max wait passes. Picking happens at dispatch time, inside the drain loop, and counts the
// request against its endpoint at once, so one freed slot never releases the whole queue.

export interface ScrapeSettings {
  readonly intervalMs: number;
  readonly timeoutMs: number;
  readonly staleAfterMs: number;
  readonly metricsPath?: string;
  readonly unhealthyAfter?: number;
  readonly hints?: EngineHints;
}

export interface FlowSettings {
  readonly enabled: boolean;
  readonly maxQueue: Readonly<Record<PriorityClass, number>>;
  readonly maxWaitMs: Readonly<Record<PriorityClass, number>>;
  readonly retryAfterSeconds: number;
}

export interface PoolSchedulerOptions {
  readonly name: string;
  readonly engine: EngineKind;
  readonly profile: Profile;
  readonly discovery: DiscoverySource;
  /** null: no scraping (telemetry stays empty and never goes stale). */
  readonly scrape: ScrapeSettings | null;
  readonly saturation: SaturationThresholds;
  readonly flow: FlowSettings;
  readonly request?: Partial<RequestOptions>;
  readonly ewmaAlpha?: number;
}

interface Ticket {
  readonly req: SchedulingRequest;
  readonly endpoint: EndpointState;
  readonly dispatchedAt: number;
}

interface Waiter extends Queued {
  readonly req: SchedulingRequest;
  readonly ctx: RequestContext;
  readonly enqueuedAt: number;
  resolve(endpoint: EndpointState): void;
  reject(err: unknown): void;
  timer: NodeJS.Timeout | null;
  onAbort: (() => void) | null;
}

function abortReason(signal: AbortSignal): Error {
  return signal.reason instanceof Error ? signal.reason : new Error('The request was aborted.');
}

export class PoolScheduler {
  readonly name: string;
  readonly endpoints: EndpointSet;
  readonly scraper: Scraper | null;
  private readonly options: PoolSchedulerOptions;
  private readonly builder: SchedulingRequestBuilder;
  private readonly queue: FlowQueue<Waiter>;
  private readonly tickets = new WeakMap<RequestContext, Ticket>();
  /** Endpoints that failed a request's earlier attempts: its retries go elsewhere while others remain. */
  private readonly failed = new WeakMap<RequestContext, Set<string>>();
  private draining = false;
  private closed = false;

  constructor(options: PoolSchedulerOptions) {
    this.name = options.name;
    this.options = options;
    this.endpoints = new EndpointSet({
      engine: options.engine,
      staleAfterMs: options.scrape?.staleAfterMs ?? 0,
      ...(options.scrape?.metricsPath === undefined ? {} : { metricsPath: options.scrape.metricsPath }),
      ...(options.ewmaAlpha === undefined ? {} : { ewmaAlpha: options.ewmaAlpha }),
    });
    this.scraper = options.scrape === null ? null : new Scraper(this.endpoints, options.scrape);
    this.builder = new SchedulingRequestBuilder(options.request);
    this.queue = new FlowQueue<Waiter>(options.flow.maxQueue);
    this.endpoints.onCapacity(() => {
      if (this.queue.size > 0) this.drain();
    });
  }

  get profile(): Profile {
    return this.options.profile;
  }

  /** Discover the endpoints, scrape each once (bounded by the scrape timeout), then keep scraping. */
  async start(): Promise<void> {
    await this.options.discovery.start(this.endpoints);
    if (this.scraper === null) return;
    await Promise.all(this.endpoints.all().map((e) => this.scraper!.scrapeOnce(e)));
    this.scraper.start();
  }

  async close(): Promise<void> {
    this.closed = true;
    for (let w = this.queue.shift(); w !== undefined; w = this.queue.shift()) {
      this.settle(w);
      w.reject(new GatewayError('shutting_down', 'The gateway is shutting down.'));
    }
    await this.options.discovery.stop();
    await this.scraper?.stop();
  }

  queueDepth(cls: PriorityClass): number {
    return this.queue.depth(cls);
  }

  /** True when no endpoint has room (stale telemetry counts as no room). */
  saturated(): boolean {
    this.endpoints.refreshStaleness(performance.now());
    return isPoolSaturated(this.endpoints.all(), this.options.saturation);
  }

  /** Choose the endpoint for a request; waits (a Promise) only when the pool is saturated. */
  acquire(ctx: RequestContext): EndpointState | Promise<EndpointState> {
    if (this.closed) throw new GatewayError('shutting_down', 'The gateway is shutting down.');
    if (this.endpoints.size === 0)
      throw new GatewayError('pool_empty', `The pool '${this.name}' has no endpoints.`);
    const req = this.builder.build(ctx);
    if (!this.options.flow.enabled) return this.dispatch(req, ctx, 0);
    if (this.queue.size > 0) this.drain();
    if (this.queue.size === 0 && !this.saturated()) return this.dispatch(req, ctx, 0);
    if (req.priority === 'sheddable') throw this.full('The pool is saturated; sheddable requests are shed.');
    if (this.endpoints.all().every((e) => e.health === 'unhealthy')) {
      throw new GatewayError('no_healthy_upstream', `No endpoint of the pool '${this.name}' is healthy.`);
    }
    return this.enqueue(req, ctx);
  }

  /** The request given `endpointId` has finished (whatever its outcome): update the accounting. */
  release(endpointId: string, ctx: RequestContext): void {
    const t = this.tickets.get(ctx);
    if (t === undefined || t.endpoint.id !== endpointId) return;
    this.tickets.delete(ctx);
    const latencyMs = performance.now() - t.dispatchedAt;
    const ttftMs = ctx.ttftMs === null ? null : Math.max(0, ctx.ttftMs - (t.dispatchedAt - ctx.startedAt));
    const outcome = ctx.ttftMs === null || ctx.status >= 500 ? 'error' : 'ok';
    this.endpoints.onEnd(t.endpoint, t.req, { outcome, ttftMs, latencyMs });
  }

  /** An attempt of this request failed on `endpointId`: its next attempts avoid it if they can. */
  avoid(ctx: RequestContext, endpointId: string): void {
    const failed = this.failed.get(ctx);
    if (failed === undefined) this.failed.set(ctx, new Set([endpointId]));
    else failed.add(endpointId);
  }

  private candidates(ctx: RequestContext): readonly EndpointState[] {
    const all = this.endpoints.all();
    const failed = this.failed.get(ctx);
    if (failed === undefined) return all;
    const others = all.filter((e) => !failed.has(e.id));
    return others.length > 0 ? others : all;
  }

  private dispatch(req: SchedulingRequest, ctx: RequestContext, queuedMs: number): EndpointState {
    const explain = ctx.explainWanted ? emptyCycleState() : null;
    this.endpoints.refreshStaleness(performance.now());
    const chosen = this.options.profile.pick(req, this.candidates(ctx), explain);
    if (explain !== null) ctx.explain = { pool: this.name, queued_ms: Math.round(queuedMs), ...explain };
    if (chosen === null)
      throw new GatewayError(
        'no_healthy_upstream',
        `No endpoint of the pool '${this.name}' can serve the request.`,
      );
    this.endpoints.onStart(chosen, req);
    this.tickets.set(ctx, { req, endpoint: chosen, dispatchedAt: performance.now() });
    return chosen;
  }

  private enqueue(req: SchedulingRequest, ctx: RequestContext): Promise<EndpointState> {
    return new Promise<EndpointState>((resolve, reject) => {
      if (ctx.signal.aborted) return reject(abortReason(ctx.signal));
      const w: Waiter = {
        priority: req.priority,
        tenant: req.tenant,
        req,
        ctx,
        enqueuedAt: performance.now(),
        resolve,
        reject,
        timer: null,
        onAbort: null,
      };
      if (!this.queue.push(w))
        return reject(this.full(`The ${req.priority} queue of the pool '${this.name}' is full.`));
      const maxWait = this.options.flow.maxWaitMs[req.priority];
      w.timer = setTimeout(() => this.expire(w, maxWait), maxWait);
      w.onAbort = () => {
        if (this.queue.remove(w)) {
          this.settle(w);
          reject(abortReason(ctx.signal));
        }
      };
      ctx.signal.addEventListener('abort', w.onAbort, { once: true });
    });
  }

  private expire(w: Waiter, maxWait: number): void {
    if (!this.queue.remove(w)) return;
    this.settle(w);
    w.reject(this.full(`No capacity in the pool '${this.name}' within ${maxWait} ms.`));
  }

  private settle(w: Waiter): void {
    if (w.timer !== null) clearTimeout(w.timer);
    if (w.onAbort !== null) w.ctx.signal.removeEventListener('abort', w.onAbort);
  }

  /** Serve queued requests while the pool has room. Re-entrant calls are ignored. */
  private drain(): void {
    if (this.draining) return;
    this.draining = true;
    try {
      while (this.queue.size > 0) {
        if (this.endpoints.size === 0) {
          for (let w = this.queue.shift(); w !== undefined; w = this.queue.shift()) {
            this.settle(w);
            w.reject(new GatewayError('pool_empty', `The pool '${this.name}' has no endpoints.`));
          }
          break;
        }
        if (this.saturated()) break;
        const w = this.queue.shift()!;
        this.settle(w);
        try {
          w.resolve(this.dispatch(w.req, w.ctx, performance.now() - w.enqueuedAt));
        } catch (err) {
          w.reject(err);
        }
      }
    } finally {
      this.draining = false;
    }
  }

  private full(message: string): GatewayError {
    return new GatewayError('queue_full', message, {
      headers: { 'retry-after': String(this.options.flow.retryAfterSeconds) },
    });
  }

  /** Queue depth per class, for gateway_queue_depth. */
  queueDepths(): Record<PriorityClass, number> {
    const out = { critical: 0, standard: 0, sheddable: 0 };
    for (const cls of PRIORITY_CLASSES) out[cls] = this.queue.depth(cls);
    return out;
  }
}
