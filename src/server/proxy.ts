import type { ServerResponse } from 'node:http';
import { GatewayError } from '../core/errors.ts';
import type { RequestContext } from '../contracts/request.ts';
import type { StreamTranslator, TranslateInput } from '../contracts/translator.ts';
import type { Endpoint, OutgoingRequest } from '../contracts/upstream.ts';
import type { CompiledTarget, Runtime } from '../config/runtime.ts';
import { pickTarget, route } from '../routing/router.ts';
import { ExchangeDeadline } from '../upstream/deadline.ts';
import { readBody, sendUpstream, upstreamFailure, type UpstreamResponse } from '../upstream/exchange.ts';

// The inference path for one request: route → on-request policies → target → translate → upstream →
// response (JSON, or a stream passed through frame by frame with back-pressure both ways).

const SSE_HEADERS = {
  'content-type': 'text/event-stream; charset=utf-8',
  'cache-control': 'no-cache',
  'x-accel-buffering': 'no',
};

/**
 * Moves an upstream body to the client chunk by chunk through `transform`, pausing the upstream while the
 * client's socket is full (back-pressure both ways). Event-driven rather than `for await`, which costs a
 * promise per chunk on the hottest loop. Settles when the upstream body ends or fails (a client abort
 * aborts the upstream request, which fails its body).
 */
function ignore(): void {}

function pump(
  upstream: UpstreamResponse,
  res: ServerResponse,
  transform: (chunk: Buffer) => string | Buffer | null,
  onResume: () => void,
): Promise<void> {
  const body = upstream.body;
  return new Promise<void>((resolve, reject) => {
    const onDrain = (): void => {
      onResume();
      body.resume();
    };
    const cleanup = (): void => {
      body.off('data', onData);
      body.off('end', onEnd);
      body.off('error', onError);
      body.on('error', ignore); // a late abort of the body must not become an uncaught exception
      res.off('drain', onDrain);
    };
    const onData = (chunk: Buffer): void => {
      let out: string | Buffer | null;
      try {
        out = transform(chunk);
      } catch (err) {
        cleanup();
        body.destroy();
        reject(err instanceof Error ? err : new Error(String(err)));
        return;
      }
      if (out !== null && !res.write(out)) {
        body.pause();
        res.once('drain', onDrain);
      }
    };
    const onEnd = (): void => {
      cleanup();
      resolve();
    };
    const onError = (err: Error): void => {
      cleanup();
      reject(err);
    };
    body.on('data', onData);
    body.once('end', onEnd);
    body.once('error', onError);
  });
}

function inputFor(ctx: RequestContext, target: CompiledTarget): TranslateInput {
  return {
    api: ctx.api,
    body: ctx.body,
    model: target.upstreamModel,
    stream: ctx.stream,
    clientWantsUsage: ctx.clientWantsUsage,
  };
}

function outgoing(
  ctx: RequestContext,
  target: CompiledTarget,
  input: TranslateInput,
  requestIdHeader: string,
): OutgoingRequest {
  const provider = target.provider;
  const up = provider.translator.request(input);
  const headers: Record<string, string> = { 'content-type': 'application/json', [requestIdHeader]: ctx.id };
  if (ctx.stream) headers.accept = 'text/event-stream';
  if (up.headers !== undefined) Object.assign(headers, up.headers);
  Object.assign(headers, ctx.upstreamHeaders);
  const req = { path: provider.path(up.path, target.upstreamModel), body: up.body, headers };
  provider.authorize(req);
  return req;
}

