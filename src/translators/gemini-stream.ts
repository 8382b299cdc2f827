import { GatewayError } from '../core/errors.ts';
import { SseFramer, sseEvents } from '../core/sse.ts';
import type { Usage } from '../core/usage.ts';
import type { StreamTranslator, TranslateInput } from '../contracts/translator.ts';
import { ChunkWriter } from './openai-chat-response.ts';
import { finishReason, geminiError, geminiUsage, toolCallFrom } from './gemini-response.ts';
import type { GeminiCandidate, GeminiErrorBody, GeminiResponse } from './gemini-types.ts';

// streamGenerateContent?alt=sse → chat.completion.chunk frames. Each SSE event is a whole
// GenerateContentResponse: text parts become content deltas, thought parts reasoning_content deltas,
// function calls (always complete in one event) tool_calls deltas. Gemini has no terminal event: the
// event carrying a finishReason marks the stream done, and end() then adds usage and [DONE].

export class GeminiStream implements StreamTranslator {
  usage: Usage | null = null;
  done = false;
  error: GatewayError | null = null;
  sawContent = false;
  private readonly framer = new SseFramer();
  private readonly writer: ChunkWriter;
  private readonly clientWantsUsage: boolean;
  /** Tool calls sent so far per choice index (the next tool_calls[].index). */
  private readonly toolCalls = new Map<number, number>();

  constructor(input: TranslateInput) {
    this.writer = new ChunkWriter(input.model);
    this.clientWantsUsage = input.clientWantsUsage;
  }

  push(chunk: Buffer): string | null {
    if (this.error !== null) return null;
    const frames = this.framer.push(chunk);
    return frames === null ? null : this.translate(frames);
  }

  end(): string | null {
    const rest = this.error === null ? this.framer.flush() : null;
    let out = rest === null ? '' : (this.translate(rest) ?? '');
    // Never a fake [DONE]: a stream cut before its finishReason stays not-done for the caller to report.
    if (this.done && this.error === null) out += this.writer.close(this.usage, this.clientWantsUsage);
    return out === '' ? null : out;
  }

  private translate(frames: Buffer): string | null {
    let out = '';
    for (const event of sseEvents(frames)) {
      if (event.data === '' || event.data === '[DONE]') continue;
      let response: GeminiResponse & GeminiErrorBody;
      try {
        response = JSON.parse(event.data) as GeminiResponse & GeminiErrorBody;
      } catch (cause) {
        this.error = new GatewayError(
          'upstream_stream_error',
          'The upstream provider sent an unreadable event.',
          { cause },
        );
        break;
      }
      if (response.error !== undefined) {
        this.error = geminiError(200, response);
        break;
      }
      out += this.response(response);
    }
    if (out === '') return null;
    this.sawContent = true;
    return out;
  }

  private response(response: GeminiResponse): string {
    const usage = geminiUsage(response.usageMetadata);
    if (usage !== null) this.usage = usage;
    const candidates = response.candidates ?? [];
    if (candidates.length === 0 && response.promptFeedback?.blockReason !== undefined) {
      this.done = true;
      return this.writer.finish(0, 'content_filter');
    }
    let out = '';
    candidates.forEach((candidate, position) => {
      out += this.candidate(candidate, candidate.index ?? position);
    });
    return out;
  }

  private candidate(candidate: GeminiCandidate, index: number): string {
    let out = '';
    for (const part of candidate.content?.parts ?? []) {
      const call = toolCallFrom(part);
      if (call !== null) {
        const n = this.toolCalls.get(index) ?? 0;
        this.toolCalls.set(index, n + 1);
        out += this.writer.delta(index, { tool_calls: [{ index: n, ...call }] });
      } else if (typeof part.text === 'string' && part.text !== '') {
        out += this.writer.delta(
          index,
          part.thought === true ? { reasoning_content: part.text } : { content: part.text },
        );
      }
    }
    const reason = finishReason(candidate.finishReason, (this.toolCalls.get(index) ?? 0) > 0);
    if (reason !== null) {
      out += this.writer.finish(index, reason);
      this.done = true;
    }
    return out;
  }
}
