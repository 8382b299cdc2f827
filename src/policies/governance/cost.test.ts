import assert from 'node:assert/strict';
import { test } from 'node:test';
import { emptyUsage } from '../../core/usage.ts';
import { costFactory } from './cost.ts';
import { costOf, PriceBook } from './prices.ts';
import { build, finish, testContext, testServices } from './test-context.ts';
import { promptTokens, tokenEstimate } from './token-estimate.ts';

const usage = (u: Partial<ReturnType<typeof emptyUsage>>) => ({ ...emptyUsage(), ...u });

test('shipped prices resolve dated, vendor-prefixed and path-prefixed model names by longest prefix', () => {
  const book = new PriceBook();
  assert.equal(book.lookup(null, 'gpt-4o')?.input, 2.5);
  assert.equal(book.lookup(null, 'gpt-4o-2024-08-06')?.input, 2.5);
  assert.equal(book.lookup(null, 'gpt-4o-mini-2024-07-18')?.input, 0.15);
  assert.equal(book.lookup(null, 'claude-sonnet-4-5-20250929')?.cacheWrite, 3.75);
  assert.equal(book.lookup(null, 'us.anthropic.claude-3-5-haiku-20241022-v1:0')?.output, 4);
  assert.equal(book.lookup(null, 'models/gemini-2.5-flash')?.input, 0.3);
  assert.equal(book.lookup(null, 'gemini-2.5-flash-lite')?.input, 0.1);
  assert.equal(book.lookup(null, 'gpt-4o3'), null, 'a prefix must end at a boundary');
  assert.equal(book.lookup(null, 'llama-3-70b'), null);
});

test('overrides win: provider/model exactly, then model prefix; defaults can be turned off', () => {
  const book = new PriceBook({
    'vllm/llama-3-70b': { input: 0.1, output: 0.2 },
    'gpt-4o': { input: 1, output: 2 },
  });
  assert.equal(book.lookup('vllm', 'llama-3-70b')?.input, 0.1);
  assert.equal(book.lookup('other', 'llama-3-70b'), null);
  assert.equal(book.lookup('openai', 'gpt-4o-2024-11-20')?.input, 1);
  assert.equal(new PriceBook({}, false).lookup(null, 'gpt-4o'), null);
});

test('cost prices cached input, cache writes and reasoning separately, in USD per 1M tokens', () => {
  const price = { input: 3, output: 15, cachedInput: 0.3, cacheWrite: 3.75, reasoning: 20 };
  // 1000 input of which 400 cached and 100 written; 500 output of which 200 reasoning.
  const u = usage({
    inputTokens: 1_000,
    cachedInputTokens: 400,
    cacheWriteTokens: 100,
    outputTokens: 500,
    reasoningTokens: 200,
  });
  const expected = (500 * 3 + 400 * 0.3 + 100 * 3.75 + 300 * 15 + 200 * 20) / 1e6;
  assert.equal(costOf(u, price), Math.round(expected * 1e12) / 1e12);
  assert.equal(
    costOf(usage({ inputTokens: 1_000_000, outputTokens: 1_000_000 }), { input: 2.5, output: 10 }),
    12.5,
  );
  assert.equal(new PriceBook().cost(usage({ inputTokens: 10 }), null, 'unknown-model'), null);
});

test('the cost policy sets ctx.costUsd at the end and the header when usage is known at response start', () => {
  const services = testServices();
  const plain = build(costFactory, {}, services);
  assert.equal('onResponseStart' in plain, false, 'no hook without the header');
  const ctx = testContext({ model: 'gpt-4o-mini' });
  finish(ctx, 1_000_000, 0);
  plain.onEnd?.(ctx);
  assert.equal(ctx.costUsd, 0.15);
  const withHeader = build(costFactory, { header: true }, services);
  const ctx2 = testContext({ model: 'gpt-4o-mini' });
  finish(ctx2, 0, 1_000);
  withHeader.onResponseStart?.(ctx2);
  assert.equal(ctx2.responseHeaders['x-switchyard-cost'], '0.00060000');
});

test('token estimate: BPE prompt count + message overhead + completion budget × n; media not tokenized', () => {
  const body = {
    model: 'gpt-4o',
    messages: [{ role: 'user', content: 'hello world' }],
    max_tokens: 50,
    n: 2,
  };
  assert.equal(promptTokens(body, 10_000), 2 + 4 + 3);
  const ctx = testContext({ body });
  assert.deepEqual(tokenEstimate(ctx, { defaultMaxTokens: 7, maxTokenizeChars: 10_000 }), {
    input: 9,
    output: 100,
  });
  const image = {
    messages: [
      {
        role: 'user',
        content: [
          { type: 'text', text: 'hello world' },
          { type: 'image_url', image_url: { url: 'data:image/png;base64,' + 'A'.repeat(100_000) } },
        ],
      },
    ],
  };
  assert.equal(promptTokens(image, 10_000), 2 + 765 + 4 + 3);
  const defaulted = testContext({ body: { messages: [] } });
  assert.equal(tokenEstimate(defaulted, { defaultMaxTokens: 7, maxTokenizeChars: 10 }).output, 7);
  const long = { prompt: 'word '.repeat(10_000) };
  const exact = promptTokens(long, 1_000_000);
  const sampled = promptTokens(long, 1_000);
  assert.ok(Math.abs(sampled - exact) / exact < 0.05, `sampled ${sampled} vs exact ${exact}`);
});
