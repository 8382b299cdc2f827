import type {
  DiscoverySink,
  DiscoverySource,
  EndObservation,
  EndpointSpec,
  EndpointState,
  EngineKind,
  SchedulingRequest,
} from '../contracts/scheduling.ts';
import { DEFAULT_METRICS_PATH, emptyTelemetry } from './engine-metrics.ts';

// The live endpoints of one pool. Endpoints join and leave at runtime (a discovery source calls
// upsert/remove); each keeps its state object for as long as it stays, so telemetry and accounting
// survive. `all()` returns an array that is replaced, never mutated, on join/leave: a pick that is
// iterating it is never disturbed. Listeners hear about membership (the scraper) and about capacity
// that may have freed (flow control).

export interface EndpointSetOptions {
  readonly engine: EngineKind;
  /** Path of the metrics page when a spec gives no metricsUrl (default: the engine's). */
  readonly metricsPath?: string;
  /** Telemetry older than this is stale; 0 disables staleness (no scraping). */
  readonly staleAfterMs: number;
  /** Weight of a new observation in the TTFT and latency EWMAs, 0..1. */
  readonly ewmaAlpha?: number;
}

export type MembershipListener = (endpoint: EndpointState, joined: boolean) => void;

export class EndpointSet implements DiscoverySink {
  readonly engine: EngineKind;
  readonly staleAfterMs: number;
  private readonly metricsPath: string;
  private readonly alpha: number;
  private readonly byId = new Map<string, EndpointState>();
  private list: readonly EndpointState[] = [];
  private readonly freeSlots: number[] = [];
  private nextSlot = 0;
  private readonly membership: MembershipListener[] = [];
  private readonly capacity: (() => void)[] = [];

  constructor(options: EndpointSetOptions) {
    this.engine = options.engine;
    this.staleAfterMs = options.staleAfterMs;
    this.metricsPath = options.metricsPath ?? DEFAULT_METRICS_PATH[options.engine];
    this.alpha = options.ewmaAlpha ?? 0.2;
  }

  get size(): number {
    return this.list.length;
  }

  /** The current endpoints. The array is never mutated: join/leave replace it. */
  all(): readonly EndpointState[] {
    return this.list;
  }

  get(id: string): EndpointState | undefined {
    return this.byId.get(id);
  }

  upsert(spec: EndpointSpec): void {
    const origin = new URL(spec.url).origin;
    const id = spec.id ?? origin;
    if (this.byId.has(id)) return;
    const engine = spec.engine ?? this.engine;
    const slot = this.freeSlots.pop() ?? this.nextSlot++;
    const state: EndpointState = {
      ...emptyTelemetry(),
      id,
      origin,
      engine,
      slot,
      metricsUrl: spec.metricsUrl ?? origin + (spec.engine ? DEFAULT_METRICS_PATH[engine] : this.metricsPath),
      scrapedAt: 0,
      stale: this.staleAfterMs > 0,
      health: 'unknown',
      ejected: false,
      consecutiveFailures: 0,
      inFlight: 0,
      inFlightTokens: 0,
      dispatchedSinceScrape: 0,
      ttftEwmaMs: NaN,
      latencyEwmaMs: NaN,
    };
    this.byId.set(id, state);
    this.list = [...this.list, state];
    for (const l of this.membership) l(state, true);
    this.changed();
  }

  remove(id: string): void {
    const state = this.byId.get(id);
    if (state === undefined) return;
    this.byId.delete(id);
    this.list = this.list.filter((e) => e !== state);
    this.freeSlots.push(state.slot);
    for (const l of this.membership) l(state, false);
    this.changed();
  }

  onMembership(listener: MembershipListener): void {
    this.membership.push(listener);
  }

  /** Called whenever capacity may have freed: telemetry arrived, a request ended, an endpoint joined. */
  onCapacity(listener: () => void): void {
    this.capacity.push(listener);
  }

  /** Tell capacity listeners to look again (the scraper calls this after each scrape). */
  changed(): void {
    for (const l of this.capacity) l();
  }

  /** Recompute stale flags at `now` (performance.now()); cheap enough to run before every pick. */
  refreshStaleness(now: number): void {
    if (this.staleAfterMs <= 0) return;
    const limit = now - this.staleAfterMs;
    for (const e of this.list) e.stale = e.scrapedAt === 0 || e.scrapedAt < limit;
  }

  // ---- Gateway-side accounting --------------------------------------------------------------------

  onStart(endpoint: EndpointState, req: SchedulingRequest): void {
    endpoint.inFlight++;
    endpoint.inFlightTokens += req.tokenCost;
    endpoint.dispatchedSinceScrape++;
  }

  onFirstToken(endpoint: EndpointState, ttftMs: number): void {
    endpoint.ttftEwmaMs = this.ewma(endpoint.ttftEwmaMs, ttftMs);
  }

  /** A request sent to `endpoint` finished. Pass ttftMs here when onFirstToken was not called. */
  onEnd(endpoint: EndpointState, req: SchedulingRequest, seen: EndObservation): void {
    endpoint.inFlight = Math.max(0, endpoint.inFlight - 1);
    endpoint.inFlightTokens = Math.max(0, endpoint.inFlightTokens - req.tokenCost);
    if (seen.outcome === 'ok') {
      if (seen.ttftMs !== null) endpoint.ttftEwmaMs = this.ewma(endpoint.ttftEwmaMs, seen.ttftMs);
      endpoint.latencyEwmaMs = this.ewma(endpoint.latencyEwmaMs, seen.latencyMs);
    }
    this.changed();
  }

  private ewma(previous: number, sample: number): number {
    return Number.isNaN(previous) ? sample : previous + this.alpha * (sample - previous);
  }
}

/** A fixed list of endpoints, e.g. from config or `${POOL_ENDPOINTS}`. */
export class StaticDiscovery implements DiscoverySource {
  private readonly specs: readonly EndpointSpec[];

  constructor(specs: readonly EndpointSpec[]) {
    this.specs = specs;
  }

  start(sink: DiscoverySink): void {
    for (const spec of this.specs) sink.upsert(spec);
  }

  stop(): void {}
}

/** Endpoint specs from a comma-separated list of base URLs. */
export function parseEndpointList(list: string): EndpointSpec[] {
  return list
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s.length > 0)
    .map((url) => ({ url }));
}
