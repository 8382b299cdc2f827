import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import type { TranslateInput } from '../contracts/translator.ts';
import { encodeEvent, encodeEventStreamMessage, encodeException } from './aws-event-stream.ts';
import { openAIToBedrock as bedrock } from './openai-to-bedrock.ts';
import { choiceDeltas, clientFrames, normaliseIds, runStream, splitAt } from './stream-harness.ts';
import type { JsonObject } from '../contracts/request.ts';

// ConverseStream fixtures after the Bedrock Runtime API reference: events messageStart,
// contentBlockStart/Delta/Stop, messageStop and metadata framed as application/vnd.amazon.eventstream
// (`:event-type`, `:content-type`, `:message-type` headers), and modelled exception messages.

function run(chunks: readonly Buffer[], over: Partial<TranslateInput> = {}) {
  const input: TranslateInput = {
    api: 'chat',
    body: {},
    model: 'anthropic.claude-3-5-sonnet-20240620-v1:0',
    stream: true,
    clientWantsUsage: false,
    ...over,
  };
  return runStream(bedrock, input, chunks);
}

const TEXT_EVENTS = [
  encodeEvent('messageStart', { role: 'assistant' }),
  encodeEvent('contentBlockDelta', { contentBlockIndex: 0, delta: { text: 'Hello' } }),
  encodeEvent('contentBlockDelta', { contentBlockIndex: 0, delta: { text: ' world' } }),
  encodeEvent('contentBlockStop', { contentBlockIndex: 0 }),
  encodeEvent('messageStop', { stopReason: 'end_turn' }),
  encodeEvent('metadata', {
    usage: { inputTokens: 12, outputTokens: 3, totalTokens: 35, cacheReadInputTokens: 20 },
    metrics: { latencyMs: 310 },
  }),
];

const TOOL_EVENTS = [
  encodeEvent('messageStart', { role: 'assistant' }),
  encodeEvent('contentBlockDelta', { contentBlockIndex: 0, delta: { text: 'Let me check.' } }),
  encodeEvent('contentBlockStop', { contentBlockIndex: 0 }),
  encodeEvent('contentBlockStart', {
    contentBlockIndex: 1,
    start: { toolUse: { toolUseId: 'tooluse_A', name: 'weather' } },
  }),
  encodeEvent('contentBlockDelta', { contentBlockIndex: 1, delta: { toolUse: { input: '{"city":' } } }),
  encodeEvent('contentBlockDelta', { contentBlockIndex: 1, delta: { toolUse: { input: '"Oslo"}' } } }),
  encodeEvent('contentBlockStop', { contentBlockIndex: 1 }),
  encodeEvent('contentBlockStart', {
    contentBlockIndex: 2,
    start: { toolUse: { toolUseId: 'tooluse_B', name: 'time' } },
  }),
  encodeEvent('contentBlockDelta', { contentBlockIndex: 2, delta: { toolUse: { input: '{}' } } }),
  encodeEvent('contentBlockStop', { contentBlockIndex: 2 }),
  encodeEvent('messageStop', { stopReason: 'tool_use' }),
  encodeEvent('metadata', { usage: { inputTokens: 50, outputTokens: 40, totalTokens: 90 } }),
];

