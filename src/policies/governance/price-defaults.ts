import type { ModelPrice } from '../../contracts/governance.ts';

// Shipped list prices in USD per 1M tokens, standard tier, prompts up to 200k tokens, from the providers'
// public pricing pages as published in September 2025: https://openai.com/api/pricing,
// https://docs.anthropic.com/en/docs/about-claude/pricing (cache writes at the 5-minute rate),
// https://ai.google.dev/gemini-api/docs/pricing. Prices change: override them in config (`prices`).
// Keys are model-name prefixes: "gpt-4o" also prices "gpt-4o-2024-08-06"; the longest prefix wins.
// Reasoning tokens are billed as output unless a row says otherwise.

const p = (input: number, output: number, cachedInput?: number, cacheWrite?: number): ModelPrice => ({
  input,
  output,
  ...(cachedInput === undefined ? {} : { cachedInput }),
  ...(cacheWrite === undefined ? {} : { cacheWrite }),
});

export const DEFAULT_PRICES: Readonly<Record<string, ModelPrice>> = {
  // OpenAI
  'gpt-5': p(1.25, 10, 0.125),
  'gpt-5-mini': p(0.25, 2, 0.025),
  'gpt-5-nano': p(0.05, 0.4, 0.005),
  'gpt-4.1': p(2, 8, 0.5),
  'gpt-4.1-mini': p(0.4, 1.6, 0.1),
  'gpt-4.1-nano': p(0.1, 0.4, 0.025),
  'gpt-4o': p(2.5, 10, 1.25),
  'gpt-4o-mini': p(0.15, 0.6, 0.075),
  'gpt-4-turbo': p(10, 30),
  'gpt-3.5-turbo': p(0.5, 1.5),
  o1: p(15, 60, 7.5),
  'o1-mini': p(1.1, 4.4, 0.55),
  o3: p(2, 8, 0.5),
  'o3-mini': p(1.1, 4.4, 0.55),
  'o4-mini': p(1.1, 4.4, 0.275),
  'text-embedding-3-small': p(0.02, 0),
  'text-embedding-3-large': p(0.13, 0),
  'text-embedding-ada-002': p(0.1, 0),
  // Anthropic
  'claude-opus-4-5': p(5, 25, 0.5, 6.25),
  'claude-opus-4-1': p(15, 75, 1.5, 18.75),
  'claude-opus-4': p(15, 75, 1.5, 18.75),
  'claude-sonnet-4-5': p(3, 15, 0.3, 3.75),
  'claude-sonnet-4': p(3, 15, 0.3, 3.75),
  'claude-3-7-sonnet': p(3, 15, 0.3, 3.75),
  'claude-3-5-sonnet': p(3, 15, 0.3, 3.75),
  'claude-haiku-4-5': p(1, 5, 0.1, 1.25),
  'claude-3-5-haiku': p(0.8, 4, 0.08, 1),
  'claude-3-opus': p(15, 75, 1.5, 18.75),
  'claude-3-haiku': p(0.25, 1.25, 0.03, 0.3),
  // Google Gemini
  'gemini-2.5-pro': p(1.25, 10, 0.31),
  'gemini-2.5-flash': p(0.3, 2.5, 0.075),
  'gemini-2.5-flash-lite': p(0.1, 0.4, 0.025),
  'gemini-2.0-flash': p(0.1, 0.4, 0.025),
  'gemini-2.0-flash-lite': p(0.075, 0.3),
  'gemini-1.5-pro': p(1.25, 5),
  'gemini-1.5-flash': p(0.075, 0.3),
};
