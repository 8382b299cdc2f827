import { GatewayError } from '../core/errors.ts';
import type { SimConfig } from './options.ts';
import type { FinishReason } from './sequence.ts';
import { chainSeed, hashText, idsToText, tokenizePrompt, type TokenizedPrompt } from './tokens.ts';

// Reading an OpenAI chat or completions request into what the engine needs: the model (base or LoRA
// adapter), the tokenised prompt, how many tokens to generate and how to stream. Chat messages are
// rendered with a compact template ("<|role|>\n" + content + "\n", then "<|assistant|>\n") so that a
// conversation's next turn starts with the previous turn's prompt and reply, token for token.

export type CompletionKind = 'chat' | 'completions';

export interface ParsedRequest {
  readonly model: string;
  readonly lora: string | null;
  readonly prompt: TokenizedPrompt;
  readonly maxTokens: number;
  readonly finishReason: FinishReason;
  readonly chainSeed: number;
  readonly fillerSeed: number;
  readonly stream: boolean;
  readonly includeUsage: boolean;
}

type Body = Readonly<Record<string, unknown>>;

function invalid(message: string, param: string): GatewayError {
  return new GatewayError('invalid_request', message, { param });
}

function contentText(content: unknown): string {
  if (typeof content === 'string') return content;
  if (!Array.isArray(content)) return '';
  let text = '';
  for (const part of content as unknown[]) {
    const p = part as Body | null;
    if (p !== null && typeof p === 'object' && typeof p.text === 'string') text += p.text;
  }
  return text;
}

/** The chat template: deterministic, so equal conversation prefixes give equal token blocks. */
export function renderChat(messages: unknown): string {
  if (!Array.isArray(messages) || messages.length === 0)
    throw invalid('messages must be a non-empty array.', 'messages');
  let text = '';
  for (const m of messages as unknown[]) {
    const msg = m as Body | null;
    if (msg === null || typeof msg !== 'object' || typeof msg.role !== 'string')
      throw invalid('each message needs a string role.', 'messages');
    text += `<|${msg.role}|>\n${contentText(msg.content)}`;
    if (msg.tool_calls !== undefined) text += JSON.stringify(msg.tool_calls);
    text += '\n';
  }
  return `${text}<|assistant|>\n`;
}

function completionPrompt(prompt: unknown): string {
  if (typeof prompt === 'string') return prompt;
  if (Array.isArray(prompt) && prompt.length === 1) return completionPrompt(prompt[0]);
  if (Array.isArray(prompt) && prompt.length > 0 && prompt.every((x) => typeof x === 'number'))
    return idsToText(prompt);
  throw invalid('prompt must be a string, one string, or an array of token ids.', 'prompt');
}

function maxTokensOf(body: Body): number | null {
  const value = body.max_completion_tokens ?? body.max_tokens;
  if (value === undefined || value === null) return null;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 1)
    throw invalid('max_tokens must be a positive integer.', 'max_tokens');
  return value;
}

export function parseCompletionRequest(kind: CompletionKind, body: Body, config: SimConfig): ParsedRequest {
  const model = body.model;
  if (typeof model !== 'string') throw invalid('model is required.', 'model');
  let lora: string | null = null;
  if (model !== config.model) {
    if (!config.loraAdapters.includes(model))
      throw new GatewayError('model_not_found', `The model \`${model}\` does not exist.`, { param: 'model' });
    lora = model;
  }
  if (body.n !== undefined && body.n !== null && body.n !== 1) throw invalid('only n = 1 is supported.', 'n');
  const text = kind === 'chat' ? renderChat(body.messages) : completionPrompt(body.prompt);
  const seed = chainSeed(lora);
  const prompt = tokenizePrompt(text, config.blockSize, seed);
  const room = config.maxModelLen - prompt.count;
  const explicit = maxTokensOf(body);
  if (room < 1 || (explicit !== null && explicit > room)) {
    const detail =
      explicit === null ? '' : ` (${prompt.count} in the messages, ${explicit} in the completion)`;
    throw new GatewayError(
      'context_length_exceeded',
      `This model's maximum context length is ${config.maxModelLen} tokens. However, you requested ` +
        `${prompt.count + (explicit ?? 0)} tokens${detail}. Please reduce the length of the messages or completion.`,
      { param: 'messages' },
    );
  }
  const last = prompt.blockHashes[prompt.blockHashes.length - 1] ?? seed;
  const fillerSeed = hashText(last + (config.seed ?? 0), prompt.tailText);
  const { min, max } = config.output;
  const natural = min + (fillerSeed % (max - min + 1));
  const maxTokens = explicit ?? Math.min(natural, room);
  const streamOptions = body.stream_options as Body | null | undefined;
  return {
    model,
    lora,
    prompt,
    maxTokens,
    finishReason: explicit !== null || natural > room ? 'length' : 'stop',
    chainSeed: seed,
    fillerSeed,
    stream: body.stream === true,
    includeUsage: typeof streamOptions === 'object' && streamOptions?.include_usage === true,
  };
}
