import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import OpenAI from 'openai';
import Anthropic from '@anthropic-ai/sdk';
import { encodeEvent, encodeException } from '../src/translators/aws-event-stream.ts';
import { startFakeUpstream, type FakeUpstream } from './fake-upstream.ts';
import { startGateway, waitFor, type TestGateway } from './harness.ts';
import { expectedSigV4, geminiSse, splitEvery } from './wire-fixtures.ts';

// End to end with the official openai client against fake Gemini (generateContent /
// streamGenerateContent?alt=sse, API-key header) and fake Bedrock Runtime (Converse / ConverseStream,
// SigV4-signed, binary AWS event stream) upstreams on loopback.

async function accessLog(gw: TestGateway, n: number): Promise<any> {
  await waitFor(() => gw.accessLogs().length >= n);
  return gw.accessLogs()[n - 1];
}

function toolCalls(message: OpenAI.ChatCompletionMessage): { id: string; name: string; args: unknown }[] {
  return (message.tool_calls ?? []).map((c) => {
    assert.equal(c.type, 'function');
    const fn = c.function;
    return { id: c.id, name: fn.name, args: JSON.parse(fn.arguments) };
  });
}

const GEMINI_MODEL = 'gemini-2.5-flash';
const GEMINI_BASE = `/v1beta/models/${GEMINI_MODEL}`;