export async function proxy(runtime: Runtime, ctx: RequestContext, res: ServerResponse): Promise<void> {
  const decision = route(runtime, ctx);
  ctx.route = decision.route;
  ctx.model = decision.model.name;
  for (const policy of decision.pipeline.onRequest) await policy.onRequest!(ctx);
  const target = pickTarget(decision.model, ctx);
  const provider = target.provider;
  ctx.target = target.label;
  ctx.provider = provider.name;
  ctx.upstreamModel = target.upstreamModel;
  ctx.responseHeaders['x-switchyard-target'] = target.label;
  if (!provider.translator.apis.has(ctx.api)) {
    throw new GatewayError('invalid_request', `The model '${ctx.model}' does not serve this API.`);
  }
  const input = inputFor(ctx, target);
  const req = outgoing(ctx, target, input, runtime.config.server.request_id_header);
  const endpoint: Endpoint = await provider.endpoint(ctx);
  ctx.endpoint = endpoint.id;
  ctx.attempts++;
  const sentAt = performance.now();
  const deadline = new ExchangeDeadline(ctx.signal, provider.timeouts);
  try {
    const upstream = await sendUpstream(endpoint, req, deadline, provider.timeouts.firstByteMs);
    if (upstream.statusCode >= 400) {
      throw provider.translator.error(upstream.statusCode, await readBody(upstream, deadline), input);
    }
    for (const policy of decision.pipeline.onResponseStart) policy.onResponseStart!(ctx);
    const type = upstream.headers['content-type'];
    if (ctx.stream && typeof type === 'string' && type.startsWith('text/event-stream')) {
      await relayStream(ctx, res, upstream, { st: provider.translator.stream(input), deadline });
    } else {
      const body = await readBody(upstream, deadline);
      const out = provider.translator.response(body, input);
      if (out.usage !== null) {
        ctx.usage = out.usage;
        ctx.usageSource = 'upstream';
      }
      writeHead(ctx, res, upstream.statusCode, {
        'content-type': 'application/json',
        'content-length': String(Buffer.byteLength(out.body)),
      });
      res.end(out.body);
    }
  } finally {
    deadline.clear();
    ctx.upstreamMs += performance.now() - sentAt;
    provider.release(endpoint, ctx);
  }
}

function writeHead(
  ctx: RequestContext,
  res: ServerResponse,
  status: number,
  headers: Record<string, string>,
): void {
  ctx.ttftMs = performance.now() - ctx.startedAt;
  ctx.status = status;
  res.writeHead(status, { ...ctx.responseHeaders, ...headers });
}

async function relayStream(
  ctx: RequestContext,
  res: ServerResponse,
  upstream: UpstreamResponse,
  { st, deadline }: { st: StreamTranslator; deadline: ExchangeDeadline },
): Promise<void> {
  try {
    await pump(
      upstream,
      res,
      (chunk) => {
        deadline.chunk();
        const out = st.push(chunk);
        if (st.error !== null && !res.headersSent) throw st.error; // an error before any byte: a plain error response
        if (out !== null && !res.headersSent) writeHead(ctx, res, 200, SSE_HEADERS);
        return out;
      },
      () => deadline.chunk(),
    ); // a slow reader is not an idle upstream
  } catch (err) {
    takeUsage(ctx, st);
    const failure = upstreamFailure(err, deadline.signal);
    if (failure.code === 'upstream_unreachable' || failure.code === 'upstream_error') {
      throw new GatewayError(
        'upstream_stream_error',
        'The upstream connection was lost before the response was complete.',
        { cause: err },
      );
    }
    throw failure;
  }
  const tail = st.end();
  takeUsage(ctx, st);
  if (tail !== null) {
    if (!res.headersSent) writeHead(ctx, res, 200, SSE_HEADERS);
    res.write(tail);
  }
  if (st.error !== null) {
    // The upstream's own error event already reached the client; end without a fake [DONE].
    if (!res.headersSent) throw st.error;
    ctx.errorCode = st.error.code;
    ctx.outcome = 'error';
    res.end();
    return;
  }
  if (!st.done)
    throw new GatewayError(
      'upstream_stream_error',
      'The upstream stream ended before the response was complete.',
    );
  if (!res.headersSent) writeHead(ctx, res, 200, SSE_HEADERS);
  res.end();
}

function takeUsage(ctx: RequestContext, st: StreamTranslator): void {
  if (st.usage !== null) {
    ctx.usage = st.usage;
    ctx.usageSource = 'upstream';
  }
}
