import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import OpenAI from 'openai';
import Anthropic from '@anthropic-ai/sdk';
import {
  anthropicErrorJson,
  anthropicSse,
  ERROR_EVENTS,
  TEXT_EVENTS,
  TEXT_MESSAGE,
  THINKING_EVENTS,
  TOOL_EVENTS,
  TOOL_MESSAGE,
} from '../src/translators/anthropic-fixtures.ts';
import { chatCompletion, startFakeUpstream, type FakeUpstream } from './fake-upstream.ts';
import { startGateway, waitFor, type TestGateway } from './harness.ts';
import { splitEvery } from './wire-fixtures.ts';

// End to end across the Anthropic boundary, with the official clients as real peers and fake upstreams
// speaking each wire format on loopback:
//   OpenAI SDK    → gateway → Anthropic Messages upstream (translated)
//   Anthropic SDK → gateway /v1/messages → OpenAI-compatible upstream (translated)
//   Anthropic SDK → gateway /v1/messages → Anthropic upstream (pass-through)

const CLAUDE = 'claude-sonnet-4-5-20250929';
const SSE = { 'content-type': 'text/event-stream' };

function anthropicConfig(fake: FakeUpstream): string {
  return `
metrics: { process: false }
providers:
  - name: claude
    type: anthropic
    base_url: ${fake.url}
    auth: { type: header, header: x-api-key, value: provider-key }
    retry: { attempts: 0 }
models:
  - name: claude
    targets:
      - provider: claude
        model: ${CLAUDE}
`;
}

async function accessLog(gw: TestGateway, n: number): Promise<any> {
  await waitFor(() => gw.accessLogs().length >= n);
  return gw.accessLogs()[n - 1];
}

