import type { ServerResponse } from 'node:http';
import type { GatewayError } from '../core/errors.ts';
import type { PolicyPipeline } from '../contracts/policy.ts';
import type { RequestContext } from '../contracts/request.ts';
import type { TranslateInput } from '../contracts/translator.ts';
import type { AttemptSpan } from '../contracts/tracing.ts';
import type { AttemptOutcome, Endpoint, OutgoingRequest } from '../contracts/upstream.ts';
import type { CompiledTarget } from '../config/runtime.ts';
import { ExchangeDeadline } from '../upstream/deadline.ts';
import { propagateTrace, readBody, sendUpstream } from '../upstream/exchange.ts';
import { answerJson, relayStream } from './relay.ts';
import { GatewayError as GatewayErrorClass, toGatewayError } from '../core/errors.ts';

// One attempt: translate for the target, pick its endpoint, exchange, and answer the client (JSON or a
// relayed stream). Throws on failure; whether to try again is the caller's decision.

function inputFor(ctx: RequestContext, target: CompiledTarget): TranslateInput {
  return {
    api: ctx.api,
    body: ctx.body,
    model: target.upstreamModel,
    stream: ctx.stream,
    clientWantsUsage: ctx.clientWantsUsage,
  };
}

/** On pass-through, the client's anthropic-version and anthropic-beta travel on; its key never does. */
function forwardAnthropicHeaders(ctx: RequestContext, headers: Record<string, string>): void {
  for (const name of ['anthropic-version', 'anthropic-beta']) {
    const value = ctx.clientHeaders[name];
    if (typeof value === 'string') headers[name] = value;
  }
}

function outgoing(
  ctx: RequestContext,
  target: CompiledTarget,
  input: TranslateInput,
  head: { requestIdHeader: string; span: AttemptSpan | null },
): OutgoingRequest {
  const provider = target.provider;
  const up = provider.translator.request(input);
  const headers: Record<string, string> = {
    'content-type': 'application/json',
    [head.requestIdHeader]: ctx.id,
  };
  if (ctx.stream) headers.accept = 'text/event-stream';
  if (up.headers !== undefined) Object.assign(headers, up.headers);
  Object.assign(headers, ctx.upstreamHeaders);
  // Set before authorize() so a signature covers it.
  propagateTrace(headers, head.span);
  if (ctx.api === 'messages' && provider.type === 'anthropic') forwardAnthropicHeaders(ctx, headers);
  const req = { path: provider.path(up.path, target.upstreamModel), body: up.body, headers };
  provider.authorize(req);
  return req;
}

/** An upstream error with the upstream's Retry-After headers kept (for retries and for the client). */
function withRetryAfter(err: GatewayError, headers: UpstreamHeaders): GatewayError {
  const after = headers['retry-after'];
  const afterMs = headers['retry-after-ms'];
  if (typeof after !== 'string' && typeof afterMs !== 'string') return err;
  const extra: Record<string, string> = { ...err.headers };
  if (typeof after === 'string') extra['retry-after'] = after;
  if (typeof afterMs === 'string') extra['retry-after-ms'] = afterMs;
  return new GatewayErrorClass(err.code, err.message, {
    status: err.status,
    headers: extra,
    param: err.param,
    ...(err.rawBody !== undefined ? { rawBody: err.rawBody } : {}),
  });
}

type UpstreamHeaders = Record<string, string | string[] | undefined>;

/** How a failed attempt reflects on its endpoint: client errors and aborts say nothing about it. */
const ENDPOINT_FAILURES: ReadonlySet<string> = new Set([
  'upstream_unreachable',
  'upstream_timeout',
  'upstream_error',
  'upstream_stream_error',
]);

export function outcomeOf(err: GatewayError, aborted: boolean): AttemptOutcome {
  if (aborted) return 'neutral';
  if (ENDPOINT_FAILURES.has(err.code)) return 'failure';
  return err.status >= 500 && err.code !== 'no_healthy_upstream' ? 'failure' : 'neutral';
}

/** Streamed bodies: server-sent events, or AWS's binary event stream (Bedrock ConverseStream). */
function isStreamType(type: string): boolean {
  return type.startsWith('text/event-stream') || type.startsWith('application/vnd.amazon.eventstream');
}

export async function attempt(
  ctx: RequestContext,
  res: ServerResponse,
  target: CompiledTarget,
  options: { pipeline: PolicyPipeline; requestIdHeader: string },
): Promise<void> {
  const provider = target.provider;
  ctx.target = target.label;
  ctx.provider = provider.name;
  ctx.upstreamModel = target.upstreamModel;
  if (!provider.translator.apis.has(ctx.api)) {
    throw new GatewayErrorClass('invalid_request', `The model '${ctx.model}' does not serve this API.`);
  }
  const input = inputFor(ctx, target);
  const span = ctx.trace?.startAttempt(target) ?? null;
  let req: OutgoingRequest;
  let endpoint: Endpoint;
  try {
    req = outgoing(ctx, target, input, { requestIdHeader: options.requestIdHeader, span });
    const pickAt = span === null ? 0 : performance.now();
    endpoint = await provider.endpoint(ctx);
    span?.picked(endpoint, pickAt, req.path);
  } catch (err) {
    span?.end(err);
    throw err;
  }
  ctx.endpoint = endpoint.id;
  ctx.attempts++;
  if (ctx.debug && ctx.explain !== null)
    ctx.responseHeaders['x-switchyard-explain'] = JSON.stringify(ctx.explain);
  ctx.responseHeaders['x-switchyard-target'] = target.label;
  ctx.responseHeaders['x-switchyard-attempts'] = String(ctx.attempts);
  const sentAt = performance.now();
  const deadline = new ExchangeDeadline(ctx.signal, provider.timeouts);
  let outcome: AttemptOutcome = 'success';
  try {
    const upstream = await sendUpstream(endpoint, req, deadline, provider.timeouts.firstByteMs);
    span?.responded(upstream.statusCode);
    if (upstream.statusCode >= 400) {
      const err = provider.translator.error(upstream.statusCode, await readBody(upstream, deadline), input);
      throw withRetryAfter(err, upstream.headers);
    }
    const type = upstream.headers['content-type'];
    if (ctx.stream && typeof type === 'string' && isStreamType(type)) {
      for (const policy of options.pipeline.onResponseStart) policy.onResponseStart!(ctx);
      await relayStream(ctx, res, upstream, { st: provider.translator.stream(input), deadline });
    } else {
      const out = provider.translator.response(await readBody(upstream, deadline), input);
      answerJson(
        ctx,
        res,
        { status: upstream.statusCode, body: out.body, usage: out.usage },
        options.pipeline,
      );
    }
    span?.end();
  } catch (thrown) {
    outcome = outcomeOf(toGatewayError(thrown), ctx.signal.aborted);
    span?.end(thrown);
    throw thrown;
  } finally {
    deadline.clear();
    ctx.upstreamMs += performance.now() - sentAt;
    provider.release(endpoint, ctx, outcome);
  }
}
