import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { chainSeed, countTokens, fillerToken, idsToText, tokenizePrompt } from './tokens.ts';

const PROSE =
  'The quick brown fox jumps over the lazy dog while the operators watch their dashboards, ' +
  'counting tokens, queues and cache hits across 128 replicas in three regions.\n\n';

describe('sim tokenizer', () => {
  it('is deterministic and close to four characters per token on prose', () => {
    const text = PROSE.repeat(20);
    const a = tokenizePrompt(text, 16);
    const b = tokenizePrompt(text, 16);
    assert.deepEqual(a, b);
    const charsPerToken = text.length / a.count;
    assert.ok(charsPerToken > 3.5 && charsPerToken < 5.5, `chars/token ${charsPerToken}`);
    assert.equal(a.blockHashes.length, Math.floor(a.count / 16));
    assert.equal(a.tailCount, a.count % 16);
  });

  it('keeps earlier blocks when text is appended (multi-turn prefixes hit)', () => {
    const first = tokenizePrompt(PROSE.repeat(5), 16);
    const longer = tokenizePrompt(PROSE.repeat(5) + 'And then the next user turn arrives.', 16);
    assert.deepEqual(longer.blockHashes.slice(0, first.blockHashes.length), first.blockHashes);
  });

  it('chains hashes: a change early in the prompt changes every later block', () => {
    const a = tokenizePrompt(PROSE.repeat(4), 16);
    const b = tokenizePrompt('X' + PROSE.repeat(4), 16);
    assert.notEqual(a.blockHashes.at(-1), b.blockHashes.at(-1));
  });

  it('separates LoRA adapters through the chain seed', () => {
    const base = tokenizePrompt(PROSE, 16, chainSeed(null));
    const lora = tokenizePrompt(PROSE, 16, chainSeed('sql-adapter'));
    assert.equal(base.count, lora.count);
    assert.notEqual(base.blockHashes[0], lora.blockHashes[0]);
  });

  it('makes each filler token exactly one token, also when concatenated after a prompt', () => {
    let reply = '';
    for (let i = 0; i < 200; i++) {
      const t = fillerToken(42, i);
      assert.equal(countTokens(t), 1, `token '${t}'`);
      reply += t;
    }
    assert.equal(countTokens(reply), 200);
    assert.equal(countTokens(`<|assistant|>\n${reply}\n`), countTokens('<|assistant|>\n') + 200 + 1);
  });

  it('gives one token per id for array prompts', () => {
    assert.equal(tokenizePrompt(idsToText([1, 2, 3, 50256, 128000]), 16).count, 5);
  });
});
