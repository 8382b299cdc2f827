import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import type { JsonObject } from '../contracts/request.ts';
import type { TranslateInput } from '../contracts/translator.ts';
import { openAIToGemini as gemini } from './openai-to-gemini.ts';
import { choiceDeltas, clientFrames, normaliseIds, runStream, splitAt } from './stream-harness.ts';

// streamGenerateContent?alt=sse fixtures after the Gemini API reference: every event is a whole
// GenerateContentResponse, frames end in \r\n\r\n, and no terminal event follows the finishReason.

const sse = (events: readonly object[]) => events.map((e) => `data: ${JSON.stringify(e)}\r\n\r\n`).join('');

function run(chunks: readonly (string | Buffer)[], over: Partial<TranslateInput> = {}) {
  const input: TranslateInput = {
    api: 'chat',
    body: {},
    model: 'gemini-2.5-flash',
    stream: true,
    clientWantsUsage: false,
    ...over,
  };
  return runStream(gemini, input, chunks);
}

const TEXT_STREAM = [
  {
    candidates: [{ content: { parts: [{ text: 'The' }], role: 'model' }, index: 0 }],
    usageMetadata: { promptTokenCount: 8, totalTokenCount: 8 },
    modelVersion: 'gemini-2.5-flash',
  },
  {
    candidates: [
      { content: { parts: [{ text: ' opposite' }], role: 'model' }, finishReason: 'STOP', index: 0 },
    ],
    usageMetadata: {
      promptTokenCount: 8,
      candidatesTokenCount: 2,
      thoughtsTokenCount: 5,
      totalTokenCount: 15,
    },
    modelVersion: 'gemini-2.5-flash',
  },
];

const TOOL_EVENTS = [
  { candidates: [{ content: { role: 'model', parts: [{ text: 'Checking.' }] } }] },
  {
    candidates: [
      {
        content: {
          role: 'model',
          parts: [{ functionCall: { name: 'a', args: { x: 1 } } }, { functionCall: { name: 'b', args: {} } }],
        },
        finishReason: 'STOP',
      },
    ],
    usageMetadata: { promptTokenCount: 3, candidatesTokenCount: 9 },
  },
];

describe('openai-to-gemini: stream', () => {
  it('translates text frames, ends with [DONE] and reports usage', () => {
    const { out, stream } = run([sse(TEXT_STREAM)]);
    assert.deepEqual(choiceDeltas(out), [
      [{ role: 'assistant', content: 'The' }, null],
      [{ content: ' opposite' }, null],
      [{}, 'stop'],
    ]);
    assert.equal(clientFrames(out).at(-1), '[DONE]');
    assert.equal(stream.done, true);
    assert.equal(stream.sawContent, true);
    assert.deepEqual(stream.usage, {
      inputTokens: 8,
      outputTokens: 7,
      cachedInputTokens: 0,
      cacheWriteTokens: 0,
      reasoningTokens: 5,
    });
    assert.ok(!out.includes('"usage"'), 'no usage chunk unless asked');
  });

  it('adds the usage chunk last when the client asked for it', () => {
    const all = clientFrames(run([sse(TEXT_STREAM)], { clientWantsUsage: true }).out);
    assert.equal(all.at(-1), '[DONE]');
    const usage = all.at(-2) as JsonObject;
    assert.deepEqual(usage.choices, []);
    assert.deepEqual(usage.usage, {
      prompt_tokens: 8,
      completion_tokens: 7,
      total_tokens: 15,
      completion_tokens_details: { reasoning_tokens: 5 },
    });
  });

  it('streams function calls as tool_calls deltas and finishes with tool_calls', () => {
    const events = TOOL_EVENTS;
    const got = choiceDeltas(run([sse(events)]).out);
    assert.equal(got.length, 4);
    const calls = got.slice(1, 3).map(([delta]) => (delta as JsonObject).tool_calls as JsonObject[]);
    assert.deepEqual(
      calls.map(([c]) => [c!.index, c!.type, c!.function]),
      [
        [0, 'function', { name: 'a', arguments: '{"x":1}' }],
        [1, 'function', { name: 'b', arguments: '{}' }],
      ],
    );
    assert.deepEqual(got[3], [{}, 'tool_calls']);
  });

  it('does not invent [DONE] for a stream cut before its finishReason', () => {
    const { out, stream } = run([sse(TEXT_STREAM.slice(0, 1))]);
    assert.equal(stream.done, false);
    assert.ok(!out.includes('[DONE]'));
  });

  it('surfaces an in-stream error event as a GatewayError', () => {
    const error = {
      error: { code: 429, message: 'Resource has been exhausted', status: 'RESOURCE_EXHAUSTED' },
    };
    const { out, stream } = run([sse([TEXT_STREAM[0]!, error])]);
    assert.equal(stream.error?.code, 'rate_limited');
    assert.equal(stream.error?.status, 429);
    assert.ok(!out.includes('[DONE]'));
  });

  it('property: any split of the upstream bytes yields the same client output', () => {
    const bytes = Buffer.from(sse([...TEXT_STREAM.slice(0, 1), TOOL_EVENTS[1]!]));
    const whole = normaliseIds(run([bytes], { clientWantsUsage: true }).out);
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 1, max: bytes.length - 1 }), { maxLength: 30 }), (cuts) => {
        const { out } = run(splitAt(bytes, cuts), { clientWantsUsage: true });
        assert.equal(
          normaliseIds(out).replace(/call_[0-9a-f]+/g, 'call_ID'),
          whole.replace(/call_[0-9a-f]+/g, 'call_ID'),
        );
      }),
    );
  });
});
