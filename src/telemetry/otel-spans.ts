import {
  ROOT_CONTEXT,
  SpanKind,
  SpanStatusCode,
  trace,
  type Attributes,
  type Context,
  type HrTime,
  type Span,
  type SpanContext,
  type SpanOptions,
  type Tracer,
} from '@opentelemetry/api';
import {
  ATTR_ERROR_TYPE,
  ATTR_HTTP_REQUEST_METHOD,
  ATTR_HTTP_RESPONSE_STATUS_CODE,
  ATTR_HTTP_ROUTE,
  ATTR_SERVER_ADDRESS,
  ATTR_SERVER_PORT,
  ATTR_URL_PATH,
} from '@opentelemetry/semantic-conventions';
import { toGatewayError } from '../core/errors.ts';
import type { RequestContext } from '../contracts/request.ts';
import type {
  AttemptResult,
  AttemptSpan,
  AttemptTarget,
  RequestSpan,
  TraceStage,
} from '../contracts/tracing.ts';
import type { Endpoint } from '../contracts/upstream.ts';
import {
  GEN_AI,
  operationOf,
  providerNameOf,
  requestParameters,
  ROUTES,
  SWITCHYARD,
} from './genai-attributes.ts';
import { formatTraceparent, formatTracestate } from './traceparent.ts';

// The per-request span handles. All state lives on the handle (one per request, one per attempt); the
// tracer they share is stateless. An unsampled request still propagates its traceparent (flags 00, so
// upstreams do not sample either) but records nothing and builds no attributes.

const STAGE_NAMES: Readonly<Record<TraceStage, string>> = {
  on_request: 'switchyard.on_request',
  on_response_start: 'switchyard.on_response_start',
  on_end: 'switchyard.on_end',
  on_error: 'switchyard.on_error',
};

/**
 * A performance.now() value as an epoch HrTime. Every span of a request converts with the same offset
 * (taken once when the request span starts), so children never appear to start before their parent; the
 * SDK's own conversion takes a new millisecond-truncated offset per span.
 */
export function hrTimeOf(perfMs: number, offsetMs: number): HrTime {
  const ms = perfMs + offsetMs;
  const seconds = Math.floor(ms / 1000);
  const nanos = Math.min(999_999_999, Math.round((ms - seconds * 1000) * 1e6));
  return [seconds, nanos];
}

/** Mark a span failed with the gateway's error code (never an internal error's detail). */
function fail(span: Span, error: unknown, at: HrTime): void {
  const err = toGatewayError(error);
  span.setAttribute(ATTR_ERROR_TYPE, err.code);
  span.recordException({ name: err.code, message: err.message }, at);
  span.setStatus({ code: SpanStatusCode.ERROR, message: err.message });
}

function usageAttributes(ctx: RequestContext, into: Attributes): void {
  if (ctx.usageSource === 'none') return;
  const u = ctx.usage;
  into[GEN_AI.inputTokens] = u.inputTokens;
  into[GEN_AI.outputTokens] = u.outputTokens;
  if (u.cachedInputTokens > 0) into[GEN_AI.cacheReadTokens] = u.cachedInputTokens;
  if (u.cacheWriteTokens > 0) into[GEN_AI.cacheWriteTokens] = u.cacheWriteTokens;
  if (u.reasoningTokens > 0) into[GEN_AI.reasoningTokens] = u.reasoningTokens;
}

/** The attempt of an unsampled request: propagation only. */
class UnsampledAttempt implements AttemptSpan {
  readonly traceparent: string;
  readonly tracestate: string | null;
  constructor(context: SpanContext) {
    this.traceparent = formatTraceparent(context);
    this.tracestate = formatTracestate(context);
  }
  picked(): void {}
  responded(): void {}
  end(): void {}
}

export class OtelRequestSpan implements RequestSpan {
  private readonly tracer: Tracer;
  private readonly span: Span;
  readonly ctx: RequestContext;
  private readonly recording: boolean;
  /** Wall clock minus performance clock, in ms, for this request's timestamps. */
  private readonly offsetMs: number;
  private context: Context | null = null;
  private attempts = 0;
  private unsampled: UnsampledAttempt | null = null;
  /** Filled by attempts: the last one wins. */
  providerName: string | null = null;
  responseModel: string | null = null;
  finishReasons: readonly string[] | null = null;

