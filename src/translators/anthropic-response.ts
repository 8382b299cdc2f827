import { GatewayError } from '../core/errors.ts';
import { usageToOpenAI, type Usage } from '../core/usage.ts';
import type { JsonObject } from '../contracts/request.ts';
import type { TranslatedResponse } from '../contracts/translator.ts';
import type { AnthropicMessage, AnthropicUsage, ContentBlock, StopReason } from './anthropic-types.ts';
import { completionId, type FinishReason } from './openai-chat-response.ts';

// An Anthropic Message → an OpenAI chat.completion. Text blocks join into `content`; tool_use blocks become
// `tool_calls` with JSON-string arguments; thinking becomes `reasoning_content` (its text) plus
// `thinking_blocks` (the signed blocks, which a client must hand back on the next turn for Anthropic to
// accept tool use with thinking on — the LiteLLM convention). Server-tool blocks (web search results…) have
// no chat equivalent and are left out.

function count(value: number | null | undefined): number {
  return typeof value === 'number' && Number.isFinite(value) && value > 0 ? value : 0;
}

/**
 * Anthropic usage → the gateway's Usage. Anthropic's input_tokens excludes cached tokens, so prompt tokens
 * are input + cache reads + cache writes, of which cache reads are `cachedInputTokens`.
 */
export function anthropicUsage(usage: AnthropicUsage | null | undefined): Usage | null {
  if (typeof usage !== 'object' || usage === null) return null;
  const read = count(usage.cache_read_input_tokens);
  const write = count(usage.cache_creation_input_tokens);
  return {
    inputTokens: count(usage.input_tokens) + read + write,
    outputTokens: count(usage.output_tokens),
    cachedInputTokens: read,
    cacheWriteTokens: write,
    reasoningTokens: count(usage.output_tokens_details?.thinking_tokens),
  };
}

/** Merge a later usage report (message_delta) over an earlier one (message_start): reported fields win. */
export function mergeUsage(
  earlier: AnthropicUsage,
  later: AnthropicUsage | null | undefined,
): AnthropicUsage {
  if (typeof later !== 'object' || later === null) return earlier;
  const out: Record<string, unknown> = { ...earlier };
  for (const [key, value] of Object.entries(later))
    if (value !== null && value !== undefined) out[key] = value;
  return out;
}

const FINISH: Readonly<Record<StopReason, FinishReason>> = {
  end_turn: 'stop',
  stop_sequence: 'stop',
  pause_turn: 'stop',
  max_tokens: 'length',
  model_context_window_exceeded: 'length',
  tool_use: 'tool_calls',
  refusal: 'content_filter',
};

export function finishReason(stop: string | null | undefined): FinishReason {
  return (stop === null || stop === undefined ? undefined : FINISH[stop as StopReason]) ?? 'stop';
}

function chatMessage(content: readonly ContentBlock[]): JsonObject {
  let text = '';
  let reasoning = '';
  const thinking: ContentBlock[] = [];
  const toolCalls: JsonObject[] = [];
  for (const block of content) {
    if (block.type === 'text') text += block.text;
    else if (block.type === 'tool_use') {
      const args = JSON.stringify(block.input ?? {});
      toolCalls.push({ id: block.id, type: 'function', function: { name: block.name, arguments: args } });
    } else if (block.type === 'thinking') {
      reasoning += block.thinking;
      thinking.push(block);
    } else if (block.type === 'redacted_thinking') thinking.push(block);
  }
  const message: JsonObject = {
    role: 'assistant',
    content: text === '' && toolCalls.length > 0 ? null : text,
    refusal: null,
  };
  if (reasoning !== '') message.reasoning_content = reasoning;
  if (thinking.length > 0) message.thinking_blocks = thinking;
  if (toolCalls.length > 0) message.tool_calls = toolCalls;
  return message;
}

export function chatCompletionFrom(body: Buffer, model: string): TranslatedResponse {
  let message: AnthropicMessage;
  try {
    message = JSON.parse(body.toString('utf8')) as AnthropicMessage;
  } catch (cause) {
    throw new GatewayError('upstream_error', 'The upstream provider sent an unreadable response.', { cause });
  }
  if (typeof message !== 'object' || message === null || !Array.isArray(message.content)) {
    throw new GatewayError('upstream_error', 'The upstream provider sent an unexpected response.');
  }
  const usage = anthropicUsage(message.usage);
  const out: JsonObject = {
    id: completionId(),
    object: 'chat.completion',
    created: Math.floor(Date.now() / 1000),
    model: typeof message.model === 'string' ? message.model : model,
    choices: [
      {
        index: 0,
        message: chatMessage(message.content),
        logprobs: null,
        finish_reason: finishReason(message.stop_reason),
      },
    ],
  };
  if (usage !== null) out.usage = usageToOpenAI(usage);
  return { body: JSON.stringify(out), usage };
}
