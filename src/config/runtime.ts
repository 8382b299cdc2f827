import type { Policy, PolicyPipeline } from '../contracts/policy.ts';
import type { PriorityClass } from '../contracts/request.ts';
import type { Provider } from '../contracts/upstream.ts';
import type { Predicate } from '../routing/match.ts';
import type { OriginPools } from '../upstream/pools.ts';
import { PoolProvider } from '../upstream/pool-provider.ts';
import type { EmbeddingBatcher } from '../upstream/embedding-batcher.ts';
import type { PayloadLog } from '../telemetry/payload-log.ts';
import type { Config } from './schema.ts';

// The frozen result of compiling a config: what the data plane reads on every request. A Runtime is
// reference-counted by the requests using it, so a reload can swap in a new one while in-flight requests
// finish on the old one; the old one's connection pools close when its last request ends.

export interface CompiledTarget {
  /** Arm label: shown in x-switchyard-target, logs and metrics. */
  readonly label: string;
  readonly provider: Provider;
  readonly upstreamModel: string;
  readonly weight: number;
}

export interface CompiledModel {
  readonly name: string;
  readonly targets: readonly CompiledTarget[];
  /** Ordered alternatives after a retryable failure of the chosen target. */
  readonly fallbacks: readonly CompiledTarget[];
  /** Ordered alternatives when the prompt does not fit the context window. */
  readonly contextFallbacks: readonly CompiledTarget[];
  /** Ordered alternatives when the provider refuses the content. */
  readonly contentFallbacks: readonly CompiledTarget[];
  /** Cumulative weights, for a weighted pick with one random number and a short scan. */
  readonly cumulative: readonly number[];
  readonly totalWeight: number;
  readonly byLabel: ReadonlyMap<string, CompiledTarget>;
}

export interface CompiledRoute {
  readonly name: string;
  readonly test: Predicate;
  /** Public model the rule sends requests to; undefined keeps the requested model. */
  readonly model: string | undefined;
  readonly priority: PriorityClass | undefined;
  readonly batcher: EmbeddingBatcher | null;
  readonly pipeline: PolicyPipeline;
  /** Prompt/response logging; null unless the route enables it (and the access log is on). */
  readonly payloadLog: PayloadLog | null;
}

export interface RuntimeParts {
  readonly config: Config;
  readonly models: ReadonlyMap<string, CompiledModel>;
  readonly routes: readonly CompiledRoute[];
  readonly defaultPipeline: PolicyPipeline;
  readonly providers: readonly Provider[];
  readonly pools: OriginPools;
  readonly modelList: Buffer;
  readonly policies: readonly Policy[];
}

export class Runtime {
  readonly config: Config;
  readonly models: ReadonlyMap<string, CompiledModel>;
  readonly routes: readonly CompiledRoute[];
  readonly defaultPipeline: PolicyPipeline;
  /** The GET /v1/models body, serialised once. */
  readonly modelList: Buffer;
  readonly generation: number;
  /** Every policy instance of this Runtime (global and per route), e.g. for scrape-time metrics. */
  readonly policies: readonly Policy[];
  private readonly providers: readonly Provider[];
  private readonly pools: OriginPools;
  private users = 0;
  private retired = false;
  private closing: Promise<void> | null = null;

  constructor(parts: RuntimeParts, generation: number) {
    this.config = parts.config;
    this.models = parts.models;
    this.routes = parts.routes;
    this.defaultPipeline = parts.defaultPipeline;
    this.modelList = parts.modelList;
    this.providers = parts.providers;
    this.pools = parts.pools;
    this.generation = generation;
    this.policies = parts.policies;
    Object.freeze(this.routes);
  }

  acquire(): this {
    this.users++;
    return this;
  }

  release(): void {
    this.users--;
    if (this.retired && this.users === 0) void this.close();
  }

  /** The pool providers, for queue and endpoint metrics. */
  get poolProviders(): PoolProvider[] {
    return this.providers.filter((p): p is PoolProvider => p instanceof PoolProvider);
  }

  /** Start providers' background work (health checks, scraping). */
  start(): void {
    for (const p of this.providers) p.start();
  }

  /** Every provider is ready (prewarming done). */
  get ready(): boolean {
    return this.providers.every((p) => p.ready);
  }

  get inFlight(): number {
    return this.users;
  }

  /** No new requests will use this Runtime; close it once the in-flight ones are done. */
  retire(): void {
    this.retired = true;
    if (this.users === 0) void this.close();
  }

  close(): Promise<void> {
    this.closing ??= (async () => {
      await Promise.allSettled(this.providers.map((p) => p.close()));
      await this.pools.close();
    })();
    return this.closing;
  }

  /** Abort whatever is still in flight (a drain that ran out of time). */
  async destroy(): Promise<void> {
    await this.pools.destroy();
    await this.close();
  }
}
