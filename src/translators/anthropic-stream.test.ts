import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import type { TranslateInput } from '../contracts/translator.ts';
import {
  anthropicSse,
  ERROR_EVENTS,
  TEXT_EVENTS,
  THINKING_EVENTS,
  TOOL_EVENTS,
} from './anthropic-fixtures.ts';
import { openAIToAnthropic } from './openai-to-anthropic.ts';
import { choiceDeltas, clientFrames, runStream } from './stream-harness.ts';

// Event-by-event behaviour of the Anthropic stream translator beyond the contract suite.

const INPUT: TranslateInput = {
  api: 'chat',
  body: {},
  model: 'claude',
  stream: true,
  clientWantsUsage: true,
};

function run(events: readonly object[] | string, over: Partial<TranslateInput> = {}) {
  const bytes = typeof events === 'string' ? events : anthropicSse(events as never);
  return runStream(openAIToAnthropic, { ...INPUT, ...over }, [bytes]);
}

describe('anthropic stream: chunks', () => {
  it('maps tool_use blocks to indexed tool_calls deltas, arguments as they arrive', () => {
    const deltas = choiceDeltas(run(TOOL_EVENTS).out);
    assert.deepEqual(deltas, [
      [{ role: 'assistant', content: 'Okay, let me check both.' }, null],
      [
        {
          tool_calls: [
            {
              index: 0,
              id: 'toolu_01T1x1fJ34qAmk2tNTrN7Up6',
              type: 'function',
              function: { name: 'get_weather', arguments: '' },
            },
          ],
        },
        null,
      ],
      [{ tool_calls: [{ index: 0, function: { arguments: '{"location":' } }] }, null],
      [{ tool_calls: [{ index: 0, function: { arguments: ' "San Fra' } }] }, null],
      [{ tool_calls: [{ index: 0, function: { arguments: 'ncisco, CA"' } }] }, null],
      [{ tool_calls: [{ index: 0, function: { arguments: ', "unit": "fahrenheit"}' } }] }, null],
      [
        {
          tool_calls: [
            {
              index: 1,
              id: 'toolu_01Ag2mS6Yb3c9ZkP8xW4nQvR',
              type: 'function',
              function: { name: 'get_time', arguments: '' },
            },
          ],
        },
        null,
      ],
      [{ tool_calls: [{ index: 1, function: { arguments: '{"timezone"' } }] }, null],
      [{ tool_calls: [{ index: 1, function: { arguments: ': "America/Los_Angeles"}' } }] }, null],
      [
        {
          tool_calls: [
            {
              index: 2,
              id: 'toolu_01NoArgs0000000000000000',
              type: 'function',
              function: { name: 'list_cities', arguments: '' },
            },
          ],
        },
        null,
      ],
      [{ tool_calls: [{ index: 2, function: { arguments: '{}' } }] }, null],
      [{}, 'tool_calls'],
    ]);
  });

  it('uses the model from message_start and ends with the usage chunk and [DONE]', () => {
    const frames = clientFrames(run(TEXT_EVENTS).out);
    const [first] = frames as { model: string }[];
    assert.equal(first!.model, 'claude-sonnet-4-5-20250929');
    assert.deepEqual((frames.at(-2) as { usage: unknown }).usage, {
      prompt_tokens: 25,
      completion_tokens: 15,
      total_tokens: 40,
    });
    assert.equal(frames.at(-1), '[DONE]');
  });

  it('streams thinking as reasoning_content and the signature as a thinking_blocks delta', () => {
    const deltas = choiceDeltas(run(THINKING_EVENTS).out).slice(0, 3);
    assert.deepEqual(deltas, [
      [{ role: 'assistant', reasoning_content: 'I need to find the GCD of 1071 and 462.' }, null],
      [{ reasoning_content: ' 1071 = 2×462 + 147' }, null],
      [
        { thinking_blocks: [{ type: 'thinking', thinking: '', signature: 'EqQBCgIYAhIM1gbcDa9GJwZA2b3h' }] },
        null,
      ],
    ]);
  });

  it('passes redacted thinking on and ignores unknown events and deltas', () => {
    const [start, ...rest] = TEXT_EVENTS;
    const events = [
      start!,
      {
        type: 'content_block_start',
        index: 0,
        content_block: { type: 'redacted_thinking', data: 'EmwKAhgB' },
      },
      { type: 'content_block_stop', index: 0 },
      { type: 'some_future_event', detail: 1 },
      { type: 'content_block_delta', index: 1, delta: { type: 'future_delta', x: 1 } },
      ...rest.map((e) => ('index' in e ? { ...e, index: 1 } : e)),
    ];
    const deltas = choiceDeltas(run(events).out);
    assert.deepEqual(deltas[0], [
      { role: 'assistant', thinking_blocks: [{ type: 'redacted_thinking', data: 'EmwKAhgB' }] },
      null,
    ]);
    assert.deepEqual(deltas[1], [{ content: 'Hello' }, null]);
  });

  it('takes usage reported again in message_delta over message_start', () => {
    const events = TEXT_EVENTS.map((e) =>
      e.type === 'message_delta'
        ? {
            ...e,
            usage: {
              input_tokens: 30,
              cache_read_input_tokens: 5,
              output_tokens: 16,
              cache_creation_input_tokens: null,
            },
          }
        : e,
    );
    const { stream } = run(events);
    assert.deepEqual(stream.usage, {
      inputTokens: 35,
      outputTokens: 16,
      cachedInputTokens: 5,
      cacheWriteTokens: 0,
      reasoningTokens: 0,
    });
  });
});

