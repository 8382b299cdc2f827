import type { JsonObject } from '../contracts/request.ts';

// Recorded-shape Anthropic Messages fixtures, written from the API reference (Messages, Streaming
// Messages, Extended thinking, Errors): the event sequence message_start → content blocks (start, deltas,
// stop) → message_delta → message_stop, with ping events and the `event:` line repeating each type.
// Test support only.

/** Encode events as Anthropic writes them: `event: <type>` then `data: <json>`, blank-line separated. */
export function anthropicSse(events: readonly JsonObject[]): string {
  return events.map((e) => `event: ${String(e.type)}\ndata: ${JSON.stringify(e)}\n\n`).join('');
}

function messageStart(usage: JsonObject): JsonObject {
  return {
    type: 'message_start',
    message: {
      id: 'msg_01XFDUDYJgAACzvnptvVoYEL',
      type: 'message',
      role: 'assistant',
      content: [],
      model: 'claude-sonnet-4-5-20250929',
      stop_reason: null,
      stop_sequence: null,
      usage,
    },
  };
}

const text = (index: number, t: string): JsonObject => ({
  type: 'content_block_delta',
  index,
  delta: { type: 'text_delta', text: t },
});
const json = (index: number, partial: string): JsonObject => ({
  type: 'content_block_delta',
  index,
  delta: { type: 'input_json_delta', partial_json: partial },
});
const stop = (index: number): JsonObject => ({ type: 'content_block_stop', index });
const PING = { type: 'ping' };

export const TEXT_EVENTS: readonly JsonObject[] = [
  messageStart({ input_tokens: 25, output_tokens: 1 }),
  { type: 'content_block_start', index: 0, content_block: { type: 'text', text: '' } },
  PING,
  text(0, 'Hello'),
  text(0, '! Ünïcödé ✓'),
  stop(0),
  {
    type: 'message_delta',
    delta: { stop_reason: 'end_turn', stop_sequence: null },
    usage: { output_tokens: 15 },
  },
  { type: 'message_stop' },
];

/** Text, then two tool calls in one turn with arguments over many deltas; prompt-cache usage. */
export const TOOL_EVENTS: readonly JsonObject[] = [
  messageStart({
    input_tokens: 472,
    cache_creation_input_tokens: 100,
    cache_read_input_tokens: 2048,
    output_tokens: 2,
  }),
  { type: 'content_block_start', index: 0, content_block: { type: 'text', text: '' } },
  text(0, 'Okay, let me check both.'),
  stop(0),
  {
    type: 'content_block_start',
    index: 1,
    content_block: { type: 'tool_use', id: 'toolu_01T1x1fJ34qAmk2tNTrN7Up6', name: 'get_weather', input: {} },
  },
  json(1, ''),
  json(1, '{"location":'),
  json(1, ' "San Fra'),
  json(1, 'ncisco, CA"'),
  json(1, ', "unit": "fahrenheit"}'),
  stop(1),
  PING,
  {
    type: 'content_block_start',
    index: 2,
    content_block: { type: 'tool_use', id: 'toolu_01Ag2mS6Yb3c9ZkP8xW4nQvR', name: 'get_time', input: {} },
  },
  json(2, '{"timezone"'),
  json(2, ': "America/Los_Angeles"}'),
  stop(2),
  {
    type: 'content_block_start',
    index: 3,
    content_block: { type: 'tool_use', id: 'toolu_01NoArgs0000000000000000', name: 'list_cities', input: {} },
  },
  stop(3),
  {
    type: 'message_delta',
    delta: { stop_reason: 'tool_use', stop_sequence: null },
    usage: { output_tokens: 89 },
  },
  { type: 'message_stop' },
];

/** Extended thinking: a thinking block with its signature, then text; stopped by max_tokens. */
export const THINKING_EVENTS: readonly JsonObject[] = [
  messageStart({ input_tokens: 85, output_tokens: 1 }),
  { type: 'content_block_start', index: 0, content_block: { type: 'thinking', thinking: '', signature: '' } },
  {
    type: 'content_block_delta',
    index: 0,
    delta: { type: 'thinking_delta', thinking: 'I need to find the GCD of 1071 and 462.' },
  },
  {
    type: 'content_block_delta',
    index: 0,
    delta: { type: 'thinking_delta', thinking: ' 1071 = 2×462 + 147' },
  },
  {
    type: 'content_block_delta',
    index: 0,
    delta: { type: 'signature_delta', signature: 'EqQBCgIYAhIM1gbcDa9GJwZA2b3h' },
  },
  stop(0),
  { type: 'content_block_start', index: 1, content_block: { type: 'text', text: '' } },
  text(1, 'The GCD is 21.'),
  stop(1),
  {
    type: 'message_delta',
    delta: { stop_reason: 'max_tokens', stop_sequence: null },
    usage: { output_tokens: 300 },
  },
  { type: 'message_stop' },
];

/** An overloaded error after some text (Anthropic's documented mid-stream error). */
export const ERROR_EVENTS: readonly JsonObject[] = [
  messageStart({ input_tokens: 10, output_tokens: 1 }),
  { type: 'content_block_start', index: 0, content_block: { type: 'text', text: '' } },
  text(0, 'Partial'),
  { type: 'error', error: { type: 'overloaded_error', message: 'Overloaded' } },
];

export const TOOL_MESSAGE: JsonObject = {
  id: 'msg_01Aq9w938a90dw8q',
  type: 'message',
  role: 'assistant',
  model: 'claude-sonnet-4-5-20250929',
  content: [
    { type: 'thinking', thinking: 'The user wants the weather.', signature: 'WaUjzkypQ2mUEVM36O2T' },
    { type: 'text', text: 'I will check.' },
    {
      type: 'tool_use',
      id: 'toolu_01A09q90qw90lq917835lq9',
      name: 'get_weather',
      input: { location: 'Paris' },
    },
    { type: 'tool_use', id: 'toolu_01B18r81rx81mr826946mr8', name: 'get_time', input: {} },
  ],
  stop_reason: 'tool_use',
  stop_sequence: null,
  usage: {
    input_tokens: 2095,
    output_tokens: 503,
    cache_read_input_tokens: 1000,
    cache_creation_input_tokens: 20,
  },
};

export const TEXT_MESSAGE: JsonObject = {
  id: 'msg_013Zva2CMHLNnXjNJJKqJ2EF',
  type: 'message',
  role: 'assistant',
  model: 'claude-sonnet-4-5-20250929',
  content: [{ type: 'text', text: 'Hi! My name is Claude.' }],
  stop_reason: 'end_turn',
  stop_sequence: null,
  usage: { input_tokens: 2095, output_tokens: 503 },
};

export function anthropicErrorJson(type: string, message: string): JsonObject {
  return { type: 'error', error: { type, message }, request_id: 'req_011CSHoEeqs5C35K2UUqR7Fy' };
}
