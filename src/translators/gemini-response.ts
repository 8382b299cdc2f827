import { GatewayError, type ErrorCode } from '../core/errors.ts';
import type { Usage } from '../core/usage.ts';
import type { ChatToolCall } from './openai-chat-request.ts';
import { chatCompletion, toolCallId, type ChoiceOut, type FinishReason } from './openai-chat-response.ts';
import { SIGNATURE_MARK } from './gemini-request.ts';
import type {
  GeminiCandidate,
  GeminiErrorBody,
  GeminiFinishReason,
  GeminiPart,
  GeminiResponse,
  GeminiUsageMetadata,
} from './gemini-types.ts';
import { codeForStatus, parseErrorBody, providerError } from './provider-error.ts';

// Gemini GenerateContentResponse → OpenAI chat.completion, plus the pieces the stream translator shares:
// usage, finish reasons, function calls as tool calls, and error classification.

function count(value: number | undefined): number {
  return typeof value === 'number' && value > 0 ? value : 0;
}

/** Gemini counts thoughts apart from candidates; OpenAI's completion tokens include reasoning. */
export function geminiUsage(meta: GeminiUsageMetadata | undefined): Usage | null {
  if (meta === undefined) return null;
  const thoughts = count(meta.thoughtsTokenCount);
  return {
    inputTokens: count(meta.promptTokenCount) + count(meta.toolUsePromptTokenCount),
    outputTokens: count(meta.candidatesTokenCount) + thoughts,
    cachedInputTokens: count(meta.cachedContentTokenCount),
    cacheWriteTokens: 0,
    reasoningTokens: thoughts,
  };
}

const FILTERED: ReadonlySet<GeminiFinishReason> = new Set<GeminiFinishReason>([
  'SAFETY',
  'RECITATION',
  'BLOCKLIST',
  'PROHIBITED_CONTENT',
  'SPII',
  'IMAGE_SAFETY',
]);

/** The OpenAI finish_reason for a Gemini one (null while the candidate is still going). */
export function finishReason(
  reason: GeminiFinishReason | undefined,
  calledTools: boolean,
): FinishReason | null {
  if (reason === undefined || reason === 'FINISH_REASON_UNSPECIFIED') return null;
  if (reason === 'MAX_TOKENS') return 'length';
  if (FILTERED.has(reason)) return 'content_filter';
  return calledTools ? 'tool_calls' : 'stop';
}

export function toolCallFrom(part: GeminiPart): ChatToolCall | null {
  const call = part.functionCall;
  if (call === undefined) return null;
  const id =
    part.thoughtSignature === undefined
      ? toolCallId()
      : toolCallId() + SIGNATURE_MARK + part.thoughtSignature;
  return { id, type: 'function', function: { name: call.name, arguments: JSON.stringify(call.args ?? {}) } };
}

function choiceFrom(candidate: GeminiCandidate, position: number): ChoiceOut {
  let text = '';
  let reasoning = '';
  const toolCalls: ChatToolCall[] = [];
  for (const part of candidate.content?.parts ?? []) {
    const call = toolCallFrom(part);
    if (call !== null) toolCalls.push(call);
    else if (typeof part.text === 'string') {
      if (part.thought === true) reasoning += part.text;
      else text += part.text;
    }
  }
  const reason = finishReason(candidate.finishReason, toolCalls.length > 0) ?? 'stop';
  return { index: candidate.index ?? position, text, reasoning, toolCalls, finishReason: reason };
}

export function geminiChatResponse(body: Buffer, model: string): { body: string; usage: Usage | null } {
  let parsed: GeminiResponse;
  try {
    parsed = JSON.parse(body.toString('utf8')) as GeminiResponse;
  } catch (cause) {
    throw new GatewayError('upstream_error', 'The upstream provider returned an unreadable response.', {
      cause,
    });
  }
  const usage = geminiUsage(parsed.usageMetadata);
  const candidates = parsed.candidates ?? [];
  const choices: ChoiceOut[] =
    candidates.length > 0
      ? candidates.map(choiceFrom)
      : [
          {
            index: 0,
            text: '',
            reasoning: '',
            toolCalls: [],
            // No candidate at all means the prompt itself was blocked.
            finishReason: parsed.promptFeedback?.blockReason === undefined ? 'stop' : 'content_filter',
          },
        ];
  return { body: chatCompletion(model, choices, usage), usage };
}

const STATUS_CODE: Readonly<Record<string, ErrorCode>> = {
  INVALID_ARGUMENT: 'invalid_request',
  FAILED_PRECONDITION: 'invalid_request',
  OUT_OF_RANGE: 'invalid_request',
  UNAUTHENTICATED: 'unauthorized',
  PERMISSION_DENIED: 'forbidden',
  NOT_FOUND: 'model_not_found',
  RESOURCE_EXHAUSTED: 'rate_limited',
  DEADLINE_EXCEEDED: 'upstream_timeout',
  UNAVAILABLE: 'upstream_error',
  INTERNAL: 'upstream_error',
  CANCELLED: 'upstream_error',
};

/** A Gemini `{error:{code,message,status}}` (HTTP response or in-stream frame) as a GatewayError. */
export function geminiError(status: number, body: Buffer | GeminiErrorBody): GatewayError {
  const parsed = (Buffer.isBuffer(body) ? parseErrorBody(body) : body) as GeminiErrorBody | undefined;
  const error = parsed?.error;
  const httpStatus = typeof error?.code === 'number' && status === 200 ? error.code : status;
  if (typeof error?.message !== 'string') {
    return providerError(
      codeForStatus(httpStatus),
      `The upstream provider returned HTTP ${httpStatus}.`,
      httpStatus,
    );
  }
  // An invalid key is reported as INVALID_ARGUMENT with reason API_KEY_INVALID.
  const badKey = Buffer.isBuffer(body) && body.includes('API_KEY_INVALID');
  const code = badKey ? 'unauthorized' : (STATUS_CODE[error.status ?? ''] ?? codeForStatus(httpStatus));
  return providerError(code, error.message, httpStatus);
}