  constructor(tracer: Tracer, span: Span, ctx: RequestContext, offsetMs: number) {
    this.tracer = tracer;
    this.span = span;
    this.ctx = ctx;
    this.offsetMs = offsetMs;
    this.recording = span.isRecording();
    if (!this.recording) return;
    span.setAttributes({
      [GEN_AI.operation]: operationOf(ctx.api),
      [GEN_AI.requestModel]: ctx.requestedModel,
      [GEN_AI.stream]: ctx.stream,
      [ATTR_HTTP_REQUEST_METHOD]: 'POST',
      [ATTR_HTTP_ROUTE]: ROUTES[ctx.api],
      [SWITCHYARD.requestId]: ctx.id,
    });
  }

  /** The context that makes this span the parent of a child span. */
  parent(): Context {
    return (this.context ??= trace.setSpan(ROOT_CONTEXT, this.span));
  }

  /** A performance.now() value (default: now) as this request's span time. */
  time(perfMs: number = performance.now()): HrTime {
    return hrTimeOf(perfMs, this.offsetMs);
  }

  /** A child span of this request span, or of `parent` (one of its children). */
  child(name: string, options: SpanOptions, parent?: Span): Span {
    const context = parent === undefined ? this.parent() : trace.setSpan(ROOT_CONTEXT, parent);
    return this.tracer.startSpan(name, options, context);
  }

  stage(stage: TraceStage, startedAt: number, error?: unknown): void {
    if (!this.recording) return;
    const span = this.child(STAGE_NAMES[stage], {
      kind: SpanKind.INTERNAL,
      startTime: this.time(startedAt),
      attributes: { [SWITCHYARD.stage]: stage },
    });
    const now = this.time();
    if (error !== undefined) fail(span, error, now);
    span.end(now);
  }

  startAttempt(target: AttemptTarget): AttemptSpan {
    if (!this.recording) return (this.unsampled ??= new UnsampledAttempt(this.span.spanContext()));
    const operation = operationOf(this.ctx.api);
    const provider = providerNameOf(target.provider.type);
    this.providerName = provider;
    const span = this.child(`${operation} ${target.upstreamModel}`, {
      kind: SpanKind.CLIENT,
      startTime: this.time(),
      attributes: {
        [GEN_AI.operation]: operation,
        [GEN_AI.provider]: provider,
        [GEN_AI.system]: provider,
        [GEN_AI.requestModel]: target.upstreamModel,
        [ATTR_HTTP_REQUEST_METHOD]: 'POST',
        [SWITCHYARD.target]: target.label,
        [SWITCHYARD.provider]: target.provider.name,
        [SWITCHYARD.attempt]: ++this.attempts,
      },
    });
    return new OtelAttemptSpan(this, span, target.upstreamModel);
  }

