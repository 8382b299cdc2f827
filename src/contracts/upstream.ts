import type { Dispatcher } from 'undici';
import type { RequestContext } from './request.ts';
import type { Translator } from './translator.ts';

// An upstream provider as the data plane sees it after compilation: a translator for its wire schema,
// a way to build paths and headers, and one or more endpoints with their connection pools.

export interface UpstreamTimeouts {
  readonly connectMs: number;
  readonly firstByteMs: number;
  readonly idleMs: number;
  /** 0 = no total limit. */
  readonly totalMs: number;
}

export interface RetrySettings {
  /** Retries after the first attempt on the same target. */
  readonly attempts: number;
  readonly baseMs: number;
  readonly maxMs: number;
  /** Longest Retry-After honoured; a longer one means: do not retry this target now. */
  readonly retryAfterCapMs: number;
}

/** How an attempt ended, for outlier detection: client errors and aborts say nothing about the endpoint. */
export type AttemptOutcome = 'success' | 'failure' | 'neutral';

export interface Endpoint {
  /** Stable id used in logs and metrics (the origin for single-endpoint providers). */
  readonly id: string;
  readonly origin: string;
  readonly dispatcher: Dispatcher;
}

export interface OutgoingRequest {
  readonly path: string;
  readonly body: string | Buffer;
  readonly headers: Record<string, string>;
}

export interface Provider {
  readonly name: string;
  readonly type: string;
  readonly translator: Translator;
  readonly timeouts: UpstreamTimeouts;
  readonly retry: RetrySettings;
  /** False while prewarming (no endpoint has passed a first health probe yet). */
  readonly ready: boolean;
  /** Full request path for a translator-relative path (base path, deployment path, query string). */
  path(relative: string, model: string): string;
  /** Add auth and configured headers to an outgoing request (a signature may depend on the body). */
  authorize(req: OutgoingRequest): void;
  /**
   * Choose the endpoint for a request. Throws no_healthy_upstream at once (no network) when every
   * endpoint is ejected or unhealthy, so a fallback can be tried without waiting on timeouts.
   */
  endpoint(ctx: RequestContext): Endpoint | Promise<Endpoint>;
  /** Told when an attempt that was given `endpoint` has finished, with how it went. */
  release(endpoint: Endpoint, ctx: RequestContext, outcome: AttemptOutcome): void;
  /** Start background work (health checks, scraping). */
  start(): void;
  close(): Promise<void>;
}
