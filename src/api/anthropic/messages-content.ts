import { GatewayError } from '../../core/errors.ts';
import type { JsonObject } from '../../contracts/request.ts';
import type {
  ContentBlock,
  ImageBlock,
  MessageParam,
  ToolResultBlock,
} from '../../translators/anthropic-types.ts';

// Anthropic message content → OpenAI chat messages. One Anthropic turn can become several chat messages:
// a user turn's tool_result blocks become `tool` messages (first, as chat requires them right after the
// assistant's tool calls), then the rest of the turn is a user message. Images inside tool results go to
// that user message, since chat tool messages carry text only.

export interface ContentOptions {
  /** Keep Anthropic extensions (cache_control, signed thinking blocks) on the chat body. */
  readonly extensions: boolean;
}

export function invalid(message: string, param: string): GatewayError {
  return new GatewayError('invalid_request', message, { param });
}

type Part = JsonObject;

function withCache(part: Part, block: { cache_control?: unknown }, options: ContentOptions): Part {
  return options.extensions && block.cache_control != null
    ? { ...part, cache_control: block.cache_control }
    : part;
}

function imagePart(block: ImageBlock, param: string): Part {
  const { source } = block;
  if (source?.type === 'base64') {
    return { type: 'image_url', image_url: { url: `data:${source.media_type};base64,${source.data}` } };
  }
  if (source?.type === 'url') return { type: 'image_url', image_url: { url: source.url } };
  throw invalid('images must have a base64 or url source for this model', param);
}

function blockPart(block: ContentBlock, param: string, options: ContentOptions): Part | null {
  switch (block.type) {
    case 'text':
      return withCache({ type: 'text', text: block.text }, block, options);
    case 'image':
      return withCache(imagePart(block, param), block, options);
    case 'document': {
      const { source } = block;
      if (source?.type === 'text') return withCache({ type: 'text', text: source.data }, block, options);
      if (source?.type !== 'base64')
        throw invalid('documents must have a base64 or text source for this model', param);
      const file = {
        file_data: `data:${source.media_type};base64,${source.data}`,
        filename: block.title ?? 'document.pdf',
      };
      return withCache({ type: 'file', file }, block, options);
    }
    case 'thinking':
    case 'redacted_thinking':
    case 'tool_use':
    case 'tool_result':
      return null;
  }
}

function toolMessage(
  block: ToolResultBlock,
  param: string,
  options: ContentOptions,
  images: Part[],
): JsonObject {
  if (typeof block.tool_use_id !== 'string') throw invalid('tool_result needs tool_use_id', param);
  let content: string | Part[] = typeof block.content === 'string' ? block.content : '';
  if (Array.isArray(block.content)) {
    const parts: Part[] = [];
    (block.content as readonly ContentBlock[]).forEach((inner, j) => {
      const part = blockPart(inner, `${param}.content[${j}]`, options);
      if (part === null) return;
      if (part.type === 'image_url') images.push(part);
      else parts.push(part);
    });
    const plain = parts.every((p) => p.type === 'text' && p.cache_control === undefined);
    content = plain ? parts.map((p) => p.text as string).join('\n') : parts;
  }
  return withCache({ role: 'tool', tool_call_id: block.tool_use_id, content }, block, options);
}

function userMessages(blocks: readonly ContentBlock[], param: string, options: ContentOptions): JsonObject[] {
  const tools: JsonObject[] = [];
  const parts: Part[] = [];
  blocks.forEach((block, j) => {
    const at = `${param}[${j}]`;
    if (block.type === 'tool_result') tools.push(toolMessage(block, at, options, parts));
    else {
      const part = blockPart(block, at, options);
      if (part !== null) parts.push(part);
    }
  });
  return parts.length === 0 ? tools : [...tools, { role: 'user', content: parts }];
}

function assistantMessage(blocks: readonly ContentBlock[], options: ContentOptions): JsonObject {
  let text = '';
  const toolCalls: JsonObject[] = [];
  const thinking: ContentBlock[] = [];
  for (const block of blocks) {
    if (block.type === 'text') text += block.text;
    else if (block.type === 'tool_use') {
      const fn = { name: block.name, arguments: JSON.stringify(block.input ?? {}) };
      toolCalls.push({ id: block.id, type: 'function', function: fn });
    } else if (block.type === 'thinking' || block.type === 'redacted_thinking') thinking.push(block);
  }
  const message: JsonObject = {
    role: 'assistant',
    content: text === '' && toolCalls.length > 0 ? null : text,
  };
  if (toolCalls.length > 0) message.tool_calls = toolCalls;
  if (options.extensions && thinking.length > 0) message.thinking_blocks = thinking;
  return message;
}

/** One Anthropic message → the chat messages it stands for. */
export function chatMessagesOf(message: MessageParam, param: string, options: ContentOptions): JsonObject[] {
  const { content } = message;
  // Recent API versions also accept system messages inside `messages`.
  const role = message.role as string;
  if (role !== 'user' && role !== 'assistant' && role !== 'system')
    throw invalid("role must be 'user', 'assistant' or 'system'", `${param}.role`);
  if (typeof content === 'string') return [{ role, content }];
  if (!Array.isArray(content))
    throw invalid('content must be a string or an array of blocks', `${param}.content`);
  const blocks = content as readonly ContentBlock[];
  if (role === 'system')
    return [{ role, content: blocks.map((b) => (b.type === 'text' ? b.text : '')).join('\n\n') }];
  return role === 'assistant'
    ? [assistantMessage(blocks, options)]
    : userMessages(blocks, `${param}.content`, options);
}
