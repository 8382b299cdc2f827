import { GatewayError } from '../core/errors.ts';
import type { ApiKind } from '../contracts/request.ts';
import type {
  StreamTranslator,
  TranslatedResponse,
  TranslateInput,
  Translator,
  UpstreamRequest,
} from '../contracts/translator.ts';
import { anthropicError } from './anthropic-error.ts';
import { anthropicRequest, type AnthropicRequestOptions } from './anthropic-request.ts';
import { chatCompletionFrom } from './anthropic-response.ts';
import { AnthropicStream } from './anthropic-stream.ts';
import { ANTHROPIC_VERSION } from './anthropic-types.ts';

// OpenAI chat → the Anthropic Messages API. The path is relative to a base URL ending in /v1
// (https://api.anthropic.com/v1). The anthropic-version header defaults here; a provider's configured
// headers are applied later and may override it (or add anthropic-beta). Authentication (x-api-key) is
// the provider's auth scheme, not this translator's.

const APIS: ReadonlySet<ApiKind> = new Set<ApiKind>(['chat']);

export interface OpenAIToAnthropicOptions {
  /** max_tokens when the client sets none (Anthropic requires one). Default 4096. */
  readonly defaultMaxTokens?: number;
  /** The anthropic-version header. Default 2023-06-01. */
  readonly version?: string;
}

export function createOpenAIToAnthropic(options: OpenAIToAnthropicOptions = {}): Translator {
  const requestOptions: AnthropicRequestOptions = { defaultMaxTokens: options.defaultMaxTokens ?? 4096 };
  const headers = Object.freeze({ 'anthropic-version': options.version ?? ANTHROPIC_VERSION });
  return {
    name: 'anthropic',
    apis: APIS,

    request(input: TranslateInput): UpstreamRequest {
      if (input.api !== 'chat') {
        throw new GatewayError('invalid_request', `this provider does not serve the ${input.api} API`);
      }
      return { path: '/messages', headers, body: JSON.stringify(anthropicRequest(input, requestOptions)) };
    },

    response(body: Buffer, input: TranslateInput): TranslatedResponse {
      return chatCompletionFrom(body, input.model);
    },

    stream(input: TranslateInput): StreamTranslator {
      return new AnthropicStream(input);
    },

    error(status: number, body: Buffer): GatewayError {
      return anthropicError(status, body);
    },
  };
}

export const openAIToAnthropic: Translator = createOpenAIToAnthropic();