describe('OpenAI SDK → gateway → Gemini upstream', () => {
  let fake: FakeUpstream;
  let gw: TestGateway;
  let client: OpenAI;

  before(async () => {
    fake = await startFakeUpstream();
    gw = await startGateway(`
metrics: { process: false }
providers:
  - name: google
    type: gemini
    base_url: ${fake.origin}/v1beta
    auth: { type: header, header: x-goog-api-key, value: g-key }
    retry: { attempts: 0 }
models:
  - name: gemini
    targets:
      - provider: google
        model: ${GEMINI_MODEL}
`);
    client = new OpenAI({ baseURL: `${gw.url}/v1`, apiKey: 'client-key', maxRetries: 0 });
  });
  after(async () => {
    await gw.close();
    await fake.close();
  });

  it('translates a plain chat to generateContent and the response back', async () => {
    fake.script(`${GEMINI_BASE}:generateContent`, {
      json: {
        candidates: [
          {
            content: {
              role: 'model',
              parts: [{ text: 'Paris', thought: false }, { text: ' is the capital.' }],
            },
            finishReason: 'STOP',
            index: 0,
          },
        ],
        usageMetadata: {
          promptTokenCount: 12,
          candidatesTokenCount: 5,
          cachedContentTokenCount: 4,
          thoughtsTokenCount: 2,
          totalTokenCount: 19,
        },
        modelVersion: GEMINI_MODEL,
      },
    });
    const res = await client.chat.completions.create({
      model: 'gemini',
      messages: [
        { role: 'system', content: 'Be brief.' },
        { role: 'user', content: 'Capital of France?' },
      ],
      max_tokens: 50,
      temperature: 0.4,
    });

    const seen = fake.requests.at(-1)!;
    assert.equal(seen.path, `${GEMINI_BASE}:generateContent`);
    assert.equal(seen.headers['x-goog-api-key'], 'g-key');
    assert.equal(seen.headers.authorization, undefined, "the client's key is not forwarded");
    assert.deepEqual(seen.body, {
      contents: [{ role: 'user', parts: [{ text: 'Capital of France?' }] }],
      systemInstruction: { parts: [{ text: 'Be brief.' }] },
      generationConfig: { maxOutputTokens: 50, temperature: 0.4 },
    });

    const choice = res.choices[0]!;
    assert.equal(choice.message.content, 'Paris is the capital.');
    assert.equal(choice.finish_reason, 'stop');
    assert.equal(res.usage?.prompt_tokens, 12);
    assert.equal(res.usage?.completion_tokens, 7, 'thought tokens count as completion tokens');
    assert.equal(res.usage?.prompt_tokens_details?.cached_tokens, 4);
    assert.equal(res.usage?.completion_tokens_details?.reasoning_tokens, 2);

    const line = await accessLog(gw, 1);
    assert.equal(line.provider, 'google');
    assert.equal(line.input_tokens, 12);
    assert.equal(line.output_tokens, 7);
  });

  it('streams through streamGenerateContent?alt=sse with usage at the end', async () => {
    // The fake keys scripts by path without the query string.
    fake.script(`${GEMINI_BASE}:streamGenerateContent`, {
      chunks: splitEvery(
        geminiSse([
          { candidates: [{ content: { role: 'model', parts: [{ text: 'Hej' }] }, index: 0 }] },
          { candidates: [{ content: { role: 'model', parts: [{ text: ' på dig ✓' }] }, index: 0 }] },
          {
            candidates: [
              { content: { role: 'model', parts: [{ text: '!' }] }, finishReason: 'STOP', index: 0 },
            ],
            usageMetadata: { promptTokenCount: 9, candidatesTokenCount: 4, totalTokenCount: 13 },
          },
        ]),
        11,
      ),
      headers: { 'content-type': 'text/event-stream' },
    });
    const before = gw.accessLogs().length;
    const stream = await client.chat.completions.create({
      model: 'gemini',
      messages: [{ role: 'user', content: 'Greet me in Swedish' }],
      stream: true,
      stream_options: { include_usage: true },
    });
    let text = '';
    const finishes: string[] = [];
    let usage: OpenAI.CompletionUsage | undefined;
    for await (const chunk of stream) {
      text += chunk.choices[0]?.delta.content ?? '';
      if (chunk.choices[0]?.finish_reason) finishes.push(chunk.choices[0].finish_reason);
      if (chunk.usage) usage = chunk.usage;
    }
    const seen = fake.requests.at(-1)!;
    assert.equal(seen.path, `${GEMINI_BASE}:streamGenerateContent?alt=sse`);
    assert.equal(seen.headers['x-goog-api-key'], 'g-key');
    assert.equal(text, 'Hej på dig ✓!');
    assert.deepEqual(finishes, ['stop']);
    assert.equal(usage?.prompt_tokens, 9);
    assert.equal(usage?.completion_tokens, 4);

    const line = await accessLog(gw, before + 1);
    assert.equal(line.stream, true);
    assert.equal(line.output_tokens, 4);
    assert.equal(line.outcome, 'ok');
  });

  it('turns functionCall parts into tool_calls and sends tools as functionDeclarations', async () => {
    fake.script(`${GEMINI_BASE}:generateContent`, {
      json: {
        candidates: [
          {
            content: {
              role: 'model',
              parts: [
                {
                  functionCall: { name: 'get_weather', args: { city: 'Paris' } },
                  thoughtSignature: 'c2lnLTE=',
                },
                { functionCall: { name: 'get_time', args: { tz: 'CET' } } },
              ],
            },
            finishReason: 'STOP',
            index: 0,
          },
        ],
        usageMetadata: { promptTokenCount: 30, candidatesTokenCount: 10, totalTokenCount: 40 },
      },
    });
    const tools: OpenAI.ChatCompletionTool[] = [
      {
        type: 'function',
        function: {
          name: 'get_weather',
          description: 'Weather for a city',
          parameters: { type: 'object', properties: { city: { type: 'string' } } },
        },
      },
      { type: 'function', function: { name: 'get_time', parameters: { type: 'object' } } },
    ];
    const res = await client.chat.completions.create({
      model: 'gemini',
      messages: [{ role: 'user', content: 'Weather and time in Paris?' }],
      tools,
      tool_choice: 'auto',
    });

    const sent = fake.requests.at(-1)!.body;
    assert.deepEqual(sent.tools, [
      {
        functionDeclarations: [
          {
            name: 'get_weather',
            description: 'Weather for a city',
            parametersJsonSchema: { type: 'object', properties: { city: { type: 'string' } } },
          },
          { name: 'get_time', parametersJsonSchema: { type: 'object' } },
        ],
      },
    ]);
    assert.deepEqual(sent.toolConfig, { functionCallingConfig: { mode: 'AUTO' } });

    const message = res.choices[0]!.message;
    assert.equal(res.choices[0]!.finish_reason, 'tool_calls');
    assert.equal(message.content, null);
    const calls = toolCalls(message);
    assert.deepEqual(
      calls.map(({ name, args }) => ({ name, args })),
      [
        { name: 'get_weather', args: { city: 'Paris' } },
        { name: 'get_time', args: { tz: 'CET' } },
      ],
    );
    assert.notEqual(calls[0]!.id, calls[1]!.id);

    // Next turn: the tool results go back as functionResponse parts, and the signed call keeps its
    // thoughtSignature (carried in the tool-call id).
    fake.script(`${GEMINI_BASE}:generateContent`, {
      json: {
        candidates: [
          { content: { role: 'model', parts: [{ text: 'Sunny, 14:00.' }] }, finishReason: 'STOP' },
        ],
      },
    });
    const second = await client.chat.completions.create({
      model: 'gemini',
      tools,
      messages: [
        { role: 'user', content: 'Weather and time in Paris?' },
        message,
        { role: 'tool', tool_call_id: calls[0]!.id, content: '{"sky":"sunny"}' },
        { role: 'tool', tool_call_id: calls[1]!.id, content: '14:00' },
      ],
    });
    assert.equal(second.choices[0]!.message.content, 'Sunny, 14:00.');
    const contents = fake.requests.at(-1)!.body.contents;
    assert.deepEqual(contents.slice(1), [
      {
        role: 'model',
        parts: [
          { functionCall: { name: 'get_weather', args: { city: 'Paris' } }, thoughtSignature: 'c2lnLTE=' },
          { functionCall: { name: 'get_time', args: { tz: 'CET' } } },
        ],
      },
      {
        role: 'user',
        parts: [
          { functionResponse: { name: 'get_weather', response: { sky: 'sunny' } } },
          { functionResponse: { name: 'get_time', response: { output: '14:00' } } },
        ],
      },
    ]);
  });

  it('streams a function call to the SDK as tool_calls', async () => {
    fake.script(`${GEMINI_BASE}:streamGenerateContent`, {
      chunks: [
        geminiSse([{ candidates: [{ content: { role: 'model', parts: [{ text: 'Looking up.' }] } }] }]),
        geminiSse([
          {
            candidates: [
              {
                content: {
                  role: 'model',
                  parts: [
                    { functionCall: { name: 'get_weather', args: { city: 'Rome' } } },
                    { functionCall: { name: 'get_weather', args: { city: 'Milan' } } },
                  ],
                },
                finishReason: 'STOP',
              },
            ],
            usageMetadata: { promptTokenCount: 20, candidatesTokenCount: 12, totalTokenCount: 32 },
          },
        ]),
      ],
      headers: { 'content-type': 'text/event-stream' },
      frameDelayMs: 2,
    });
    const final = await client.chat.completions
      .stream({
        model: 'gemini',
        messages: [{ role: 'user', content: 'Weather in Rome and Milan' }],
        tools: [{ type: 'function', function: { name: 'get_weather', parameters: { type: 'object' } } }],
        stream_options: { include_usage: true },
      })
      .finalChatCompletion();
    const choice = final.choices[0]!;
    assert.equal(choice.finish_reason, 'tool_calls');
    assert.equal(choice.message.content, 'Looking up.');
    assert.deepEqual(
      toolCalls(choice.message).map(({ name, args }) => [name, args]),
      [
        ['get_weather', { city: 'Rome' }],
        ['get_weather', { city: 'Milan' }],
      ],
    );
    assert.equal(final.usage?.completion_tokens, 12);
  });

  it('answers a Gemini 429 RESOURCE_EXHAUSTED as an OpenAI 429', async () => {
    fake.script(`${GEMINI_BASE}:generateContent`, {
      status: 429,
      json: {
        error: {
          code: 429,
          message: 'Resource has been exhausted (e.g. check quota).',
          status: 'RESOURCE_EXHAUSTED',
        },
      },
    });
    await assert.rejects(
      client.chat.completions.create({ model: 'gemini', messages: [{ role: 'user', content: 'hi' }] }),
      (err: unknown) => {
        assert.ok(err instanceof OpenAI.RateLimitError, String(err));
        assert.equal(err.code, 'rate_limited');
        assert.match(err.message, /exhausted/);
        return true;
      },
    );
  });

  it('serves the Anthropic SDK on /v1/messages over Gemini, plain and streaming', async () => {
    const anthropic = new Anthropic({ baseURL: gw.url, apiKey: 'client-key', maxRetries: 0 });
    fake.script(`${GEMINI_BASE}:generateContent`, {
      json: {
        candidates: [{ content: { role: 'model', parts: [{ text: 'Ciao!' }] }, finishReason: 'MAX_TOKENS' }],
        usageMetadata: { promptTokenCount: 6, candidatesTokenCount: 2, cachedContentTokenCount: 2 },
      },
    });
    const msg = await anthropic.messages.create({
      model: 'gemini',
      max_tokens: 2,
      system: 'Speak Italian.',
      messages: [{ role: 'user', content: 'Hi' }],
    });
    assert.deepEqual(fake.requests.at(-1)!.body, {
      contents: [{ role: 'user', parts: [{ text: 'Hi' }] }],
      systemInstruction: { parts: [{ text: 'Speak Italian.' }] },
      generationConfig: { maxOutputTokens: 2 },
    });
    assert.deepEqual(msg.content, [{ type: 'text', text: 'Ciao!' }]);
    assert.equal(msg.stop_reason, 'max_tokens');
    assert.equal(msg.usage.input_tokens, 4);
    assert.equal(msg.usage.cache_read_input_tokens, 2);

    fake.script(`${GEMINI_BASE}:streamGenerateContent`, {
      chunks: [
        geminiSse([
          { candidates: [{ content: { role: 'model', parts: [{ text: 'Buon' }] } }] },
          {
            candidates: [{ content: { role: 'model', parts: [{ text: 'giorno' }] }, finishReason: 'STOP' }],
            usageMetadata: { promptTokenCount: 6, candidatesTokenCount: 3 },
          },
        ]),
      ],
      headers: { 'content-type': 'text/event-stream' },
    });
    const final = await anthropic.messages
      .stream({ model: 'gemini', max_tokens: 20, messages: [{ role: 'user', content: 'Good morning' }] })
      .finalMessage();
    assert.equal(fake.requests.at(-1)!.path, `${GEMINI_BASE}:streamGenerateContent?alt=sse`);
    assert.equal(final.content.length, 1);
    assert.equal(final.content[0]!.type === 'text' && final.content[0]!.text, 'Buongiorno');
    assert.equal(final.stop_reason, 'end_turn');
    assert.equal(final.usage.output_tokens, 3);
    assert.equal(final.usage.input_tokens, 6);
  });
});

