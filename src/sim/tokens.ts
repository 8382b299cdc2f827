// A cheap, deterministic stand-in for a BPE tokenizer, and the chained block hashes of automatic prefix
// caching. Rules, scanning left to right: up to 5 ASCII letters (with one leading space) are a token,
// as are up to 3 digits (with one leading space); each other ASCII or non-ASCII character is a token;
// a whitespace run (up to 16 characters) is a token. English prose gives ~4.4 characters per token,
// near tiktoken's ~4. The scan looks at most one character ahead, so appending text never changes the
// tokens before the last one: a conversation's next turn re-tokenises to the same blocks.

const MAX_LETTERS = 5;
const MAX_DIGITS = 3;
const MAX_SPACES = 16;

function isLetter(c: number): boolean {
  return (c >= 97 && c <= 122) || (c >= 65 && c <= 90);
}
function isDigit(c: number): boolean {
  return c >= 48 && c <= 57;
}
function isSpace(c: number): boolean {
  return c === 32 || c === 10 || c === 9 || c === 13;
}

/** End offset of the token starting at `i`. */
export function tokenEnd(text: string, i: number): number {
  const len = text.length;
  let c = text.charCodeAt(i);
  let start = i;
  if (isSpace(c)) {
    let j = i + 1;
    while (j < len && j - i < MAX_SPACES && isSpace(text.charCodeAt(j))) j++;
    const next = j < len ? text.charCodeAt(j) : -1;
    const glue = text.charCodeAt(j - 1) === 32 && (isLetter(next) || isDigit(next));
    if (!glue) return j;
    if (j - 1 > i) return j - 1; // the run minus its last space; that space leads the next word
    start = j;
    c = next;
  }
  let end = start + 1;
  if (isLetter(c)) while (end < len && end - start < MAX_LETTERS && isLetter(text.charCodeAt(end))) end++;
  else if (isDigit(c)) while (end < len && end - start < MAX_DIGITS && isDigit(text.charCodeAt(end))) end++;
  return end;
}

/** Number of tokens in a text. */
export function countTokens(text: string): number {
  let n = 0;
  for (let i = 0; i < text.length; i = tokenEnd(text, i)) n++;
  return n;
}

/** A 53-bit hash of text[start, end) chained on a parent hash (cyrb53-style, two 32-bit lanes). */
export function hashText(parent: number, text: string, start = 0, end = text.length): number {
  let h1 = 0xdeadbeef ^ (parent >>> 0);
  let h2 = 0x41c6ce57 ^ Math.floor(parent / 4294967296);
  for (let i = start; i < end; i++) {
    const ch = text.charCodeAt(i);
    h1 = Math.imul(h1 ^ ch, 2654435761);
    h2 = Math.imul(h2 ^ ch, 1597334677);
  }
  h1 = Math.imul(h1 ^ (h1 >>> 16), 2246822507);
  h1 ^= Math.imul(h2 ^ (h2 >>> 13), 3266489909);
  h2 = Math.imul(h2 ^ (h2 >>> 16), 2246822507);
  h2 ^= Math.imul(h1 ^ (h1 >>> 13), 3266489909);
  return 4294967296 * (2097151 & h2) + (h1 >>> 0);
}

/** A prompt as the engine sees it: its length and the hashes of its full blocks. */
export interface TokenizedPrompt {
  readonly count: number;
  /** hashes[i] covers tokens [0, (i+1)·blockSize), chained from `seed`. */
  readonly blockHashes: readonly number[];
  /** Text and token count after the last full block. */
  readonly tailText: string;
  readonly tailCount: number;
}

/** Tokenise text into blocks of `blockSize` tokens, hashing each full block on its predecessor. */
export function tokenizePrompt(text: string, blockSize: number, seed = 0): TokenizedPrompt {
  const blockHashes: number[] = [];
  let count = 0;
  let blockStart = 0;
  let parent = seed;
  for (let i = 0; i < text.length;) {
    i = tokenEnd(text, i);
    count++;
    if (count % blockSize === 0) {
      parent = hashText(parent, text, blockStart, i);
      blockHashes.push(parent);
      blockStart = i;
    }
  }
  return { count, blockHashes, tailText: text.slice(blockStart), tailCount: count % blockSize };
}

/** Token ids (the completions API's array prompt) as text of exactly one token per id. */
export function idsToText(ids: readonly number[]): string {
  let out = '';
  for (const id of ids) out += String.fromCharCode(0x4e00 + (Math.abs(Math.trunc(id)) % 20000));
  return out;
}

/** The seed of a prompt's hash chain: requests through different LoRA adapters never share blocks. */
export function chainSeed(lora: string | null): number {
  return lora === null ? 0 : hashText(1, lora);
}

// Filler output: lowercase words of at most 5 letters, so each generated token is exactly one token
// of the tokenizer above and a reply sent back in the next turn hashes to the same blocks.
const WORDS = (
  'lorem ipsum dolor sit amet sed do magna ut enim ad minim quis nisi ex ea irure in velit esse ' +
  'culpa qui est id eu nulla sunt non fugit rerum modi vitae quo optio nihil ullam animi natus'
).split(' ');

/** The i-th output token of a sequence whose filler stream is `seed`. */
export function fillerToken(seed: number, i: number): string {
  let h = Math.imul((seed >>> 0) ^ Math.imul(i + 1, 0x9e3779b1), 0x85ebca6b);
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35);
  const word = WORDS[((h ^ (h >>> 16)) >>> 0) % WORDS.length] ?? 'lorem';
  return i === 0 ? word : ` ${word}`;
}
