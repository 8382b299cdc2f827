import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { GatewayError } from '../../core/errors.ts';
import type { TranslateInput } from '../../contracts/translator.ts';
import {
  anthropicSse,
  ERROR_EVENTS,
  THINKING_EVENTS,
  TOOL_EVENTS,
} from '../../translators/anthropic-fixtures.ts';
import { openAIToAnthropic } from '../../translators/openai-to-anthropic.ts';
import { openAIPassThrough } from '../../translators/openai-to-openai.ts';
import { runStream } from '../../translators/stream-harness.ts';
import { anthropicErrorEvent, anthropicErrorResponse } from './errors.ts';
import { messagesOverChat, withMessagesSurface } from './messages-over-chat.ts';

const BODY = { model: 'gpt-4o', max_tokens: 100, messages: [{ role: 'user', content: 'Hi' }] };
const INPUT: TranslateInput = {
  api: 'messages',
  body: BODY,
  model: 'gpt-4o-2024-08-06',
  stream: false,
  clientWantsUsage: false,
};

const COMPLETION = {
  id: 'chatcmpl-abc',
  object: 'chat.completion',
  created: 1,
  model: 'gpt-4o-2024-08-06',
  choices: [
    {
      index: 0,
      message: {
        role: 'assistant',
        content: null,
        tool_calls: [{ id: 'call_1', type: 'function', function: { name: 'f', arguments: '{"a":1}' } }],
      },
      finish_reason: 'tool_calls',
    },
  ],
  usage: {
    prompt_tokens: 50,
    completion_tokens: 7,
    total_tokens: 57,
    prompt_tokens_details: { cached_tokens: 10 },
  },
};

/** Accumulate Anthropic events the way a client does: blocks by index. */
function accumulate(out: string) {
  const content: Record<string, unknown>[] = [];
  const partial: string[] = [];
  let stop: unknown;
  for (const frame of out.split('\n\n').filter((f) => f !== '')) {
    const event = JSON.parse(frame.slice(frame.indexOf('data: ') + 6)) as Record<string, any>;
    if (event.type === 'content_block_start') {
      content[event.index] = { ...event.content_block };
      partial[event.index] = '';
    } else if (event.type === 'content_block_delta') {
      const block = content[event.index] as Record<string, string>;
      const d = event.delta;
      if (d.type === 'text_delta') block.text += d.text;
      if (d.type === 'thinking_delta') block.thinking += d.thinking;
      if (d.type === 'signature_delta') block.signature += d.signature;
      if (d.type === 'input_json_delta') partial[event.index] += d.partial_json;
    } else if (event.type === 'content_block_stop' && content[event.index]!.type === 'tool_use') {
      content[event.index]!.input = JSON.parse(partial[event.index] || '{}');
    } else if (event.type === 'message_delta') stop = event.delta.stop_reason;
  }
  return { content, stop };
}

describe('messagesOverChat', () => {
  const overOpenAI = messagesOverChat(openAIPassThrough);

  it('sends a Messages request to a chat upstream and answers a Message', () => {
    const req = overOpenAI.request({ ...INPUT, stream: true });
    assert.equal(req.path, '/chat/completions');
    assert.deepEqual(JSON.parse(String(req.body)), {
      model: 'gpt-4o-2024-08-06',
      messages: [{ role: 'user', content: 'Hi' }],
      max_tokens: 100,
      stream: true,
      stream_options: { include_usage: true },
    });
    const out = overOpenAI.response(Buffer.from(JSON.stringify(COMPLETION)), INPUT);
    const message = JSON.parse(String(out.body)) as Record<string, unknown>;
    assert.match(String(message.id), /^msg_/);
    assert.deepEqual(
      { ...message, id: 'msg' },
      {
        id: 'msg',
        type: 'message',
        role: 'assistant',
        model: 'gpt-4o-2024-08-06',
        content: [{ type: 'tool_use', id: 'call_1', name: 'f', input: { a: 1 } }],
        stop_reason: 'tool_use',
        stop_sequence: null,
        usage: {
          input_tokens: 40,
          output_tokens: 7,
          cache_creation_input_tokens: 0,
          cache_read_input_tokens: 10,
        },
      },
    );
    assert.equal(out.usage?.inputTokens, 50);
  });

  it('round-trips Anthropic streams through the chat translator without losing content', () => {
    const overAnthropic = messagesOverChat(openAIToAnthropic);
    for (const events of [TOOL_EVENTS, THINKING_EVENTS]) {
      const { out, stream } = runStream(overAnthropic, { ...INPUT, stream: true }, [anthropicSse(events)]);
      assert.equal(stream.done, true);
      const original = accumulate(anthropicSse(events));
      const relayed = accumulate(out);
      assert.deepEqual(relayed, original);
    }
  });

  it('ends with the Anthropic error the inner translator saw, keeping its type', () => {
    const overAnthropic = messagesOverChat(openAIToAnthropic);
    const { out, stream } = runStream(overAnthropic, { ...INPUT, stream: true }, [
      anthropicSse(ERROR_EVENTS),
    ]);
    assert.equal(stream.done, false);
    assert.equal(stream.error?.status, 503);
    assert.ok(out.endsWith(anthropicErrorEvent(stream.error)));
    assert.match(out, /"type":"overloaded_error","message":"Overloaded"/);
    assert.equal(out.match(/event: error/g)?.length, 1);
  });

  it('adds the Messages API to a chat-only provider translator', () => {
    const both = withMessagesSurface(openAIPassThrough);
    assert.ok(both.apis.has('messages') && both.apis.has('embeddings'));
    assert.equal(both.request({ ...INPUT, api: 'embeddings', body: { input: 'x' } }).path, '/embeddings');
    assert.equal(both.request(INPUT).path, '/chat/completions');
    const native = messagesOverChat(openAIPassThrough);
    assert.equal(withMessagesSurface(native), native);
  });

  it('renders errors Anthropic-shaped', () => {
    const res = anthropicErrorResponse(
      new GatewayError('rate_limited', 'Too many', { headers: { 'retry-after': '2' } }),
    );
    assert.equal(res.status, 429);
    assert.equal(res.headers['retry-after'], '2');
    assert.deepEqual(JSON.parse(res.body), {
      type: 'error',
      error: { type: 'rate_limit_error', message: 'Too many' },
    });
  });
});
