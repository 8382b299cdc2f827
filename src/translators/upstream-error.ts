import { GatewayError, type ErrorCode } from '../core/errors.ts';

// Turning an upstream's error response into a GatewayError. OpenAI-shaped bodies pass through verbatim
// with the upstream's status; anything else gets a generic message (upstream bodies may hold internal
// detail) and a code chosen from the status.

function codeFor(status: number): ErrorCode {
  if (status === 429) return 'rate_limited';
  if (status === 401) return 'unauthorized';
  if (status === 403) return 'forbidden';
  if (status === 404) return 'model_not_found';
  if (status === 413) return 'payload_too_large';
  if (status === 408 || status === 504) return 'upstream_timeout';
  if (status >= 400 && status < 500) return 'invalid_request';
  return 'upstream_error';
}

const CONTEXT_HINTS = [
  'context_length_exceeded',
  'maximum context length',
  'context window',
  'too many tokens',
];

/** True when an upstream error says the prompt does not fit the model's context window. */
export function isContextLengthError(code: unknown, message: string): boolean {
  if (code === 'context_length_exceeded') return true;
  const lower = message.toLowerCase();
  return CONTEXT_HINTS.some((hint) => lower.includes(hint));
}

export function upstreamErrorFromBody(status: number, body: Buffer): GatewayError {
  let parsed: unknown;
  try {
    parsed = body.length > 0 ? JSON.parse(body.toString('utf8')) : undefined;
  } catch {
    parsed = undefined;
  }
  const error = (parsed as { error?: unknown } | undefined)?.error;
  if (
    typeof error === 'object' &&
    error !== null &&
    typeof (error as { message?: unknown }).message === 'string'
  ) {
    const { message, code } = error as { message: string; code?: unknown };
    const ourCode =
      status === 400 && isContextLengthError(code, message) ? 'context_length_exceeded' : codeFor(status);
    return new GatewayError(ourCode, message, { status, rawBody: body.toString('utf8') });
  }
  if (typeof error === 'string') {
    // Some servers (TGI, older vLLM) answer {"error": "text", "error_type": "..."}.
    const ourCode =
      status === 400 && isContextLengthError(undefined, error) ? 'context_length_exceeded' : codeFor(status);
    return new GatewayError(ourCode, error, { status });
  }
  return new GatewayError(codeFor(status), `The upstream provider returned HTTP ${status}.`, { status });
}
