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
  /** Full request path for a translator-relative path (base path, deployment path, query string). */
  path(relative: string, model: string): string;
  /** Add auth and configured headers to an outgoing request (a signature may depend on the body). */
  authorize(req: OutgoingRequest): void;
  /** Choose the endpoint for a request. */
  endpoint(ctx: RequestContext): Endpoint | Promise<Endpoint>;
  /** Told when a request that was given `endpoint` has finished, whatever its outcome. */
  release(endpoint: Endpoint, ctx: RequestContext): void;
  close(): Promise<void>;
}
