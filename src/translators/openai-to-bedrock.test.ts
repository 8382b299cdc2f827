import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { openAIErrorBody } from '../core/errors.ts';
import type { JsonObject } from '../contracts/request.ts';
import type { TranslateInput } from '../contracts/translator.ts';
import { openAIToBedrock as bedrock } from './openai-to-bedrock.ts';

// Fixtures follow the Amazon Bedrock Runtime API reference: Converse requests and responses, TokenUsage,
// StopReason and the HTTP error bodies of the modelled exceptions.

const MODEL = 'anthropic.claude-3-5-sonnet-20240620-v1:0';

function input(body: JsonObject, over: Partial<TranslateInput> = {}): TranslateInput {
  return { api: 'chat', body, model: MODEL, stream: false, clientWantsUsage: false, ...over };
}

const requestBody = (body: JsonObject) => JSON.parse(String(bedrock.request(input(body)).body)) as JsonObject;

describe('openai-to-bedrock: request', () => {
  it('maps a full chat request to a Converse request', () => {
    const body = {
      messages: [
        {
          role: 'system',
          content: [{ type: 'text', text: 'Be brief.', cache_control: { type: 'ephemeral' } }],
        },
        {
          role: 'user',
          content: [
            { type: 'text', text: 'Weather and time?' },
            { type: 'image_url', image_url: { url: 'data:image/jpeg;base64,/9j/4AAQ' } },
          ],
        },
        {
          role: 'assistant',
          content: 'Checking.',
          tool_calls: [
            { id: 'call_1', type: 'function', function: { name: 'weather', arguments: '{"city":"Oslo"}' } },
            { id: 'call_2', type: 'function', function: { name: 'time', arguments: '' } },
          ],
        },
        { role: 'tool', tool_call_id: 'call_1', content: '21C' },
        { role: 'tool', tool_call_id: 'call_2', content: [{ type: 'text', text: '10:00' }] },
      ],
      tools: [
        {
          type: 'function',
          function: { name: 'weather', description: 'Weather', parameters: { type: 'object' } },
        },
        { type: 'function', function: { name: 'time' } },
      ],
      tool_choice: 'required',
      max_tokens: 256,
      temperature: 0.5,
      top_p: 0.8,
      stop: ['STOP'],
    };
    assert.deepEqual(requestBody(body), {
      messages: [
        {
          role: 'user',
          content: [
            { text: 'Weather and time?' },
            { image: { format: 'jpeg', source: { bytes: '/9j/4AAQ' } } },
          ],
        },
        {
          role: 'assistant',
          content: [
            { text: 'Checking.' },
            { toolUse: { toolUseId: 'call_1', name: 'weather', input: { city: 'Oslo' } } },
            { toolUse: { toolUseId: 'call_2', name: 'time', input: {} } },
          ],
        },
        {
          role: 'user',
          content: [
            { toolResult: { toolUseId: 'call_1', content: [{ text: '21C' }] } },
            { toolResult: { toolUseId: 'call_2', content: [{ text: '10:00' }] } },
          ],
        },
      ],
      system: [{ text: 'Be brief.' }, { cachePoint: { type: 'default' } }],
      toolConfig: {
        tools: [
          {
            toolSpec: { name: 'weather', description: 'Weather', inputSchema: { json: { type: 'object' } } },
          },
          { toolSpec: { name: 'time', inputSchema: { json: { type: 'object', properties: {} } } } },
        ],
        toolChoice: { any: {} },
      },
      inferenceConfig: { maxTokens: 256, temperature: 0.5, topP: 0.8, stopSequences: ['STOP'] },
    });
  });

  it('encodes the model id in the path and asks for the event stream when streaming', () => {
    const body = { messages: [{ role: 'user', content: 'hi' }] };
    const plain = bedrock.request(input(body));
    assert.equal(plain.path, '/model/anthropic.claude-3-5-sonnet-20240620-v1%3A0/converse');
    const arn =
      'arn:aws:bedrock:us-east-1:123456789012:inference-profile/us.anthropic.claude-3-haiku-20240307-v1:0';
    const streamed = bedrock.request(input(body, { stream: true, model: arn }));
    assert.equal(
      streamed.path,
      '/model/arn%3Aaws%3Abedrock%3Aus-east-1%3A123456789012%3Ainference-profile%2Fus.anthropic.claude-3-haiku-20240307-v1%3A0/converse-stream',
    );
    assert.equal(streamed.headers?.accept, 'application/vnd.amazon.eventstream');
  });

  it('maps tool_choice auto and named; none drops tools unless the history uses them', () => {
    const tools = [{ type: 'function', function: { name: 'f' } }];
    const user = { role: 'user', content: 'x' };
    assert.deepEqual(
      (requestBody({ messages: [user], tools, tool_choice: 'auto' }).toolConfig as JsonObject).toolChoice,
      { auto: {} },
    );
    const named = { type: 'function', function: { name: 'f' } };
    assert.deepEqual(
      (requestBody({ messages: [user], tools, tool_choice: named }).toolConfig as JsonObject).toolChoice,
      {
        tool: { name: 'f' },
      },
    );
    assert.equal(requestBody({ messages: [user], tools, tool_choice: 'none' }).toolConfig, undefined);
    const history = [
      user,
      {
        role: 'assistant',
        tool_calls: [{ id: 'c', type: 'function', function: { name: 'f', arguments: '{}' } }],
      },
      { role: 'tool', tool_call_id: 'c', content: 'ok' },
    ];
    const config = requestBody({ messages: history, tools, tool_choice: 'none' }).toolConfig as JsonObject;
    assert.equal(config.toolChoice, undefined);
    assert.equal((config.tools as unknown[]).length, 1);
  });

  it('rejects what Converse cannot take: web image URLs, n > 1', () => {
    const web = {
      messages: [{ role: 'user', content: [{ type: 'image_url', image_url: { url: 'https://x/y.png' } }] }],
    };
    assert.throws(() => bedrock.request(input(web)), {
      code: 'invalid_request',
      param: 'messages[0].content[0]',
    });
    assert.throws(() => bedrock.request(input({ messages: [{ role: 'user', content: 'x' }], n: 2 })), {
      param: 'n',
    });
  });
});