describe('anthropic stream: the raw-literal fast path', () => {
  // Spaced JSON (as in the API reference's examples) misses the compact-layout fast path and is parsed.
  const spaced = (events: readonly object[]) =>
    events
      .map(
        (e) =>
          `event: ${(e as { type: string }).type}\ndata: ${JSON.stringify(e, null, 1).replace(/\n/g, '')}\n\n`,
      )
      .join('');

  it('gives the same deltas as the parsing path', () => {
    for (const events of [TEXT_EVENTS, TOOL_EVENTS, THINKING_EVENTS]) {
      assert.deepEqual(choiceDeltas(run(spaced(events)).out), choiceDeltas(run(events).out));
    }
  });

  // Characters JSON escapes or that span several UTF-8 bytes.
  const TRICKY = fc.constantFrom(
    'a',
    ' ',
    '"',
    '\\',
    '\n',
    '\r',
    '\t',
    '\u0000',
    '\u001f',
    '\u2028',
    'é',
    '✓',
    '😀',
    '/',
    '<',
  );

  it('copies any string literal faithfully', () => {
    const [start, block, , , , ...rest] = TEXT_EVENTS;
    fc.assert(
      fc.property(
        fc.array(fc.string({ unit: TRICKY, maxLength: 12 }), { minLength: 1, maxLength: 4 }),
        (texts) => {
          const deltas = texts.map((text) => ({
            type: 'content_block_delta',
            index: 0,
            delta: { type: 'text_delta', text },
          }));
          const events = [start!, block!, ...deltas, ...rest];
          const fast = run(events).out;
          const content = choiceDeltas(fast)
            .map(([d]) => (d as { content?: string }).content ?? '')
            .join('');
          assert.equal(content, texts.join(''));
          assert.deepEqual(choiceDeltas(fast), choiceDeltas(run(spaced(events)).out));
        },
      ),
      { numRuns: 100 },
    );
  });
});

describe('anthropic stream: ends and errors', () => {
  it('sends nothing for message_start alone, so an early error can still be a plain response', () => {
    const stream = openAIToAnthropic.stream(INPUT);
    assert.equal(stream.push(Buffer.from(anthropicSse(TEXT_EVENTS.slice(0, 3)))), null);
    assert.equal(stream.sawContent, false);
    assert.notEqual(stream.usage, null);
    const out = stream.push(
      Buffer.from(
        anthropicSse([{ type: 'error', error: { type: 'rate_limit_error', message: 'slow down' } }]),
      ),
    );
    assert.equal(stream.error?.status, 429);
    assert.deepEqual(JSON.parse(String(out).slice(6)), {
      error: { message: 'slow down', type: 'rate_limit_error', param: null, code: 'rate_limited' },
    });
    assert.equal(
      stream.push(Buffer.from(anthropicSse(TEXT_EVENTS.slice(3)))),
      null,
      'nothing after an error',
    );
    assert.equal(stream.end(), null);
  });

  it('keeps the content sent before a mid-stream error and adds no finish or [DONE]', () => {
    const { out, stream } = run(ERROR_EVENTS);
    assert.equal(stream.sawContent, true);
    assert.equal(stream.done, false);
    const frames = clientFrames(out);
    assert.equal(frames.length, 2);
    assert.deepEqual((frames[1] as { error: unknown }).error, {
      message: 'Overloaded',
      type: 'server_error',
      param: null,
      code: 'upstream_error',
    });
  });

  it('leaves a cut stream not done and without [DONE]', () => {
    const { out, stream } = run(TOOL_EVENTS.slice(0, 8));
    assert.equal(stream.done, false);
    assert.equal(stream.error, null);
    assert.doesNotMatch(out, /DONE|finish_reason":"/);
  });

  it('handles a final frame without its blank line at end()', () => {
    const bytes = anthropicSse(TEXT_EVENTS).trimEnd();
    const { out, stream } = run(bytes, { clientWantsUsage: false });
    assert.equal(stream.done, true);
    assert.match(out, /data: \[DONE\]\n\n$/);
  });
});
