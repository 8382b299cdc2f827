import { GatewayError } from '../core/errors.ts';
import { findObjectValue, keyNeedle, readObjectValue } from '../core/json-scan.ts';
import { frameStartBefore, nextBoundaryEnd, SseFramer } from '../core/sse.ts';
import { usageFromOpenAI, type Usage } from '../core/usage.ts';
import type { ApiKind, JsonObject } from '../contracts/request.ts';
import type {
  StreamTranslator,
  TranslateInput,
  Translator,
  UpstreamRequest,
} from '../contracts/translator.ts';
import { upstreamErrorFromBody } from './upstream-error.ts';
import { OPENAI_PATHS } from './openai-paths.ts';

// Pass-through for OpenAI-compatible upstreams (OpenAI, vLLM, SGLang, TGI, NIM, Ollama, Azure…). The
// request is the client's body with the upstream model name (unknown fields untouched) and, for streams,
// stream_options.include_usage forced on so every request is metered. Responses are passed through byte
// for byte; only the frame carrying usage is parsed, and it is removed when the client did not ask for it.

const USAGE = keyNeedle('usage');
const ERROR = keyNeedle('error');
const DONE = Buffer.from('data: [DONE]');
const APIS: ReadonlySet<ApiKind> = new Set<ApiKind>(['chat', 'completions', 'embeddings', 'responses']);

function requestBody(input: TranslateInput): string {
  const { body, model, stream, api } = input;
  if (!stream || api === 'responses' || api === 'embeddings' || input.clientWantsUsage) {
    return JSON.stringify(body.model === model ? body : { ...body, model });
  }
  const options = body.stream_options;
  const merged =
    typeof options === 'object' && options !== null
      ? { ...options, include_usage: true }
      : { include_usage: true };
  return JSON.stringify({ ...body, model, stream_options: merged });
}

class OpenAIPassThroughStream implements StreamTranslator {
  usage: Usage | null = null;
  done = false;
  error: GatewayError | null = null;
  sawContent = false;
  private readonly framer = new SseFramer();
  private readonly dropUsageFrame: boolean;

  /** [DONE] is the stream's last event: whatever follows it is not for the client. */
  get complete(): boolean {
    return this.done;
  }

  constructor(input: TranslateInput) {
    this.dropUsageFrame = !input.clientWantsUsage && (input.api === 'chat' || input.api === 'completions');
  }

  push(chunk: Buffer): Buffer | null {
    const frames = this.framer.push(chunk);
    return frames === null ? null : this.inspect(frames);
  }

  end(): Buffer | null {
    const rest = this.framer.flush();
    return rest === null ? null : this.inspect(rest);
  }

  private inspect(frames: Buffer): Buffer | null {
    let out: Buffer | null = frames;
    if (frames.indexOf(USAGE) !== -1) out = this.takeUsage(frames);
    if (!this.done && frames.indexOf(DONE) !== -1) this.done = true;
    if (frames.indexOf(ERROR) !== -1) this.takeError(frames);
    if (this.error === null) this.sawContent = true;
    return out;
  }

  private takeUsage(frames: Buffer): Buffer | null {
    const at = findObjectValue(frames, USAGE);
    if (at === null) return frames;
    const start = frameStartBefore(frames, at.keyStart);
    let end = nextBoundaryEnd(frames, at.end);
    if (end === -1) end = frames.length;
    let chunk: JsonObject;
    try {
      const text = frames.toString('utf8', start, end);
      chunk = JSON.parse(text.slice(text.indexOf('{'))) as JsonObject;
    } catch {
      return frames;
    }
    // Responses API streams carry usage inside response.completed's `response` object.
    const usage = usageFromOpenAI(chunk.usage ?? (chunk.response as JsonObject | undefined)?.usage);
    if (usage !== null) this.usage = usage;
    const usageOnly = Array.isArray(chunk.choices) && chunk.choices.length === 0;
    if (!this.dropUsageFrame || !usageOnly) return frames;
    if (start === 0 && end === frames.length) return null;
    return Buffer.concat([frames.subarray(0, start), frames.subarray(end)]);
  }

  private takeError(frames: Buffer): void {
    const detail = readObjectValue(frames, ERROR) as JsonObject | null;
    if (detail === null || typeof detail.message !== 'string') return;
    this.error = new GatewayError('upstream_stream_error', detail.message, {
      rawBody: JSON.stringify({ error: detail }),
    });
  }
}

export const openAIPassThrough: Translator = {
  name: 'openai',
  apis: APIS,

  request(input: TranslateInput): UpstreamRequest {
    const path = OPENAI_PATHS[input.api];
    if (path === undefined) {
      throw new GatewayError('invalid_request', `this provider does not serve the ${input.api} API`);
    }
    return { path, body: requestBody(input) };
  },

  response(body: Buffer) {
    return { body, usage: usageFromOpenAI(readObjectValue(body, USAGE)) };
  },

  stream(input: TranslateInput): StreamTranslator {
    return new OpenAIPassThroughStream(input);
  },

  error(status: number, body: Buffer): GatewayError {
    return upstreamErrorFromBody(status, body);
  },
};
