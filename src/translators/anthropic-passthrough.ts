import { GatewayError } from '../core/errors.ts';
import { keyNeedle, readObjectValue } from '../core/json-scan.ts';
import { SseFramer, sseEvents } from '../core/sse.ts';
import type { Usage } from '../core/usage.ts';
import type { ApiKind } from '../contracts/request.ts';
import type {
  StreamTranslator,
  TranslatedResponse,
  TranslateInput,
  Translator,
  UpstreamRequest,
} from '../contracts/translator.ts';
import { anthropicError, streamError } from './anthropic-error.ts';
import { anthropicUsage, mergeUsage } from './anthropic-response.ts';
import { ANTHROPIC_VERSION, type AnthropicUsage, type StreamEvent } from './anthropic-types.ts';

// Messages API in, Messages API out: for clients of /v1/messages routed to an Anthropic upstream. The body
// is forwarded with only `model` replaced (cache_control, thinking, server tools… untouched); responses
// and streams pass through byte for byte. Only the frames that can carry usage or an end (message_start,
// message_delta, message_stop, error) are parsed, found with a byte prefilter. Errors become GatewayErrors
// whose status and message the /v1/messages surface renders Anthropic-shaped (anthropicErrorBody).

const APIS: ReadonlySet<ApiKind> = new Set<ApiKind>(['messages']);
const HEADERS = Object.freeze({ 'anthropic-version': ANTHROPIC_VERSION });
const USAGE = keyNeedle('usage');
const MESSAGE_EVENT = Buffer.from('"message_');
const ERROR_EVENT = Buffer.from('"error"');

class AnthropicPassThroughStream implements StreamTranslator {
  usage: Usage | null = null;
  done = false;
  error: GatewayError | null = null;
  sawContent = false;
  private readonly framer = new SseFramer();
  private rawUsage: AnthropicUsage = {};

  push(chunk: Buffer): Buffer | null {
    const frames = this.framer.push(chunk);
    if (frames !== null) this.inspect(frames);
    return frames;
  }

  end(): Buffer | null {
    const rest = this.framer.flush();
    if (rest !== null) this.inspect(rest);
    return rest;
  }

  private inspect(frames: Buffer): void {
    if (frames.indexOf(MESSAGE_EVENT) !== -1 || frames.indexOf(ERROR_EVENT) !== -1) this.scan(frames);
    if (this.error === null) this.sawContent = true;
  }

  private scan(frames: Buffer): void {
    for (const { data } of sseEvents(frames)) {
      if (!data.includes('"message_') && !data.includes('"error"')) continue;
      let event: StreamEvent;
      try {
        event = JSON.parse(data) as StreamEvent;
      } catch {
        continue; // passed through as sent; the client sees what the upstream wrote
      }
      if (event.type === 'message_start') this.addUsage(event.message?.usage);
      else if (event.type === 'message_delta') this.addUsage(event.usage);
      else if (event.type === 'message_stop') this.done = true;
      else if (event.type === 'error' && this.error === null) this.error = streamError(event);
    }
  }

  private addUsage(usage: AnthropicUsage | undefined): void {
    this.rawUsage = mergeUsage(this.rawUsage, usage);
    this.usage = anthropicUsage(this.rawUsage);
  }
}

/** POST /v1/messages/count_tokens forwarded to an Anthropic upstream (the answer, {input_tokens}, passes back). */
export function anthropicCountTokensRequest(input: TranslateInput): UpstreamRequest {
  const { body, model } = input;
  return { path: '/messages/count_tokens', headers: HEADERS, body: JSON.stringify({ ...body, model }) };
}

export const anthropicPassThrough: Translator = {
  name: 'anthropic-messages',
  apis: APIS,

  request(input: TranslateInput): UpstreamRequest {
    const { body, model } = input;
    if (input.api !== 'messages') {
      throw new GatewayError('invalid_request', `this translator does not serve the ${input.api} API`);
    }
    return {
      path: '/messages',
      headers: HEADERS,
      body: JSON.stringify(body.model === model ? body : { ...body, model }),
    };
  },

  response(body: Buffer): TranslatedResponse {
    return { body, usage: anthropicUsage(readObjectValue(body, USAGE) as AnthropicUsage | null) };
  },

  stream(): StreamTranslator {
    return new AnthropicPassThroughStream();
  },

  error(status: number, body: Buffer): GatewayError {
    return anthropicError(status, body);
  },
};
