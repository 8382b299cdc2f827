import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { countTokens as bpeCount } from 'gpt-tokenizer';
import {
  countTokens,
  IMAGE_TOKENS,
  PDF_PAGE_TOKENS,
  PER_MESSAGE,
  TEXT_FACTOR,
  TOOLS_PROMPT,
} from './count-tokens.ts';

const user = (content: unknown) => ({ role: 'user', content });

describe('countTokens (count_tokens estimate)', () => {
  it('counts text with the BPE, scaled, plus per-message overhead', () => {
    const text = 'Hello, world. How many tokens is this sentence, roughly?';
    const { input_tokens } = countTokens({ model: 'claude', messages: [user(text)] });
    assert.equal(input_tokens, Math.ceil(bpeCount(`${text}\n`) * TEXT_FACTOR) + PER_MESSAGE);
  });

  it('adds fixed sizes for images and PDF pages, and the tool-use prompt', () => {
    const base = countTokens({ messages: [user([{ type: 'text', text: 'Describe' }])] }).input_tokens;
    const image = {
      type: 'image',
      source: { type: 'base64', media_type: 'image/png', data: 'iVBORw0KGgo=' },
    };
    const withImage = countTokens({
      messages: [user([{ type: 'text', text: 'Describe' }, image])],
    }).input_tokens;
    assert.equal(withImage - base, IMAGE_TOKENS);
    const pdf = Buffer.from('%PDF-1.4 /Type /Pages /Type /Page x /Type /Page y').toString('base64');
    const doc = { type: 'document', source: { type: 'base64', media_type: 'application/pdf', data: pdf } };
    const withPdf = countTokens({ messages: [user([{ type: 'text', text: 'Describe' }, doc])] }).input_tokens;
    assert.equal(withPdf - base, 2 * PDF_PAGE_TOKENS);
    const tools = [{ name: 'get_weather', description: 'Weather', input_schema: { type: 'object' } }];
    const withTools = countTokens({
      messages: [user([{ type: 'text', text: 'Describe' }])],
      tools,
    }).input_tokens;
    assert.ok(withTools - base > TOOLS_PROMPT);
  });

  it('counts system, tool use and tool results, and bounds huge prompts', () => {
    const small = countTokens({ system: 'Be brief.', messages: [user('x')] }).input_tokens;
    const turn = [
      user('x'),
      {
        role: 'assistant',
        content: [{ type: 'tool_use', id: 't', name: 'f', input: { q: 'long query text' } }],
      },
      user([{ type: 'tool_result', tool_use_id: 't', content: [{ type: 'text', text: 'a result' }] }]),
    ];
    assert.ok(countTokens({ system: 'Be brief.', messages: turn }).input_tokens > small + 2 * PER_MESSAGE);
    const started = performance.now();
    const huge = countTokens({ messages: [user('lorem ipsum '.repeat(200_000))] }).input_tokens;
    assert.ok(huge > 300_000 && huge < 700_000, String(huge));
    assert.ok(performance.now() - started < 2000);
    assert.throws(() => countTokens({}), { param: 'messages' });
  });
});