describe('OpenAI SDK → gateway → Anthropic upstream', () => {
  let fake: FakeUpstream;
  let gw: TestGateway;
  let client: OpenAI;

  before(async () => {
    fake = await startFakeUpstream();
    gw = await startGateway(anthropicConfig(fake));
    client = new OpenAI({ baseURL: `${gw.url}/v1`, apiKey: 'client-key', maxRetries: 0 });
  });
  after(async () => {
    await gw.close();
    await fake.close();
  });

  it('translates a plain chat to a Messages request and the Message back', async () => {
    fake.script('/v1/messages', {
      json: {
        ...TEXT_MESSAGE,
        usage: {
          input_tokens: 30,
          output_tokens: 12,
          cache_read_input_tokens: 200,
          cache_creation_input_tokens: 50,
        },
      },
    });
    const res = await client.chat.completions.create({
      model: 'claude',
      messages: [
        { role: 'system', content: 'Be brief.' },
        { role: 'user', content: 'Who are you?' },
      ],
      temperature: 0.3,
      stop: ['END'],
    });

    const seen = fake.requests.at(-1)!;
    assert.equal(seen.path, '/v1/messages');
    assert.equal(seen.headers['x-api-key'], 'provider-key');
    assert.equal(seen.headers['anthropic-version'], '2023-06-01');
    assert.equal(seen.headers.authorization, undefined, "the client's bearer key is not forwarded");
    assert.deepEqual(seen.body, {
      model: CLAUDE,
      max_tokens: 4096,
      system: 'Be brief.',
      messages: [{ role: 'user', content: 'Who are you?' }],
      stop_sequences: ['END'],
      temperature: 0.3,
    });

    assert.equal(res.object, 'chat.completion');
    assert.equal(res.choices.length, 1);
    assert.equal(res.choices[0]!.message.role, 'assistant');
    assert.equal(res.choices[0]!.message.content, 'Hi! My name is Claude.');
    assert.equal(res.choices[0]!.finish_reason, 'stop');
    // Anthropic's input_tokens excludes the cache; OpenAI's prompt_tokens includes it.
    assert.equal(res.usage?.prompt_tokens, 280);
    assert.equal(res.usage?.completion_tokens, 12);
    assert.equal(res.usage?.total_tokens, 292);
    assert.equal(res.usage?.prompt_tokens_details?.cached_tokens, 200);

    const line = await accessLog(gw, 1);
    assert.equal(line.provider, 'claude');
    assert.equal(line.upstream_model, CLAUDE);
    assert.equal(line.input_tokens, 280);
    assert.equal(line.cached_tokens, 200);
    assert.equal(line.status, 200);
  });

  it('maps tools out and tool_use blocks back (non-streaming)', async () => {
    fake.script('/v1/messages', { json: TOOL_MESSAGE });
    const res = await client.chat.completions.create({
      model: 'claude',
      max_completion_tokens: 300,
      messages: [{ role: 'user', content: 'Weather and time in Paris?' }],
      tools: [
        {
          type: 'function',
          function: {
            name: 'get_weather',
            description: 'Current weather',
            parameters: { type: 'object', properties: { location: { type: 'string' } } },
          },
        },
        { type: 'function', function: { name: 'get_time' } },
      ],
      tool_choice: 'required',
    });
    const seen = fake.requests.at(-1)!.body;
    assert.equal(seen.max_tokens, 300);
    assert.deepEqual(seen.tools, [
      {
        name: 'get_weather',
        description: 'Current weather',
        input_schema: { type: 'object', properties: { location: { type: 'string' } } },
      },
      { name: 'get_time', input_schema: { type: 'object', properties: {} } },
    ]);
    assert.deepEqual(seen.tool_choice, { type: 'any' });

    const choice = res.choices[0]!;
    assert.equal(choice.finish_reason, 'tool_calls');
    assert.equal(choice.message.content, 'I will check.');
    assert.deepEqual(
      choice.message.tool_calls?.map(
        (c) => c.type === 'function' && [c.id, c.function.name, JSON.parse(c.function.arguments)],
      ),
      [
        ['toolu_01A09q90qw90lq917835lq9', 'get_weather', { location: 'Paris' }],
        ['toolu_01B18r81rx81mr826946mr8', 'get_time', {}],
      ],
    );
    assert.equal(res.usage?.prompt_tokens, 2095 + 1000 + 20);
    assert.equal(res.usage?.prompt_tokens_details?.cached_tokens, 1000);
  });

  it('streams text, cut at arbitrary byte offsets, with usage in the final chunk', async () => {
    // 7-byte reads split `event:` lines, JSON strings and the multi-byte characters of "Ünïcödé ✓".
    fake.script('/v1/messages', { chunks: splitEvery(anthropicSse(TEXT_EVENTS), 7), headers: SSE });
    const before = gw.accessLogs().length;
    const stream = await client.chat.completions.create({
      model: 'claude',
      messages: [{ role: 'user', content: 'hi' }],
      stream: true,
      stream_options: { include_usage: true },
    });
    let text = '';
    const finishes: string[] = [];
    const usages: OpenAI.CompletionUsage[] = [];
    let usageChunkChoices = -1;
    for await (const chunk of stream) {
      text += chunk.choices[0]?.delta.content ?? '';
      const finish = chunk.choices[0]?.finish_reason;
      if (finish) finishes.push(finish);
      if (chunk.usage) {
        usages.push(chunk.usage);
        usageChunkChoices = chunk.choices.length;
      }
    }
    assert.equal(text, 'Hello! Ünïcödé ✓');
    assert.deepEqual(finishes, ['stop']);
    assert.equal(usages.length, 1);
    assert.equal(usageChunkChoices, 0, 'usage travels in its own chunk with choices: []');
    assert.equal(usages[0]!.prompt_tokens, 25);
    assert.equal(usages[0]!.completion_tokens, 15);
    assert.equal(fake.requests.at(-1)!.body.stream, true);

    const line = await accessLog(gw, before + 1);
    assert.equal(line.stream, true);
    assert.equal(line.input_tokens, 25);
    assert.equal(line.output_tokens, 15);
    assert.equal(line.outcome, 'ok');
  });

  it('keeps usage out of the stream when the client did not ask, but still meters it', async () => {
    fake.script('/v1/messages', { chunks: [anthropicSse(TEXT_EVENTS)], headers: SSE });
    const before = gw.accessLogs().length;
    const stream = await client.chat.completions.create({
      model: 'claude',
      messages: [{ role: 'user', content: 'hi' }],
      stream: true,
    });
    let usageChunks = 0;
    let text = '';
    for await (const chunk of stream) {
      if (chunk.usage) usageChunks++;
      text += chunk.choices[0]?.delta.content ?? '';
    }
    assert.equal(text, 'Hello! Ünïcödé ✓');
    assert.equal(usageChunks, 0);
    const line = await accessLog(gw, before + 1);
    assert.equal(line.output_tokens, 15);
  });

  it('streams parallel tool calls whose arguments span many input_json_delta events', async () => {
    fake.script('/v1/messages', {
      chunks: splitEvery(anthropicSse(TOOL_EVENTS), 64),
      headers: SSE,
      frameDelayMs: 1,
    });
    const runner = client.chat.completions.stream({
      model: 'claude',
      messages: [{ role: 'user', content: 'Weather and time in SF, and list cities' }],
      tools: [
        { type: 'function', function: { name: 'get_weather', parameters: { type: 'object' } } },
        { type: 'function', function: { name: 'get_time', parameters: { type: 'object' } } },
        { type: 'function', function: { name: 'list_cities', parameters: { type: 'object' } } },
      ],
      stream_options: { include_usage: true },
    });
    const final = await runner.finalChatCompletion();
    const choice = final.choices[0]!;
    assert.equal(choice.finish_reason, 'tool_calls');
    assert.equal(choice.message.content, 'Okay, let me check both.');
    const calls = (choice.message.tool_calls ?? []).map((c) => {
      assert.equal(c.type, 'function');
      return c.type === 'function'
        ? { id: c.id, name: c.function.name, args: JSON.parse(c.function.arguments) }
        : null;
    });
    assert.deepEqual(calls, [
      {
        id: 'toolu_01T1x1fJ34qAmk2tNTrN7Up6',
        name: 'get_weather',
        args: { location: 'San Francisco, CA', unit: 'fahrenheit' },
      },
      { id: 'toolu_01Ag2mS6Yb3c9ZkP8xW4nQvR', name: 'get_time', args: { timezone: 'America/Los_Angeles' } },
      { id: 'toolu_01NoArgs0000000000000000', name: 'list_cities', args: {} },
    ]);
    assert.equal(final.usage?.prompt_tokens, 472 + 100 + 2048);
    assert.equal(final.usage?.completion_tokens, 89);
    assert.equal(final.usage?.prompt_tokens_details?.cached_tokens, 2048);
    assert.equal(fake.requests.at(-1)!.body.tools.length, 3);
  });

  it('answers an Anthropic 429 rate_limit_error as an OpenAI 429 with Retry-After, without retrying', async () => {
    const sent = fake.requests.length;
    fake.script('/v1/messages', {
      status: 429,
      headers: { 'retry-after': '7' },
      json: anthropicErrorJson('rate_limit_error', 'Number of request tokens has exceeded your rate limit.'),
    });
    await assert.rejects(
      client.chat.completions.create({ model: 'claude', messages: [{ role: 'user', content: 'hi' }] }),
      (err: unknown) => {
        assert.ok(err instanceof OpenAI.RateLimitError, String(err));
        assert.equal(err.status, 429);
        assert.equal(err.code, 'rate_limited');
        assert.match(err.message, /exceeded your rate limit/);
        assert.equal(err.headers?.get('retry-after'), '7');
        return true;
      },
    );
    assert.equal(fake.requests.length, sent + 1);
  });

  it('answers a 529 overloaded_error as a 503', async () => {
    fake.script('/v1/messages', { status: 529, json: anthropicErrorJson('overloaded_error', 'Overloaded') });
    await assert.rejects(
      client.chat.completions.create({ model: 'claude', messages: [{ role: 'user', content: 'hi' }] }),
      (err: unknown) => {
        assert.ok(err instanceof OpenAI.InternalServerError, String(err));
        assert.equal(err.status, 503);
        assert.equal(err.message.includes('Overloaded'), true);
        return true;
      },
    );
  });

  it('answers "prompt is too long" as 400 context_length_exceeded', async () => {
    fake.script('/v1/messages', {
      status: 400,
      json: anthropicErrorJson('invalid_request_error', 'prompt is too long: 210000 tokens > 200000 maximum'),
    });
    await assert.rejects(
      client.chat.completions.create({ model: 'claude', messages: [{ role: 'user', content: 'hi' }] }),
      (err: unknown) => {
        assert.ok(err instanceof OpenAI.BadRequestError, String(err));
        assert.equal(err.code, 'context_length_exceeded');
        return true;
      },
    );
  });

  it('surfaces a mid-stream overloaded error to the SDK after the partial text', async () => {
    // The partial text and the error arrive in separate reads, so the text is already on the wire.
    const [start, blockStart, partial, error] = ERROR_EVENTS;
    fake.script('/v1/messages', {
      chunks: [anthropicSse([start!, blockStart!, partial!]), anthropicSse([error!])],
      headers: SSE,
      frameDelayMs: 30,
    });
    const before = gw.accessLogs().length;
    const stream = await client.chat.completions.create({
      model: 'claude',
      messages: [{ role: 'user', content: 'hi' }],
      stream: true,
    });
    let text = '';
    await assert.rejects(
      (async () => {
        for await (const chunk of stream) text += chunk.choices[0]?.delta.content ?? '';
      })(),
      (err: unknown) => err instanceof OpenAI.APIError && /Overloaded/.test(err.message),
    );
    assert.equal(text, 'Partial');
    // The SDK hangs up on the error frame, so the line says 'error' or 'aborted' depending on who is first.
    const line = await accessLog(gw, before + 1);
    assert.notEqual(line.outcome, 'ok');
  });

  it('answers a stream whose first read already holds the error as a plain 503', async () => {
    fake.script('/v1/messages', { chunks: [anthropicSse(ERROR_EVENTS)], headers: SSE });
    await assert.rejects(
      client.chat.completions.create({
        model: 'claude',
        messages: [{ role: 'user', content: 'hi' }],
        stream: true,
      }),
      (err: unknown) => {
        assert.ok(err instanceof OpenAI.InternalServerError, String(err));
        assert.equal(err.status, 503);
        assert.match(err.message, /Overloaded/);
        return true;
      },
    );
  });
});

