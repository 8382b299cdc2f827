import type { RequestCase } from './contract-suite.ts';

// Request-mapping cases for the openai-to-anthropic contract suite: OpenAI chat bodies and the Messages
// request each must become (shapes from the Anthropic Messages API reference). Test support only.

const PNG =
  'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg==';
const EPHEMERAL = { type: 'ephemeral' };
const HEADERS = { 'anthropic-version': '2023-06-01' };
const hi = [{ role: 'user', content: 'Hi' }];
const weather = { type: 'function', function: { name: 'get_weather', parameters: { type: 'object' } } };
const weatherOut = { name: 'get_weather', input_schema: { type: 'object' } };

function minimal(over: object) {
  return {
    model: 'claude-sonnet-4-5',
    max_tokens: 4096,
    messages: [{ role: 'user', content: 'Hi' }],
    ...over,
  };
}

export const REQUEST_CASES: readonly RequestCase[] = [
  {
    name: 'a minimal request: max_tokens defaulted, anthropic-version header',
    body: { model: 'claude', messages: hi },
    expect: { path: '/messages', headers: HEADERS, body: minimal({}) },
  },
  {
    name: 'system, multi-turn, images, parallel tool calls and merged tool results, cache_control',
    body: {
      model: 'claude',
      messages: [
        { role: 'system', content: 'You are terse.' },
        {
          role: 'developer',
          content: [{ type: 'text', text: 'Long shared context.', cache_control: EPHEMERAL }],
        },
        {
          role: 'user',
          content: [
            { type: 'text', text: 'Weather where these were taken?' },
            { type: 'image_url', image_url: { url: `data:image/png;base64,${PNG}` } },
            {
              type: 'image_url',
              image_url: { url: 'https://example.com/sf.jpg', detail: 'low' },
              cache_control: EPHEMERAL,
            },
          ],
        },
        {
          role: 'assistant',
          content: 'Checking.',
          tool_calls: [
            {
              id: 'toolu_1',
              type: 'function',
              function: { name: 'get_weather', arguments: '{"city":"SF"}' },
            },
            {
              id: 'toolu_2',
              type: 'function',
              function: { name: 'get_weather', arguments: '{"city":"LA"}' },
            },
          ],
        },
        { role: 'tool', tool_call_id: 'toolu_1', content: '18C' },
        { role: 'tool', tool_call_id: 'toolu_2', content: [{ type: 'text', text: '24C' }] },
        { role: 'user', content: 'Which is warmer?', cache_control: EPHEMERAL },
      ],
      tools: [{ ...weather, cache_control: EPHEMERAL }],
      tool_choice: 'required',
      parallel_tool_calls: false,
      max_completion_tokens: 1000,
      max_tokens: 50,
      stop: 'END',
      temperature: 1.4,
      top_p: 0.9,
      user: 'user-42',
    },
    expect: {
      path: '/messages',
      body: {
        model: 'claude-sonnet-4-5',
        max_tokens: 1000,
        system: [
          { type: 'text', text: 'You are terse.' },
          { type: 'text', text: 'Long shared context.', cache_control: EPHEMERAL },
        ],
        messages: [
          {
            role: 'user',
            content: [
              { type: 'text', text: 'Weather where these were taken?' },
              { type: 'image', source: { type: 'base64', media_type: 'image/png', data: PNG } },
              {
                type: 'image',
                source: { type: 'url', url: 'https://example.com/sf.jpg' },
                cache_control: EPHEMERAL,
              },
            ],
          },
          {
            role: 'assistant',
            content: [
              { type: 'text', text: 'Checking.' },
              { type: 'tool_use', id: 'toolu_1', name: 'get_weather', input: { city: 'SF' } },
              { type: 'tool_use', id: 'toolu_2', name: 'get_weather', input: { city: 'LA' } },
            ],
          },
          {
            role: 'user',
            content: [
              { type: 'tool_result', tool_use_id: 'toolu_1', content: '18C' },
              { type: 'tool_result', tool_use_id: 'toolu_2', content: [{ type: 'text', text: '24C' }] },
              { type: 'text', text: 'Which is warmer?', cache_control: EPHEMERAL },
            ],
          },
        ],
        stop_sequences: ['END'],
        temperature: 1,
        top_p: 0.9,
        tools: [{ ...weatherOut, cache_control: EPHEMERAL }],
        tool_choice: { type: 'any', disable_parallel_tool_use: true },
        metadata: { user_id: 'user-42' },
      },
    },
  },
  {
    name: 'streaming, stop array, auto and named tool_choice',
    body: { messages: hi, stream: true, stop: ['a', 'b'], tools: [weather], tool_choice: 'auto' },
    input: { stream: true },
    expect: {
      path: '/messages',
      body: minimal({
        stop_sequences: ['a', 'b'],
        tools: [weatherOut],
        tool_choice: { type: 'auto' },
        stream: true,
      }),
    },
  },
  {
    name: 'named tool_choice → {type: tool}',
    body: {
      messages: hi,
      tools: [weather],
      tool_choice: { type: 'function', function: { name: 'get_weather' } },
    },
    expect: {
      path: '/messages',
      body: minimal({ tools: [weatherOut], tool_choice: { type: 'tool', name: 'get_weather' } }),
    },
  },
  {
    name: "tool_choice 'none' → {type: none}",
    body: { messages: hi, tools: [weather], tool_choice: 'none' },
    expect: { path: '/messages', body: minimal({ tools: [weatherOut], tool_choice: { type: 'none' } }) },
  },
  {
    name: 'reasoning_effort → thinking budget; max_tokens raised by the budget; temperature dropped',
    body: { messages: hi, reasoning_effort: 'high', temperature: 0.2 },
    expect: {
      path: '/messages',
      body: minimal({ max_tokens: 4096 + 16384, thinking: { type: 'enabled', budget_tokens: 16384 } }),
    },
  },
  {
    name: 'reasoning_effort under an explicit max_tokens caps the budget',
    body: { messages: hi, reasoning_effort: 'medium', max_tokens: 5000 },
    expect: {
      path: '/messages',
      body: minimal({ max_tokens: 5000, thinking: { type: 'enabled', budget_tokens: 4999 } }),
    },
  },
  {
    name: 'a native thinking object passes through; signed thinking blocks are handed back',
    body: {
      messages: [
        ...hi,
        {
          role: 'assistant',
          content: null,
          thinking_blocks: [{ type: 'thinking', thinking: 'hmm', signature: 'sig' }],
          tool_calls: [{ id: 'toolu_9', type: 'function', function: { name: 'get_weather', arguments: '' } }],
        },
        { role: 'tool', tool_call_id: 'toolu_9', content: 'sunny' },
      ],
      thinking: { type: 'enabled', budget_tokens: 2048 },
    },
    expect: {
      path: '/messages',
      body: minimal({
        messages: [
          { role: 'user', content: 'Hi' },
          {
            role: 'assistant',
            content: [
              { type: 'thinking', thinking: 'hmm', signature: 'sig' },
              { type: 'tool_use', id: 'toolu_9', name: 'get_weather', input: {} },
            ],
          },
          { role: 'user', content: [{ type: 'tool_result', tool_use_id: 'toolu_9', content: 'sunny' }] },
        ],
        thinking: { type: 'enabled', budget_tokens: 2048 },
      }),
    },
  },
  {
    name: 'n > 1 is refused',
    body: { messages: hi, n: 2 },
    rejects: { code: 'invalid_request', param: 'n' },
  },
  {
    name: 'audio parts are refused with their param',
    body: {
      messages: [
        { role: 'user', content: [{ type: 'input_audio', input_audio: { data: 'x', format: 'wav' } }] },
      ],
    },
    rejects: { code: 'invalid_request', param: 'messages[0].content[0]' },
  },
  {
    name: 'tool call arguments that are not JSON are refused',
    body: {
      messages: [
        ...hi,
        {
          role: 'assistant',
          tool_calls: [{ id: 't', type: 'function', function: { name: 'f', arguments: '{' } }],
        },
      ],
    },
    rejects: { code: 'invalid_request', param: 'messages[1].tool_calls[0].function.arguments' },
  },
];
