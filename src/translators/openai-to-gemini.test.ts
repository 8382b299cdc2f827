import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { openAIErrorBody } from '../core/errors.ts';
import type { JsonObject } from '../contracts/request.ts';
import type { TranslateInput } from '../contracts/translator.ts';
import { openAIToGemini as gemini } from './openai-to-gemini.ts';

// Fixtures follow the Gemini API reference (ai.google.dev/api/generate-content): GenerateContentRequest,
// GenerateContentResponse, streamGenerateContent with alt=sse (frames end in \r\n\r\n), Status errors.

function input(body: JsonObject, over: Partial<TranslateInput> = {}): TranslateInput {
  return { api: 'chat', body, model: 'gemini-2.5-flash', stream: false, clientWantsUsage: false, ...over };
}

function requestBody(body: JsonObject, over: Partial<TranslateInput> = {}): JsonObject {
  return JSON.parse(String(gemini.request(input(body, over)).body)) as JsonObject;
}

describe('openai-to-gemini: request', () => {
  it('maps a full chat request to GenerateContentRequest', () => {
    const body = {
      model: 'gemini',
      messages: [
        { role: 'system', content: 'Be brief.' },
        {
          role: 'user',
          content: [
            { type: 'text', text: 'What is in these?' },
            { type: 'image_url', image_url: { url: 'data:image/png;base64,iVBORw0KGgo=' } },
            { type: 'image_url', image_url: { url: 'https://example.com/cat.jpg' } },
          ],
        },
        {
          role: 'assistant',
          content: null,
          tool_calls: [
            {
              id: 'call_1__thought__c2ln',
              type: 'function',
              function: { name: 'lookup', arguments: '{"q":"cat"}' },
            },
            { id: 'call_2', type: 'function', function: { name: 'weather', arguments: '{}' } },
          ],
        },
        { role: 'tool', tool_call_id: 'call_1__thought__c2ln', content: 'a cat' },
        { role: 'tool', tool_call_id: 'call_2', content: '{"temp":21}' },
      ],
      tools: [
        {
          type: 'function',
          function: { name: 'lookup', description: 'Find', parameters: { type: 'object' } },
        },
        { type: 'function', function: { name: 'weather' } },
      ],
      tool_choice: { type: 'function', function: { name: 'lookup' } },
      max_completion_tokens: 100,
      temperature: 0.2,
      top_p: 0.9,
      stop: 'END',
      n: 2,
      response_format: { type: 'json_schema', json_schema: { name: 'x', schema: { type: 'object' } } },
    };
    assert.deepEqual(requestBody(body), {
      contents: [
        {
          role: 'user',
          parts: [
            { text: 'What is in these?' },
            { inlineData: { mimeType: 'image/png', data: 'iVBORw0KGgo=' } },
            { fileData: { mimeType: 'image/jpeg', fileUri: 'https://example.com/cat.jpg' } },
          ],
        },
        {
          role: 'model',
          parts: [
            { functionCall: { name: 'lookup', args: { q: 'cat' } }, thoughtSignature: 'c2ln' },
            { functionCall: { name: 'weather', args: {} } },
          ],
        },
        {
          role: 'user',
          parts: [
            { functionResponse: { name: 'lookup', response: { output: 'a cat' } } },
            { functionResponse: { name: 'weather', response: { temp: 21 } } },
          ],
        },
      ],
      systemInstruction: { parts: [{ text: 'Be brief.' }] },
      tools: [
        {
          functionDeclarations: [
            { name: 'lookup', description: 'Find', parametersJsonSchema: { type: 'object' } },
            { name: 'weather' },
          ],
        },
      ],
      toolConfig: { functionCallingConfig: { mode: 'ANY', allowedFunctionNames: ['lookup'] } },
      generationConfig: {
        maxOutputTokens: 100,
        temperature: 0.2,
        topP: 0.9,
        candidateCount: 2,
        stopSequences: ['END'],
        responseMimeType: 'application/json',
        responseJsonSchema: { type: 'object' },
      },
    });
  });

  it('builds generateContent and streamGenerateContent paths', () => {
    const body = { messages: [{ role: 'user', content: 'hi' }] };
    assert.equal(gemini.request(input(body)).path, '/models/gemini-2.5-flash:generateContent');
    assert.equal(
      gemini.request(input(body, { stream: true, model: 'models/gemini-2.0-flash' })).path,
      '/models/gemini-2.0-flash:streamGenerateContent?alt=sse',
    );
  });

  it('maps tool_choice auto, none and required', () => {
    const modes = { auto: 'AUTO', none: 'NONE', required: 'ANY' } as const;
    for (const [choice, mode] of Object.entries(modes)) {
      const body = requestBody({ messages: [{ role: 'user', content: 'x' }], tool_choice: choice });
      assert.deepEqual(body.toolConfig, { functionCallingConfig: { mode } });
    }
  });

  it('rejects a tool result that answers no known call, and unsupported APIs', () => {
    const orphan = { messages: [{ role: 'tool', tool_call_id: 'nope', content: 'x' }] };
    assert.throws(() => gemini.request(input(orphan)), {
      code: 'invalid_request',
      param: 'messages[0].tool_call_id',
    });
    assert.throws(() => gemini.request(input({}, { api: 'responses' })), { code: 'invalid_request' });
  });
});

