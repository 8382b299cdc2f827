import type { z } from 'zod';
import type { Outcome, PriorityClass } from './request.ts';

// Contracts of the endpoint picker for self-hosted pools (../shared/STYLE.md rules 2–4). A profile is
// filters → weighted scorers → one picker. Plugins are built once per Runtime from a registry by type
// id and keep no per-request state: what one request needs travels in its SchedulingRequest, and what
// an endpoint looks like right now is its EndpointState, updated in place by the scraper and by the
// gateway's own accounting. Implementations live in src/scheduling.

/** Model-server engines whose /metrics the scraper understands. */
export type EngineKind = 'vllm' | 'sglang' | 'tgi' | 'trtllm' | 'nim';

export type EndpointHealth = 'unknown' | 'healthy' | 'unhealthy';

/** What one scrape of an engine's /metrics says, normalised across engines. */
export interface Telemetry {
  /** Requests queued in the engine, not yet running. */
  waiting: number;
  /** Requests in the engine's running batch. */
  running: number;
  /** Fraction of KV-cache blocks held by requests, 0..1. */
  kvUsage: number;
  /** KV-cache size in blocks (0 when the engine does not say). */
  kvBlocks: number;
  /** Tokens per KV-cache block (0 when the engine does not say). */
  blockSize: number;
  /** LoRA adapters loaded and running. */
  runningLoras: readonly string[];
  /** LoRA adapters with requests waiting to be loaded. */
  waitingLoras: readonly string[];
  /** Adapters the engine can hold at once (0 when unknown or LoRA is off). */
  maxLoras: number;
  /**
   * GPU busy fraction 0..1 (mean over the GPUs on the page), NaN when the page does not report one.
   * Read from the engine's own gauge where it has one, else from DCGM exporter samples on the page.
   */
  gpuUtilization: number;
}

/**
 * One pool endpoint as the picker sees it. The scraper writes the telemetry fields in place; the
 * gateway's accounting hooks write the in-flight fields. Plugins read it through `EndpointView`.
 */
export interface EndpointState extends Telemetry {
  /** Stable id used in logs, metrics and explanations (the origin unless configured). */
  readonly id: string;
  /** Base origin of the model server, e.g. http://10.0.0.7:8000. */
  readonly origin: string;
  readonly engine: EngineKind;
  /** Small dense index, unique among the pool's current endpoints; reused after an endpoint leaves. */
  readonly slot: number;
  /** Where its metrics are scraped (origin + path; Triton serves them on another port). */
  readonly metricsUrl: string;
  /** performance.now() of the last successful scrape; 0 = never. */
  scrapedAt: number;
  /** Telemetry is older than the pool's stale-after age (or was never read). Stale = saturated. */
  stale: boolean;
  health: EndpointHealth;
  /** Ejected by outlier detection (too many failed requests); out of rotation until the ejection ends. */
  ejected: boolean;
  consecutiveFailures: number;
  /** Requests the gateway has sent and not yet finished. */
  inFlight: number;
  /** Estimated tokens (prompt + expected output) of those requests. */
  inFlightTokens: number;
  /** Requests sent since the last successful scrape: load the engine's figures cannot show yet. */
  dispatchedSinceScrape: number;
  /** EWMA of time to first token (ms) seen by the gateway; NaN until the first observation. */
  ttftEwmaMs: number;
  /** EWMA of end-to-end latency (ms); NaN until the first observation. */
  latencyEwmaMs: number;
}

export type EndpointView = Readonly<EndpointState>;

/** How an endpoint is declared or discovered. */
export interface EndpointSpec {
  readonly id?: string;
  /** Base URL of the model server; only its origin is used. */
  readonly url: string;
  readonly engine?: EngineKind;
  /** Full URL of its Prometheus page, when not `<origin><pool metrics path>`. */
  readonly metricsUrl?: string;
}

/** Receives endpoints as a discovery source finds them. EndpointSet implements it. */
export interface DiscoverySink {
  upsert(spec: EndpointSpec): void;
  remove(id: string): void;
}

/** A source of endpoints: a static list now, a Kubernetes InferencePool watcher later. */
export interface DiscoverySource {
  start(sink: DiscoverySink): void | Promise<void>;
  stop(): void | Promise<void>;
}

/** Per-request input to the picker, built once per request (hashes included) before any plugin runs. */
export interface SchedulingRequest {
  readonly id: string;
  /** Model name the upstream knows. */
  readonly model: string;
  /** LoRA adapter the request needs (its model name when it names an adapter), or null. */
  readonly adapter: string | null;
  /** Estimated prompt tokens. */
  readonly promptTokens: number;
  /** Estimated tokens the request will hold: prompt plus expected output. */
  readonly tokenCost: number;
  /** Chained hashes of the prompt's fixed-size character blocks, first block first. */
  readonly prefixHashes: readonly number[];
  /** Characters per prefix block (for sizing indexes from the engine's cache size). */
  readonly prefixBlockChars: number;
  /** Conversation key (from a header, cookie or the body's `user`), or null. */
  readonly sessionKey: string | null;
  readonly priority: PriorityClass;
  /** Fairness key within a priority class. */
  readonly tenant: string;
}