describe('Anthropic SDK → gateway /v1/messages → OpenAI-compatible upstream', () => {
  let fake: FakeUpstream;
  let gw: TestGateway;
  let client: Anthropic;

  before(async () => {
    fake = await startFakeUpstream();
    gw = await startGateway(`
metrics: { process: false }
providers:
  - name: oai
    type: openai
    base_url: ${fake.url}
    auth: { type: bearer, token: provider-token }
    retry: { attempts: 0 }
models:
  - name: gpt-proxy
    targets:
      - provider: oai
        model: gpt-upstream
`);
    // The SDK appends /v1/messages to the base URL.
    client = new Anthropic({ baseURL: gw.url, apiKey: 'client-key', maxRetries: 0 });
  });
  after(async () => {
    await gw.close();
    await fake.close();
  });

  it('answers a plain message, converting request and response', async () => {
    fake.script('/v1/chat/completions', {
      json: {
        ...chatCompletion('gpt-upstream', 'Paris.'),
        usage: {
          prompt_tokens: 20,
          completion_tokens: 2,
          total_tokens: 22,
          prompt_tokens_details: { cached_tokens: 16 },
        },
      },
    });
    const msg = await client.messages.create({
      model: 'gpt-proxy',
      max_tokens: 256,
      system: 'Answer in one word.',
      messages: [{ role: 'user', content: 'Capital of France?' }],
      // @ts-expect-error this SDK version's types leave out sampling parameters the API still accepts
      temperature: 0.5,
      stop_sequences: ['\n'],
    });

    const seen = fake.requests.at(-1)!;
    assert.equal(seen.path, '/v1/chat/completions');
    assert.equal(seen.headers.authorization, 'Bearer provider-token');
    assert.equal(seen.headers['x-api-key'], undefined, "the client's key is never forwarded");
    assert.deepEqual(seen.body, {
      model: 'gpt-upstream',
      messages: [
        { role: 'system', content: 'Answer in one word.' },
        { role: 'user', content: 'Capital of France?' },
      ],
      max_tokens: 256,
      stop: ['\n'],
      temperature: 0.5,
    });

    assert.equal(msg.type, 'message');
    assert.equal(msg.role, 'assistant');
    assert.match(msg.id, /^msg_/);
    assert.deepEqual(msg.content, [{ type: 'text', text: 'Paris.' }]);
    assert.equal(msg.stop_reason, 'end_turn');
    assert.equal(msg.usage.input_tokens, 4, 'input_tokens excludes the cached tokens');
    assert.equal(msg.usage.cache_read_input_tokens, 16);
    assert.equal(msg.usage.output_tokens, 2);

    const line = await accessLog(gw, 1);
    assert.equal(line.api, 'messages');
    assert.equal(line.input_tokens, 20);
    assert.equal(line.cached_tokens, 16);
  });

  it('streams through the SDK helper to the final text and usage', async () => {
    const before = gw.accessLogs().length;
    const stream = client.messages.stream({
      model: 'gpt-proxy',
      max_tokens: 100,
      messages: [{ role: 'user', content: 'Say hello' }],
    });
    const deltas: string[] = [];
    stream.on('text', (delta) => deltas.push(delta));
    const final = await stream.finalMessage();

    const seen = fake.requests.at(-1)!.body;
    assert.equal(seen.stream, true);
    assert.equal(seen.stream_options?.include_usage, true);
    // The fake's default stream: "Hello", " there", "!" with usage 5 in, 3 out.
    assert.deepEqual(deltas, ['Hello', ' there', '!']);
    assert.equal(final.content.length, 1);
    assert.equal(final.content[0]!.type === 'text' && final.content[0]!.text, 'Hello there!');
    assert.equal(final.stop_reason, 'end_turn');
    assert.equal(final.usage.output_tokens, 3);
    assert.equal(final.usage.input_tokens, 5);

    const line = await accessLog(gw, before + 1);
    assert.equal(line.stream, true);
    assert.equal(line.output_tokens, 3);
  });

  it('round-trips tool use: tools and tool results out, tool_calls back as tool_use blocks', async () => {
    fake.script('/v1/chat/completions', {
      json: {
        id: 'chatcmpl-tools',
        object: 'chat.completion',
        created: 1700000000,
        model: 'gpt-upstream',
        choices: [
          {
            index: 0,
            message: {
              role: 'assistant',
              content: null,
              tool_calls: [
                {
                  id: 'call_w',
                  type: 'function',
                  function: { name: 'get_weather', arguments: '{"city":"Oslo"}' },
                },
                { id: 'call_t', type: 'function', function: { name: 'get_time', arguments: '{"tz":"CET"}' } },
              ],
            },
            finish_reason: 'tool_calls',
          },
        ],
        usage: { prompt_tokens: 50, completion_tokens: 20, total_tokens: 70 },
      },
    });
    const msg = await client.messages.create({
      model: 'gpt-proxy',
      max_tokens: 200,
      tools: [
        {
          name: 'get_weather',
          description: 'Weather for a city',
          input_schema: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] },
        },
        { name: 'get_time', input_schema: { type: 'object', properties: { tz: { type: 'string' } } } },
      ],
      tool_choice: { type: 'any', disable_parallel_tool_use: false },
      messages: [
        { role: 'user', content: 'Weather in Bergen?' },
        {
          role: 'assistant',
          content: [{ type: 'tool_use', id: 'toolu_prev', name: 'get_weather', input: { city: 'Bergen' } }],
        },
        {
          role: 'user',
          content: [
            { type: 'tool_result', tool_use_id: 'toolu_prev', content: 'Rain, 9C' },
            { type: 'text', text: 'Now Oslo, and the time.' },
          ],
        },
      ],
    });

    const seen = fake.requests.at(-1)!.body;
    assert.deepEqual(seen.tools, [
      {
        type: 'function',
        function: {
          name: 'get_weather',
          parameters: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] },
          description: 'Weather for a city',
        },
      },
      {
        type: 'function',
        function: {
          name: 'get_time',
          parameters: { type: 'object', properties: { tz: { type: 'string' } } },
        },
      },
    ]);
    assert.equal(seen.tool_choice, 'required');
    const assistant = seen.messages.find((m: any) => m.role === 'assistant');
    assert.equal(assistant.tool_calls[0].id, 'toolu_prev');
    assert.equal(assistant.tool_calls[0].function.name, 'get_weather');
    assert.deepEqual(JSON.parse(assistant.tool_calls[0].function.arguments), { city: 'Bergen' });
    const toolMsg = seen.messages.find((m: any) => m.role === 'tool');
    assert.equal(toolMsg.tool_call_id, 'toolu_prev');
    assert.equal(
      typeof toolMsg.content === 'string'
        ? toolMsg.content
        : toolMsg.content.map((p: any) => p.text).join(''),
      'Rain, 9C',
    );
    const roles = seen.messages.map((m: any) => m.role);
    assert.deepEqual(
      roles,
      ['user', 'assistant', 'tool', 'user'],
      'the tool result precedes the new user text',
    );

    assert.equal(msg.stop_reason, 'tool_use');
    assert.deepEqual(msg.content, [
      { type: 'tool_use', id: 'call_w', name: 'get_weather', input: { city: 'Oslo' } },
      { type: 'tool_use', id: 'call_t', name: 'get_time', input: { tz: 'CET' } },
    ]);
  });

  it('streams parallel tool calls as tool_use blocks the SDK accumulates', async () => {
    const base = {
      id: 'chatcmpl-s',
      object: 'chat.completion.chunk',
      created: 1700000000,
      model: 'gpt-upstream',
    };
    const delta = (d: object, finish: string | null = null) => ({
      ...base,
      choices: [{ index: 0, delta: d, finish_reason: finish }],
    });
    const call = (index: number, args: string, head?: { id: string; name: string }) => ({
      tool_calls: [
        head === undefined
          ? { index, function: { arguments: args } }
          : { index, id: head.id, type: 'function', function: { name: head.name, arguments: args } },
      ],
    });
    fake.script('/v1/chat/completions', {
      sse: [
        delta({ role: 'assistant', content: 'Checking.' }),
        delta(call(0, '', { id: 'call_a', name: 'get_weather' })),
        delta(call(0, '{"ci')),
        delta(call(0, 'ty": "Os')),
        delta(call(0, 'lo"}')),
        delta(call(1, '{"tz"', { id: 'call_b', name: 'get_time' })),
        delta(call(1, ':"CET"}')),
        delta({}, 'tool_calls'),
        { ...base, choices: [], usage: { prompt_tokens: 40, completion_tokens: 30, total_tokens: 70 } },
        '[DONE]',
      ],
      frameDelayMs: 1,
    });
    const stream = client.messages.stream({
      model: 'gpt-proxy',
      max_tokens: 200,
      tools: [
        { name: 'get_weather', input_schema: { type: 'object' } },
        { name: 'get_time', input_schema: { type: 'object' } },
      ],
      messages: [{ role: 'user', content: 'Weather and time in Oslo' }],
    });
    const final = await stream.finalMessage();
    assert.equal(final.stop_reason, 'tool_use');
    assert.deepEqual(
      final.content.map((b) =>
        b.type === 'text'
          ? ['text', b.text]
          : b.type === 'tool_use'
            ? ['tool_use', b.id, b.name, b.input]
            : [b.type],
      ),
      [
        ['text', 'Checking.'],
        ['tool_use', 'call_a', 'get_weather', { city: 'Oslo' }],
        ['tool_use', 'call_b', 'get_time', { tz: 'CET' }],
      ],
    );
    assert.equal(final.usage.output_tokens, 30);
    assert.equal(final.usage.input_tokens, 40);
  });

  it('answers an unknown model with an Anthropic-shaped 404 the SDK raises as NotFoundError', async () => {
    const sent = fake.requests.length;
    await assert.rejects(
      client.messages.create({
        model: 'no-such-model',
        max_tokens: 10,
        messages: [{ role: 'user', content: 'hi' }],
      }),
      (err: unknown) => {
        assert.ok(err instanceof Anthropic.NotFoundError, String(err));
        assert.equal(err.status, 404);
        const body = err.error as any;
        assert.equal(body.type, 'error');
        assert.equal(body.error.type, 'not_found_error');
        assert.match(body.error.message, /no-such-model/);
        return true;
      },
    );
    assert.equal(fake.requests.length, sent, 'nothing reached the upstream');
  });

  it('answers an upstream 429 with an Anthropic-shaped rate_limit_error', async () => {
    fake.script('/v1/chat/completions', {
      status: 429,
      json: {
        error: { message: 'Rate limit reached for requests', type: 'requests', code: 'rate_limit_exceeded' },
      },
    });
    await assert.rejects(
      client.messages.create({
        model: 'gpt-proxy',
        max_tokens: 10,
        messages: [{ role: 'user', content: 'hi' }],
      }),
      (err: unknown) => {
        assert.ok(err instanceof Anthropic.RateLimitError, String(err));
        const body = err.error as any;
        assert.equal(body.type, 'error');
        assert.equal(body.error.type, 'rate_limit_error');
        assert.match(body.error.message, /Rate limit reached/);
        return true;
      },
    );
  });

  it('rejects a request without max_tokens as an Anthropic invalid_request_error', async () => {
    const res = await fetch(`${gw.url}/v1/messages`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'anthropic-version': '2023-06-01' },
      body: JSON.stringify({ model: 'gpt-proxy', messages: [{ role: 'user', content: 'hi' }] }),
    });
    assert.equal(res.status, 400);
    const body = (await res.json()) as any;
    assert.equal(body.type, 'error');
    assert.equal(body.error.type, 'invalid_request_error');
    assert.match(body.error.message, /max_tokens/);
  });
});

