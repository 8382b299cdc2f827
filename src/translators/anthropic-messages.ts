import type { JsonObject } from '../contracts/request.ts';
import type {
  ContentBlock,
  DocumentBlock,
  ImageBlock,
  MessageParam,
  TextBlock,
  ToolResultBlock,
} from './anthropic-types.ts';
import {
  contentParts,
  imageUrlOf,
  invalid,
  parseArguments,
  parseDataUrl,
  type ChatContentPart,
  type ChatMessage,
} from './openai-chat-request.ts';

// OpenAI chat messages → Anthropic `system` and `messages`. System and developer messages are hoisted into
// `system`; tool results become tool_result blocks in a user turn; consecutive messages of one role merge
// into one turn (Anthropic alternates user and assistant, and tool results must lead their user turn).
// `cache_control` is kept wherever the client put it: on a content part, or on a whole message (applied to
// the message's last block, the convention LiteLLM clients use).

type Block = ContentBlock;

function withCache<T extends Block>(block: T, cacheControl: unknown): T {
  return cacheControl === undefined || cacheControl === null
    ? block
    : { ...block, cache_control: cacheControl };
}

function imageBlock(url: string, cacheControl: unknown): ImageBlock {
  const data = parseDataUrl(url);
  const source: ImageBlock['source'] =
    data === null ? { type: 'url', url } : { type: 'base64', media_type: data.mimeType, data: data.data };
  return withCache({ type: 'image', source }, cacheControl);
}

function documentBlock(part: ChatContentPart, param: string): DocumentBlock {
  const fileData = part.file?.file_data;
  const data = typeof fileData === 'string' ? parseDataUrl(fileData) : null;
  if (data === null) throw invalid('file parts must carry file_data as a data: URL', param);
  const source: DocumentBlock['source'] =
    data.mimeType === 'text/plain'
      ? { type: 'text', media_type: 'text/plain', data: Buffer.from(data.data, 'base64').toString('utf8') }
      : { type: 'base64', media_type: data.mimeType, data: data.data };
  const title = part.file?.filename;
  return withCache(
    { type: 'document', source, ...(title === undefined ? {} : { title }) },
    part.cache_control,
  );
}

function partBlock(part: ChatContentPart, param: string): Block | null {
  switch (part.type) {
    case 'text':
      if (typeof part.text !== 'string') throw invalid('text parts need a text string', param);
      return part.text === '' ? null : withCache({ type: 'text', text: part.text }, part.cache_control);
    case 'image_url': {
      const url = imageUrlOf(part);
      if (typeof url !== 'string') throw invalid('image_url parts need a url', param);
      return imageBlock(url, part.cache_control);
    }
    case 'file':
      return documentBlock(part, param);
    case 'refusal':
      return null;
    default:
      throw invalid(`content part type '${part.type}' is not supported by this provider`, param);
  }
}

function contentBlocks(content: ChatMessage['content'], param: string): Block[] {
  if (typeof content === 'string') return content === '' ? [] : [{ type: 'text', text: content }];
  const blocks: Block[] = [];
  contentParts(content).forEach((part, j) => {
    const block = partBlock(part, `${param}[${j}]`);
    if (block !== null) blocks.push(block);
  });
  return blocks;
}

function toolResult(message: ChatMessage, param: string): ToolResultBlock {
  if (typeof message.tool_call_id !== 'string') throw invalid('tool messages need tool_call_id', param);
  const { content } = message;
  const inner =
    typeof content === 'string' ? content : (contentBlocks(content, `${param}.content`) as TextBlock[]);
  return { type: 'tool_result', tool_use_id: message.tool_call_id, content: inner };
}

function assistantBlocks(message: ChatMessage & JsonObject, param: string): Block[] {
  // Signed thinking blocks handed back by the client (as this translator returned them) lead the turn:
  // Anthropic needs them before tool_use blocks when extended thinking is on.
  const thinking = Array.isArray(message.thinking_blocks) ? (message.thinking_blocks as Block[]) : [];
  const blocks = [...thinking, ...contentBlocks(message.content, `${param}.content`)];
  (message.tool_calls ?? []).forEach((call, j) => {
    const at = `${param}.tool_calls[${j}]`;
    if (typeof call?.id !== 'string' || typeof call.function?.name !== 'string')
      throw invalid('tool calls need an id and a function name', at);
    const input = parseArguments(call.function.arguments ?? '', `${at}.function.arguments`);
    blocks.push({ type: 'tool_use', id: call.id, name: call.function.name, input });
  });
  return blocks;
}

export interface ConvertedMessages {
  readonly system: TextBlock[];
  readonly messages: MessageParam[];
}

export function anthropicMessages(chat: readonly ChatMessage[]): ConvertedMessages {
  const system: TextBlock[] = [];
  const turns: { role: 'user' | 'assistant'; content: Block[] }[] = [];
  chat.forEach((raw, i) => {
    const message = raw as ChatMessage & JsonObject;
    const param = `messages[${i}]`;
    let blocks: Block[];
    let role: 'user' | 'assistant' = 'user';
    if (message.role === 'system' || message.role === 'developer') {
      blocks = contentBlocks(message.content, `${param}.content`);
      if (blocks.some((b) => b.type !== 'text')) throw invalid('system messages take text only', param);
    } else if (message.role === 'tool') blocks = [toolResult(message, param)];
    else if (message.role === 'assistant') {
      blocks = assistantBlocks(message, param);
      role = 'assistant';
    } else blocks = contentBlocks(message.content, `${param}.content`);
    const last = blocks.at(-1);
    if (last !== undefined && message.cache_control != null)
      blocks[blocks.length - 1] = withCache(last, message.cache_control);
    if (message.role === 'system' || message.role === 'developer') system.push(...(blocks as TextBlock[]));
    else if (blocks.length > 0) {
      const turn = turns.at(-1);
      if (turn?.role === role) turn.content.push(...blocks);
      else turns.push({ role, content: blocks });
    }
  });
  return { system, messages: turns.map(({ role, content }) => ({ role, content: collapse(content) })) };
}

/** A turn that is one plain text block is sent as a string, as a client would write it. */
function collapse(content: Block[]): string | Block[] {
  const only = content.length === 1 ? content[0] : undefined;
  return only?.type === 'text' && Object.keys(only).length === 2 ? only.text : content;
}
