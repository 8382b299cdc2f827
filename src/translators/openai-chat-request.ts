import { GatewayError } from '../core/errors.ts';
import type { JsonObject } from '../contracts/request.ts';

// Reading an OpenAI chat request for translators that rebuild it in another schema. The inbound layer
// checks the basic shape; these readers still treat every field as untrusted and answer 400 with the
// offending param rather than sending a malformed body upstream.

export interface ChatContentPart {
  readonly type: string;
  readonly text?: string;
  readonly image_url?: { readonly url: string } | string;
  readonly input_audio?: { readonly data: string; readonly format: string };
  readonly file?: { readonly file_data?: string; readonly filename?: string };
  /** Anthropic-style prompt-cache marker some clients send on parts. */
  readonly cache_control?: unknown;
}

export interface ChatToolCall {
  readonly id: string;
  readonly type: 'function';
  readonly function: { readonly name: string; readonly arguments: string };
}

export interface ChatMessage {
  readonly role: 'system' | 'developer' | 'user' | 'assistant' | 'tool';
  readonly content?: string | readonly ChatContentPart[] | null;
  readonly tool_calls?: readonly ChatToolCall[];
  readonly tool_call_id?: string;
}

export interface ChatFunctionTool {
  readonly name: string;
  readonly description?: string;
  readonly parameters?: JsonObject;
}

export type ToolChoice =
  { readonly mode: 'auto' | 'none' | 'required' } | { readonly mode: 'named'; readonly name: string };

export function invalid(message: string, param: string): GatewayError {
  return new GatewayError('invalid_request', message, { param });
}

const ROLES = new Set(['system', 'developer', 'user', 'assistant', 'tool']);

export function chatMessages(body: JsonObject): readonly ChatMessage[] {
  const { messages } = body;
  if (!Array.isArray(messages) || messages.length === 0)
    throw invalid('messages must be a non-empty array', 'messages');
  messages.forEach((m: unknown, i) => {
    const role = typeof m === 'object' && m !== null ? (m as { role?: unknown }).role : undefined;
    if (typeof role !== 'string' || !ROLES.has(role))
      throw invalid(`unsupported message role`, `messages[${i}].role`);
  });
  return messages as ChatMessage[];
}

/** A message's content parts ([] for string or missing content). */
export function contentParts(content: ChatMessage['content']): readonly ChatContentPart[] {
  return Array.isArray(content) ? (content as readonly ChatContentPart[]) : [];
}

/** The text of a message's content (text parts joined), ignoring other part types. */
export function contentText(content: ChatMessage['content']): string {
  if (typeof content === 'string') return content;
  let text = '';
  for (const part of contentParts(content))
    if (part.type === 'text' && typeof part.text === 'string') text += part.text;
  return text;
}

export function imageUrlOf(part: ChatContentPart): string | undefined {
  const { image_url: image } = part;
  return typeof image === 'string' ? image : image?.url;
}

export function functionTools(body: JsonObject): ChatFunctionTool[] {
  const { tools } = body;
  if (tools === undefined || tools === null) return [];
  if (!Array.isArray(tools)) throw invalid('tools must be an array', 'tools');
  return tools.map((tool: unknown, i): ChatFunctionTool => {
    const fn = (tool as { function?: unknown } | null)?.function as Partial<ChatFunctionTool> | undefined;
    if (typeof fn?.name !== 'string')
      throw invalid('only function tools with a name are supported', `tools[${i}]`);
    const out: { -readonly [K in keyof ChatFunctionTool]: ChatFunctionTool[K] } = { name: fn.name };
    if (typeof fn.description === 'string') out.description = fn.description;
    if (typeof fn.parameters === 'object' && fn.parameters !== null) out.parameters = fn.parameters;
    return out;
  });
}

export function toolChoice(body: JsonObject): ToolChoice | undefined {
  const choice = body.tool_choice;
  if (choice === undefined || choice === null) return undefined;
  if (choice === 'auto' || choice === 'none' || choice === 'required') return { mode: choice };
  const name = (choice as { function?: { name?: unknown } }).function?.name;
  if (typeof name === 'string') return { mode: 'named', name };
  throw invalid('tool_choice must be auto, none, required or a named function', 'tool_choice');
}

export function maxTokens(body: JsonObject): number | undefined {
  const value = body.max_completion_tokens ?? body.max_tokens;
  return typeof value === 'number' ? value : undefined;
}

export function stopSequences(body: JsonObject): string[] | undefined {
  const { stop } = body;
  if (typeof stop === 'string') return [stop];
  if (Array.isArray(stop) && stop.every((s) => typeof s === 'string')) return stop;
  return undefined;
}

export function numberField(body: JsonObject, key: string): number | undefined {
  const value = body[key];
  return typeof value === 'number' ? value : undefined;
}

/** Tool call arguments as an object (upstreams other than OpenAI take parsed JSON). */
export function parseArguments(args: string, param: string): JsonObject {
  if (args.trim() === '') return {};
  try {
    const parsed = JSON.parse(args) as unknown;
    if (typeof parsed === 'object' && parsed !== null && !Array.isArray(parsed)) return parsed as JsonObject;
  } catch {
    // fall through
  }
  throw invalid('tool call arguments must be a JSON object', param);
}

export interface DataUrl {
  readonly mimeType: string;
  /** Base64 data. */
  readonly data: string;
}

/** Split a `data:` URL into its media type and base64 data; null for any other URL. */
export function parseDataUrl(url: string): DataUrl | null {
  if (!url.startsWith('data:')) return null;
  const comma = url.indexOf(',');
  if (comma === -1) return null;
  const meta = url.slice(5, comma).split(';');
  const mimeType = meta[0] !== undefined && meta[0] !== '' ? meta[0] : 'text/plain';
  const raw = url.slice(comma + 1);
  const data = meta.includes('base64')
    ? raw
    : Buffer.from(decodeURIComponent(raw), 'utf8').toString('base64');
  return { mimeType, data };
}
