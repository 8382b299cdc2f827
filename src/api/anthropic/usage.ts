import type { Usage } from '../../core/usage.ts';

// The gateway's Usage → Anthropic's usage object. Anthropic counts cache reads and cache writes apart
// from input_tokens, while Usage.inputTokens includes both, so they are subtracted back out.

export interface AnthropicUsageOut {
  input_tokens: number;
  output_tokens: number;
  cache_creation_input_tokens: number;
  cache_read_input_tokens: number;
}

export function anthropicUsageOf(usage: Usage | null): AnthropicUsageOut {
  if (usage === null) {
    return { input_tokens: 0, output_tokens: 0, cache_creation_input_tokens: 0, cache_read_input_tokens: 0 };
  }
  return {
    input_tokens: Math.max(0, usage.inputTokens - usage.cachedInputTokens - usage.cacheWriteTokens),
    output_tokens: usage.outputTokens,
    cache_creation_input_tokens: usage.cacheWriteTokens,
    cache_read_input_tokens: usage.cachedInputTokens,
  };
}

const STOP: Readonly<Record<string, string>> = {
  stop: 'end_turn',
  length: 'max_tokens',
  tool_calls: 'tool_use',
  function_call: 'tool_use',
  content_filter: 'refusal',
};

/** An OpenAI finish_reason → an Anthropic stop_reason (OpenAI does not say which stop sequence matched). */
export function stopReasonOf(finish: unknown): string {
  return (typeof finish === 'string' ? STOP[finish] : undefined) ?? 'end_turn';
}
