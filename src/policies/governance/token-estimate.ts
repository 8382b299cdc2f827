import { countBpeTokens as countTokens } from '../../core/tokenizer.ts';
import type { EstimateOptions, GovernanceState } from '../../contracts/governance.ts';
import type { RequestContext } from '../../contracts/request.ts';
import { governanceState } from './request-state.ts';
import { tokenizerThread } from './tokenizer-thread.ts';

// Token estimate made before a request is sent, to reserve against token limits and budgets: the prompt
// counted with a real BPE tokenizer (o200k_base, the GPT-4o/GPT-5 vocabulary; other vendors' tokenizers
// differ by some percent) plus the completion budget the client allows (max_tokens and its aliases, times
// n), or a configured default. Reservations are reconciled to actual usage when the request ends.

export type { EstimateOptions };

/** Parts that carry no text: counted as a fixed size instead of tokenizing base64. */
const MEDIA_KEYS: ReadonlySet<string> = new Set([
  'image_url',
  'input_image',
  'image',
  'source',
  'input_audio',
  'file',
]);
const MEDIA_TOKENS = 765;
const SKIP_KEYS: ReadonlySet<string> = new Set(['type', 'role', 'id', 'cache_control']);
const PROMPT_KEYS = ['messages', 'prompt', 'input', 'instructions', 'system', 'tools', 'functions'] as const;
const PER_MESSAGE = 4;

// Token counts of recent prompt parts (system prompts, tool definitions, a conversation's earlier
// messages, which clients send again with every turn): a part seen before is not tokenized again.
// Bounded in entries and characters; the oldest entries go first.
const MEMO_ENTRIES = 4_096;
const MEMO_CHARS = 2_000_000;
const memo = new Map<string, number>();
let memoChars = 0;

function remember(text: string, tokens: number): void {
  if (text.length > MEMO_CHARS / 16) return;
  while (memo.size >= MEMO_ENTRIES || memoChars + text.length > MEMO_CHARS) {
    const oldest = memo.keys().next();
    if (oldest.done === true) break;
    memo.delete(oldest.value);
    memoChars -= oldest.value.length;
  }
  memo.set(text, tokens);
  memoChars += text.length;
}

/** Default tokens per character for text beyond the tokenizing budget when nothing was counted yet. */
const TOKENS_PER_CHAR = 0.25;

/** A body's text parts in order, and the tokens counted without a tokenizer (media, token ids). */
interface Parts {
  readonly texts: string[];
  fixed: number;
}

function collect(value: unknown, out: Parts): void {
  if (typeof value === 'string') {
    if (value.length > 0) out.texts.push(value);
  } else if (typeof value === 'number')
    out.fixed += 1; // token ids (embeddings/completions input)
  else if (Array.isArray(value)) for (const v of value) collect(v, out);
  else if (typeof value === 'object' && value !== null) {
    const o = value as Record<string, unknown>;
    for (const k in o) {
      if (!Object.hasOwn(o, k)) continue;
      const v = o[k];
      if (MEDIA_KEYS.has(k) && typeof v === 'object') out.fixed += MEDIA_TOKENS;
      else if (!SKIP_KEYS.has(k)) collect(v, out);
    }
  }
}

function partsOf(body: Readonly<Record<string, unknown>>): Parts {
  const parts: Parts = { texts: [], fixed: 0 };
  for (const key of PROMPT_KEYS) if (body[key] !== undefined) collect(body[key], parts);
  if (Array.isArray(body.messages) && body.messages.length > 0) {
    parts.fixed += body.messages.length * PER_MESSAGE + 3;
  }
  return parts;
}

/**
 * How a body's parts are counted: remembered parts by their count; the others tokenized, whole while
 * the per-request budget of characters lasts, then the head of the part that crosses it (extrapolated
 * to its length), then extrapolated from what was counted so far.
 */
class Tally {
  readonly #parts: Parts;
  /** Per part: its count when remembered, else -1 - (its index in `send`), else NaN (extrapolated). */
  readonly #plan: number[] = [];
  /** What to tokenize. */
  readonly send: string[] = [];

