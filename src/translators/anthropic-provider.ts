import type { GatewayError } from '../core/errors.ts';
import type { ApiKind } from '../contracts/request.ts';
import type {
  StreamTranslator,
  TranslatedResponse,
  TranslateInput,
  Translator,
  UpstreamRequest,
} from '../contracts/translator.ts';
import { anthropicPassThrough } from './anthropic-passthrough.ts';
import { createOpenAIToAnthropic, type OpenAIToAnthropicOptions } from './openai-to-anthropic.ts';

// The translator of a provider row with type 'anthropic': OpenAI chat requests are translated
// (openai-to-anthropic), Messages API requests pass through unchanged (anthropic-passthrough). Serving
// 'messages' natively tells the /v1/messages surface not to convert the request to chat first.

const APIS: ReadonlySet<ApiKind> = new Set<ApiKind>(['chat', 'messages']);

export function createAnthropicProviderTranslator(options: OpenAIToAnthropicOptions = {}): Translator {
  const chat = createOpenAIToAnthropic(options);
  const pick = (input: TranslateInput): Translator =>
    input.api === 'messages' ? anthropicPassThrough : chat;
  return {
    name: 'anthropic',
    apis: APIS,
    request: (input: TranslateInput): UpstreamRequest => pick(input).request(input),
    response: (body: Buffer, input: TranslateInput): TranslatedResponse => pick(input).response(body, input),
    stream: (input: TranslateInput): StreamTranslator => pick(input).stream(input),
    error: (status: number, body: Buffer, input: TranslateInput): GatewayError =>
      pick(input).error(status, body, input),
  };
}
