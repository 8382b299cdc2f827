import { openAIErrorBody, GatewayError } from '../core/errors.ts';
import { nextBoundaryEnd, parseSseFrame, SseFramer, sseFrame } from '../core/sse.ts';
import type { Usage } from '../core/usage.ts';
import type { JsonObject } from '../contracts/request.ts';
import type { StreamTranslator, TranslateInput } from '../contracts/translator.ts';
import { streamError } from './anthropic-error.ts';
import { anthropicUsage, finishReason, mergeUsage } from './anthropic-response.ts';
import type { AnthropicUsage, BlockDelta, ContentBlock, StreamEvent } from './anthropic-types.ts';
import { ChunkFrames, scanDelta, type RawDelta } from './anthropic-stream-frames.ts';
import type { FinishReason } from './openai-chat-response.ts';

// Anthropic Messages SSE → chat.completion.chunk frames, event by event:
//   message_start                 model and input usage (nothing is sent: an error that follows can still
//                                 become a plain error response, or a failover)
//   content_block_start           text/thinking: their initial text if any; tool_use: a tool_calls delta
//                                 with id, name and empty arguments at the next tool_calls index;
//                                 redacted_thinking: a thinking_blocks delta
//   content_block_delta           text_delta → content; thinking_delta → reasoning_content;
//                                 signature_delta → thinking_blocks [{type:'thinking', thinking:'', signature}];
//                                 input_json_delta → tool_calls[index].function.arguments
//   content_block_stop            a tool call that received no arguments gets "{}" (valid JSON for clients)
//   message_delta                 output usage; stop_reason → the finish_reason chunk
//   message_stop                  usage chunk (choices: []) when the client asked for it, then [DONE]
//   ping, unknown events          nothing (Anthropic may add event types)
//   error                         .error is set and the client gets the OpenAI-shaped error frame; no
//                                 finish_reason and no [DONE] follow
// String deltas in Anthropic's compact layout skip JSON.parse (anthropic-stream-frames.ts); the property
// tests check both paths give the same chunks.

interface ToolState {
  readonly index: number;
  argChars: number;
}

export class AnthropicStream implements StreamTranslator {
  usage: Usage | null = null;
  done = false;
  error: GatewayError | null = null;
  sawContent = false;
  private readonly framer = new SseFramer();
  private readonly clientWantsUsage: boolean;
  private model: string;
  private writerRef: ChunkFrames | null = null;
  private rawUsage: AnthropicUsage = {};
  /** tool_use blocks by Anthropic content index. */
  private readonly tools = new Map<number, ToolState>();
  private finish: FinishReason | null = null;

  constructor(input: TranslateInput) {
    this.model = input.model;
    this.clientWantsUsage = input.clientWantsUsage;
  }

  push(chunk: Buffer): string | null {
    if (this.error !== null || this.done) return null;
    const frames = this.framer.push(chunk);
    return frames === null ? null : this.translate(frames);
  }

  end(): string | null {
    const rest = this.error === null && !this.done ? this.framer.flush() : null;
    return rest === null ? null : this.translate(rest);
  }

  private get writer(): ChunkFrames {
    this.writerRef ??= new ChunkFrames(this.model);
    return this.writerRef;
  }

  private translate(frames: Buffer): string | null {
    let out = '';
    let start = 0;
    while (start < frames.length && this.error === null && !this.done) {
      let end = nextBoundaryEnd(frames, start);
      if (end === -1) end = frames.length;
      const raw = scanDelta(frames, start, end);
      if (raw !== null) out += this.raw(raw);
      else {
        const data = parseSseFrame(frames.toString('utf8', start, end).trimEnd())?.data;
        if (data !== undefined && data !== '') out += this.data(data);
      }
      start = end;
    }
    return out === '' ? null : out;
  }

  private data(data: string): string {
    let event: StreamEvent;
    try {
      event = JSON.parse(data) as StreamEvent;
    } catch (cause) {
      const message = 'The upstream provider sent an unreadable event.';
      this.error = new GatewayError('upstream_stream_error', message, { cause });
      return '';
    }
    return this.event(event);
  }

