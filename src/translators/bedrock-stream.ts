import { GatewayError } from '../core/errors.ts';
import type { Usage } from '../core/usage.ts';
import type { StreamTranslator, TranslateInput } from '../contracts/translator.ts';
import { EventStreamDecoder, stringHeader, type EventStreamMessage } from './aws-event-stream.ts';
import { bedrockException, bedrockUsage, finishReason } from './bedrock-response.ts';
import type { BedrockStreamEvents } from './bedrock-types.ts';
import { ChunkWriter } from './openai-chat-response.ts';

// ConverseStream (binary AWS event stream) → chat.completion.chunk frames. Text deltas become content,
// reasoning deltas reasoning_content; a toolUse block start opens a tool call (id and name) and its
// input deltas stream as arguments. messageStop carries the stop reason and marks the stream done;
// the metadata event after it carries usage, which end() sends (when asked) before [DONE].

type Events = BedrockStreamEvents;

export class BedrockStream implements StreamTranslator {
  usage: Usage | null = null;
  done = false;
  error: GatewayError | null = null;
  sawContent = false;
  private readonly decoder = new EventStreamDecoder();
  private readonly writer: ChunkWriter;
  private readonly clientWantsUsage: boolean;
  /** contentBlockIndex of each open tool-use block → its tool_calls[].index. */
  private readonly toolIndex = new Map<number, number>();

  constructor(input: TranslateInput) {
    this.writer = new ChunkWriter(input.model);
    this.clientWantsUsage = input.clientWantsUsage;
  }

  push(chunk: Buffer): string | null {
    if (this.error !== null) return null;
    let out = '';
    for (const message of this.decoder.push(chunk)) {
      out += this.message(message);
      if (this.error !== null) break;
    }
    if (this.error === null && this.decoder.error !== null) this.error = this.decoder.error;
    if (out === '') return null;
    this.sawContent = true;
    return out;
  }

  end(): string | null {
    // A stream cut before messageStop (or mid-message) stays not-done: no fake [DONE].
    return this.done && this.error === null ? this.writer.close(this.usage, this.clientWantsUsage) : null;
  }

  private message(message: EventStreamMessage): string {
    const messageType = stringHeader(message, ':message-type');
    if (messageType === 'exception') {
      this.error = bedrockException(
        stringHeader(message, ':exception-type') ?? 'unknownException',
        message.payload,
      );
      return '';
    }
    if (messageType === 'error') {
      const detail =
        stringHeader(message, ':error-message') ?? stringHeader(message, ':error-code') ?? 'unknown error';
      this.error = new GatewayError(
        'upstream_stream_error',
        `The upstream provider failed mid-stream: ${detail}`,
      );
      return '';
    }
    let payload: unknown;
    try {
      payload = JSON.parse(message.payload.toString('utf8'));
    } catch (cause) {
      this.error = new GatewayError(
        'upstream_stream_error',
        'The upstream provider sent an unreadable event.',
        { cause },
      );
      return '';
    }
    return this.event(stringHeader(message, ':event-type') ?? '', payload);
  }

  private event(type: string, payload: unknown): string {
    switch (type) {
      case 'contentBlockStart':
        return this.blockStart(payload as Events['contentBlockStart']);
      case 'contentBlockDelta':
        return this.blockDelta(payload as Events['contentBlockDelta']);
      case 'messageStop': {
        this.done = true;
        const reason = finishReason((payload as Events['messageStop']).stopReason);
        return this.writer.finish(0, reason === 'stop' && this.toolIndex.size > 0 ? 'tool_calls' : reason);
      }
      case 'metadata': {
        const usage = bedrockUsage((payload as Events['metadata']).usage);
        if (usage !== null) this.usage = usage;
        return '';
      }
      default:
        // messageStart (the role goes out with the first delta), contentBlockStop, unknown events.
        return '';
    }
  }

  private blockStart(event: Events['contentBlockStart']): string {
    const toolUse = event.start?.toolUse;
    if (toolUse === undefined) return '';
    const index = this.toolIndex.size;
    this.toolIndex.set(event.contentBlockIndex, index);
    const call = {
      index,
      id: toolUse.toolUseId,
      type: 'function',
      function: { name: toolUse.name, arguments: '' },
    };
    return this.writer.delta(0, { tool_calls: [call] });
  }

  private blockDelta(event: Events['contentBlockDelta']): string {
    const delta = event.delta;
    if (delta === undefined) return '';
    if (typeof delta.text === 'string') return delta.text === '' ? '' : this.writer.text(0, delta.text);
    if (delta.toolUse !== undefined) {
      const index = this.toolIndex.get(event.contentBlockIndex);
      if (index === undefined || delta.toolUse.input === '') return '';
      return this.writer.delta(0, { tool_calls: [{ index, function: { arguments: delta.toolUse.input } }] });
    }
    const reasoning = delta.reasoningContent?.text;
    return typeof reasoning === 'string' && reasoning !== ''
      ? this.writer.delta(0, { reasoning_content: reasoning })
      : '';
  }
}