describe('openai-to-bedrock: stream', () => {
  it('translates text events, finishes on messageStop and takes usage from metadata', () => {
    const { out, stream } = run(TEXT_EVENTS);
    assert.deepEqual(choiceDeltas(out), [
      [{ role: 'assistant', content: 'Hello' }, null],
      [{ content: ' world' }, null],
      [{}, 'stop'],
    ]);
    assert.equal(clientFrames(out).at(-1), '[DONE]');
    assert.equal(stream.done, true);
    assert.deepEqual(stream.usage, {
      inputTokens: 32,
      outputTokens: 3,
      cachedInputTokens: 20,
      cacheWriteTokens: 0,
      reasoningTokens: 0,
    });
    assert.ok(!out.includes('"usage"'));
    const usage = clientFrames(run(TEXT_EVENTS, { clientWantsUsage: true }).out).at(-2) as JsonObject;
    assert.deepEqual(usage.usage, {
      prompt_tokens: 32,
      completion_tokens: 3,
      total_tokens: 35,
      prompt_tokens_details: { cached_tokens: 20 },
    });
  });

  it('streams several tool calls with arguments across deltas', () => {
    const got = choiceDeltas(run(TOOL_EVENTS).out);
    assert.deepEqual(got, [
      [{ role: 'assistant', content: 'Let me check.' }, null],
      [
        {
          tool_calls: [
            { index: 0, id: 'tooluse_A', type: 'function', function: { name: 'weather', arguments: '' } },
          ],
        },
        null,
      ],
      [{ tool_calls: [{ index: 0, function: { arguments: '{"city":' } }] }, null],
      [{ tool_calls: [{ index: 0, function: { arguments: '"Oslo"}' } }] }, null],
      [
        {
          tool_calls: [
            { index: 1, id: 'tooluse_B', type: 'function', function: { name: 'time', arguments: '' } },
          ],
        },
        null,
      ],
      [{ tool_calls: [{ index: 1, function: { arguments: '{}' } }] }, null],
      [{}, 'tool_calls'],
    ]);
  });

  it('turns an exception message into the stream error, without [DONE]', () => {
    const events = [
      ...TEXT_EVENTS.slice(0, 2),
      encodeException('throttlingException', 'Too many requests, please wait.'),
    ];
    const { out, stream } = run(events);
    assert.equal(stream.error?.code, 'rate_limited');
    assert.equal(stream.error?.status, 429);
    assert.equal(stream.error?.message, 'Too many requests, please wait.');
    assert.equal(stream.sawContent, true);
    assert.ok(!out.includes('[DONE]'));
    const validation = run([
      encodeException('validationException', 'Input is too long for requested model.'),
    ]);
    assert.equal(validation.stream.error?.code, 'context_length_exceeded');
    assert.equal(validation.stream.sawContent, false);
  });

  it('fails the stream on a corrupt frame', () => {
    const bad = Buffer.from(TEXT_EVENTS[2]!);
    bad[bad.length - 10]! ^= 1;
    const { out, stream } = run([TEXT_EVENTS[0]!, TEXT_EVENTS[1]!, bad, ...TEXT_EVENTS.slice(3)]);
    assert.equal(stream.error?.code, 'upstream_stream_error');
    assert.match(stream.error?.message ?? '', /CRC mismatch/);
    assert.equal(choiceDeltas(out).length, 1);
    assert.ok(!out.includes('[DONE]'));
  });

  it('reports an `error` message type and stays not-done when cut', () => {
    const error = encodeEventStreamMessage({
      headers: {
        ':message-type': { type: 'string', value: 'error' },
        ':error-code': { type: 'string', value: 'InternalFailure' },
        ':error-message': { type: 'string', value: 'boom' },
      },
      payload: '',
    });
    assert.match(run([error]).stream.error!.message, /boom/);
    const cut = run(TEXT_EVENTS.slice(0, 3));
    assert.equal(cut.stream.done, false);
    assert.ok(!cut.out.includes('[DONE]'));
  });

  it('property: any split of the upstream bytes yields the same client output', () => {
    const bytes = Buffer.concat(TOOL_EVENTS);
    const whole = normaliseIds(run([bytes], { clientWantsUsage: true }).out);
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 1, max: bytes.length - 1 }), { maxLength: 40 }), (cuts) => {
        assert.equal(normaliseIds(run(splitAt(bytes, cuts), { clientWantsUsage: true }).out), whole);
      }),
    );
  });

  it('property: one byte at a time yields the same client output', () => {
    const bytes = Buffer.concat(TEXT_EVENTS);
    const cuts = Array.from({ length: bytes.length - 1 }, (_, i) => i + 1);
    assert.equal(normaliseIds(run(splitAt(bytes, cuts)).out), normaliseIds(run([bytes]).out));
  });
});
