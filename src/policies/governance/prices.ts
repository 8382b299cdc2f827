import type { ModelPrice, PriceTable } from '../../contracts/governance.ts';
import type { Usage } from '../../core/usage.ts';
import { DEFAULT_PRICES } from './price-defaults.ts';

// Cost per request from a price table: user overrides first ("provider/model" exact, then a model-name
// prefix), then the shipped defaults (prefix). Model names are normalised: lower case, without a path
// ("models/gemini-2.5-pro") or a Bedrock vendor prefix ("us.anthropic.claude-…").
//
// cost = uncached input × input + cached × cachedInput + cache writes × cacheWrite
//      + (output − reasoning) × output + reasoning × reasoning, all per 1M tokens,
// where cached input and cache writes are parts of the input, and reasoning a part of the output
// (the core Usage convention). Rounded to 1e-12 USD so sums stay exact in numeric columns.

const VENDOR = /^(?:[a-z]{2}\.)?(?:anthropic|meta|amazon|mistral|cohere|ai21|openai)\./;
const BOUNDARY = /[-@:._]/;

function normalise(model: string): string {
  const lower = model.toLowerCase();
  return lower.slice(lower.lastIndexOf('/') + 1).replace(VENDOR, '');
}

/** The value of the longest key that is `name` or a prefix of it ending at a boundary. */
function byPrefix(table: ReadonlyMap<string, ModelPrice>, name: string): ModelPrice | null {
  let best: ModelPrice | null = null;
  let bestLength = -1;
  for (const [key, price] of table) {
    if (key.length <= bestLength || !name.startsWith(key)) continue;
    const next = name[key.length];
    if (next === undefined || BOUNDARY.test(next)) {
      best = price;
      bestLength = key.length;
    }
  }
  return best;
}

export class PriceBook implements PriceTable {
  readonly #exact = new Map<string, ModelPrice>();
  readonly #models = new Map<string, ModelPrice>();
  readonly #defaults: ReadonlyMap<string, ModelPrice>;
  readonly #memo = new Map<string, ModelPrice | null>();
  #last: { provider: string | null; model: string; price: ModelPrice | null } | null = null;

  /** `overrides` keys: "provider/model" (exact) or "model" (prefix). `defaults: false` ships none. */
  constructor(overrides: Readonly<Record<string, ModelPrice>> = {}, defaults = true) {
    for (const [key, price] of Object.entries(overrides)) {
      if (key.includes('/')) this.#exact.set(key, price);
      else this.#models.set(normalise(key), price);
    }
    this.#defaults = new Map(defaults ? Object.entries(DEFAULT_PRICES) : []);
  }

  lookup(provider: string | null, model: string): ModelPrice | null {
    // Most requests ask for the price the last one did: no key string to build for those.
    const last = this.#last;
    if (last !== null && last.provider === provider && last.model === model) return last.price;
    const price = this.#find(provider, model);
    this.#last = { provider, model, price };
    return price;
  }

  #find(provider: string | null, model: string): ModelPrice | null {
    const memoKey = `${provider ?? ''}\u0000${model}`;
    const known = this.#memo.get(memoKey);
    if (known !== undefined) return known;
    const name = normalise(model);
    const price =
      (provider === null ? undefined : this.#exact.get(`${provider}/${model}`)) ??
      byPrefix(this.#models, name) ??
      byPrefix(this.#defaults, name);
    if (this.#memo.size > 10_000) this.#memo.clear();
    this.#memo.set(memoKey, price);
    return price;
  }

  cost(usage: Usage, provider: string | null, model: string): number | null {
    const price = this.lookup(provider, model);
    return price === null ? null : costOf(usage, price);
  }
}

export function costOf(usage: Usage, price: ModelPrice): number {
  const cached = Math.min(usage.cachedInputTokens, usage.inputTokens);
  const writes = Math.min(usage.cacheWriteTokens, usage.inputTokens - cached);
  const reasoning = Math.min(usage.reasoningTokens, usage.outputTokens);
  const micro =
    (usage.inputTokens - cached - writes) * price.input +
    cached * (price.cachedInput ?? price.input) +
    writes * (price.cacheWrite ?? price.input) +
    (usage.outputTokens - reasoning) * price.output +
    reasoning * (price.reasoning ?? price.output);
  return Math.round(micro * 1e6) / 1e12;
}
