import type { ServerResponse } from 'node:http';
import { GatewayError } from '../core/errors.ts';
import type { PolicyPipeline } from '../contracts/policy.ts';
import type { RequestContext } from '../contracts/request.ts';
import type { Usage } from '../core/usage.ts';
import type { StreamTranslator } from '../contracts/translator.ts';
import type { ExchangeDeadline } from '../upstream/deadline.ts';
import { upstreamFailure, type UpstreamResponse } from '../upstream/exchange.ts';

// Relaying an upstream stream to the client: frame by frame through the translator, with back-pressure
// both ways. An error before any byte is thrown (so the caller may fail over); after the first byte, a
// failure ends the stream with one error event and no [DONE].

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

interface PumpHooks {
  /** Upstream bytes → client bytes (or null). */
  readonly transform: (chunk: Buffer) => string | Buffer | null;
  /** The client drained and the upstream resumes. */
  readonly onResume: () => void;
  /** Checked after each chunk: true ends the relay at once. */
  readonly stop: () => boolean;
}

function pump(upstream: UpstreamResponse, res: ServerResponse, hooks: PumpHooks): Promise<void> {
  const { transform, onResume, stop } = hooks;
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
      if (stop()) {
        if (out !== null) res.write(out);
        cleanup();
        body.destroy();
        resolve();
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

export function writeHead(
  ctx: RequestContext,
  res: ServerResponse,
  status: number,
  headers: Record<string, string>,
): void {
  ctx.ttftMs = performance.now() - ctx.startedAt;
  ctx.status = status;
  // One flat list (`headers` winning over the context's): nothing was set on `res` before, so Node writes
  // the list as given instead of storing each header first.
  const own = ctx.responseHeaders;
  const raw: string[] = [];
  for (const name in own) if (!(name in headers)) raw.push(name, own[name]!);
  for (const name in headers) raw.push(name, headers[name]!);
  res.writeHead(status, raw);
}

/** Sends the SSE head unless the response has started: from then on an error is a stream event. */
function startStream(ctx: RequestContext, res: ServerResponse): void {
  if (res.headersSent) return;
  ctx.eventStream = true;
  writeHead(ctx, res, 200, SSE_HEADERS);
}

/**
 * A whole (not streamed) answer: its usage onto the context, then the response-start policies (usage is
 * known, so they may add headers that depend on it: cost), then status, headers and body in one write.
 */
export function answerJson(
  ctx: RequestContext,
  res: ServerResponse,
  answer: { readonly status: number; readonly body: string | Buffer; readonly usage: Usage | null },
  pipeline: PolicyPipeline,
): void {
  if (answer.usage !== null) {
    ctx.usage = answer.usage;
    ctx.usageSource = 'upstream';
  }
  for (const policy of pipeline.onResponseStart) policy.onResponseStart!(ctx);
  const length = typeof answer.body === 'string' ? Buffer.byteLength(answer.body) : answer.body.length;
  writeHead(ctx, res, answer.status, {
    'content-type': 'application/json',
    'content-length': String(length),
  });
  res.end(answer.body);
  ctx.capture?.body(answer.body);
}

export async function relayStream(
  ctx: RequestContext,
  res: ServerResponse,
  upstream: UpstreamResponse,
  { st, deadline }: { st: StreamTranslator; deadline: ExchangeDeadline },
): Promise<void> {
  let lastOut: string | Buffer | null = null;
  const capture = ctx.capture; // payload logging (null unless the route has log_payloads)
  // Set once the stream's last event has gone out: the client's response is ended then, in the same
  // write as that event, rather than on the upstream's end (a later read, and one more write).
  let finished = false;
  try {
    await pump(upstream, res, {
      transform: (chunk) => {
        deadline.chunk();
        if (finished) return null; // nothing follows the last event
        const out = st.push(chunk);
        if (out !== null) lastOut = out;
        if (st.error !== null && !res.headersSent) throw st.error; // an error before any byte: a plain error response
        if (out !== null) startStream(ctx, res);
        if (st.complete === true && st.error === null) {
          finished = true;
          finish(ctx, res, st, out);
          return null;
        }
        // The capture reads the chunk in a microtask: after pump has written it to the client.
        if (out !== null && capture !== null) queueMicrotask(() => capture.chunk(out));
        return out;
      },
      onResume: () => deadline.chunk(), // a slow reader is not an idle upstream
      stop: () => st.error !== null, // an error event ends the client's stream at once
    });
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
  if (finished) return;
  writeTail(ctx, res, st);
  if (st.error !== null) {
    // End without a fake [DONE]. Pass-through translators forward the upstream's own error event; for
    // those that only report it, the client gets one error event in its surface's shape from the caller.
    if (!res.headersSent) throw st.error;
    ctx.errorCode = st.error.code;
    ctx.outcome = 'error';
    if ((lastOut as string | Buffer | null)?.includes('error') === true) {
      res.end();
      return;
    }
    throw st.error;
  }
  if (!st.done)
    throw new GatewayError(
      'upstream_stream_error',
      'The upstream stream ended before the response was complete.',
    );
  endStream(ctx, res);
}

/** What the translator still holds at the end of the stream, if anything, and the usage it saw. */
function writeTail(ctx: RequestContext, res: ServerResponse, st: StreamTranslator): void {
  const tail = st.end();
  takeUsage(ctx, st);
  if (tail === null) return;
  startStream(ctx, res);
  res.write(tail);
  ctx.capture?.chunk(tail);
}

function endStream(ctx: RequestContext, res: ServerResponse): void {
  startStream(ctx, res);
  res.end();
}

/** The stream is complete: its last bytes, anything the translator still holds, and the end, in one go. */
function finish(
  ctx: RequestContext,
  res: ServerResponse,
  st: StreamTranslator,
  out: string | Buffer | null,
): void {
  if (out !== null) {
    res.write(out);
    ctx.capture?.chunk(out);
  }
  writeTail(ctx, res, st);
  endStream(ctx, res);
}

function takeUsage(ctx: RequestContext, st: StreamTranslator): void {
  if (st.usage !== null) {
    ctx.usage = st.usage;
    ctx.usageSource = 'upstream';
  }
}
