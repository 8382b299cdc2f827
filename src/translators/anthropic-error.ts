import { GatewayError, openAIErrorBody, type ErrorCode } from '../core/errors.ts';
import type { AnthropicErrorBody } from './anthropic-types.ts';
import { codeForStatus, parseErrorBody, providerError, soundsLikeContextLength } from './provider-error.ts';

// Anthropic errors ({type:'error', error:{type, message}}) → GatewayError with an OpenAI-shaped body.
// The error `type` decides the code; the HTTP status is only a fallback. Anthropic's 529 overloaded_error
// becomes 503 (a status every client and retry library understands); other 5xx keep the upstream status.

const CODES: Readonly<Record<string, ErrorCode>> = {
  invalid_request_error: 'invalid_request',
  authentication_error: 'unauthorized',
  permission_error: 'forbidden',
  not_found_error: 'model_not_found',
  request_too_large: 'payload_too_large',
  rate_limit_error: 'rate_limited',
  // The gateway's upstream account cannot pay: not the client's doing, and another provider may serve it.
  billing_error: 'upstream_error',
  timeout_error: 'upstream_timeout',
  api_error: 'upstream_error',
  overloaded_error: 'upstream_error',
};

/** Anthropic says "prompt is too long" or "input length and `max_tokens` exceed context limit". */
function isContextWindow(message: string): boolean {
  return soundsLikeContextLength(message) || message.toLowerCase().includes('exceed context limit');
}

function detailOf(parsed: unknown): { type: string; message: string } | null {
  const error = (parsed as Partial<AnthropicErrorBody> | undefined)?.error;
  if (typeof error !== 'object' || error === null) return null;
  const { type, message } = error as { type?: unknown; message?: unknown };
  return typeof type === 'string' && typeof message === 'string' ? { type, message } : null;
}

/** The GatewayError for an Anthropic error object (from a response body or a stream event). */
export function errorFromDetail(status: number, detail: { type: string; message: string }): GatewayError {
  const { type, message } = detail;
  if (type === 'overloaded_error') return new GatewayError('upstream_error', message, { status: 503 });
  const code = CODES[type] ?? codeForStatus(status);
  if (code === 'invalid_request' && isContextWindow(message)) {
    return new GatewayError('context_length_exceeded', message);
  }
  return providerError(code, message, status);
}

export function anthropicError(status: number, body: Buffer): GatewayError {
  const detail = detailOf(parseErrorBody(body));
  if (detail === null) {
    const message = `The upstream provider returned HTTP ${status}.`;
    if (status === 529) return new GatewayError('upstream_error', message, { status: 503 });
    return providerError(codeForStatus(status), message, status);
  }
  return errorFromDetail(status, detail);
}

/**
 * An `error` event inside a stream: upstream_stream_error carrying the mapped error's OpenAI body and
 * status (used when nothing reached the client yet and the error can still be a plain response).
 */
export function streamError(event: unknown): GatewayError {
  const detail = detailOf(event) ?? { type: 'api_error', message: 'The upstream stream reported an error.' };
  const mapped = errorFromDetail(200, detail);
  return new GatewayError('upstream_stream_error', detail.message, {
    status: mapped.status,
    rawBody: openAIErrorBody(mapped),
  });
}