const BEDROCK_MODEL = 'anthropic.claude-3-5-sonnet-20240620-v1:0';
const BEDROCK_PATH = `/model/${encodeURIComponent(BEDROCK_MODEL)}`;
const AWS = {
  accessKeyId: 'AKIDEXAMPLE',
  secretAccessKey: 'wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY',
  region: 'us-east-1',
  service: 'bedrock',
};
const EVENT_STREAM = { 'content-type': 'application/vnd.amazon.eventstream' };

function assertSigned(seen: FakeUpstream['requests'][number]): void {
  const auth = String(seen.headers.authorization ?? '');
  assert.ok(auth.startsWith('AWS4-HMAC-SHA256 Credential='), auth);
  const date = String(seen.headers['x-amz-date']);
  assert.match(date, /^\d{8}T\d{6}Z$/);
  assert.ok(
    Math.abs(
      Date.parse(
        `${date.slice(0, 4)}-${date.slice(4, 6)}-${date.slice(6, 11)}:${date.slice(11, 13)}:${date.slice(13, 15)}Z`,
      ) - Date.now(),
    ) < 60_000,
  );
  const sig = expectedSigV4(seen, AWS);
  assert.equal(sig.credential, `${AWS.accessKeyId}/${date.slice(0, 8)}/us-east-1/bedrock/aws4_request`);
  for (const name of ['host', 'x-amz-date', 'content-type'])
    assert.ok(sig.signedHeaders.includes(name), name);
  assert.equal(sig.signature, sig.expected, 'the signature verifies against what was received');
}

