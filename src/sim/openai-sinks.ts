import type { ServerResponse } from 'node:http';
import { SSE_DONE, sseFrame } from '../core/sse.ts';
import { usageToOpenAI } from '../core/usage.ts';
import type { CompletionKind } from './openai-request.ts';
import type { FinishReason, SeqSink, SeqUsage } from './sequence.ts';

// Writing a sequence's output in OpenAI shape. Streams precompute each chunk's JSON around the token
// text, collect the tick's frames in one string and write it once per tick; JSON answers are built at
// the end. Stream order: a role chunk with the first token (chat), one chunk per token, a chunk with
// finish_reason and an empty delta, the usage chunk (choices: []) when include_usage was asked, [DONE].

export interface ResponseShape {
  readonly kind: CompletionKind;
  readonly id: string;
  readonly created: number;
  readonly model: string;
}

function usageJson(u: SeqUsage): Record<string, unknown> {
  const usage = usageToOpenAI({
    inputTokens: u.promptTokens,
    outputTokens: u.completionTokens,
    cachedInputTokens: u.cachedTokens,
    cacheWriteTokens: 0,
    reasoningTokens: 0,
  });
  return usage;
}

function head(shape: ResponseShape, object: string): string {
  return `{"id":"${shape.id}","object":"${object}","created":${shape.created},"model":${JSON.stringify(shape.model)}`;
}

export interface StreamOptions {
  readonly includeUsage: boolean;
  /** Destroy the connection after this many data frames; -1 for never. */
  readonly cutAfter: number;
}

export class StreamSink implements SeqSink {
  private readonly res: ServerResponse;
  private readonly shape: ResponseShape;
  private readonly options: StreamOptions;
  private readonly prefix: string;
  private readonly suffix: string;
  private buf = '';
  private frames = 0;
  private cut = false;
  private done = false;

  constructor(res: ServerResponse, shape: ResponseShape, options: StreamOptions) {
    this.res = res;
    this.shape = shape;
    this.options = options;
    const chat = shape.kind === 'chat';
    this.prefix = `data: ${head(shape, chat ? 'chat.completion.chunk' : 'text_completion')},"choices":[{"index":0,${chat ? '"delta":{"content":' : '"text":'}`;
    this.suffix = `${chat ? '}' : ''},"logprobs":null,"finish_reason":null}]}\n\n`;
  }

  /** Send the headers now, as vLLM does before the first token. */
  start(): void {
    this.res.writeHead(200, {
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-cache',
    });
    this.res.flushHeaders();
    if (this.options.cutAfter === 0) this.res.destroy();
  }

  /** Answer with one error event and close (the injected stream error; never a [DONE]). */
  failWith(errorJson: string): void {
    this.res.end(sseFrame(errorJson));
  }

  token(text: string): void {
    if (this.cut) return;
    if (this.frames === 0 && this.shape.kind === 'chat')
      this.frame(
        `data: ${head(this.shape, 'chat.completion.chunk')},"choices":[{"index":0,"delta":{"role":"assistant","content":""},"logprobs":null,"finish_reason":null}]}\n\n`,
      );
    this.frame(this.prefix + JSON.stringify(text) + this.suffix);
  }

  finish(reason: FinishReason, usage: SeqUsage): void {
    if (this.cut) return;
    const chat = this.shape.kind === 'chat';
    const object = chat ? 'chat.completion.chunk' : 'text_completion';
    const choice = chat ? '"delta":{}' : '"text":""';
    this.frame(
      `data: ${head(this.shape, object)},"choices":[{"index":0,${choice},"logprobs":null,"finish_reason":"${reason}"}]}\n\n`,
    );
    if (this.options.includeUsage)
      this.frame(
        `data: ${head(this.shape, object)},"choices":[],"usage":${JSON.stringify(usageJson(usage))}}\n\n`,
      );
    if (!this.cut) this.buf += SSE_DONE;
    this.done = true;
  }

  flush(): void {
    const res = this.res;
    if (this.buf.length === 0 || res.destroyed || res.writableEnded) return;
    if (this.done && !this.cut) res.end(this.buf);
    else if (this.cut)
      res.write(this.buf, () => res.destroy()); // abrupt: no last chunk, no [DONE]
    else if (this.buf.length > 0) res.write(this.buf);
    this.buf = '';
  }

  private frame(text: string): void {
    if (this.cut) return;
    this.buf += text;
    this.frames++;
    if (this.options.cutAfter > 0 && this.frames >= this.options.cutAfter) this.cut = true;
  }
}

export class JsonSink implements SeqSink {
  private readonly res: ServerResponse;
  private readonly shape: ResponseShape;
  private readonly parts: string[] = [];
  private body: string | null = null;

  constructor(res: ServerResponse, shape: ResponseShape) {
    this.res = res;
    this.shape = shape;
  }

  token(text: string): void {
    this.parts.push(text);
  }

  finish(reason: FinishReason, usage: SeqUsage): void {
    const text = this.parts.join('');
    const chat = this.shape.kind === 'chat';
    const choice = chat
      ? { index: 0, message: { role: 'assistant', content: text }, logprobs: null, finish_reason: reason }
      : { index: 0, text, logprobs: null, finish_reason: reason, stop_reason: null };
    this.body = JSON.stringify({
      id: this.shape.id,
      object: chat ? 'chat.completion' : 'text_completion',
      created: this.shape.created,
      model: this.shape.model,
      choices: [choice],
      usage: usageJson(usage),
    });
  }

  flush(): void {
    const body = this.body;
    if (body === null || this.res.destroyed || this.res.headersSent) return;
    this.res.writeHead(200, {
      'content-type': 'application/json',
      'content-length': Buffer.byteLength(body),
    });
    this.res.end(body);
  }
}