describe('openai-to-bedrock: response', () => {
  it('maps text, stop reason and usage with cache tokens', () => {
    const upstream = {
      output: { message: { role: 'assistant', content: [{ text: 'Hello!' }] } },
      stopReason: 'end_turn',
      usage: {
        inputTokens: 30,
        outputTokens: 8,
        totalTokens: 138,
        cacheReadInputTokens: 60,
        cacheWriteInputTokens: 40,
      },
      metrics: { latencyMs: 1275 },
    };
    const { body, usage } = bedrock.response(Buffer.from(JSON.stringify(upstream)), input({}));
    const parsed = JSON.parse(String(body));
    assert.deepEqual(parsed.choices, [
      {
        index: 0,
        message: { role: 'assistant', content: 'Hello!', refusal: null },
        logprobs: null,
        finish_reason: 'stop',
      },
    ]);
    assert.equal(parsed.model, MODEL);
    assert.deepEqual(usage, {
      inputTokens: 130,
      outputTokens: 8,
      cachedInputTokens: 60,
      cacheWriteTokens: 40,
      reasoningTokens: 0,
    });
    assert.deepEqual(parsed.usage, {
      prompt_tokens: 130,
      completion_tokens: 8,
      total_tokens: 138,
      prompt_tokens_details: { cached_tokens: 60 },
    });
  });

  it('maps toolUse blocks to tool_calls', () => {
    const upstream = {
      output: {
        message: {
          role: 'assistant',
          content: [
            {
              toolUse: {
                toolUseId: 'tooluse_kZJMlvQmRJ6eAyJE5GIl7Q',
                name: 'top_song',
                input: { sign: 'WZPZ' },
              },
            },
          ],
        },
      },
      stopReason: 'tool_use',
      usage: { inputTokens: 375, outputTokens: 36, totalTokens: 411 },
    };
    const [choice] = JSON.parse(
      String(bedrock.response(Buffer.from(JSON.stringify(upstream)), input({})).body),
    ).choices;
    assert.equal(choice.finish_reason, 'tool_calls');
    assert.equal(choice.message.content, null);
    assert.deepEqual(choice.message.tool_calls, [
      {
        id: 'tooluse_kZJMlvQmRJ6eAyJE5GIl7Q',
        type: 'function',
        function: { name: 'top_song', arguments: '{"sign":"WZPZ"}' },
      },
    ]);
  });

  it('maps every stop reason', () => {
    const reasons = {
      end_turn: 'stop',
      stop_sequence: 'stop',
      max_tokens: 'length',
      tool_use: 'tool_calls',
      guardrail_intervened: 'content_filter',
      content_filtered: 'content_filter',
    };
    for (const [reason, expected] of Object.entries(reasons)) {
      const upstream = {
        output: { message: { role: 'assistant', content: [{ text: 'x' }] } },
        stopReason: reason,
      };
      const parsed = JSON.parse(
        String(bedrock.response(Buffer.from(JSON.stringify(upstream)), input({})).body),
      );
      assert.equal(parsed.choices[0].finish_reason, expected, reason);
    }
  });
});

describe('openai-to-bedrock: errors', () => {
  const error = (status: number, body: object | string) =>
    bedrock.error(status, Buffer.from(typeof body === 'string' ? body : JSON.stringify(body)), input({}));

  it('maps HTTP errors to gateway codes with OpenAI-shaped bodies', () => {
    const cases: [number, object | string, string, number][] = [
      [
        400,
        { message: 'Malformed input request: #: extraneous key [foo] is not permitted' },
        'invalid_request',
        400,
      ],
      [400, { message: 'Input is too long for requested model.' }, 'context_length_exceeded', 400],
      [403, { message: 'The security token included in the request is invalid.' }, 'unauthorized', 401],
      [403, { message: "You don't have access to the model with the specified model ID." }, 'forbidden', 403],
      [404, { message: 'The provided model identifier is invalid.' }, 'model_not_found', 404],
      [429, { message: 'Too many requests, please wait before trying again.' }, 'rate_limited', 429],
      [424, { message: 'The model failed.' }, 'upstream_error', 502],
      [503, { message: 'Bedrock is unable to process your request.' }, 'upstream_error', 503],
      [500, '', 'upstream_error', 500],
      [
        400,
        { __type: 'com.amazon.coral.service#ThrottlingException', message: 'slow down' },
        'rate_limited',
        429,
      ],
    ];
    for (const [status, body, code, ourStatus] of cases) {
      const err = error(status, body);
      assert.equal(err.code, code, JSON.stringify(body));
      assert.equal(err.status, ourStatus, JSON.stringify(body));
      const parsed = JSON.parse(openAIErrorBody(err));
      assert.equal(parsed.error.code, code);
    }
  });
});
