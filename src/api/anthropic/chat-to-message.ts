import { GatewayError } from '../../core/errors.ts';
import { newRequestId } from '../../core/ids.ts';
import { usageFromOpenAI } from '../../core/usage.ts';
import type { JsonObject } from '../../contracts/request.ts';
import type { ContentBlock } from '../../translators/anthropic-types.ts';
import { anthropicUsageOf, stopReasonOf } from './usage.ts';

// An OpenAI chat.completion → an Anthropic Message (the /v1/messages answer when the upstream spoke chat).
// Only the first choice is used (Messages has one). Content order follows Anthropic's: thinking, text,
// tool_use. Reasoning text without a signed block becomes a thinking block with an empty signature (it
// can be shown, but an Anthropic upstream would refuse it if sent back). Tool call arguments that are not a
// JSON object become `{}` (Anthropic's input must be an object).

export function messageId(): string {
  return `msg_${newRequestId().slice(0, 24)}`;
}

function toolInput(args: unknown): unknown {
  if (typeof args !== 'string' || args.trim() === '') return {};
  try {
    const parsed = JSON.parse(args) as unknown;
    return typeof parsed === 'object' && parsed !== null && !Array.isArray(parsed) ? parsed : {};
  } catch {
    return {};
  }
}

function contentOf(message: JsonObject): ContentBlock[] {
  const blocks: ContentBlock[] = [];
  if (Array.isArray(message.thinking_blocks)) blocks.push(...(message.thinking_blocks as ContentBlock[]));
  else if (typeof message.reasoning_content === 'string' && message.reasoning_content !== '')
    blocks.push({ type: 'thinking', thinking: message.reasoning_content, signature: '' });
  const text = typeof message.content === 'string' ? message.content : '';
  if (text !== '') blocks.push({ type: 'text', text });
  const calls = Array.isArray(message.tool_calls) ? (message.tool_calls as JsonObject[]) : [];
  for (const call of calls) {
    const fn = (call.function ?? {}) as { name?: unknown; arguments?: unknown };
    const id = typeof call.id === 'string' ? call.id : `toolu_${newRequestId().slice(0, 24)}`;
    blocks.push({
      type: 'tool_use',
      id,
      name: typeof fn.name === 'string' ? fn.name : '',
      input: toolInput(fn.arguments),
    });
  }
  return blocks;
}

/** The Anthropic Message JSON for a chat.completion body. `model` is used when the body names none. */
export function chatToMessage(body: Buffer | string, model: string): string {
  let completion: JsonObject;
  try {
    completion = JSON.parse(body.toString()) as JsonObject;
  } catch (cause) {
    throw new GatewayError('upstream_error', 'The upstream provider sent an unreadable response.', { cause });
  }
  const choice = (Array.isArray(completion.choices) ? completion.choices[0] : undefined) as
    JsonObject | undefined;
  if (choice === undefined || typeof choice.message !== 'object' || choice.message === null) {
    throw new GatewayError('upstream_error', 'The upstream provider sent an unexpected response.');
  }
  return JSON.stringify({
    id: messageId(),
    type: 'message',
    role: 'assistant',
    model: typeof completion.model === 'string' ? completion.model : model,
    content: contentOf(choice.message as JsonObject),
    stop_reason: stopReasonOf(choice.finish_reason),
    stop_sequence: null,
    usage: anthropicUsageOf(usageFromOpenAI(completion.usage)),
  });
}
