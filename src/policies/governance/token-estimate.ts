import { countBpeTokens as countTokens } from '../../core/tokenizer.ts';
import type { EstimateOptions } from '../../contracts/governance.ts';
import type { RequestContext } from '../../contracts/request.ts';
import { governanceState } from './request-state.ts';

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

interface Collected {
  readonly texts: string[];
  fixed: number;
}

function collect(value: unknown, out: Collected): void {
  if (typeof value === 'string') out.texts.push(value);
  else if (typeof value === 'number')
    out.fixed += 1; // token ids (embeddings/completions input)
  else if (Array.isArray(value)) for (const v of value) collect(v, out);
  else if (typeof value === 'object' && value !== null) {
    for (const [k, v] of Object.entries(value)) {
      if (MEDIA_KEYS.has(k) && typeof v === 'object') out.fixed += MEDIA_TOKENS;
      else if (!SKIP_KEYS.has(k)) collect(v, out);
    }
  }
}

function completionBudget(ctx: RequestContext, options: EstimateOptions): number {
  if (ctx.api === 'embeddings') return 0;
  const b = ctx.body;
  const max = [b.max_completion_tokens, b.max_tokens, b.max_output_tokens].find(
    (v): v is number => typeof v === 'number' && Number.isInteger(v) && v > 0,
  );
  const n = typeof b.n === 'number' && Number.isInteger(b.n) && b.n > 1 ? b.n : 1;
  return (max ?? options.defaultMaxTokens) * n;
}

export function promptTokens(body: Readonly<Record<string, unknown>>, maxChars: number): number {
  const out: Collected = { texts: [], fixed: 0 };
  for (const key of PROMPT_KEYS) if (body[key] !== undefined) collect(body[key], out);
  const messages = Array.isArray(body.messages) ? body.messages.length : 0;
  const text = out.texts.join('\n');
  const tokens =
    text.length <= maxChars
      ? countTokens(text)
      : Math.ceil((countTokens(text.slice(0, maxChars)) * text.length) / maxChars);
  return tokens + out.fixed + (messages > 0 ? messages * PER_MESSAGE + 3 : 0);
}

/** The request's estimate, computed once and shared by every policy that reserves tokens. */
export function tokenEstimate(
  ctx: RequestContext,
  options: EstimateOptions,
): { input: number; output: number } {
  const state = governanceState(ctx);
  state.estimate ??= {
    input: Math.max(1, promptTokens(ctx.body, options.maxTokenizeChars)),
    output: completionBudget(ctx, options),
  };
  return state.estimate;
}
