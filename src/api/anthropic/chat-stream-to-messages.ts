import type { GatewayError } from '../../core/errors.ts';
import { newRequestId } from '../../core/ids.ts';
import { SseFramer, sseEvents } from '../../core/sse.ts';
import { usageFromOpenAI, type Usage } from '../../core/usage.ts';
import type { JsonObject } from '../../contracts/request.ts';
import { messageId } from './chat-to-message.ts';
import { anthropicErrorEvent, errorFromOpenAIDetail } from './errors.ts';
import { anthropicUsageOf, stopReasonOf } from './usage.ts';

// OpenAI chat.completion.chunk SSE → Anthropic Messages SSE, for /v1/messages clients whose request went
// to a chat upstream. Blocks open and close in order, as Anthropic's do: reasoning_content → a thinking
// block, content → a text block, each new tool_calls index → a tool_use block whose arguments stream as
// input_json_delta. message_start goes out with the first chunk (input_tokens from `inputTokens`, an
// estimate, since chat streams report usage last); finish_reason and the usage chunk become message_delta
// at [DONE], followed by message_stop. An error frame (or `fail`) becomes one `event: error`; nothing
// follows it. Only choice 0 is read. A tool call's late argument delta after another block has started
// (servers that interleave parallel calls) is sent at its own block index.

export interface ChatStreamOptions {
  /** The model named in message_start. */
  readonly model: string;
  /** Prompt tokens for message_start, when estimated beforehand. */
  readonly inputTokens?: number;
}

interface WireToolCall {
  readonly index?: number;
  readonly id?: string;
  readonly function?: { readonly name?: string; readonly arguments?: string };
}

type BlockKind = 'text' | 'thinking' | 'tool';

function frame(type: string, data: JsonObject): string {
  return `event: ${type}\ndata: ${JSON.stringify({ type, ...data })}\n\n`;
}

export class ChatToMessagesStream {
  done = false;
  error: GatewayError | null = null;
  private readonly framer = new SseFramer();
  private readonly options: ChatStreamOptions;
  private started = false;
  private open: { kind: BlockKind; index: number } | null = null;
  private blocks = 0;
  /** tool_calls[].index → Anthropic block index. */
  private readonly tools = new Map<number, number>();
  private finish: unknown = null;
  private usage: Usage | null = null;

  constructor(options: ChatStreamOptions) {
    this.options = options;
  }

  push(chunk: string | Buffer): string | null {
    if (this.done || this.error !== null) return null;
    const frames = this.framer.push(typeof chunk === 'string' ? Buffer.from(chunk) : chunk);
    return frames === null ? null : this.translate(frames);
  }

  end(): string | null {
    const rest = this.done || this.error !== null ? null : this.framer.flush();
    return rest === null ? null : this.translate(rest);
  }

  /** End the stream with an error the caller learnt of some other way (e.g. its translator's `.error`). */
  fail(err: GatewayError): string {
    if (this.done || this.error !== null) return '';
    this.error = err;
    return anthropicErrorEvent(err);
  }

  private translate(frames: Buffer): string | null {
    let out = '';
    for (const { data } of sseEvents(frames)) {
      if (data === '[DONE]') out += this.close();
      else if (data !== '') {
        let chunk: JsonObject;
        try {
          chunk = JSON.parse(data) as JsonObject;
        } catch {
          out += this.fail(
            errorFromOpenAIDetail({ message: 'The upstream provider sent an unreadable event.' }),
          );
          break;
        }
        out += chunk.error !== undefined ? this.fail(errorFromOpenAIDetail(chunk.error)) : this.chunk(chunk);
      }
      if (this.done || this.error !== null) break;
    }
    return out === '' ? null : out;
  }

  private start(): string {
    if (this.started) return '';
    this.started = true;
    const usage = { input_tokens: this.options.inputTokens ?? 0, output_tokens: 0 };
    const message = {
      id: messageId(),
      type: 'message',
      role: 'assistant',
      model: this.options.model,
      content: [],
    };
    return frame('message_start', { message: { ...message, stop_reason: null, stop_sequence: null, usage } });
  }

  private chunk(chunk: JsonObject): string {
    let out = this.start();
    if (chunk.usage !== undefined && chunk.usage !== null) this.usage = usageFromOpenAI(chunk.usage);
    const choice = (Array.isArray(chunk.choices) ? chunk.choices : []).find(
      (c: JsonObject) => (c.index ?? 0) === 0,
    ) as JsonObject | undefined;
    if (choice === undefined) return out;
    const delta = (choice.delta ?? {}) as JsonObject;
    if (typeof delta.reasoning_content === 'string' && delta.reasoning_content !== '')
      out += this.delta('thinking', { type: 'thinking_delta', thinking: delta.reasoning_content });
    for (const block of Array.isArray(delta.thinking_blocks) ? (delta.thinking_blocks as JsonObject[]) : []) {
      if (block.type === 'thinking' && typeof block.signature === 'string' && block.signature !== '')
        out += this.delta('thinking', { type: 'signature_delta', signature: block.signature });
      else if (block.type === 'redacted_thinking')
        out += this.openBlock('thinking', block) + this.closeBlock();
    }
    if (typeof delta.content === 'string' && delta.content !== '')
      out += this.delta('text', { type: 'text_delta', text: delta.content });
    for (const call of Array.isArray(delta.tool_calls) ? (delta.tool_calls as WireToolCall[]) : [])
      out += this.toolCall(call);
    if (choice.finish_reason !== null && choice.finish_reason !== undefined)
      this.finish = choice.finish_reason;
    return out;
  }

  private toolCall(call: WireToolCall): string {
    const key = call.index ?? 0;
    let out = '';
    let index = this.tools.get(key);
    if (index === undefined) {
      const id = call.id ?? `toolu_${newRequestId().slice(0, 24)}`;
      out += this.openBlock('tool', { type: 'tool_use', id, name: call.function?.name ?? '', input: {} });
      index = this.blocks - 1;
      this.tools.set(key, index);
    }
    const args = call.function?.arguments;
    if (typeof args === 'string' && args !== '') {
      const delta = { type: 'input_json_delta', partial_json: args };
      out += frame('content_block_delta', { index, delta });
    }
    return out;
  }

  /** A delta for the open block of `kind`, opening one (and closing another) first if needed. */
  private delta(kind: 'text' | 'thinking', delta: JsonObject): string {
    let out = '';
    if (this.open?.kind !== kind) {
      const start =
        kind === 'text' ? { type: 'text', text: '' } : { type: 'thinking', thinking: '', signature: '' };
      out += this.openBlock(kind, start);
    }
    return out + frame('content_block_delta', { index: this.open!.index, delta });
  }

  private openBlock(kind: BlockKind, block: JsonObject): string {
    const out = this.closeBlock();
    this.open = { kind, index: this.blocks++ };
    return out + frame('content_block_start', { index: this.open.index, content_block: block });
  }

  private closeBlock(): string {
    if (this.open === null) return '';
    const { index } = this.open;
    this.open = null;
    return frame('content_block_stop', { index });
  }

  private close(): string {
    const out = this.start() + this.closeBlock();
    this.done = true;
    const usage = this.usage === null ? { output_tokens: 0 } : anthropicUsageOf(this.usage);
    const delta = { stop_reason: stopReasonOf(this.finish), stop_sequence: null };
    return out + frame('message_delta', { delta, usage }) + frame('message_stop', {});
  }
}
