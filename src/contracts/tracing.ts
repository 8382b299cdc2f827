import type { RequestContext } from './request.ts';
import type { Endpoint } from './upstream.ts';

// Request tracing as the data plane sees it. A Tracing is built once per gateway process; each request
// gets its own RequestSpan handle (or null when tracing is off, so the hot path pays one null check),
// and each upstream attempt its own AttemptSpan. Handles hold the per-request state; the Tracing holds
// none. Times are performance.now() values, like RequestContext.startedAt.

/** Policy stages recorded as child spans of the request span. */
export type TraceStage = 'on_request' | 'on_response_start' | 'on_end' | 'on_error';

/** What an attempt span needs from a compiled target (CompiledTarget satisfies it). */
export interface AttemptTarget {
  readonly label: string;
  readonly upstreamModel: string;
  readonly provider: { readonly name: string; readonly type: string };
}

/** Details an attempt may know about the upstream's answer; all optional. */
export interface AttemptResult {
  /** The model the upstream says answered (its response's `model`), when a translator reports it. */
  readonly responseModel?: string;
  readonly finishReasons?: readonly string[];
}

export interface AttemptSpan {
  /** W3C traceparent for the upstream request: the attempt span is the upstream's parent. */
  readonly traceparent: string;
  /** W3C tracestate to forward with it, or null when the client sent none. */
  readonly tracestate: string | null;
  /**
   * The endpoint was chosen (the pick began at `startedAt`; it is recorded as a child span) and the request
   * for `path` (relative to the endpoint's origin; the query string is dropped) is about to be sent.
   */
  picked(endpoint: Endpoint, startedAt: number, path: string): void;
  /** The upstream's response status line arrived. */
  responded(status: number, result?: AttemptResult): void;
  /** The attempt is over; `error` is what it threw, if it failed. Call exactly once. */
  end(error?: unknown): void;
}

export interface RequestSpan {
  /** A policy stage ran from `startedAt` until now (ended by `error` if it threw). */
  stage(stage: TraceStage, startedAt: number, error?: unknown): void;
  /** A client span for one upstream attempt, child of the request span. */
  startAttempt(target: AttemptTarget): AttemptSpan;
  /** The request is over: reads the final state of its context (status, usage, route…). Call once. */
  end(): void;
}

export interface Tracing {
  readonly enabled: boolean;
  /** The server span for a request: continues the client's traceparent. Null when tracing is off. */
  startRequest(ctx: RequestContext): RequestSpan | null;
  /** Export what is buffered, then stop. Further requests get no span. */
  shutdown(): Promise<void>;
}
