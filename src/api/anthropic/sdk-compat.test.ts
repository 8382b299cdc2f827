import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import Anthropic from '@anthropic-ai/sdk';
import type { Translator } from '../../contracts/translator.ts';
import { anthropicSse, ERROR_EVENTS, THINKING_EVENTS } from '../../translators/anthropic-fixtures.ts';
import { anthropicPassThrough } from '../../translators/anthropic-passthrough.ts';
import { openAIToAnthropic } from '../../translators/openai-to-anthropic.ts';
import { openAIPassThrough } from '../../translators/openai-to-openai.ts';
import { runStream } from '../../translators/stream-harness.ts';
import { anthropicErrorResponse } from './errors.ts';
import { messagesOverChat } from './messages-over-chat.ts';

// The official Anthropic SDK reads what the /v1/messages surface produces. No HTTP: the SDK's fetch is a
// function that runs the surface's converters over a canned upstream answer, the way the server will.

interface Upstream {
  readonly status?: number;
  readonly body: string;
}

function client(translator: Translator, upstream: Upstream): Anthropic {
  const fetch = async (_url: string | URL | Request, init?: RequestInit): Promise<Response> => {
    const body = JSON.parse(init?.body as string) as Record<string, unknown>;
    const input = {
      api: 'messages' as const,
      body,
      model: 'upstream-model',
      stream: body.stream === true,
      clientWantsUsage: false,
    };
    translator.request(input);
    const status = upstream.status ?? 200;
    if (status >= 400) {
      const res = anthropicErrorResponse(translator.error(status, Buffer.from(upstream.body), input));
      return new Response(res.body, { status: res.status, headers: res.headers });
    }
    if (input.stream) {
      const { out } = runStream(translator, input, [upstream.body]);
      return new Response(out, { headers: { 'content-type': 'text/event-stream' } });
    }
    const out = translator.response(Buffer.from(upstream.body), input);
    return new Response(out.body, { headers: { 'content-type': 'application/json' } });
  };
  return new Anthropic({ apiKey: 'sk-test', baseURL: 'http://gateway.test', maxRetries: 0, fetch });
}

const PARAMS = { model: 'any', max_tokens: 100, messages: [{ role: 'user' as const, content: 'Hi' }] };

const chunk = (delta: object, finish: string | null = null) =>
  `data: ${JSON.stringify({ id: 'c', object: 'chat.completion.chunk', created: 1, model: 'gpt', choices: [{ index: 0, delta, finish_reason: finish }] })}\n\n`;

const OPENAI_TOOL_STREAM = [
  chunk({ role: 'assistant', content: 'On it.' }),
  chunk({
    tool_calls: [{ index: 0, id: 'call_a', type: 'function', function: { name: 'a', arguments: '{"x"' } }],
  }),
  chunk({ tool_calls: [{ index: 0, function: { arguments: ':1}' } }] }),
  chunk({
    tool_calls: [{ index: 1, id: 'call_b', type: 'function', function: { name: 'b', arguments: '{}' } }],
  }),
  chunk({}, 'tool_calls'),
  `data: ${JSON.stringify({ id: 'c', object: 'chat.completion.chunk', created: 1, model: 'gpt', choices: [], usage: { prompt_tokens: 9, completion_tokens: 4 } })}\n\n`,
  'data: [DONE]\n\n',
].join('');

describe('@anthropic-ai/sdk against the /v1/messages converters', () => {
  it('streams parallel tool calls from a chat upstream', async () => {
    const sdk = client(messagesOverChat(openAIPassThrough), { body: OPENAI_TOOL_STREAM });
    const message = await sdk.messages.stream(PARAMS).finalMessage();
    assert.deepEqual(message.content, [
      { type: 'text', text: 'On it.' },
      { type: 'tool_use', id: 'call_a', name: 'a', input: { x: 1 } },
      { type: 'tool_use', id: 'call_b', name: 'b', input: {} },
    ]);
    assert.equal(message.stop_reason, 'tool_use');
    assert.equal(message.usage.input_tokens, 9);
    assert.equal(message.usage.output_tokens, 4);
  });

  it('reads a translated non-stream answer', async () => {
    const completion = {
      id: 'c',
      object: 'chat.completion',
      model: 'gpt',
      choices: [{ index: 0, message: { role: 'assistant', content: 'Hello' }, finish_reason: 'length' }],
      usage: { prompt_tokens: 3, completion_tokens: 1 },
    };
    const sdk = client(messagesOverChat(openAIPassThrough), { body: JSON.stringify(completion) });
    const message = await sdk.messages.create(PARAMS);
    assert.deepEqual(message.content, [{ type: 'text', text: 'Hello' }]);
    assert.equal(message.stop_reason, 'max_tokens');
  });

  it('raises typed errors: upstream 429, and an overloaded error mid-stream', async () => {
    const limited = JSON.stringify({
      error: { message: 'Slow down', type: 'rate_limit_error', code: 'rate_limit_exceeded' },
    });
    const sdk = client(messagesOverChat(openAIPassThrough), { status: 429, body: limited });
    await assert.rejects(sdk.messages.create(PARAMS), (err: unknown) => {
      assert.ok(err instanceof Anthropic.RateLimitError);
      assert.equal(err.message.includes('Slow down'), true);
      return true;
    });
    const cut = client(messagesOverChat(openAIToAnthropic), { body: anthropicSse(ERROR_EVENTS) });
    await assert.rejects(cut.messages.stream(PARAMS).finalMessage(), /overloaded_error|Overloaded/);
  });

  it('passes an Anthropic stream through with thinking and its signature intact', async () => {
    const sdk = client(anthropicPassThrough, { body: anthropicSse(THINKING_EVENTS) });
    const message = await sdk.messages.stream(PARAMS).finalMessage();
    assert.deepEqual(message.content[0], {
      type: 'thinking',
      thinking: 'I need to find the GCD of 1071 and 462. 1071 = 2×462 + 147',
      signature: 'EqQBCgIYAhIM1gbcDa9GJwZA2b3h',
    });
    assert.equal(message.usage.output_tokens, 300);
  });
});