  constructor(parts: Parts, maxChars: number) {
    this.#parts = parts;
    let budget = maxChars;
    for (const text of parts.texts) {
      const known = memo.get(text);
      if (known !== undefined) this.#plan.push(known);
      else if (budget > 0) {
        this.#plan.push(-1 - this.send.length);
        this.send.push(text.length <= budget ? text : text.slice(0, budget));
        budget = Math.max(0, budget - text.length);
      } else this.#plan.push(NaN);
    }
  }

  /** The prompt's tokens, given the counts of `send`. */
  total(counts: readonly number[]): number {
    let tokens = this.#parts.fixed;
    let chars = 0;
    let counted = 0;
    const texts = this.#parts.texts;
    for (let i = 0; i < texts.length; i++) {
      const text = texts[i]!;
      const p = this.#plan[i]!;
      let n: number;
      if (p >= 0) n = p;
      else if (Number.isNaN(p)) n = Math.ceil(text.length * (chars > 0 ? counted / chars : TOKENS_PER_CHAR));
      else {
        const sent = this.send[-1 - p]!;
        const c = counts[-1 - p] ?? 0;
        if (sent.length === text.length) {
          n = c;
          remember(text, c);
        } else n = Math.ceil((c * text.length) / sent.length);
      }
      tokens += n;
      chars += text.length;
      counted += n;
    }
    return tokens;
  }
}

function positiveInt(v: unknown): v is number {
  return typeof v === 'number' && Number.isInteger(v) && v > 0;
}

function completionBudget(ctx: RequestContext, options: EstimateOptions): number {
  if (ctx.api === 'embeddings') return 0;
  const b = ctx.body;
  const max = positiveInt(b.max_completion_tokens)
    ? b.max_completion_tokens
    : positiveInt(b.max_tokens)
      ? b.max_tokens
      : positiveInt(b.max_output_tokens)
        ? b.max_output_tokens
        : undefined;
  const n = typeof b.n === 'number' && Number.isInteger(b.n) && b.n > 1 ? b.n : 1;
  return (max ?? options.defaultMaxTokens) * n;
}

/**
 * Prompt tokens of a request body: each text part counted with the BPE tokenizer (or remembered from an
 * earlier request), at most `maxChars` characters tokenized per request (the rest extrapolated), plus
 * fixed sizes for media and token ids and a per-message overhead. Tokenizes on this thread.
 */
export function promptTokens(body: Readonly<Record<string, unknown>>, maxChars: number): number {
  const tally = new Tally(partsOf(body), maxChars);
  return tally.total(tally.send.map(countTokens));
}

function estimateOf(ctx: RequestContext, options: EstimateOptions, input: number): Estimate {
  return { input: Math.max(1, input), output: completionBudget(ctx, options) };
}

type Estimate = { readonly input: number; readonly output: number };

/** The request's estimate, computed once and shared by every policy that reserves tokens. */
export function tokenEstimate(
  ctx: RequestContext,
  options: EstimateOptions,
  state: GovernanceState = governanceState(ctx),
): Estimate {
  state.estimate ??= estimateOf(ctx, options, promptTokens(ctx.body, options.maxTokenizeChars));
  return state.estimate;
}

/**
 * Makes the request's estimate ready for tokenEstimate without tokenizing on this thread: at once when
 * every part is remembered (null), else once the tokenizer thread has counted the rest (a promise).
 */
export function prepareEstimate(
  ctx: RequestContext,
  options: EstimateOptions,
  state: GovernanceState,
): Promise<void> | null {
  if (state.estimate !== null) return null;
  const tally = new Tally(partsOf(ctx.body), options.maxTokenizeChars);
  if (tally.send.length === 0) {
    state.estimate = estimateOf(ctx, options, tally.total([]));
    return null;
  }
  return tokenizerThread.count(tally.send).then((counts) => {
    state.estimate ??= estimateOf(ctx, options, tally.total(counts));
  });
}