  /** The fast path: a string delta copied as its JSON literal (see anthropic-stream-frames.ts). */
  private raw({ kind, index, literal }: RawDelta): string {
    if (literal.length <= 2) return ''; // ""
    switch (kind) {
      case 'text':
        return this.deltaJson(`{"content":${literal}}`);
      case 'thinking':
        return this.deltaJson(`{"reasoning_content":${literal}}`);
      case 'json': {
        const tool = this.tools.get(index);
        if (tool === undefined) return '';
        tool.argChars += literal.length - 2;
        return this.deltaJson(`{"tool_calls":[{"index":${tool.index},"function":{"arguments":${literal}}}]}`);
      }
    }
  }

  private event(event: StreamEvent): string {
    switch (event.type) {
      case 'message_start':
        if (typeof event.message?.model === 'string') this.model = event.message.model;
        this.addUsage(event.message?.usage);
        return '';
      case 'content_block_start':
        return this.blockStart(event.index, event.content_block);
      case 'content_block_delta':
        return this.blockDelta(event.index, event.delta);
      case 'content_block_stop': {
        const tool = this.tools.get(event.index);
        if (tool === undefined || tool.argChars > 0) return '';
        tool.argChars = 2;
        return this.delta({ tool_calls: [{ index: tool.index, function: { arguments: '{}' } }] });
      }
      case 'message_delta':
        this.addUsage(event.usage);
        if (event.delta?.stop_reason == null || this.finish !== null) return '';
        this.finish = finishReason(event.delta.stop_reason);
        return this.writer.delta('{}', this.finish);
      case 'message_stop': {
        this.done = true;
        const last = this.finish === null ? this.writer.delta('{}', 'stop') : '';
        return last + this.writer.close(this.usage, this.clientWantsUsage);
      }
      case 'error':
        this.error = streamError(event);
        return sseFrame(openAIErrorBody(this.error));
      case 'ping':
      default:
        return '';
    }
  }

  private blockStart(index: number, block: ContentBlock): string {
    switch (block.type) {
      case 'text':
        return block.text ? this.delta({ content: block.text }) : '';
      case 'thinking':
        return block.thinking ? this.delta({ reasoning_content: block.thinking }) : '';
      case 'redacted_thinking':
        return this.delta({ thinking_blocks: [block] });
      case 'tool_use': {
        const tool: ToolState = { index: this.tools.size, argChars: 0 };
        this.tools.set(index, tool);
        const input = block.input as JsonObject | null | undefined;
        const args = input && Object.keys(input).length > 0 ? JSON.stringify(input) : '';
        tool.argChars = args.length;
        const fn = { name: block.name, arguments: args };
        return this.delta({
          tool_calls: [{ index: tool.index, id: block.id, type: 'function', function: fn }],
        });
      }
      case 'image':
      case 'document':
      case 'tool_result':
      default: // server tool blocks and later additions have no chat equivalent
        return '';
    }
  }

  private blockDelta(index: number, delta: BlockDelta): string {
    switch (delta.type) {
      case 'text_delta':
        return delta.text ? this.delta({ content: delta.text }) : '';
      case 'thinking_delta':
        return delta.thinking ? this.delta({ reasoning_content: delta.thinking }) : '';
      case 'signature_delta':
        return this.delta({
          thinking_blocks: [{ type: 'thinking', thinking: '', signature: delta.signature }],
        });
      case 'input_json_delta': {
        const tool = this.tools.get(index);
        if (tool === undefined || !delta.partial_json) return '';
        tool.argChars += delta.partial_json.length;
        return this.delta({
          tool_calls: [{ index: tool.index, function: { arguments: delta.partial_json } }],
        });
      }
      case 'citations_delta':
      default:
        return '';
    }
  }

  private delta(delta: JsonObject): string {
    return this.deltaJson(JSON.stringify(delta));
  }

  private deltaJson(json: string): string {
    this.sawContent = true;
    return this.writer.delta(json);
  }

  private addUsage(usage: AnthropicUsage | undefined): void {
    if (usage === undefined || usage === null) return;
    this.rawUsage = mergeUsage(this.rawUsage, usage);
    this.usage = anthropicUsage(this.rawUsage);
  }
}
