import type { GatewayError } from '../core/errors.ts';
import type { Usage } from '../core/usage.ts';
import type { ApiKind, JsonObject } from './request.ts';

// A translator maps between the gateway's inbound shape (OpenAI) and one upstream wire schema. It is a
// set of pure functions: no I/O, no HTTP framework objects, no auth (auth schemes are separate).

export interface TranslateInput {
  readonly api: ApiKind;
  /** The client's body. Must not be mutated: retries and fallbacks reuse it. */
  readonly body: JsonObject;
  /** The model name the upstream knows. */
  readonly model: string;
  readonly stream: boolean;
  /** The client asked for usage on its stream. */
  readonly clientWantsUsage: boolean;
}

export interface UpstreamRequest {
  /** Path relative to the provider's base URL, with any query string, e.g. "/chat/completions". */
  readonly path: string;
  readonly body: string | Buffer;
  /** Schema-specific headers (e.g. anthropic-version). */
  readonly headers?: Readonly<Record<string, string>>;
}

export interface TranslatedResponse {
  /** The body to send to the client (OpenAI shape). */
  readonly body: string | Buffer;
  readonly usage: Usage | null;
}

/** Per-stream state: turns upstream bytes into client bytes. One instance per response. */
export interface StreamTranslator {
  /** Bytes for the client from this upstream chunk, or null when nothing is complete yet. */
  push(chunk: Buffer): string | Buffer | null;
  /** Bytes for the client at the upstream's end of stream (a trailing frame), or null. */
  end(): string | Buffer | null;
  /** Usage seen so far (the last report wins), or null. */
  readonly usage: Usage | null;
  /** The upstream signalled a proper end ([DONE], message_stop…). A stream that ends without it was cut. */
  readonly done: boolean;
  /**
   * Nothing the upstream may still send matters to the client (OpenAI's [DONE] is its last event; with
   * Bedrock, usage follows messageStop, so there it is never set). The relay then ends the client's
   * response at once. Absent means false.
   */
  readonly complete?: boolean;
  /** An error event the upstream sent inside the stream, if any. */
  readonly error: GatewayError | null;
  /** Content was produced (a token reached the client). Failover is only safe before this. */
  readonly sawContent: boolean;
}

export interface Translator {
  readonly name: string;
  /** APIs this translator can serve; others are answered 400 invalid_request for this provider. */
  readonly apis: ReadonlySet<ApiKind>;
  request(input: TranslateInput): UpstreamRequest;
  response(body: Buffer, input: TranslateInput): TranslatedResponse;
  stream(input: TranslateInput): StreamTranslator;
  /** An upstream error response as a GatewayError carrying an OpenAI-shaped body. */
  error(status: number, body: Buffer, input: TranslateInput): GatewayError;
}
