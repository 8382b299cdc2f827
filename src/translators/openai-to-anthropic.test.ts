import type { Usage } from '../core/usage.ts';
import {
  anthropicErrorJson,
  anthropicSse,
  ERROR_EVENTS,
  TEXT_EVENTS,
  TEXT_MESSAGE,
  THINKING_EVENTS,
  TOOL_EVENTS,
  TOOL_MESSAGE,
} from './anthropic-fixtures.ts';
import { translatorContractSuite, type ErrorCase } from './contract-suite.ts';
import { openAIToAnthropic } from './openai-to-anthropic.ts';
import { REQUEST_CASES } from './anthropic-request-cases.ts';

// The contract suite over Anthropic fixtures (see anthropic-fixtures.ts for their provenance).

const usage = (input: number, output: number, cached = 0, written = 0, reasoning = 0): Usage => ({
  inputTokens: input,
  outputTokens: output,
  cachedInputTokens: cached,
  cacheWriteTokens: written,
  reasoningTokens: reasoning,
});

const message = (over: object) => ({ ...TEXT_MESSAGE, ...over });

const error = (name: string, status: number, type: string, message: string, expect: ErrorCase['expect']) => ({
  name,
  status,
  body: anthropicErrorJson(type, message),
  expect,
});

translatorContractSuite('openai-to-anthropic', {
  translator: openAIToAnthropic,
  model: 'claude-sonnet-4-5',
  requests: REQUEST_CASES,
  responses: [
    {
      name: 'text, end_turn',
      upstream: TEXT_MESSAGE,
      expect: { content: 'Hi! My name is Claude.', finishReason: 'stop', usage: usage(2095, 503) },
    },
    {
      name: 'thinking, text and parallel tool calls with prompt-cache usage',
      upstream: TOOL_MESSAGE,
      expect: {
        content: 'I will check.',
        reasoning: 'The user wants the weather.',
        toolCalls: [
          { id: 'toolu_01A09q90qw90lq917835lq9', name: 'get_weather', arguments: { location: 'Paris' } },
          { id: 'toolu_01B18r81rx81mr826946mr8', name: 'get_time', arguments: {} },
        ],
        finishReason: 'tool_calls',
        usage: usage(3115, 503, 1000, 20),
      },
    },
    {
      name: 'stop_sequence → stop',
      upstream: message({ stop_reason: 'stop_sequence', stop_sequence: 'END' }),
      expect: { content: 'Hi! My name is Claude.', finishReason: 'stop', usage: usage(2095, 503) },
    },
    {
      name: 'max_tokens → length',
      upstream: message({ stop_reason: 'max_tokens' }),
      expect: { content: 'Hi! My name is Claude.', finishReason: 'length', usage: usage(2095, 503) },
    },
    {
      name: 'refusal → content_filter',
      upstream: message({
        content: [],
        stop_reason: 'refusal',
        usage: { input_tokens: 9, output_tokens: 0 },
      }),
      expect: { content: '', finishReason: 'content_filter', usage: usage(9, 0) },
    },
  ],
  streams: [
    {
      name: 'text with ping',
      upstream: anthropicSse(TEXT_EVENTS),
      expect: { content: 'Hello! Ünïcödé ✓', finishReason: 'stop', usage: usage(25, 15) },
    },
    {
      name: 'text then three tool calls, arguments over many deltas',
      upstream: anthropicSse(TOOL_EVENTS),
      expect: {
        content: 'Okay, let me check both.',
        toolCalls: [
          {
            id: 'toolu_01T1x1fJ34qAmk2tNTrN7Up6',
            name: 'get_weather',
            arguments: { location: 'San Francisco, CA', unit: 'fahrenheit' },
          },
          {
            id: 'toolu_01Ag2mS6Yb3c9ZkP8xW4nQvR',
            name: 'get_time',
            arguments: { timezone: 'America/Los_Angeles' },
          },
          { id: 'toolu_01NoArgs0000000000000000', name: 'list_cities', arguments: {} },
        ],
        finishReason: 'tool_calls',
        usage: usage(2620, 89, 2048, 100),
      },
    },
    {
      name: 'extended thinking then text, max_tokens (CRLF framing)',
      upstream: anthropicSse(THINKING_EVENTS).replaceAll('\n', '\r\n'),
      expect: {
        content: 'The GCD is 21.',
        reasoning: 'I need to find the GCD of 1071 and 462. 1071 = 2×462 + 147',
        finishReason: 'length',
        usage: usage(85, 300),
      },
    },
  ],
  errors: [
    error('overloaded_error 529 → 503', 529, 'overloaded_error', 'Overloaded', {
      status: 503,
      code: 'upstream_error',
      type: 'server_error',
      message: 'Overloaded',
    }),
    error('rate_limit_error', 429, 'rate_limit_error', 'Number of request tokens has exceeded your limit.', {
      status: 429,
      code: 'rate_limited',
      type: 'rate_limit_error',
    }),
    error('invalid_request_error', 400, 'invalid_request_error', 'max_tokens: Field required', {
      status: 400,
      code: 'invalid_request',
      type: 'invalid_request_error',
      message: 'max_tokens: Field required',
    }),
    error(
      'prompt too long',
      400,
      'invalid_request_error',
      'prompt is too long: 212345 tokens > 200000 maximum',
      {
        status: 400,
        code: 'context_length_exceeded',
      },
    ),
    error('authentication_error', 401, 'authentication_error', 'invalid x-api-key', {
      status: 401,
      code: 'unauthorized',
      type: 'authentication_error',
    }),
    error('permission_error', 403, 'permission_error', 'Your API key does not have permission.', {
      status: 403,
      code: 'forbidden',
    }),
    error('not_found_error', 404, 'not_found_error', 'model: claude-nope', {
      status: 404,
      code: 'model_not_found',
    }),
    error('request_too_large', 413, 'request_too_large', 'Request exceeds the maximum allowed size.', {
      status: 413,
      code: 'payload_too_large',
    }),
    error('api_error keeps its 5xx', 500, 'api_error', 'Internal server error', {
      status: 500,
      code: 'upstream_error',
    }),
    error('timeout_error', 504, 'timeout_error', 'Request timed out', {
      status: 504,
      code: 'upstream_timeout',
    }),
    {
      name: 'a bare 529',
      status: 529,
      body: '',
      expect: { status: 503, code: 'upstream_error' },
    },
    {
      name: 'a non-JSON body',
      status: 502,
      body: '<html>Bad Gateway</html>',
      expect: { status: 502, code: 'upstream_error', message: 'The upstream provider returned HTTP 502.' },
    },
  ],
  streamErrors: [
    {
      name: 'overloaded_error event after text',
      upstream: anthropicSse(ERROR_EVENTS),
      expect: { code: 'upstream_stream_error', status: 503, message: 'Overloaded' },
    },
    {
      name: 'an unreadable event',
      upstream: 'event: content_block_delta\ndata: {"type": "content_blo\n\n',
      expect: { code: 'upstream_stream_error' },
    },
  ],
});
