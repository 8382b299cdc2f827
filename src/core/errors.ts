// One error type for the whole gateway. Every failure a client can see is a GatewayError with a stable
// snake_case code; the code decides the HTTP status and the OpenAI error `type` through tables the
// compiler checks for exhaustiveness. Anything else thrown is normalised by `toGatewayError`, which never
// leaks an internal message to the client.

export type ErrorCode =
  | 'invalid_json'
  | 'invalid_request'
  | 'unsupported_media_type'
  | 'payload_too_large'
  | 'headers_too_large'
  | 'request_timeout'
  | 'not_found'
  | 'method_not_allowed'
  | 'model_not_found'
  | 'unauthorized'
  | 'forbidden'
  | 'rate_limited'
  | 'budget_exceeded'
  | 'queue_full'
  | 'context_length_exceeded'
  | 'content_policy_violation'
  | 'upstream_unreachable'
  | 'upstream_timeout'
  | 'upstream_error'
  | 'upstream_stream_error'
  | 'no_healthy_upstream'
  | 'pool_empty'
  | 'state_unavailable'
  | 'shutting_down'
  | 'internal_error';

/** The OpenAI error `type` values a client SDK understands. */
export type OpenAIErrorType =
  | 'invalid_request_error'
  | 'authentication_error'
  | 'permission_error'
  | 'not_found_error'
  | 'rate_limit_error'
  | 'server_error'
  | 'timeout_error';

const STATUS = {
  invalid_json: 400,
  invalid_request: 400,
  unsupported_media_type: 415,
  payload_too_large: 413,
  headers_too_large: 431,
  request_timeout: 408,
  not_found: 404,
  method_not_allowed: 405,
  model_not_found: 404,
  unauthorized: 401,
  forbidden: 403,
  rate_limited: 429,
  budget_exceeded: 429,
  queue_full: 429,
  context_length_exceeded: 400,
  content_policy_violation: 400,
  upstream_unreachable: 502,
  upstream_timeout: 504,
  upstream_error: 502,
  upstream_stream_error: 502,
  no_healthy_upstream: 503,
  pool_empty: 503,
  state_unavailable: 503,
  shutting_down: 503,
  internal_error: 500,
} as const satisfies Record<ErrorCode, number>;

const TYPE = {
  invalid_json: 'invalid_request_error',
  invalid_request: 'invalid_request_error',
  unsupported_media_type: 'invalid_request_error',
  payload_too_large: 'invalid_request_error',
  headers_too_large: 'invalid_request_error',
  request_timeout: 'invalid_request_error',
  not_found: 'not_found_error',
  method_not_allowed: 'invalid_request_error',
  model_not_found: 'not_found_error',
  unauthorized: 'authentication_error',
  forbidden: 'permission_error',
  rate_limited: 'rate_limit_error',
  budget_exceeded: 'rate_limit_error',
  queue_full: 'rate_limit_error',
  context_length_exceeded: 'invalid_request_error',
  content_policy_violation: 'invalid_request_error',
  upstream_unreachable: 'server_error',
  upstream_timeout: 'timeout_error',
  upstream_error: 'server_error',
  upstream_stream_error: 'server_error',
  no_healthy_upstream: 'server_error',
  pool_empty: 'server_error',
  state_unavailable: 'server_error',
  shutting_down: 'server_error',
  internal_error: 'server_error',
} as const satisfies Record<ErrorCode, OpenAIErrorType>;

export interface GatewayErrorOptions {
  readonly param?: string | null;
  /** Overrides the table's status; used for upstream errors passed through with their own status. */
  readonly status?: number;
  /** Extra response headers, e.g. Retry-After. */
  readonly headers?: Readonly<Record<string, string>>;
  /** A body already in OpenAI shape (from an upstream) to send instead of building one. */
  readonly rawBody?: string;
  readonly cause?: unknown;
}

export class GatewayError extends Error {
  readonly code: ErrorCode;
  readonly status: number;
  readonly type: OpenAIErrorType;
  readonly param: string | null;
  readonly headers: Readonly<Record<string, string>> | undefined;
  readonly rawBody: string | undefined;

  constructor(code: ErrorCode, message: string, options: GatewayErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'GatewayError';
    this.code = code;
    this.status = options.status ?? STATUS[code];
    this.type = TYPE[code];
    this.param = options.param ?? null;
    this.headers = options.headers;
    this.rawBody = options.rawBody;
  }
}

export function statusOf(code: ErrorCode): number {
  return STATUS[code];
}

/** Normalise anything thrown into a GatewayError. Unknown errors become an opaque internal_error. */
export function toGatewayError(err: unknown): GatewayError {
  if (err instanceof GatewayError) return err;
  return new GatewayError('internal_error', 'The gateway hit an internal error.', { cause: err });
}

/** The OpenAI-shaped JSON body for an error. */
export function openAIErrorBody(err: GatewayError): string {
  if (err.rawBody !== undefined) return err.rawBody;
  return JSON.stringify({
    error: { message: err.message, type: err.type, param: err.param, code: err.code },
  });
}

const ANTHROPIC_TYPE: Readonly<Record<number, string>> = {
  400: 'invalid_request_error',
  401: 'authentication_error',
  403: 'permission_error',
  404: 'not_found_error',
  413: 'request_too_large',
  429: 'rate_limit_error',
  500: 'api_error',
  502: 'api_error',
  503: 'overloaded_error',
  504: 'api_error',
  529: 'overloaded_error',
};

/** The Anthropic-shaped JSON body for an error (the /v1/messages surface). */
export function anthropicErrorBody(err: GatewayError): string {
  const type = ANTHROPIC_TYPE[err.status] ?? (err.status >= 500 ? 'api_error' : 'invalid_request_error');
  return JSON.stringify({ type: 'error', error: { type, message: err.message } });
}
