import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import type { TranslateInput } from '../contracts/translator.ts';
import {
  anthropicErrorJson,
  anthropicSse,
  ERROR_EVENTS,
  THINKING_EVENTS,
  TOOL_EVENTS,
  TOOL_MESSAGE,
} from './anthropic-fixtures.ts';
import { anthropicCountTokensRequest, anthropicPassThrough } from './anthropic-passthrough.ts';
import { createAnthropicProviderTranslator } from './anthropic-provider.ts';
import { runStream, splitAt } from './stream-harness.ts';

const BODY = {
  model: 'claude-latest',
  max_tokens: 1024,
  system: [{ type: 'text', text: 'Big cached context', cache_control: { type: 'ephemeral', ttl: '1h' } }],
  messages: [{ role: 'user', content: [{ type: 'text', text: 'Hi', cache_control: { type: 'ephemeral' } }] }],
  tools: [{ type: 'web_search_20250305', name: 'web_search', max_uses: 5 }],
  thinking: { type: 'enabled', budget_tokens: 2048 },
  stream: true,
};

const INPUT: TranslateInput = {
  api: 'messages',
  body: BODY,
  model: 'claude-sonnet-4-5-20250929',
  stream: true,
  clientWantsUsage: false,
};

describe('anthropic-passthrough', () => {
  it('forwards the Messages body with only the model replaced', () => {
    const req = anthropicPassThrough.request(INPUT);
    assert.equal(req.path, '/messages');
    assert.equal(req.headers?.['anthropic-version'], '2023-06-01');
    assert.deepEqual(JSON.parse(String(req.body)), { ...BODY, model: 'claude-sonnet-4-5-20250929' });
    assert.equal(BODY.model, 'claude-latest', 'the client body is not mutated');
  });

  it('forwards count_tokens to the upstream', () => {
    const req = anthropicCountTokensRequest(INPUT);
    assert.equal(req.path, '/messages/count_tokens');
    assert.equal(JSON.parse(String(req.body)).model, 'claude-sonnet-4-5-20250929');
  });

  it('returns the response body unchanged and reads its usage', () => {
    const body = Buffer.from(JSON.stringify(TOOL_MESSAGE));
    const out = anthropicPassThrough.response(body, INPUT);
    assert.equal(out.body, body);
    assert.deepEqual(out.usage, {
      inputTokens: 3115,
      outputTokens: 503,
      cachedInputTokens: 1000,
      cacheWriteTokens: 20,
      reasoningTokens: 0,
    });
  });

  it('passes any split of a stream through byte for byte, with usage and done', () => {
    const whole = Buffer.from(
      anthropicSse(TOOL_EVENTS) + anthropicSse(THINKING_EVENTS).replaceAll('\n', '\r\n'),
    );
    fc.assert(
      fc.property(fc.array(fc.nat({ max: whole.length }), { maxLength: 16 }), (cuts) => {
        const { out, stream } = runStream(anthropicPassThrough, INPUT, splitAt(whole, cuts));
        assert.equal(out, whole.toString());
        assert.equal(stream.done, true);
        // The second message's usage reports come last: input from its message_start, output from its delta.
        assert.equal(stream.usage?.outputTokens, 300);
      }),
      { numRuns: 60 },
    );
    const first = runStream(anthropicPassThrough, INPUT, [anthropicSse(TOOL_EVENTS)]).stream;
    assert.deepEqual(first.usage, {
      inputTokens: 2620,
      outputTokens: 89,
      cachedInputTokens: 2048,
      cacheWriteTokens: 100,
      reasoningTokens: 0,
    });
  });

  it('passes an error event through and reports it', () => {
    const bytes = anthropicSse(ERROR_EVENTS);
    const { out, stream } = runStream(anthropicPassThrough, INPUT, [bytes]);
    assert.equal(out, bytes);
    assert.equal(stream.done, false);
    assert.equal(stream.error?.code, 'upstream_stream_error');
    assert.equal(stream.error?.status, 503);
    assert.equal(stream.error?.message, 'Overloaded');
  });

  it('maps error responses (rendered Anthropic-shaped by the /v1/messages surface)', () => {
    const body = Buffer.from(JSON.stringify(anthropicErrorJson('rate_limit_error', 'Too many requests')));
    const err = anthropicPassThrough.error(429, body, INPUT);
    assert.equal(err.status, 429);
    assert.equal(err.message, 'Too many requests');
  });
});

describe('anthropic provider translator', () => {
  const translator = createAnthropicProviderTranslator({ defaultMaxTokens: 1000, version: '2023-01-01' });

  it('serves chat by translation and messages by pass-through', () => {
    assert.deepEqual([...translator.apis], ['chat', 'messages']);
    const passed = translator.request(INPUT);
    assert.equal(JSON.parse(String(passed.body)).thinking.budget_tokens, 2048);
    const chat = translator.request({
      ...INPUT,
      api: 'chat',
      body: { messages: [{ role: 'user', content: 'Hi' }] },
      stream: false,
    });
    assert.equal(chat.headers?.['anthropic-version'], '2023-01-01');
    assert.equal(JSON.parse(String(chat.body)).max_tokens, 1000);
    const tools = runStream(translator, { ...INPUT, api: 'chat' }, [anthropicSse(TOOL_EVENTS)]).out;
    assert.match(tools, /"tool_calls":\[\{"index":0/);
  });
});
