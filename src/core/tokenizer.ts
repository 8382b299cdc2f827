import { createRequire } from 'node:module';

// A real BPE token count (o200k, via gpt-tokenizer), loaded on first use: its tables cost about 75 MB of
// memory, which a gateway without token limits or count_tokens calls should not pay.

type CountTokens = (text: string) => number;

let count: CountTokens | null = null;

export function countBpeTokens(text: string): number {
  if (count === null) {
    const require = createRequire(import.meta.url);
    count = (require('gpt-tokenizer') as { countTokens: CountTokens }).countTokens;
  }
  return count(text);
}
