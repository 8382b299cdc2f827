import { GatewayError } from '../core/errors.ts';
import type { ApiKind } from '../contracts/request.ts';
import type {
  StreamTranslator,
  TranslatedResponse,
  TranslateInput,
  Translator,
  UpstreamRequest,
} from '../contracts/translator.ts';
import { geminiEmbedRequest, geminiEmbedResponse } from './gemini-embeddings.ts';
import { geminiRequest, modelPath } from './gemini-request.ts';
import { geminiChatResponse, geminiError } from './gemini-response.ts';
import { GeminiStream } from './gemini-stream.ts';

// OpenAI chat and embeddings → the Gemini API (generativelanguage.googleapis.com/v1beta, or any base
// URL serving the same paths). Paths are relative to that base URL:
//   chat          /models/{model}:generateContent
//   chat, stream  /models/{model}:streamGenerateContent?alt=sse
//   embeddings    /models/{model}:batchEmbedContents
// Authentication (x-goog-api-key) is the auth scheme's job: see src/auth-schemes/google-api-key.ts.

const APIS: ReadonlySet<ApiKind> = new Set<ApiKind>(['chat', 'embeddings']);

export const openAIToGemini: Translator = {
  name: 'gemini',
  apis: APIS,

  request(input: TranslateInput): UpstreamRequest {
    const model = modelPath(input.model);
    if (input.api === 'embeddings') {
      return { path: `${model}:batchEmbedContents`, body: geminiEmbedRequest(input.body, model.slice(1)) };
    }
    if (input.api !== 'chat') {
      throw new GatewayError('invalid_request', `this provider does not serve the ${input.api} API`);
    }
    const path = input.stream ? `${model}:streamGenerateContent?alt=sse` : `${model}:generateContent`;
    return { path, body: JSON.stringify(geminiRequest(input.body)) };
  },

  response(body: Buffer, input: TranslateInput): TranslatedResponse {
    if (input.api === 'embeddings') return { body: geminiEmbedResponse(body, input), usage: null };
    return geminiChatResponse(body, input.model);
  },

  stream(input: TranslateInput): StreamTranslator {
    return new GeminiStream(input);
  },

  error(status: number, body: Buffer): GatewayError {
    return geminiError(status, body);
  },
};
