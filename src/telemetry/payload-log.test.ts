import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { ApiKind, JsonObject } from '../contracts/request.ts';
import { testContext } from '../policies/governance/test-context.ts';
import { payloadLogSchema } from './payload-log-config.ts';
import { PayloadLog, TRUNCATED } from './payload-log.ts';
import { promptMessages } from './payload-text.ts';

// Prompt extraction per API, bounding with the truncation marker, and response capture from JSON bodies
// and from stream bytes split anywhere.

function log(over: Record<string, unknown> = {}): PayloadLog {
  return new PayloadLog(payloadLogSchema.parse({ prompts: true, responses: true, ...over }));
}

function ctxFor(api: ApiKind, body: JsonObject) {
  const ctx = testContext({ body });
  return Object.assign(ctx, { api });
}

/** SSE text split into chunks of `size` bytes (frames cut anywhere, multi-byte characters too). */
function split(text: string, size: number): Buffer[] {
  const bytes = Buffer.from(text);
  const out: Buffer[] = [];
  for (let i = 0; i < bytes.length; i += size) out.push(bytes.subarray(i, i + size));
  return out;
}

const sse = (events: unknown[]): string =>
  events.map((e) => `data: ${typeof e === 'string' ? e : JSON.stringify(e)}\n\n`).join('');

describe('payload log config', () => {
  it('needs prompts or responses, and valid non-empty patterns', () => {
    assert.equal(payloadLogSchema.safeParse({}).success, false);
    assert.equal(
      payloadLogSchema.safeParse({ prompts: true, patterns: [{ name: 'x', regex: '(' }] }).success,
      false,
    );
    assert.equal(
      payloadLogSchema.safeParse({ prompts: true, patterns: [{ name: 'x', regex: 'a*' }] }).success,
      false,
    );
    const ok = payloadLogSchema.parse({ responses: 'true' });
    assert.deepEqual([ok.prompts, ok.max_chars, ok.redact.length], [false, 4096, 5]);
  });
});

describe('prompt extraction', () => {
  it('chat: roles and text of string and part contents; non-text parts as [type]', () => {
    const messages = promptMessages('chat', {
      messages: [
        { role: 'system', content: 'Be brief.' },
        {
          role: 'user',
          content: [
            { type: 'text', text: 'What is this?' },
            { type: 'image_url', image_url: { url: 'data:…' } },
          ],
        },
        { role: 'assistant', content: null, tool_calls: [{ id: 't', type: 'function' }] },
      ],
    });
    assert.deepEqual(messages, [
      { role: 'system', content: 'Be brief.' },
      { role: 'user', content: 'What is this?\n[image_url]' },
      { role: 'assistant', content: '[tool_calls]' },
    ]);
  });

  it('Anthropic messages (system first), completions, embeddings and Responses input', () => {
    assert.deepEqual(
      promptMessages('messages', {
        system: [{ type: 'text', text: 'You are terse.' }],
        messages: [{ role: 'user', content: [{ type: 'tool_result', content: '42' }] }],
      }),
      [
        { role: 'system', content: 'You are terse.' },
        { role: 'user', content: '42' },
      ],
    );
    assert.deepEqual(promptMessages('completions', { prompt: ['a', 'b'] }), [
      { role: 'user', content: 'a' },
      { role: 'user', content: 'b' },
    ]);
    assert.deepEqual(promptMessages('embeddings', { input: [1, 2, 3] }), [
      { role: 'user', content: '[tokens]' },
    ]);
    assert.deepEqual(
      promptMessages('responses', {
        instructions: 'Sys',
        input: [
          { role: 'user', content: [{ type: 'input_text', text: 'Hi' }] },
          { type: 'function_call_output', call_id: 'c' },
        ],
      }),
      [
        { role: 'system', content: 'Sys' },
        { role: 'user', content: 'Hi' },
        { role: 'function_call_output', content: '[function_call_output]' },
      ],
    );
  });

  it('redacts, then bounds the whole prompt to max_chars with a marker', () => {
    const l = log({ max_chars: 40 });
    const ctx = ctxFor('chat', {
      messages: [
        { role: 'user', content: 'mail me at someone.long@example.com' },
        { role: 'user', content: 'x'.repeat(100) },
        { role: 'user', content: 'never reached' },
      ],
    });
    const prompt = l.prompt(ctx);
    assert.deepEqual(prompt[0], { role: 'user', content: 'mail me at [REDACTED:email]' });
    assert.equal(prompt[1]!.content, 'x'.repeat(40 - prompt[0].content.length) + TRUNCATED);
    assert.equal(prompt.length, 2);
  });
});

