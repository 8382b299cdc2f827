// Token usage in one normalised shape, whatever the provider reported.

export interface Usage {
  inputTokens: number;
  outputTokens: number;
  /** Input tokens served from the provider's prompt cache (a subset of inputTokens). */
  cachedInputTokens: number;
  /** Input tokens written to the provider's prompt cache (a subset of inputTokens). */
  cacheWriteTokens: number;
  /** Output tokens spent on reasoning (a subset of outputTokens). */
  reasoningTokens: number;
}

export function emptyUsage(): Usage {
  return { inputTokens: 0, outputTokens: 0, cachedInputTokens: 0, cacheWriteTokens: 0, reasoningTokens: 0 };
}

function num(value: unknown): number {
  return typeof value === 'number' && Number.isFinite(value) && value > 0 ? value : 0;
}

function field(obj: unknown, key: string): unknown {
  return typeof obj === 'object' && obj !== null ? (obj as Record<string, unknown>)[key] : undefined;
}

/**
 * Read an OpenAI-style usage object (chat, completions, embeddings and the Responses API spell it
 * differently). Returns null when there is nothing usable.
 */
export function usageFromOpenAI(usage: unknown): Usage | null {
  if (typeof usage !== 'object' || usage === null) return null;
  const input = num(field(usage, 'prompt_tokens')) || num(field(usage, 'input_tokens'));
  const output = num(field(usage, 'completion_tokens')) || num(field(usage, 'output_tokens'));
  const inDetails = field(usage, 'prompt_tokens_details') ?? field(usage, 'input_tokens_details');
  const outDetails = field(usage, 'completion_tokens_details') ?? field(usage, 'output_tokens_details');
  return {
    inputTokens: input,
    outputTokens: output,
    cachedInputTokens: num(field(inDetails, 'cached_tokens')),
    cacheWriteTokens: 0,
    reasoningTokens: num(field(outDetails, 'reasoning_tokens')),
  };
}

/** The OpenAI chat `usage` object for a normalised usage. */
export function usageToOpenAI(usage: Usage): Record<string, unknown> {
  const out: Record<string, unknown> = {
    prompt_tokens: usage.inputTokens,
    completion_tokens: usage.outputTokens,
    total_tokens: usage.inputTokens + usage.outputTokens,
  };
  if (usage.cachedInputTokens > 0) out.prompt_tokens_details = { cached_tokens: usage.cachedInputTokens };
  if (usage.reasoningTokens > 0) out.completion_tokens_details = { reasoning_tokens: usage.reasoningTokens };
  return out;
}