  end(): void {
    const { ctx, span } = this;
    const endTime = this.time(ctx.durationMs > 0 ? ctx.startedAt + ctx.durationMs : performance.now());
    if (!this.recording) return span.end(endTime);
    if (ctx.model !== '') span.updateName(`${operationOf(ctx.api)} ${ctx.model}`);
    const a: Attributes = {
      [SWITCHYARD.route]: ctx.route,
      [SWITCHYARD.attempts]: ctx.attempts,
      [SWITCHYARD.outcome]: ctx.outcome,
      [SWITCHYARD.priority]: ctx.priority,
    };
    // The public model after aliases and route rules, as the GenAI metrics label it; the client's own
    // spelling is kept when it differs.
    if (ctx.model !== '') {
      a[GEN_AI.requestModel] = ctx.model;
      if (ctx.requestedModel !== ctx.model) a[SWITCHYARD.requestedModel] = ctx.requestedModel;
    }
    if (ctx.target !== null) a[SWITCHYARD.target] = ctx.target;
    if (ctx.provider !== null) a[SWITCHYARD.provider] = ctx.provider;
    if (ctx.endpoint !== null) a[SWITCHYARD.endpoint] = ctx.endpoint;
    if (this.providerName !== null) a[GEN_AI.provider] = a[GEN_AI.system] = this.providerName;
    // The model the upstream reported, else the one the gateway asked for, when an answer came back.
    const responseModel = this.responseModel ?? (ctx.errorCode === null ? ctx.upstreamModel : null);
    if (responseModel !== null) a[GEN_AI.responseModel] = responseModel;
    if (this.finishReasons !== null) a[GEN_AI.finishReasons] = [...this.finishReasons];
    requestParameters(ctx.body, a);
    usageAttributes(ctx, a);
    if (ctx.stream && ctx.ttftMs !== null) a[GEN_AI.timeToFirstChunk] = ctx.ttftMs / 1000;
    if (ctx.identity !== null) a[SWITCHYARD.identity] = ctx.identity.id;
    if (ctx.identity?.team != null) a[SWITCHYARD.team] = ctx.identity.team;
    if (ctx.costUsd !== null) a[SWITCHYARD.costUsd] = ctx.costUsd;
    if (ctx.status > 0) a[ATTR_HTTP_RESPONSE_STATUS_CODE] = ctx.status;
    if (ctx.errorCode !== null) a[ATTR_ERROR_TYPE] = ctx.errorCode;
    span.setAttributes(a);
    // Server spans: a 4xx is the client's error, not ours (HTTP conventions); a cut stream is ours.
    if (ctx.status >= 500 || ctx.outcome === 'cut') span.setStatus({ code: SpanStatusCode.ERROR });
    span.end(endTime);
  }
}

class OtelAttemptSpan implements AttemptSpan {
  readonly traceparent: string;
  readonly tracestate: string | null;
  private readonly owner: OtelRequestSpan;
  private readonly span: Span;
  private readonly upstreamModel: string;
  private responseModel: string | null = null;

  constructor(owner: OtelRequestSpan, span: Span, upstreamModel: string) {
    this.owner = owner;
    this.span = span;
    this.upstreamModel = upstreamModel;
    const context = span.spanContext();
    this.traceparent = formatTraceparent(context);
    this.tracestate = formatTracestate(context);
  }

  picked(endpoint: Endpoint, startedAt: number, path: string): void {
    const pick = this.owner.child(
      'switchyard.endpoint_pick',
      {
        kind: SpanKind.INTERNAL,
        startTime: this.owner.time(startedAt),
        attributes: { [SWITCHYARD.endpoint]: endpoint.id },
      },
      this.span,
    );
    pick.end(this.owner.time());
    const a: Attributes = { [SWITCHYARD.endpoint]: endpoint.id };
    const q = path.indexOf('?');
    // The path only: a query string may carry a credential (Gemini's ?key=).
    a[ATTR_URL_PATH] = q === -1 ? path : path.slice(0, q);
    const url = URL.parse(endpoint.origin);
    if (url !== null) {
      a[ATTR_SERVER_ADDRESS] = url.hostname;
      a[ATTR_SERVER_PORT] = url.port !== '' ? Number(url.port) : url.protocol === 'https:' ? 443 : 80;
    }
    this.span.setAttributes(a);
  }

  responded(status: number, result?: AttemptResult): void {
    this.span.setAttribute(ATTR_HTTP_RESPONSE_STATUS_CODE, status);
    if (result?.responseModel !== undefined)
      this.responseModel = this.owner.responseModel = result.responseModel;
    if (result?.finishReasons !== undefined) {
      this.owner.finishReasons = result.finishReasons;
      this.span.setAttribute(GEN_AI.finishReasons, [...result.finishReasons]);
    }
  }

  end(error?: unknown): void {
    const { span } = this;
    const now = this.owner.time();
    if (error !== undefined) {
      fail(span, error, now);
    } else {
      const a: Attributes = { [GEN_AI.responseModel]: this.responseModel ?? this.upstreamModel };
      usageAttributes(this.owner.ctx, a);
      span.setAttributes(a);
    }
    span.end(now);
  }
}
