import { newRequestId } from '../core/ids.ts';
import { SSE_DONE, sseFrame } from '../core/sse.ts';
import { usageToOpenAI, type Usage } from '../core/usage.ts';
import type { JsonObject } from '../contracts/request.ts';
import type { ChatToolCall } from './openai-chat-request.ts';

// Building OpenAI chat responses (chat.completion and chat.completion.chunk) for translators whose
// upstream speaks another schema. Ids are generated here because those upstreams have none to reuse.

export type FinishReason = 'stop' | 'length' | 'tool_calls' | 'content_filter';

export function completionId(): string {
  return `chatcmpl-${newRequestId()}`;
}

export function toolCallId(): string {
  return `call_${newRequestId().slice(0, 24)}`;
}

export interface ChoiceOut {
  readonly index: number;
  readonly text: string;
  readonly reasoning: string;
  readonly toolCalls: readonly ChatToolCall[];
  readonly finishReason: FinishReason;
}

function message(choice: ChoiceOut): JsonObject {
  const out: JsonObject = {
    role: 'assistant',
    content: choice.text === '' && choice.toolCalls.length > 0 ? null : choice.text,
    refusal: null,
  };
  if (choice.reasoning !== '') out.reasoning_content = choice.reasoning;
  if (choice.toolCalls.length > 0) out.tool_calls = choice.toolCalls;
  return out;
}

/** A chat.completion body. */
export function chatCompletion(model: string, choices: readonly ChoiceOut[], usage: Usage | null): string {
  const body: JsonObject = {
    id: completionId(),
    object: 'chat.completion',
    created: Math.floor(Date.now() / 1000),
    model,
    choices: choices.map((choice) => ({
      index: choice.index,
      message: message(choice),
      logprobs: null,
      finish_reason: choice.finishReason,
    })),
  };
  if (usage !== null) body.usage = usageToOpenAI(usage);
  return JSON.stringify(body);
}

/** Writes chat.completion.chunk SSE frames for one stream: one id, one created time, one model. */
export class ChunkWriter {
  private readonly head: string;
  private readonly rolesSent = new Set<number>();

  constructor(model: string) {
    const head = JSON.stringify({
      id: completionId(),
      object: 'chat.completion.chunk',
      created: Math.floor(Date.now() / 1000),
      model,
    });
    // The fixed fields, serialised once; every frame appends its choices to them.
    this.head = head.slice(0, -1);
  }

  /** A frame with one choice delta. The first delta of each choice carries the assistant role. */
  delta(index: number, delta: JsonObject, finishReason: FinishReason | null = null): string {
    let body = delta;
    if (!this.rolesSent.has(index)) {
      this.rolesSent.add(index);
      body = { role: 'assistant', ...delta };
    }
    const choice = { index, delta: body, logprobs: null, finish_reason: finishReason };
    return sseFrame(`${this.head},"choices":[${JSON.stringify(choice)}]}`);
  }

  text(index: number, content: string): string {
    return this.delta(index, { content });
  }

  finish(index: number, reason: FinishReason): string {
    return this.delta(index, {}, reason);
  }

  /** The usage-only frame OpenAI sends last when stream_options.include_usage is set. */
  usage(usage: Usage): string {
    return sseFrame(`${this.head},"choices":[],"usage":${JSON.stringify(usageToOpenAI(usage))}}`);
  }

  /** The closing frames: usage when the client asked for it, then [DONE]. */
  close(usage: Usage | null, clientWantsUsage: boolean): string {
    return clientWantsUsage && usage !== null ? this.usage(usage) + SSE_DONE : SSE_DONE;
  }
}