describe('OpenAI SDK → gateway → Bedrock upstream', () => {
  let fake: FakeUpstream;
  let gw: TestGateway;
  let client: OpenAI;

  before(async () => {
    fake = await startFakeUpstream();
    gw = await startGateway(`
metrics: { process: false }
providers:
  - name: aws
    type: bedrock
    base_url: ${fake.origin}
    region: us-east-1
    credentials:
      access_key_id: ${AWS.accessKeyId}
      secret_access_key: ${AWS.secretAccessKey}
    retry: { attempts: 0 }
models:
  - name: claude-bedrock
    targets:
      - provider: aws
        model: ${BEDROCK_MODEL}
`);
    client = new OpenAI({ baseURL: `${gw.url}/v1`, apiKey: 'client-key', maxRetries: 0 });
  });
  after(async () => {
    await gw.close();
    await fake.close();
  });

  it('sends a signed Converse request and maps the response back', async () => {
    fake.script(`${BEDROCK_PATH}/converse`, {
      json: {
        output: { message: { role: 'assistant', content: [{ text: 'Bonjour !' }] } },
        stopReason: 'end_turn',
        usage: { inputTokens: 10, outputTokens: 4, totalTokens: 44, cacheReadInputTokens: 30 },
        metrics: { latencyMs: 120 },
      },
    });
    const res = await client.chat.completions.create({
      model: 'claude-bedrock',
      messages: [
        { role: 'system', content: 'Answer in French.' },
        { role: 'user', content: 'Hello' },
      ],
      max_tokens: 64,
      temperature: 0.1,
    });

    const seen = fake.requests.at(-1)!;
    assert.equal(seen.method, 'POST');
    assert.equal(seen.path, '/model/anthropic.claude-3-5-sonnet-20240620-v1%3A0/converse');
    assertSigned(seen);
    assert.deepEqual(seen.body, {
      messages: [{ role: 'user', content: [{ text: 'Hello' }] }],
      system: [{ text: 'Answer in French.' }],
      inferenceConfig: { maxTokens: 64, temperature: 0.1 },
    });

    const choice = res.choices[0]!;
    assert.equal(choice.message.content, 'Bonjour !');
    assert.equal(choice.finish_reason, 'stop');
    assert.equal(res.usage?.prompt_tokens, 40, 'Bedrock reports cache reads apart from inputTokens');
    assert.equal(res.usage?.completion_tokens, 4);
    assert.equal(res.usage?.prompt_tokens_details?.cached_tokens, 30);

    const line = await accessLog(gw, 1);
    assert.equal(line.provider, 'aws');
    assert.equal(line.input_tokens, 40);
  });

  it('maps tools to toolConfig and toolUse blocks to tool_calls', async () => {
    fake.script(`${BEDROCK_PATH}/converse`, {
      json: {
        output: {
          message: {
            role: 'assistant',
            content: [
              { text: 'Checking both.' },
              { toolUse: { toolUseId: 'tooluse_1', name: 'get_weather', input: { city: 'Oslo' } } },
              { toolUse: { toolUseId: 'tooluse_2', name: 'get_time', input: {} } },
            ],
          },
        },
        stopReason: 'tool_use',
        usage: { inputTokens: 80, outputTokens: 40, totalTokens: 120 },
      },
    });
    const res = await client.chat.completions.create({
      model: 'claude-bedrock',
      messages: [{ role: 'user', content: 'Weather and time in Oslo?' }],
      tools: [
        {
          type: 'function',
          function: { name: 'get_weather', description: 'Weather', parameters: { type: 'object' } },
        },
        { type: 'function', function: { name: 'get_time' } },
      ],
      tool_choice: { type: 'function', function: { name: 'get_weather' } },
    });
    const seen = fake.requests.at(-1)!;
    assertSigned(seen);
    assert.deepEqual(seen.body.toolConfig, {
      tools: [
        {
          toolSpec: {
            name: 'get_weather',
            description: 'Weather',
            inputSchema: { json: { type: 'object' } },
          },
        },
        { toolSpec: { name: 'get_time', inputSchema: { json: { type: 'object', properties: {} } } } },
      ],
      toolChoice: { tool: { name: 'get_weather' } },
    });
    const choice = res.choices[0]!;
    assert.equal(choice.finish_reason, 'tool_calls');
    assert.equal(choice.message.content, 'Checking both.');
    assert.deepEqual(toolCalls(choice.message), [
      { id: 'tooluse_1', name: 'get_weather', args: { city: 'Oslo' } },
      { id: 'tooluse_2', name: 'get_time', args: {} },
    ]);

    // The results go back as toolResult blocks in a user turn.
    fake.script(`${BEDROCK_PATH}/converse`, {
      json: {
        output: { message: { role: 'assistant', content: [{ text: 'Rainy at noon.' }] } },
        stopReason: 'end_turn',
        usage: { inputTokens: 120, outputTokens: 5, totalTokens: 125 },
      },
    });
    await client.chat.completions.create({
      model: 'claude-bedrock',
      messages: [
        { role: 'user', content: 'Weather and time in Oslo?' },
        choice.message,
        { role: 'tool', tool_call_id: 'tooluse_1', content: 'rain' },
        { role: 'tool', tool_call_id: 'tooluse_2', content: '12:00' },
      ],
      tools: [
        { type: 'function', function: { name: 'get_weather' } },
        { type: 'function', function: { name: 'get_time' } },
      ],
    });
    assert.deepEqual(fake.requests.at(-1)!.body.messages.at(-1), {
      role: 'user',
      content: [
        { toolResult: { toolUseId: 'tooluse_1', content: [{ text: 'rain' }] } },
        { toolResult: { toolUseId: 'tooluse_2', content: [{ text: '12:00' }] } },
      ],
    });
  });

  it('maps a ThrottlingException to an OpenAI 429', async () => {
    fake.script(`${BEDROCK_PATH}/converse`, {
      status: 429,
      headers: {
        'x-amzn-errortype': 'ThrottlingException:http://internal.amazon.com/coral/com.amazon.bedrock/',
      },
      json: { message: 'Too many requests, please wait before trying again.' },
    });
    await assert.rejects(
      client.chat.completions.create({
        model: 'claude-bedrock',
        messages: [{ role: 'user', content: 'hi' }],
      }),
      (err: unknown) => {
        assert.ok(err instanceof OpenAI.RateLimitError, String(err));
        assert.match(err.message, /Too many requests/);
        return true;
      },
    );
  });

  it('serves the Anthropic SDK on /v1/messages over Converse', async () => {
    const anthropic = new Anthropic({ baseURL: gw.url, apiKey: 'client-key', maxRetries: 0 });
    fake.script(`${BEDROCK_PATH}/converse`, {
      json: {
        output: {
          message: {
            role: 'assistant',
            content: [{ toolUse: { toolUseId: 'tooluse_X', name: 'lookup', input: { q: 'dune' } } }],
          },
        },
        stopReason: 'tool_use',
        usage: { inputTokens: 15, outputTokens: 9, totalTokens: 24 },
      },
    });
    const msg = await anthropic.messages.create({
      model: 'claude-bedrock',
      max_tokens: 100,
      tools: [{ name: 'lookup', input_schema: { type: 'object', properties: { q: { type: 'string' } } } }],
      messages: [{ role: 'user', content: 'Find Dune' }],
    });
    const seen = fake.requests.at(-1)!;
    assertSigned(seen);
    assert.equal(seen.headers['x-api-key'], undefined);
    assert.deepEqual(seen.body.messages, [{ role: 'user', content: [{ text: 'Find Dune' }] }]);
    assert.equal(seen.body.inferenceConfig.maxTokens, 100);
    assert.equal(seen.body.toolConfig.tools[0].toolSpec.name, 'lookup');
    assert.equal(msg.stop_reason, 'tool_use');
    assert.deepEqual(msg.content, [
      { type: 'tool_use', id: 'tooluse_X', name: 'lookup', input: { q: 'dune' } },
    ]);
    assert.equal(msg.usage.input_tokens, 15);
    assert.equal(msg.usage.output_tokens, 9);
  });

  it('streams ConverseStream event-stream frames, split across reads, as chunks with usage', async () => {
    const frames = Buffer.concat([
      encodeEvent('messageStart', { role: 'assistant' }),
      encodeEvent('contentBlockDelta', { contentBlockIndex: 0, delta: { text: 'Hel' } }),
      encodeEvent('contentBlockDelta', { contentBlockIndex: 0, delta: { text: 'lo, wörld' } }),
      encodeEvent('contentBlockStop', { contentBlockIndex: 0 }),
      encodeEvent('messageStop', { stopReason: 'end_turn' }),
      encodeEvent('metadata', {
        usage: { inputTokens: 12, outputTokens: 3, totalTokens: 15 },
        metrics: { latencyMs: 90 },
      }),
    ]);
    fake.script(`${BEDROCK_PATH}/converse-stream`, {
      chunks: splitEvery(frames, 13),
      headers: EVENT_STREAM,
    });
    const before = gw.accessLogs().length;
    const stream = await client.chat.completions.create({
      model: 'claude-bedrock',
      messages: [{ role: 'user', content: 'Say hello' }],
      stream: true,
      stream_options: { include_usage: true },
    });
    let text = '';
    const finishes: string[] = [];
    let usage: OpenAI.CompletionUsage | undefined;
    for await (const chunk of stream) {
      text += chunk.choices[0]?.delta.content ?? '';
      if (chunk.choices[0]?.finish_reason) finishes.push(chunk.choices[0].finish_reason);
      if (chunk.usage) usage = chunk.usage;
    }
    const seen = fake.requests.at(-1)!;
    assert.equal(seen.path, '/model/anthropic.claude-3-5-sonnet-20240620-v1%3A0/converse-stream');
    assertSigned(seen);
    assert.equal(text, 'Hello, wörld');
    assert.deepEqual(finishes, ['stop']);
    assert.equal(usage?.prompt_tokens, 12);
    assert.equal(usage?.completion_tokens, 3);
    const line = await accessLog(gw, before + 1);
    assert.equal(line.output_tokens, 3);
  });

  it('streams ConverseStream tool use to the SDK as tool_calls', async () => {
    const frames = [
      encodeEvent('messageStart', { role: 'assistant' }),
      encodeEvent('contentBlockStart', {
        contentBlockIndex: 0,
        start: { toolUse: { toolUseId: 'tooluse_A', name: 'get_weather' } },
      }),
      encodeEvent('contentBlockDelta', { contentBlockIndex: 0, delta: { toolUse: { input: '{"ci' } } }),
      encodeEvent('contentBlockDelta', {
        contentBlockIndex: 0,
        delta: { toolUse: { input: 'ty":"Oslo"}' } },
      }),
      encodeEvent('contentBlockStop', { contentBlockIndex: 0 }),
      encodeEvent('contentBlockStart', {
        contentBlockIndex: 1,
        start: { toolUse: { toolUseId: 'tooluse_B', name: 'get_time' } },
      }),
      encodeEvent('contentBlockDelta', { contentBlockIndex: 1, delta: { toolUse: { input: '{}' } } }),
      encodeEvent('contentBlockStop', { contentBlockIndex: 1 }),
      encodeEvent('messageStop', { stopReason: 'tool_use' }),
      encodeEvent('metadata', { usage: { inputTokens: 50, outputTokens: 40, totalTokens: 90 } }),
    ];
    fake.script(`${BEDROCK_PATH}/converse-stream`, {
      chunks: frames,
      headers: EVENT_STREAM,
      frameDelayMs: 1,
    });
    const final = await client.chat.completions
      .stream({
        model: 'claude-bedrock',
        messages: [{ role: 'user', content: 'Weather and time in Oslo' }],
        tools: [
          { type: 'function', function: { name: 'get_weather', parameters: { type: 'object' } } },
          { type: 'function', function: { name: 'get_time', parameters: { type: 'object' } } },
        ],
      })
      .finalChatCompletion();
    assert.equal(final.choices[0]!.finish_reason, 'tool_calls');
    assert.deepEqual(toolCalls(final.choices[0]!.message), [
      { id: 'tooluse_A', name: 'get_weather', args: { city: 'Oslo' } },
      { id: 'tooluse_B', name: 'get_time', args: {} },
    ]);
  });

  it('reports a throttlingException inside ConverseStream as a 429', async () => {
    fake.script(`${BEDROCK_PATH}/converse-stream`, {
      chunks: [encodeException('throttlingException', 'Too many tokens, please wait.')],
      headers: EVENT_STREAM,
    });
    await assert.rejects(
      client.chat.completions.create({
        model: 'claude-bedrock',
        messages: [{ role: 'user', content: 'hi' }],
        stream: true,
      }),
      (err: unknown) => {
        assert.ok(err instanceof OpenAI.RateLimitError, String(err));
        assert.match(err.message, /Too many tokens/);
        return true;
      },
    );
  });

  it('streams ConverseStream to the Anthropic SDK on /v1/messages', async () => {
    const anthropic = new Anthropic({ baseURL: gw.url, apiKey: 'client-key', maxRetries: 0 });
    fake.script(`${BEDROCK_PATH}/converse-stream`, {
      chunks: [
        encodeEvent('messageStart', { role: 'assistant' }),
        encodeEvent('contentBlockDelta', { contentBlockIndex: 0, delta: { text: 'Hi ' } }),
        encodeEvent('contentBlockDelta', { contentBlockIndex: 0, delta: { text: 'there' } }),
        encodeEvent('contentBlockStop', { contentBlockIndex: 0 }),
        encodeEvent('messageStop', { stopReason: 'end_turn' }),
        encodeEvent('metadata', { usage: { inputTokens: 7, outputTokens: 2, totalTokens: 9 } }),
      ],
      headers: EVENT_STREAM,
    });
    const final = await anthropic.messages
      .stream({ model: 'claude-bedrock', max_tokens: 20, messages: [{ role: 'user', content: 'hi' }] })
      .finalMessage();
    assert.equal(final.content[0]!.type === 'text' && final.content[0]!.text, 'Hi there');
    assert.equal(final.stop_reason, 'end_turn');
    assert.equal(final.usage.output_tokens, 2);
  });
});
