import type { Dispatcher } from 'undici';
import { GatewayError } from '../core/errors.ts';
import type { AttemptSpan } from '../contracts/tracing.ts';
import type { Endpoint, OutgoingRequest } from '../contracts/upstream.ts';
import type { ExchangeDeadline } from './deadline.ts';

// One HTTP exchange with an upstream endpoint through its undici pool. Time to first byte is undici's
// headersTimeout, the idle gap between body chunks its bodyTimeout; the total limit and client aborts
// arrive through `signal`. Failures become GatewayErrors: unreachable → 502, timeouts → 504.

export type UpstreamResponse = Dispatcher.ResponseData;

const UNREACHABLE = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EPIPE',
  'UND_ERR_SOCKET',
  'UND_ERR_CLOSED',
]);

/** Map anything thrown by undici (or an abort) to a GatewayError. */
export function upstreamFailure(err: unknown, signal: AbortSignal): GatewayError {
  if (signal.aborted && signal.reason instanceof GatewayError) return signal.reason;
  if (err instanceof GatewayError) return err;
  const code = (err as { code?: unknown }).code;
  switch (code) {
    case 'UND_ERR_CONNECT_TIMEOUT':
      return new GatewayError('upstream_timeout', 'Timed out connecting to the upstream provider.', {
        cause: err,
      });
    case 'UND_ERR_HEADERS_TIMEOUT':
      return new GatewayError(
        'upstream_timeout',
        'The upstream provider did not answer in time (first byte timeout).',
        { cause: err },
      );
    case 'UND_ERR_BODY_TIMEOUT':
      return new GatewayError(
        'upstream_timeout',
        'The upstream provider stopped sending data (idle timeout).',
        { cause: err },
      );
    default:
      break;
  }
  if (typeof code === 'string' && UNREACHABLE.has(code)) {
    return new GatewayError('upstream_unreachable', 'The upstream provider could not be reached.', {
      cause: err,
    });
  }
  const cause = (err as { cause?: { code?: unknown } }).cause;
  if (typeof cause?.code === 'string' && UNREACHABLE.has(cause.code)) {
    return new GatewayError('upstream_unreachable', 'The upstream provider could not be reached.', {
      cause: err,
    });
  }
  return new GatewayError('upstream_error', 'The exchange with the upstream provider failed.', {
    cause: err,
  });
}

/** The attempt span (if any) is the upstream request's parent: its trace context goes on the headers. */
export function propagateTrace(headers: Record<string, string>, span: AttemptSpan | null): void {
  if (span === null) return;
  headers.traceparent = span.traceparent;
  if (span.tracestate !== null) headers.tracestate = span.tracestate;
}

export async function sendUpstream(
  endpoint: Endpoint,
  req: OutgoingRequest,
  deadline: ExchangeDeadline,
  firstByteMs: number,
): Promise<UpstreamResponse> {
  const signal = deadline.signal;
  try {
    const res = await endpoint.dispatcher.request({
      origin: endpoint.origin,
      method: 'POST',
      path: req.path,
      headers: req.headers,
      body: req.body,
      signal,
      // Backstops only: undici's timers tick about once a second. ExchangeDeadline keeps the real clocks.
      headersTimeout: firstByteMs > 0 ? firstByteMs + 2000 : 0,
      bodyTimeout: 0,
    });
    deadline.headers();
    return res;
  } catch (err) {
    throw upstreamFailure(err, signal);
  }
}

/** Read a whole (error or JSON) response body, bounded so a runaway upstream cannot exhaust memory. */
export function readBody(
  res: UpstreamResponse,
  deadline: ExchangeDeadline,
  limit = 64 * 1024 * 1024,
): Promise<Buffer> {
  const body = res.body;
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const cleanup = (): void => {
      body.off('data', onData);
      body.off('end', onEnd);
      body.off('error', onError);
      body.on('error', ignore); // a late abort must not become an uncaught exception
    };
    const onData = (chunk: Buffer): void => {
      deadline.chunk();
      size += chunk.length;
      if (size > limit) {
        cleanup();
        body.destroy();
        reject(new GatewayError('upstream_error', 'The upstream response was too large.'));
        return;
      }
      chunks.push(chunk);
    };
    const onEnd = (): void => {
      cleanup();
      resolve(chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, size));
    };
    const onError = (err: Error): void => {
      cleanup();
      reject(upstreamFailure(err, deadline.signal));
    };
    body.on('data', onData);
    body.on('end', onEnd);
    body.on('error', onError);
  });
}

function ignore(): void {}
