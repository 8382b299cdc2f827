import type { ServerResponse } from 'node:http';
import { anthropicErrorBody, openAIErrorBody, type GatewayError } from '../core/errors.ts';
import { sseFrame } from '../core/sse.ts';

// Writing responses: JSON bodies with their length, errors in the surface's shape, and the terminal
// error event used once a stream has started (never a fake [DONE]).

export type Surface = 'openai' | 'anthropic';

export function sendJson(
  res: ServerResponse,
  status: number,
  body: string | Buffer,
  headers?: Record<string, string>,
): void {
  const length = typeof body === 'string' ? Buffer.byteLength(body) : body.length;
  res.writeHead(status, { ...headers, 'content-type': 'application/json', 'content-length': length });
  res.end(body);
}

export function errorBody(err: GatewayError, surface: Surface): string {
  return surface === 'anthropic' ? anthropicErrorBody(err) : openAIErrorBody(err);
}

/**
 * Report an error to the client: a JSON error before the first byte, one SSE error event after it on a
 * stream, or a cut connection when a JSON body was already under way.
 */
export function sendError(
  res: ServerResponse,
  err: GatewayError,
  options: { surface: Surface; headers?: Record<string, string>; close?: boolean; eventStream?: boolean },
): void {
  if (res.destroyed) return;
  if (!res.headersSent) {
    const headers = { ...options.headers, ...err.headers };
    if (options.close === true) headers.connection = 'close';
    sendJson(res, err.status, errorBody(err, options.surface), headers);
    return;
  }
  if (options.eventStream === true) {
    res.end(
      options.surface === 'anthropic'
        ? sseFrame(errorBody(err, 'anthropic'), 'error')
        : sseFrame(errorBody(err, 'openai')),
    );
    return;
  }
  res.destroy();
}
