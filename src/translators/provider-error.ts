import { GatewayError, statusOf, type ErrorCode } from '../core/errors.ts';
import { isContextLengthError } from './upstream-error.ts';

// Shared by translators whose upstream error bodies are not OpenAI-shaped (Gemini, Bedrock): the
// provider's own classification picks a stable code, the client gets an OpenAI-shaped body built from it.

/** Phrases providers use when a prompt does not fit the model (beyond the OpenAI-style ones). */
const CONTEXT_PHRASES = [
  'input token count',
  'exceeds the maximum number of tokens',
  'input is too long',
  'too many input tokens',
  'prompt is too long',
  'model_context_window_exceeded',
];

export function soundsLikeContextLength(message: string): boolean {
  if (isContextLengthError(undefined, message)) return true;
  const lower = message.toLowerCase();
  return CONTEXT_PHRASES.some((phrase) => lower.includes(phrase));
}

/** A code from an HTTP status when the provider gave nothing better. */
export function codeForStatus(status: number): ErrorCode {
  if (status === 429) return 'rate_limited';
  if (status === 401) return 'unauthorized';
  if (status === 403) return 'forbidden';
  if (status === 404) return 'model_not_found';
  if (status === 413) return 'payload_too_large';
  if (status === 408 || status === 504) return 'upstream_timeout';
  if (status >= 400 && status < 500) return 'invalid_request';
  return 'upstream_error';
}

/**
 * The GatewayError for a classified upstream error. Client errors take the code's own status (so a
 * reclassified 400 "API key invalid" answers 401); server errors keep the upstream's 5xx.
 */
export function providerError(code: ErrorCode, message: string, upstreamStatus: number): GatewayError {
  const own = statusOf(code);
  const status = own >= 500 && upstreamStatus >= 500 && upstreamStatus < 600 ? upstreamStatus : own;
  if (code === 'invalid_request' && soundsLikeContextLength(message)) {
    return new GatewayError('context_length_exceeded', message);
  }
  return new GatewayError(code, message, { status });
}

/** Parse a JSON error body, or undefined when it is not JSON. */
export function parseErrorBody(body: Buffer): unknown {
  if (body.length === 0) return undefined;
  try {
    return JSON.parse(body.toString('utf8')) as unknown;
  } catch {
    return undefined;
  }
}
