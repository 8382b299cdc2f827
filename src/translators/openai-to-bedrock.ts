import { GatewayError } from '../core/errors.ts';
import type { ApiKind } from '../contracts/request.ts';
import type {
  StreamTranslator,
  TranslatedResponse,
  TranslateInput,
  Translator,
  UpstreamRequest,
} from '../contracts/translator.ts';
import { bedrockRequest } from './bedrock-request.ts';
import { bedrockChatResponse, bedrockError } from './bedrock-response.ts';
import { BedrockStream } from './bedrock-stream.ts';

// OpenAI chat → Amazon Bedrock Runtime Converse / ConverseStream. Paths are relative to the runtime
// endpoint (https://bedrock-runtime.{region}.amazonaws.com):
//   chat          /model/{modelId}/converse
//   chat, stream  /model/{modelId}/converse-stream   (answers application/vnd.amazon.eventstream)
// The model id (or inference-profile ARN) is percent-encoded once here; SigV4 encodes the path again
// for its canonical request, as AWS requires for every service but S3 (src/auth-schemes/sigv4.ts).

const APIS: ReadonlySet<ApiKind> = new Set<ApiKind>(['chat']);
const HEADERS = Object.freeze({ 'content-type': 'application/json', accept: 'application/json' });
const STREAM_HEADERS = Object.freeze({
  'content-type': 'application/json',
  accept: 'application/vnd.amazon.eventstream',
});

export function bedrockPath(model: string, stream: boolean): string {
  return `/model/${encodeURIComponent(model)}/${stream ? 'converse-stream' : 'converse'}`;
}

export const openAIToBedrock: Translator = {
  name: 'bedrock',
  apis: APIS,

  request(input: TranslateInput): UpstreamRequest {
    if (input.api !== 'chat') {
      throw new GatewayError('invalid_request', `this provider does not serve the ${input.api} API`);
    }
    return {
      path: bedrockPath(input.model, input.stream),
      body: JSON.stringify(bedrockRequest(input.body)),
      headers: input.stream ? STREAM_HEADERS : HEADERS,
    };
  },

  response(body: Buffer, input: TranslateInput): TranslatedResponse {
    return bedrockChatResponse(body, input.model);
  },

  stream(input: TranslateInput): StreamTranslator {
    return new BedrockStream(input);
  },

  error(status: number, body: Buffer): GatewayError {
    return bedrockError(status, body);
  },
};