describe('openai-to-gemini: response', () => {
  it('maps text, finish reason and usage (thoughts count as reasoning output)', () => {
    const upstream = {
      candidates: [
        {
          content: { parts: [{ text: 'Hi ' }, { text: 'there' }], role: 'model' },
          finishReason: 'STOP',
          index: 0,
        },
      ],
      usageMetadata: {
        promptTokenCount: 10,
        candidatesTokenCount: 4,
        cachedContentTokenCount: 6,
        thoughtsTokenCount: 3,
        totalTokenCount: 17,
      },
    };
    const { body, usage } = gemini.response(Buffer.from(JSON.stringify(upstream)), input({}));
    const parsed = JSON.parse(String(body)) as JsonObject;
    assert.equal(parsed.object, 'chat.completion');
    assert.match(String(parsed.id), /^chatcmpl-/);
    assert.deepEqual(parsed.choices, [
      {
        index: 0,
        message: { role: 'assistant', content: 'Hi there', refusal: null },
        logprobs: null,
        finish_reason: 'stop',
      },
    ]);
    assert.deepEqual(usage, {
      inputTokens: 10,
      outputTokens: 7,
      cachedInputTokens: 6,
      cacheWriteTokens: 0,
      reasoningTokens: 3,
    });
    assert.deepEqual(parsed.usage, {
      prompt_tokens: 10,
      completion_tokens: 7,
      total_tokens: 17,
      prompt_tokens_details: { cached_tokens: 6 },
      completion_tokens_details: { reasoning_tokens: 3 },
    });
  });

  it('maps function calls to tool_calls and carries the thought signature back', () => {
    const upstream = {
      candidates: [
        {
          content: {
            role: 'model',
            parts: [
              { functionCall: { name: 'lookup', args: { q: 'cat' } }, thoughtSignature: 'U0lH' },
              { functionCall: { name: 'weather', args: { city: 'Oslo' } } },
            ],
          },
          finishReason: 'STOP',
        },
      ],
    };
    const parsed = JSON.parse(String(gemini.response(Buffer.from(JSON.stringify(upstream)), input({})).body));
    const [choice] = parsed.choices;
    assert.equal(choice.finish_reason, 'tool_calls');
    assert.equal(choice.message.content, null);
    const calls = choice.message.tool_calls;
    assert.deepEqual(
      calls.map((c: JsonObject) => c.function),
      [
        { name: 'lookup', arguments: '{"q":"cat"}' },
        { name: 'weather', arguments: '{"city":"Oslo"}' },
      ],
    );
    assert.match(calls[0].id, /^call_[0-9a-f]+__thought__U0lH$/);
    const next = requestBody({
      messages: [
        { role: 'user', content: 'q' },
        { role: 'assistant', tool_calls: calls },
      ],
    });
    assert.deepEqual((next.contents as JsonObject[])[1], {
      role: 'model',
      parts: [
        { functionCall: { name: 'lookup', args: { q: 'cat' } }, thoughtSignature: 'U0lH' },
        { functionCall: { name: 'weather', args: { city: 'Oslo' } } },
      ],
    });
  });

  it('maps MAX_TOKENS, safety reasons and a blocked prompt', () => {
    const reasons = {
      MAX_TOKENS: 'length',
      SAFETY: 'content_filter',
      RECITATION: 'content_filter',
      BLOCKLIST: 'content_filter',
      PROHIBITED_CONTENT: 'content_filter',
    };
    for (const [reason, expected] of Object.entries(reasons)) {
      const upstream = { candidates: [{ content: { parts: [{ text: 'x' }] }, finishReason: reason }] };
      const parsed = JSON.parse(
        String(gemini.response(Buffer.from(JSON.stringify(upstream)), input({})).body),
      );
      assert.equal(parsed.choices[0].finish_reason, expected, reason);
    }
    const blocked = { promptFeedback: { blockReason: 'SAFETY' }, usageMetadata: { promptTokenCount: 4 } };
    const parsed = JSON.parse(String(gemini.response(Buffer.from(JSON.stringify(blocked)), input({})).body));
    assert.equal(parsed.choices[0].finish_reason, 'content_filter');
  });
});

