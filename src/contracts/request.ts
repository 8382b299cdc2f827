import type { IncomingHttpHeaders } from 'node:http';
import type { ErrorCode } from '../core/errors.ts';
import type { Usage } from '../core/usage.ts';
import type { GovernanceState } from './governance.ts';
import type { RequestSpan } from './tracing.ts';

// The per-request state object. The server creates one per request with every field initialised (one
// stable shape); routing, policies, providers and telemetry read and fill it. Plugins keep no
// per-request state of their own: everything a request needs travels here.

export type ApiKind = 'chat' | 'completions' | 'embeddings' | 'responses' | 'messages';

export type JsonObject = Record<string, unknown>;

export type Outcome = 'ok' | 'error' | 'aborted' | 'cut';

/** Priority classes, most urgent first. Sheddable traffic is rejected first under saturation. */
export type PriorityClass = 'critical' | 'standard' | 'sheddable';

/** Who is calling, as established by an authentication policy. */
export interface Identity {
  /** Key id (not the secret), JWT subject or certificate name: stable, safe to log. */
  readonly id: string;
  readonly kind: 'api-key' | 'jwt' | 'mtls' | 'anonymous';
  readonly tenant: string | null;
  readonly team: string | null;
  readonly user: string | null;
  /** Public models this identity may use; null = all. */
  readonly allowedModels: ReadonlySet<string> | null;
  readonly priority: PriorityClass | null;
  readonly metadata: Readonly<Record<string, string>>;
}

/**
 * Watches what a route with payload logging (`log_payloads`) sends to the client, and gives the access
 * log its prompt and response fields. Null on every other route, so the relay pays one comparison.
 */
export interface PayloadCapture {
  /** Bytes of a streamed response, after they were written to the client. Must not keep or change them. */
  chunk(out: string | Buffer): void;
  /** The whole body of a JSON response, as sent. */
  body(out: string | Buffer): void;
  /** Access-log fields (prompt and/or response), redacted and bounded. Never throws. */
  fields(ctx: RequestContext): JsonObject;
}

export interface RequestContext {
  readonly id: string;
  readonly api: ApiKind;
  /** performance.now() when the request arrived. */
  readonly startedAt: number;
  /** Wall-clock arrival time (ms since epoch), for logs and usage records. */
  readonly receivedAt: number;
  readonly clientHeaders: IncomingHttpHeaders;
  /** Parsed client body. Policies may edit it during onRequest; it is frozen in effect after routing. */
  body: JsonObject;
  readonly stream: boolean;
  /** The client asked for usage on its stream (stream_options.include_usage). */
  readonly clientWantsUsage: boolean;
  /** The model the client asked for. */
  readonly requestedModel: string;
  /** The public model serving the request, after route rules and aliases. */
  model: string;
  /** The route that matched (a rule name, or "default"). */
  route: string;
  /** The chosen arm's label (provider/model unless named). */
  target: string | null;
  provider: string | null;
  upstreamModel: string | null;
  /** The upstream endpoint that answered (origin or pool endpoint id). */
  endpoint: string | null;
  /** Upstream attempts made (1 without retries or fallbacks). */
  attempts: number;
  /** Final status sent to the client (499 when the client went away first). */
  status: number;
  errorCode: ErrorCode | null;
  outcome: Outcome;
  usage: Usage;
  /** Where the token counts came from. */
  usageSource: 'upstream' | 'estimate' | 'none';
  /** ms from arrival to the first response byte sent to the client. */
  ttftMs: number | null;
  /** ms from arrival to the end of the response. */
  durationMs: number;
  /** ms spent waiting on upstreams (headers to last byte), to derive gateway overhead. */
  upstreamMs: number;
  /** Extra headers for the client response (request id, x-switchyard-*, rate-limit headers…). */
  readonly responseHeaders: Record<string, string>;
  /** The response under way is an SSE stream (its headers are sent): a later error is a stream event. */
  eventStream: boolean;
  /** Extra headers for the upstream request, added by policies. */
  readonly upstreamHeaders: Record<string, string>;
  /** Aborted when the client disconnects or the request must stop. */
  readonly signal: AbortSignal;
  /** Set by an authentication policy; null when the route has none. */
  identity: Identity | null;
  /** Scheduling priority (from identity, route or header). */
  priority: PriorityClass;
  /** Money spent on this request in USD, once usage is known (null when no price applies). */
  costUsd: number | null;
  /** What governance policies keep for the request (key record, estimate, holds); null until one runs. */
  governance: GovernanceState | null;
  /** The client asked for the routing explanation (debug header). */
  readonly debug: boolean;
  /** Build the routing explanation (debug, or sampled for the live dashboard); only debug returns it. */
  explainWanted: boolean;
  /** Why the request went where it went (filled when debug is on or the access log asks for it). */
  explain: JsonObject | null;
  /** The request's trace span; null when tracing is off or not yet started. */
  trace: RequestSpan | null;
  /** Set when the route logs payloads; the relay feeds it what the client receives. */
  capture: PayloadCapture | null;
}
