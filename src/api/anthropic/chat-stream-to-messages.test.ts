import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { splitAt } from '../../translators/stream-harness.ts';
import { ChatToMessagesStream } from './chat-stream-to-messages.ts';

// OpenAI chat.completion.chunk streams (shapes from the OpenAI API reference) → Anthropic events.

const head = {
  id: 'chatcmpl-123',
  object: 'chat.completion.chunk',
  created: 1694268190,
  model: 'gpt-4o-mini',
};
const chunk = (delta: object, finish: string | null = null) =>
  `data: ${JSON.stringify({ ...head, choices: [{ index: 0, delta, logprobs: null, finish_reason: finish }] })}\n\n`;
const usageChunk = `data: ${JSON.stringify({
  ...head,
  choices: [],
  usage: {
    prompt_tokens: 120,
    completion_tokens: 30,
    total_tokens: 150,
    prompt_tokens_details: { cached_tokens: 100 },
  },
})}\n\n`;
const DONE = 'data: [DONE]\n\n';

const TOOL_STREAM = [
  chunk({ role: 'assistant', content: '' }),
  chunk({ reasoning_content: 'Two lookups.' }),
  chunk({ content: 'Checking' }),
  chunk({ content: ' both.' }),
  chunk({
    tool_calls: [{ index: 0, id: 'call_a', type: 'function', function: { name: 'weather', arguments: '' } }],
  }),
  chunk({ tool_calls: [{ index: 0, function: { arguments: '{"city":' } }] }),
  chunk({ tool_calls: [{ index: 0, function: { arguments: '"Paris"}' } }] }),
  chunk({
    tool_calls: [{ index: 1, id: 'call_b', type: 'function', function: { name: 'time', arguments: '{}' } }],
  }),
  chunk({}, 'tool_calls'),
  usageChunk,
  DONE,
].join('');

interface Event {
  event: string;
  data: Record<string, unknown>;
}

function events(out: string): Event[] {
  return out
    .split('\n\n')
    .filter((f) => f !== '')
    .map((f) => {
      const [event, data] = f.split('\n') as [string, string];
      const parsed = JSON.parse(data.slice(6)) as Record<string, unknown>;
      assert.equal(parsed.type, event.slice(7), 'the event line repeats the type');
      return { event: event.slice(7), data: parsed };
    });
}

function convert(chunks: readonly (string | Buffer)[]) {
  const stream = new ChatToMessagesStream({ model: 'gpt-4o-mini', inputTokens: 118 });
  let out = '';
  for (const c of chunks) out += stream.push(c) ?? '';
  out += stream.end() ?? '';
  return { out, stream };
}

describe('ChatToMessagesStream', () => {
  it('opens and closes blocks in order: thinking, text, tool_use with input_json_delta', () => {
    const { out, stream } = convert([TOOL_STREAM]);
    assert.equal(stream.done, true);
    const list = events(out);
    assert.deepEqual(
      list.map((e) => [
        e.event,
        e.data.index ?? null,
        (e.data.delta ?? e.data.content_block ?? null) as unknown,
      ]),
      [
        ['message_start', null, null],
        ['content_block_start', 0, { type: 'thinking', thinking: '', signature: '' }],
        ['content_block_delta', 0, { type: 'thinking_delta', thinking: 'Two lookups.' }],
        ['content_block_stop', 0, null],
        ['content_block_start', 1, { type: 'text', text: '' }],
        ['content_block_delta', 1, { type: 'text_delta', text: 'Checking' }],
        ['content_block_delta', 1, { type: 'text_delta', text: ' both.' }],
        ['content_block_stop', 1, null],
        ['content_block_start', 2, { type: 'tool_use', id: 'call_a', name: 'weather', input: {} }],
        ['content_block_delta', 2, { type: 'input_json_delta', partial_json: '{"city":' }],
        ['content_block_delta', 2, { type: 'input_json_delta', partial_json: '"Paris"}' }],
        ['content_block_stop', 2, null],
        ['content_block_start', 3, { type: 'tool_use', id: 'call_b', name: 'time', input: {} }],
        ['content_block_delta', 3, { type: 'input_json_delta', partial_json: '{}' }],
        ['content_block_stop', 3, null],
        ['message_delta', null, { stop_reason: 'tool_use', stop_sequence: null }],
        ['message_stop', null, null],
      ],
    );
    const start = list[0]!.data.message as Record<string, unknown>;
    assert.match(String(start.id), /^msg_/);
    assert.deepEqual(start.usage, { input_tokens: 118, output_tokens: 0 });
    assert.deepEqual(list.at(-2)!.data.usage, {
      input_tokens: 20,
      output_tokens: 30,
      cache_creation_input_tokens: 0,
      cache_read_input_tokens: 100,
    });
  });

  it('gives the same events however the chunk stream is split', () => {
    const whole = Buffer.from(TOOL_STREAM);
    const norm = (s: string) => s.replace(/msg_[0-9a-f]+/g, 'msg_ID');
    const expected = norm(convert([whole]).out);
    fc.assert(
      fc.property(fc.array(fc.nat({ max: whole.length }), { maxLength: 12 }), (cuts) => {
        assert.equal(norm(convert(splitAt(whole, cuts)).out), expected);
      }),
      { numRuns: 60 },
    );
  });

  it('maps length and content_filter and still answers an empty stream', () => {
    const cut = events(convert([chunk({ content: 'Hi' }, 'length'), DONE]).out);
    assert.equal((cut.at(-2)!.data.delta as { stop_reason: string }).stop_reason, 'max_tokens');
    const refused = events(convert([chunk({}, 'content_filter'), DONE]).out);
    assert.equal((refused.at(-2)!.data.delta as { stop_reason: string }).stop_reason, 'refusal');
    assert.deepEqual(
      events(convert([DONE]).out).map((e) => e.event),
      ['message_start', 'message_delta', 'message_stop'],
    );
  });

  it('turns an error frame into one error event and stops', () => {
    const error = `data: ${JSON.stringify({ error: { message: 'Slow down', type: 'rate_limit_error', code: 'rate_limited' } })}\n\n`;
    const { out, stream } = convert([chunk({ content: 'Hi' }), error, chunk({ content: 'more' }), DONE]);
    const list = events(out);
    assert.deepEqual(list.at(-1), {
      event: 'error',
      data: { type: 'error', error: { type: 'rate_limit_error', message: 'Slow down' } },
    });
    assert.equal(list.filter((e) => e.event === 'content_block_delta').length, 1);
    assert.equal(stream.done, false);
    assert.equal(stream.error?.status, 429);
  });

  it('leaves a cut stream without message_stop', () => {
    const { out, stream } = convert([chunk({ content: 'Hi' })]);
    assert.equal(stream.done, false);
    assert.doesNotMatch(out, /message_stop|message_delta/);
  });
});