describe('openai-to-gemini: errors', () => {
  const error = (status: number, body: object | string) =>
    gemini.error(status, Buffer.from(typeof body === 'string' ? body : JSON.stringify(body)), input({}));

  it('maps Google status codes to gateway codes with OpenAI-shaped bodies', () => {
    const cases: [number, string, string, string, number][] = [
      [429, 'RESOURCE_EXHAUSTED', 'Quota exceeded', 'rate_limited', 429],
      [400, 'INVALID_ARGUMENT', 'Invalid value at contents', 'invalid_request', 400],
      [
        400,
        'INVALID_ARGUMENT',
        'The input token count (1200000) exceeds the maximum number of tokens allowed (1048576).',
        'context_length_exceeded',
        400,
      ],
      [403, 'PERMISSION_DENIED', 'denied', 'forbidden', 403],
      [404, 'NOT_FOUND', 'models/nope is not found', 'model_not_found', 404],
      [503, 'UNAVAILABLE', 'The model is overloaded.', 'upstream_error', 503],
      [500, 'INTERNAL', 'An internal error has occurred.', 'upstream_error', 500],
      [504, 'DEADLINE_EXCEEDED', 'Deadline exceeded', 'upstream_timeout', 504],
    ];
    for (const [status, googleStatus, message, code, ourStatus] of cases) {
      const err = error(status, { error: { code: status, message, status: googleStatus } });
      assert.equal(err.code, code, googleStatus);
      assert.equal(err.status, ourStatus, googleStatus);
      const body = JSON.parse(openAIErrorBody(err));
      assert.deepEqual(Object.keys(body.error).sort(), ['code', 'message', 'param', 'type']);
      assert.equal(body.error.message, message);
    }
  });

  it('answers 401 for an invalid API key and handles non-JSON bodies', () => {
    const badKey = {
      error: {
        code: 400,
        message: 'API key not valid. Please pass a valid API key.',
        status: 'INVALID_ARGUMENT',
        details: [{ '@type': 'type.googleapis.com/google.rpc.ErrorInfo', reason: 'API_KEY_INVALID' }],
      },
    };
    assert.equal(error(400, badKey).status, 401);
    const opaque = error(502, '<html>Bad Gateway</html>');
    assert.equal(opaque.code, 'upstream_error');
    assert.equal(opaque.status, 502);
  });
});

describe('openai-to-gemini: embeddings', () => {
  it('maps to batchEmbedContents and back', () => {
    const embed = input(
      { input: ['a', 'b'], dimensions: 2, encoding_format: 'float' },
      { api: 'embeddings', model: 'text-embedding-004' },
    );
    const req = gemini.request(embed);
    assert.equal(req.path, '/models/text-embedding-004:batchEmbedContents');
    assert.deepEqual(JSON.parse(String(req.body)), {
      requests: [
        { model: 'models/text-embedding-004', content: { parts: [{ text: 'a' }] }, outputDimensionality: 2 },
        { model: 'models/text-embedding-004', content: { parts: [{ text: 'b' }] }, outputDimensionality: 2 },
      ],
    });
    const upstream = Buffer.from(JSON.stringify({ embeddings: [{ values: [0.5, -1] }, { values: [0, 2] }] }));
    assert.deepEqual(JSON.parse(String(gemini.response(upstream, embed).body)), {
      object: 'list',
      model: 'text-embedding-004',
      data: [
        { object: 'embedding', index: 0, embedding: [0.5, -1] },
        { object: 'embedding', index: 1, embedding: [0, 2] },
      ],
    });
    const b64 = { ...embed, body: { ...embed.body, encoding_format: 'base64' } };
    const [first] = JSON.parse(String(gemini.response(upstream, b64).body)).data;
    const bytes = Buffer.from(first.embedding, 'base64');
    assert.deepEqual([bytes.length, bytes.readFloatLE(0), bytes.readFloatLE(4)], [8, 0.5, -1]);
  });
});