describe('Anthropic SDK → gateway /v1/messages → Anthropic upstream (pass-through)', () => {
  let fake: FakeUpstream;
  let gw: TestGateway;
  let client: Anthropic;

  before(async () => {
    fake = await startFakeUpstream();
    gw = await startGateway(anthropicConfig(fake));
    client = new Anthropic({ baseURL: gw.url, apiKey: 'client-key', maxRetries: 0 });
  });
  after(async () => {
    await gw.close();
    await fake.close();
  });

  const params = {
    model: 'claude',
    max_tokens: 1024,
    system: [
      { type: 'text' as const, text: 'You are a librarian.' },
      {
        type: 'text' as const,
        text: 'A long reference text…',
        cache_control: { type: 'ephemeral' as const },
      },
    ],
    tools: [
      {
        name: 'lookup',
        description: 'Find a book',
        input_schema: { type: 'object' as const, properties: { q: { type: 'string' } } },
        cache_control: { type: 'ephemeral' as const, ttl: '1h' as const },
      },
    ],
    messages: [
      {
        role: 'user' as const,
        content: [
          { type: 'text' as const, text: 'Find Dune', cache_control: { type: 'ephemeral' as const } },
        ],
      },
    ],
    metadata: { user_id: 'u-42' },
    top_k: 5,
  };

  it('forwards the body unchanged but for the model, with the provider key and the client beta header', async () => {
    fake.script('/v1/messages', { json: TEXT_MESSAGE });
    let clientHeaders = new Headers();
    const recording = new Anthropic({
      baseURL: gw.url,
      apiKey: 'client-key',
      maxRetries: 0,
      fetch: (url: string | URL | Request, init?: RequestInit) => {
        clientHeaders = new Headers(init?.headers);
        return fetch(url, init);
      },
    });
    const msg = await recording.messages.create(params, {
      headers: { 'anthropic-beta': 'extended-cache-ttl-2025-04-11' },
    });

    const seen = fake.requests.at(-1)!;
    assert.equal(seen.path, '/v1/messages');
    assert.deepEqual(seen.body, { ...params, model: CLAUDE });
    assert.equal(seen.headers['x-api-key'], 'provider-key', "the provider's key, not the client's");
    // Depending on its version the SDK sends its key as x-api-key or as a bearer token; neither goes upstream.
    assert.match(`${clientHeaders.get('x-api-key')} ${clientHeaders.get('authorization')}`, /client-key/);
    assert.ok(clientHeaders.get('anthropic-version'));
    assert.equal(
      seen.headers['anthropic-version'],
      clientHeaders.get('anthropic-version'),
      "the client's version",
    );
    assert.equal(seen.headers['anthropic-beta'], 'extended-cache-ttl-2025-04-11');
    assert.equal(seen.headers.authorization, undefined);

    // The Message comes back as the upstream wrote it.
    assert.deepEqual(JSON.parse(JSON.stringify(msg)), TEXT_MESSAGE);
    const line = await accessLog(gw, 1);
    assert.equal(line.api, 'messages');
    assert.equal(line.input_tokens, 2095);
    assert.equal(line.output_tokens, 503);
  });

  it('passes a stream through byte for byte and records its usage', async () => {
    const wire = anthropicSse(TOOL_EVENTS);
    fake.script('/v1/messages', { chunks: splitEvery(wire, 50), headers: SSE });
    const before = gw.accessLogs().length;
    const res = await fetch(`${gw.url}/v1/messages`, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        'x-api-key': 'client-key',
        'anthropic-version': '2023-06-01',
      },
      body: JSON.stringify({ ...params, stream: true }),
    });
    assert.equal(res.status, 200);
    assert.match(res.headers.get('content-type') ?? '', /^text\/event-stream/);
    assert.equal(await res.text(), wire);
    assert.equal(fake.requests.at(-1)!.body.stream, true);

    const line = await accessLog(gw, before + 1);
    assert.equal(line.stream, true);
    assert.equal(line.input_tokens, 472 + 100 + 2048);
    assert.equal(line.cached_tokens, 2048);
    assert.equal(line.output_tokens, 89);
    assert.equal(line.outcome, 'ok');
  });

  it('streams thinking and text through the SDK helper', async () => {
    fake.script('/v1/messages', { chunks: splitEvery(anthropicSse(THINKING_EVENTS), 33), headers: SSE });
    const final = await client.messages
      .stream({
        model: 'claude',
        max_tokens: 300,
        thinking: { type: 'enabled', budget_tokens: 1024 },
        messages: [{ role: 'user', content: 'GCD of 1071 and 462?' }],
      })
      .finalMessage();
    assert.deepEqual(fake.requests.at(-1)!.body.thinking, { type: 'enabled', budget_tokens: 1024 });
    assert.equal(final.stop_reason, 'max_tokens');
    assert.deepEqual(
      final.content.map((b) =>
        b.type === 'thinking' ? [b.thinking, b.signature] : b.type === 'text' ? [b.text] : [b.type],
      ),
      [
        ['I need to find the GCD of 1071 and 462. 1071 = 2×462 + 147', 'EqQBCgIYAhIM1gbcDa9GJwZA2b3h'],
        ['The GCD is 21.'],
      ],
    );
    assert.equal(final.usage.output_tokens, 300);
  });

  it('relays an upstream error in Anthropic shape', async () => {
    fake.script('/v1/messages', {
      status: 429,
      json: anthropicErrorJson('rate_limit_error', 'Number of request tokens has exceeded your rate limit.'),
    });
    await assert.rejects(client.messages.create(params), (err: unknown) => {
      assert.ok(err instanceof Anthropic.RateLimitError, String(err));
      const body = err.error as any;
      assert.equal(body.type, 'error');
      assert.equal(body.error.type, 'rate_limit_error');
      assert.match(body.error.message, /exceeded your rate limit/);
      return true;
    });
  });

  it('forwards count_tokens to the Anthropic upstream', async () => {
    fake.script('/v1/messages/count_tokens', { json: { input_tokens: 4242 } });
    const res = await client.messages.countTokens({
      model: 'claude',
      messages: [{ role: 'user', content: 'hi' }],
    });
    assert.equal(res.input_tokens, 4242);
    assert.equal(fake.requests.at(-1)!.path, '/v1/messages/count_tokens');
    assert.equal(fake.requests.at(-1)!.body.model, CLAUDE);
  });
});