describe('response capture', () => {
  it('JSON bodies of each API', () => {
    const cases: [ApiKind, unknown, string][] = [
      [
        'chat',
        { choices: [{ index: 0, message: { role: 'assistant', content: 'Hi a@b.io' } }] },
        'Hi [REDACTED:email]',
      ],
      ['completions', { choices: [{ index: 0, text: ' world' }] }, ' world'],
      [
        'messages',
        { content: [{ type: 'text', text: 'Hel' }, { type: 'tool_use' }, { type: 'text', text: 'lo' }] },
        'Hello',
      ],
      [
        'responses',
        { output: [{ type: 'message', content: [{ type: 'output_text', text: 'Done.' }] }] },
        'Done.',
      ],
    ];
    for (const [api, body, expected] of cases) {
      const c = log().begin(api);
      c.body(JSON.stringify(body));
      assert.equal(c.fields(ctxFor(api, {})).response, expected, api);
    }
    const e = log().begin('embeddings');
    e.body('{"data":[]}');
    assert.equal(e.fields(ctxFor('embeddings', { input: 'x' })).response, null);
  });

  it('chat streams, however the bytes are split, with several choices kept apart', () => {
    const text = sse([
      { choices: [{ index: 0, delta: { role: 'assistant', content: '' } }] },
      {
        choices: [
          { index: 0, delta: { content: 'Grüß ' } },
          { index: 1, delta: { content: 'B' } },
        ],
      },
      { choices: [{ index: 0, delta: { content: 'dich, call +44 20 7946 0958' } }] },
      { choices: [], usage: { prompt_tokens: 1 } },
      '[DONE]',
    ]);
    for (const chunks of [...[1, 3, 7, 64].map((size) => split(text, size)), [text]]) {
      const c = log().begin('chat');
      for (const chunk of chunks) c.chunk(chunk); // Buffers cut anywhere, or one string as translators return
      assert.equal(
        c.fields(ctxFor('chat', {})).response,
        '[choice 0] Grüß dich, call [REDACTED:phone]\n\n[choice 1] B',
        `${chunks.length} chunks`,
      );
    }
  });

  it('Anthropic and Responses event streams', () => {
    const anthropic =
      'event: message_start\ndata: {"type":"message_start","message":{}}\n\n' +
      'event: content_block_delta\ndata: {"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"Hi "}}\n\n' +
      'event: content_block_delta\ndata: {"type":"content_block_delta","index":1,"delta":{"type":"input_json_delta","partial_json":"{"}}\n\n' +
      'event: content_block_delta\ndata: {"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"there"}}\n\n';
    const a = log().begin('messages');
    for (const chunk of split(anthropic, 5)) a.chunk(chunk);
    assert.equal(a.fields(ctxFor('messages', {})).response, 'Hi there');
    const r = log().begin('responses');
    r.chunk(
      'event: response.output_text.delta\r\ndata: {"type":"response.output_text.delta","delta":"Yes"}\r\n\r\n' +
        'event: response.completed\r\ndata: {"type":"response.completed","response":{}}\r\n\r\n',
    );
    assert.equal(r.fields(ctxFor('responses', {})).response, 'Yes');
  });

  it('stops reading a long stream at twice max_chars and marks the cut', () => {
    const l = log({ max_chars: 16 });
    const c = l.begin('chat');
    for (let i = 0; i < 50; i++) c.chunk(sse([{ choices: [{ index: 0, delta: { content: 'abcdefgh' } }] }]));
    assert.equal(c.fields(ctxFor('chat', {})).response, 'abcdefghabcdefgh' + TRUNCATED);
  });

  it('only what the route asks for', () => {
    const prompts = new PayloadLog(payloadLogSchema.parse({ prompts: true }));
    const c = prompts.begin('chat');
    c.chunk(sse([{ choices: [{ index: 0, delta: { content: 'secret answer' } }] }]));
    const fields = c.fields(ctxFor('chat', { messages: [{ role: 'user', content: 'q' }] }));
    assert.deepEqual(fields, { prompt: [{ role: 'user', content: 'q' }] });
    const responses = new PayloadLog(payloadLogSchema.parse({ responses: true })).begin('chat');
    assert.deepEqual(responses.fields(ctxFor('chat', { messages: [] })), { response: null });
  });
});
