import { anthropicErrorBody, GatewayError, statusOf, type ErrorCode } from '../../core/errors.ts';

// Errors on the /v1/messages surface are Anthropic-shaped: {type:'error', error:{type, message}}, the
// type chosen from the HTTP status (core/errors.ts anthropicErrorBody). Before the first byte an error is
// a JSON response with its status; after it, one `event: error` frame, then the stream closes.

export interface ErrorResponse {
  readonly status: number;
  readonly headers: Record<string, string>;
  readonly body: string;
}

export function anthropicErrorResponse(err: GatewayError): ErrorResponse {
  return {
    status: err.status,
    headers: { ...err.headers, 'content-type': 'application/json' },
    body: anthropicErrorBody(err),
  };
}

/** The SSE frame for an error after the stream has started. */
export function anthropicErrorEvent(err: GatewayError): string {
  return `event: error\ndata: ${anthropicErrorBody(err)}\n\n`;
}

const CODES: Readonly<Record<string, ErrorCode>> = {
  invalid_request_error: 'invalid_request',
  authentication_error: 'unauthorized',
  permission_error: 'forbidden',
  not_found_error: 'not_found',
  rate_limit_error: 'rate_limited',
  timeout_error: 'upstream_timeout',
};

/** An OpenAI error object seen inside a chunk stream → a GatewayError whose status picks the Anthropic type. */
export function errorFromOpenAIDetail(detail: unknown): GatewayError {
  const { message, type } = (detail ?? {}) as { message?: unknown; type?: unknown };
  const code = (typeof type === 'string' ? CODES[type] : undefined) ?? 'upstream_error';
  const text = typeof message === 'string' ? message : 'The upstream stream reported an error.';
  return new GatewayError('upstream_stream_error', text, { status: statusOf(code) });
}
