// Wire types of the Anthropic Messages API (POST /v1/messages, anthropic-version 2023-06-01), the subset
// the gateway reads or writes. Field names follow the published API reference; every response field is
// optional here because upstream bodies are untrusted.

import type { JsonObject } from '../contracts/request.ts';

export const ANTHROPIC_VERSION = '2023-06-01';

export interface CacheControl {
  readonly type: 'ephemeral';
  readonly ttl?: '5m' | '1h';
}

export type ImageSource =
  | { readonly type: 'base64'; readonly media_type: string; readonly data: string }
  | { readonly type: 'url'; readonly url: string }
  | { readonly type: 'file'; readonly file_id: string };

export interface TextBlock {
  readonly type: 'text';
  readonly text: string;
  readonly cache_control?: unknown;
}

export interface ImageBlock {
  readonly type: 'image';
  readonly source: ImageSource;
  readonly cache_control?: unknown;
}

export interface DocumentBlock {
  readonly type: 'document';
  readonly source:
    ImageSource | { readonly type: 'text'; readonly media_type: string; readonly data: string };
  readonly title?: string;
  readonly cache_control?: unknown;
}

export interface ToolUseBlock {
  readonly type: 'tool_use';
  readonly id: string;
  readonly name: string;
  readonly input: unknown;
  readonly cache_control?: unknown;
}

export interface ToolResultBlock {
  readonly type: 'tool_result';
  readonly tool_use_id: string;
  readonly content?: string | readonly (TextBlock | ImageBlock | DocumentBlock)[];
  readonly is_error?: boolean;
  readonly cache_control?: unknown;
}

export interface ThinkingBlock {
  readonly type: 'thinking';
  readonly thinking: string;
  readonly signature: string;
}

export interface RedactedThinkingBlock {
  readonly type: 'redacted_thinking';
  readonly data: string;
}

export type ContentBlock =
  | TextBlock
  | ImageBlock
  | DocumentBlock
  | ToolUseBlock
  | ToolResultBlock
  | ThinkingBlock
  | RedactedThinkingBlock;

export interface MessageParam {
  readonly role: 'user' | 'assistant';
  readonly content: string | readonly ContentBlock[];
}

export interface ToolDefinition {
  readonly name: string;
  readonly description?: string;
  readonly input_schema: JsonObject;
  readonly cache_control?: unknown;
  /** Server tools (web_search_…, bash_…) carry a versioned type; custom tools omit it or say 'custom'. */
  readonly type?: string;
}

export type ToolChoice =
  | { readonly type: 'auto' | 'any'; readonly disable_parallel_tool_use?: boolean }
  | { readonly type: 'none' }
  | { readonly type: 'tool'; readonly name: string; readonly disable_parallel_tool_use?: boolean };

export type ThinkingConfig =
  { readonly type: 'enabled'; readonly budget_tokens: number } | { readonly type: 'disabled' | 'adaptive' };

export interface MessagesRequest {
  model: string;
  max_tokens: number;
  messages: MessageParam[];
  system?: string | TextBlock[];
  stop_sequences?: string[];
  temperature?: number;
  top_p?: number;
  top_k?: number;
  tools?: ToolDefinition[];
  tool_choice?: ToolChoice;
  thinking?: unknown;
  metadata?: { user_id?: string };
  output_config?: { format?: { type: 'json_schema'; schema: JsonObject } };
  cache_control?: unknown;
  stream?: boolean;
}

export type StopReason =
  | 'end_turn'
  | 'max_tokens'
  | 'stop_sequence'
  | 'tool_use'
  | 'pause_turn'
  | 'refusal'
  | 'model_context_window_exceeded';

export interface AnthropicUsage {
  readonly input_tokens?: number | null;
  readonly output_tokens?: number | null;
  readonly cache_creation_input_tokens?: number | null;
  readonly cache_read_input_tokens?: number | null;
  readonly output_tokens_details?: { readonly thinking_tokens?: number } | null;
}

export interface AnthropicMessage {
  readonly id?: string;
  readonly type?: 'message';
  readonly role?: 'assistant';
  readonly model?: string;
  readonly content?: readonly ContentBlock[];
  readonly stop_reason?: StopReason | null;
  readonly stop_sequence?: string | null;
  readonly usage?: AnthropicUsage;
}

export interface AnthropicErrorBody {
  readonly type: 'error';
  readonly error: { readonly type: string; readonly message: string };
  readonly request_id?: string;
}

/** Stream events (the `data:` of each SSE frame; the `event:` line repeats `type`). */
export type StreamEvent =
  | { readonly type: 'message_start'; readonly message: AnthropicMessage }
  | { readonly type: 'content_block_start'; readonly index: number; readonly content_block: ContentBlock }
  | { readonly type: 'content_block_delta'; readonly index: number; readonly delta: BlockDelta }
  | { readonly type: 'content_block_stop'; readonly index: number }
  | {
      readonly type: 'message_delta';
      readonly delta: { readonly stop_reason?: StopReason | null; readonly stop_sequence?: string | null };
      readonly usage?: AnthropicUsage;
    }
  | { readonly type: 'message_stop' }
  | { readonly type: 'ping' }
  | AnthropicErrorBody;

export type BlockDelta =
  | { readonly type: 'text_delta'; readonly text: string }
  | { readonly type: 'input_json_delta'; readonly partial_json: string }
  | { readonly type: 'thinking_delta'; readonly thinking: string }
  | { readonly type: 'signature_delta'; readonly signature: string }
  | { readonly type: 'citations_delta'; readonly citation: unknown };