interface PluginBase {
  /** Kebab-case type id (the registry key). */
  readonly type: string;
  /** Instance name from config (defaults to the type), shown in explanations. */
  readonly name: string;
}

export interface Filter extends PluginBase {
  /** Append the endpoints of `input` that pass to `out` (which arrives empty). Must not keep `out`. */
  filter(req: SchedulingRequest, input: readonly EndpointView[], out: EndpointView[]): void;
}

export interface Scorer extends PluginBase {
  /** Write one score in [0,1] per endpoint into out[0..endpoints.length). Higher is better. */
  score(req: SchedulingRequest, endpoints: readonly EndpointView[], out: Float64Array): void;
  /** Told which endpoint a request was sent to (e.g. to remember the prefix it now caches). */
  onPicked?(req: SchedulingRequest, endpoint: EndpointView): void;
}

export interface Picker extends PluginBase {
  /** Index into `candidates` (non-empty) of the endpoint to use; `totals` holds weighted sums. */
  pick(req: SchedulingRequest, candidates: readonly EndpointView[], totals: Float64Array): number;
}

export interface WeightedScorer {
  readonly scorer: Scorer;
  readonly weight: number;
}

/**
 * The last scores a profile gave each endpoint, for metrics. Every pick writes them into preallocated
 * arrays indexed by endpoint slot (no allocation); a metrics scrape reads them.
 */
export interface LastScores {
  /** Scorer names, in profile order. */
  readonly scorers: readonly string[];
  /**
   * Clamped score [0,1] scorer `s` gave `endpoint` the last time it was a candidate, or NaN when it never
   * was (or the scorer was skipped: weight 0 and no explanation asked for).
   */
  score(endpoint: EndpointView, s: number): number;
  /** Weighted total (Σ score × weight) of that pick, or NaN. */
  total(endpoint: EndpointView): number;
}

/** Filters → weighted scorers → one picker. */
export interface Profile {
  readonly name: string;
  readonly filters: readonly Filter[];
  readonly scorers: readonly WeightedScorer[];
  readonly picker: Picker;
  readonly lastScores: LastScores;
  /**
   * Choose an endpoint, or null when the filters leave none. Synchronous: scratch space is reused
   * between calls. Fills `explain` when given (debug header or access log).
   */
  pick(
    req: SchedulingRequest,
    endpoints: readonly EndpointView[],
    explain: CycleState | null,
  ): EndpointView | null;
}

export interface CandidateScores {
  readonly endpoint: string;
  /** Per scorer name: its clamped score in [0,1] (before weighting). */
  readonly scores: Record<string, number>;
  /** Sum of score × weight. */
  readonly total: number;
}

/** The per-request record of one pick: why the request went where it went. JSON-serialisable. */
export type CycleState = {
  profile: string;
  /** Candidates left after each filter, in order. */
  filters: { name: string; kept: number }[];
  weights: Record<string, number>;
  candidates: CandidateScores[];
  chosen: string | null;
  reason: string;
};

export type PluginKind = 'filter' | 'scorer' | 'picker';

export interface PluginByKind {
  filter: Filter;
  scorer: Scorer;
  picker: Picker;
}

export interface PluginFactory<K extends PluginKind = PluginKind, P = unknown> {
  /** Kebab-case type id used in config. */
  readonly type: string;
  readonly kind: K;
  readonly description: string;
  /** Parameter schema (snake_case keys); problems are reported with their path. */
  readonly params: z.ZodType<P>;
  create(name: string, params: P): PluginByKind[K];
}

/** Config of one plugin in a profile. */
export interface PluginConfig {
  readonly type: string;
  readonly name?: string;
  readonly params?: unknown;
}

export interface ScorerConfig extends PluginConfig {
  readonly weight?: number;
}

export interface ProfileConfig {
  readonly name?: string;
  readonly filters?: readonly PluginConfig[];
  readonly scorers?: readonly ScorerConfig[];
  readonly picker: PluginConfig;
}

/** What the gateway observed about a finished request, for the accounting hooks. */
export interface EndObservation {
  readonly outcome: Outcome;
  /** ms from sending to the first response byte, or null when none came. */
  readonly ttftMs: number | null;
  /** ms from sending to the end. */
  readonly latencyMs: number;
}
