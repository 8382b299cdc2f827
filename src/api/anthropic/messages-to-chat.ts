import type { JsonObject } from '../../contracts/request.ts';
import type {
  MessageParam,
  TextBlock,
  ToolChoice,
  ToolDefinition,
} from '../../translators/anthropic-types.ts';
import { chatMessagesOf, invalid, type ContentOptions } from './messages-content.ts';

// An Anthropic Messages request (POST /v1/messages) → the gateway's internal OpenAI chat body, so it can be
// routed to any provider. Requests bound for an Anthropic upstream are not converted: they pass through
// (translators/anthropic-passthrough.ts).
//
// Mapping: system → a system message; tool_use ↔ tool_calls; tool_result → tool messages; images → data:
// or http image_url parts; PDFs → file parts; tools/tool_choice/disable_parallel_tool_use →
// tools/tool_choice/parallel_tool_calls; stop_sequences → stop; metadata.user_id → user; output_config
// json_schema → response_format; streams ask for include_usage so usage reaches message_delta.
// Options (both off by default, because OpenAI-compatible servers reject unknown fields):
// - extensions: keep cache_control, signed thinking blocks, top_k and the `thinking` object, for
//   translated upstreams that honour them (openai-to-anthropic passes `thinking` through verbatim).
// - reasoningEffort: map `thinking` to reasoning_effort by budget (< 4096 low, < 16384 medium, else
//   high; adaptive → medium). Off by default: non-reasoning OpenAI models reject reasoning_effort, and
//   Claude-style clients send `thinking` unasked.

export interface MessagesToChatOptions {
  readonly extensions?: boolean;
  readonly reasoningEffort?: boolean;
}

function systemMessage(system: unknown, options: ContentOptions): JsonObject | null {
  if (system === undefined || system === null || system === '') return null;
  if (typeof system === 'string') return { role: 'system', content: system };
  if (!Array.isArray(system)) throw invalid('system must be a string or an array of text blocks', 'system');
  const blocks = system as TextBlock[];
  if (options.extensions && blocks.some((b) => b.cache_control != null)) {
    const parts = blocks.map((b) => (b.cache_control == null ? { type: 'text', text: b.text } : { ...b }));
    return { role: 'system', content: parts };
  }
  return { role: 'system', content: blocks.map((b) => b.text).join('\n\n') };
}

function chatTools(tools: unknown, options: ContentOptions): JsonObject[] {
  if (!Array.isArray(tools)) throw invalid('tools must be an array', 'tools');
  return (tools as ToolDefinition[]).map((tool, i) => {
    if (tool.type !== undefined && tool.type !== 'custom')
      throw invalid(`the server tool '${tool.type}' needs an Anthropic upstream`, `tools[${i}]`);
    if (typeof tool.name !== 'string') throw invalid('tools need a name', `tools[${i}].name`);
    const fn: JsonObject = {
      name: tool.name,
      parameters: tool.input_schema ?? { type: 'object', properties: {} },
    };
    if (typeof tool.description === 'string') fn.description = tool.description;
    const out: JsonObject = { type: 'function', function: fn };
    if (options.extensions && tool.cache_control != null) out.cache_control = tool.cache_control;
    return out;
  });
}

function chatToolChoice(choice: ToolChoice): unknown {
  switch (choice.type) {
    case 'auto':
      return 'auto';
    case 'any':
      return 'required';
    case 'none':
      return 'none';
    case 'tool':
      return { type: 'function', function: { name: choice.name } };
  }
}

function effortOf(thinking: unknown): string | undefined {
  const config = thinking as { type?: unknown; budget_tokens?: unknown } | null | undefined;
  if (config?.type === 'adaptive') return 'medium';
  if (config?.type !== 'enabled' || typeof config.budget_tokens !== 'number') return undefined;
  return config.budget_tokens < 4096 ? 'low' : config.budget_tokens < 16384 ? 'medium' : 'high';
}

export function messagesToChat(body: JsonObject, opts: MessagesToChatOptions = {}): JsonObject {
  const options: ContentOptions = { extensions: opts.extensions ?? false };
  if (typeof body.model !== 'string' || body.model === '') throw invalid('model is required', 'model');
  if (typeof body.max_tokens !== 'number') throw invalid('max_tokens is required', 'max_tokens');
  if (!Array.isArray(body.messages) || body.messages.length === 0)
    throw invalid('messages must be a non-empty array', 'messages');
  const messages: JsonObject[] = [];
  const system = systemMessage(body.system, options);
  if (system !== null) messages.push(system);
  (body.messages as MessageParam[]).forEach((message, i) => {
    if (typeof message !== 'object' || message === null)
      throw invalid('messages must be objects', `messages[${i}]`);
    messages.push(...chatMessagesOf(message, `messages[${i}]`, options));
  });
  const out: JsonObject = { model: body.model, messages, max_tokens: body.max_tokens };
  if (Array.isArray(body.stop_sequences) && body.stop_sequences.length > 0) out.stop = body.stop_sequences;
  for (const key of ['temperature', 'top_p'] as const)
    if (typeof body[key] === 'number') out[key] = body[key];
  if (options.extensions && typeof body.top_k === 'number') out.top_k = body.top_k;
  const tools = body.tools === undefined ? [] : chatTools(body.tools, options);
  if (tools.length > 0) {
    out.tools = tools;
    const choice = body.tool_choice as ToolChoice | undefined;
    if (choice !== undefined) out.tool_choice = chatToolChoice(choice);
    if (
      choice !== undefined &&
      'disable_parallel_tool_use' in choice &&
      choice.disable_parallel_tool_use === true
    )
      out.parallel_tool_calls = false;
  }
  const userId = (body.metadata as { user_id?: unknown } | undefined)?.user_id;
  if (typeof userId === 'string') out.user = userId;
  const format = (body.output_config as { format?: { type?: unknown; schema?: unknown } } | undefined)
    ?.format;
  if (format?.type === 'json_schema' && typeof format.schema === 'object')
    out.response_format = {
      type: 'json_schema',
      json_schema: { name: 'output', schema: format.schema, strict: true },
    };
  if (options.extensions && body.thinking !== undefined) out.thinking = body.thinking;
  const effort = opts.reasoningEffort === true ? effortOf(body.thinking) : undefined;
  if (effort !== undefined) out.reasoning_effort = effort;
  if (body.stream === true) {
    out.stream = true;
    out.stream_options = { include_usage: true };
  }
  return out;
}
