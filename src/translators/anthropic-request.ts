import type { JsonObject } from '../contracts/request.ts';
import type { TranslateInput } from '../contracts/translator.ts';
import { anthropicMessages } from './anthropic-messages.ts';
import type { MessagesRequest, TextBlock, ToolChoice, ToolDefinition } from './anthropic-types.ts';
import {
  chatMessages,
  invalid,
  maxTokens,
  numberField,
  stopSequences,
  toolChoice,
} from './openai-chat-request.ts';

// An OpenAI chat request → an Anthropic Messages request body.
//
// Choices a client can observe:
// - max_tokens is required by Anthropic: max_completion_tokens ?? max_tokens ?? `defaultMaxTokens`.
// - temperature is clamped to Anthropic's [0, 1] (OpenAI allows up to 2).
// - Extended thinking: an Anthropic-style `thinking` object in the body is passed through verbatim;
//   otherwise `reasoning_effort` becomes `thinking: {type: 'enabled', budget_tokens}` from EFFORT_BUDGET.
//   The budget must stay below max_tokens: when the client set no limit, max_tokens becomes the default
//   plus the budget; when it did, the budget is capped at max_tokens - 1 (and thinking is left off when
//   that falls under Anthropic's 1024-token minimum). With thinking on, temperature/top_k are dropped
//   (Anthropic rejects them), as OpenAI reasoning models ignore them.
// - n > 1 is refused (Anthropic returns one choice).

export interface AnthropicRequestOptions {
  readonly defaultMaxTokens: number;
}

export const EFFORT_BUDGET: Readonly<Record<string, number>> = {
  minimal: 1024,
  low: 2048,
  medium: 8192,
  high: 16384,
  xhigh: 32768,
};
const MIN_BUDGET = 1024;

function tools(body: JsonObject): ToolDefinition[] | undefined {
  const { tools: list } = body;
  if (list === undefined || list === null) return undefined;
  if (!Array.isArray(list)) throw invalid('tools must be an array', 'tools');
  return list.map((tool: unknown, i): ToolDefinition => {
    const entry = (tool ?? {}) as JsonObject;
    const fn = entry.function as JsonObject | undefined;
    if (entry.type !== 'function' || typeof fn?.name !== 'string')
      throw invalid('only function tools with a name are supported', `tools[${i}]`);
    const schema = fn.parameters;
    const out: ToolDefinition = {
      name: fn.name,
      input_schema:
        typeof schema === 'object' && schema !== null
          ? (schema as JsonObject)
          : { type: 'object', properties: {} },
      ...(typeof fn.description === 'string' ? { description: fn.description } : {}),
    };
    return entry.cache_control == null ? out : { ...out, cache_control: entry.cache_control };
  });
}

function choice(body: JsonObject): ToolChoice | undefined {
  const chosen = toolChoice(body);
  const serial = body.parallel_tool_calls === false ? { disable_parallel_tool_use: true } : {};
  if (chosen === undefined)
    return body.parallel_tool_calls === false ? { type: 'auto', ...serial } : undefined;
  switch (chosen.mode) {
    case 'auto':
      return { type: 'auto', ...serial };
    case 'none':
      return { type: 'none' };
    case 'required':
      return { type: 'any', ...serial };
    case 'named':
      return { type: 'tool', name: chosen.name, ...serial };
  }
}

interface Limits {
  readonly maxTokens: number;
  readonly thinking: unknown;
}

function limits(body: JsonObject, options: AnthropicRequestOptions): Limits {
  const requested = maxTokens(body);
  const fallback = options.defaultMaxTokens;
  const { thinking } = body;
  if (typeof thinking === 'object' && thinking !== null) {
    const budget = (thinking as { budget_tokens?: unknown }).budget_tokens;
    const raise = requested === undefined && typeof budget === 'number' && budget >= fallback;
    return { maxTokens: raise ? budget + fallback : (requested ?? fallback), thinking };
  }
  const effort = body.reasoning_effort;
  const budget = typeof effort === 'string' ? EFFORT_BUDGET[effort] : undefined;
  if (budget === undefined) return { maxTokens: requested ?? fallback, thinking: undefined };
  if (requested === undefined)
    return { maxTokens: fallback + budget, thinking: { type: 'enabled', budget_tokens: budget } };
  const capped = Math.min(budget, requested - 1);
  return capped < MIN_BUDGET
    ? { maxTokens: requested, thinking: undefined }
    : { maxTokens: requested, thinking: { type: 'enabled', budget_tokens: capped } };
}

function systemField(system: TextBlock[]): string | TextBlock[] | undefined {
  if (system.length === 0) return undefined;
  const plain = system.every((block) => block.cache_control === undefined);
  return plain ? system.map((block) => block.text).join('\n\n') : system;
}

export function anthropicRequest(input: TranslateInput, options: AnthropicRequestOptions): MessagesRequest {
  const { body } = input;
  if (typeof body.n === 'number' && body.n > 1)
    throw invalid('this provider returns one choice (n must be 1)', 'n');
  const { system, messages } = anthropicMessages(chatMessages(body));
  if (messages.length === 0) throw invalid('messages must include a user or assistant message', 'messages');
  const { maxTokens: max, thinking } = limits(body, options);
  const out: MessagesRequest = { model: input.model, max_tokens: max, messages };
  const systemValue = systemField(system);
  if (systemValue !== undefined) out.system = systemValue;
  const stop = stopSequences(body);
  if (stop !== undefined && stop.length > 0) out.stop_sequences = stop;
  const temperature = numberField(body, 'temperature');
  const topP = numberField(body, 'top_p');
  const topK = numberField(body, 'top_k');
  if (thinking === undefined && temperature !== undefined)
    out.temperature = Math.min(Math.max(temperature, 0), 1);
  if (thinking === undefined && topK !== undefined) out.top_k = topK;
  if (topP !== undefined) out.top_p = topP;
  if (thinking !== undefined) out.thinking = thinking;
  const toolList = tools(body);
  if (toolList !== undefined && toolList.length > 0) {
    out.tools = toolList;
    const toolChoiceValue = choice(body);
    if (toolChoiceValue !== undefined) out.tool_choice = toolChoiceValue;
  }
  if (typeof body.user === 'string') out.metadata = { user_id: body.user };
  const format = body.response_format as { type?: unknown; json_schema?: { schema?: unknown } } | undefined;
  const schema = format?.type === 'json_schema' ? format.json_schema?.schema : undefined;
  if (typeof schema === 'object' && schema !== null)
    out.output_config = { format: { type: 'json_schema', schema: schema as JsonObject } };
  if (body.cache_control != null) out.cache_control = body.cache_control;
  if (input.stream) out.stream = true;
  return out;
}
