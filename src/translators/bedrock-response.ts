import { GatewayError, type ErrorCode } from '../core/errors.ts';
import type { Usage } from '../core/usage.ts';
import type { ChatToolCall } from './openai-chat-request.ts';
import { chatCompletion, type FinishReason } from './openai-chat-response.ts';
import type { BedrockResponse, BedrockStopReason, BedrockUsage } from './bedrock-types.ts';
import { codeForStatus, parseErrorBody, providerError } from './provider-error.ts';

// Bedrock Converse response → OpenAI chat.completion, plus what the stream translator shares: usage,
// stop reasons and error classification (HTTP errors and in-stream exception messages).

function count(value: number | undefined): number {
  return typeof value === 'number' && value > 0 ? value : 0;
}

/** Bedrock reports cache reads and writes apart from inputTokens; ours are subsets of the input. */
export function bedrockUsage(usage: BedrockUsage | undefined): Usage | null {
  if (usage === undefined) return null;
  const cacheRead = count(usage.cacheReadInputTokens);
  const cacheWrite = count(usage.cacheWriteInputTokens);
  return {
    inputTokens: count(usage.inputTokens) + cacheRead + cacheWrite,
    outputTokens: count(usage.outputTokens),
    cachedInputTokens: cacheRead,
    cacheWriteTokens: cacheWrite,
    reasoningTokens: 0,
  };
}

const FINISH: Readonly<Record<BedrockStopReason, FinishReason>> = {
  end_turn: 'stop',
  stop_sequence: 'stop',
  max_tokens: 'length',
  model_context_window_exceeded: 'length',
  tool_use: 'tool_calls',
  guardrail_intervened: 'content_filter',
  content_filtered: 'content_filter',
};

export function finishReason(reason: BedrockStopReason | undefined): FinishReason {
  return reason === undefined ? 'stop' : (FINISH[reason] ?? 'stop');
}

export function bedrockChatResponse(body: Buffer, model: string): { body: string; usage: Usage | null } {
  let parsed: BedrockResponse;
  try {
    parsed = JSON.parse(body.toString('utf8')) as BedrockResponse;
  } catch (cause) {
    throw new GatewayError('upstream_error', 'The upstream provider returned an unreadable response.', {
      cause,
    });
  }
  let text = '';
  let reasoning = '';
  const toolCalls: ChatToolCall[] = [];
  for (const block of parsed.output?.message?.content ?? []) {
    if ('text' in block) text += block.text;
    else if ('toolUse' in block) {
      const { toolUseId, name, input } = block.toolUse;
      toolCalls.push({
        id: toolUseId,
        type: 'function',
        function: { name, arguments: JSON.stringify(input ?? {}) },
      });
    } else if ('reasoningContent' in block) reasoning += block.reasoningContent.reasoningText?.text ?? '';
  }
  const usage = bedrockUsage(parsed.usage);
  const choice = { index: 0, text, reasoning, toolCalls, finishReason: finishReason(parsed.stopReason) };
  return { body: chatCompletion(model, [choice], usage), usage };
}

/** Bedrock exception names (lower camel case, as in `:exception-type`) → code and status. */
const EXCEPTIONS: Readonly<Record<string, readonly [ErrorCode, number]>> = {
  validationException: ['invalid_request', 400],
  accessDeniedException: ['forbidden', 403],
  unrecognizedClientException: ['unauthorized', 401],
  invalidSignatureException: ['unauthorized', 401],
  expiredTokenException: ['unauthorized', 401],
  resourceNotFoundException: ['model_not_found', 404],
  modelTimeoutException: ['upstream_timeout', 408],
  throttlingException: ['rate_limited', 429],
  serviceQuotaExceededException: ['rate_limited', 429],
  modelErrorException: ['upstream_error', 424],
  modelStreamErrorException: ['upstream_stream_error', 424],
  internalServerException: ['upstream_error', 500],
  serviceUnavailableException: ['upstream_error', 503],
  modelNotReadyException: ['upstream_error', 503],
};

function normaliseType(type: string): string {
  const name = type.slice(type.lastIndexOf('#') + 1).split(':')[0] ?? '';
  return name.charAt(0).toLowerCase() + name.slice(1);
}

/** An exception message from ConverseStream (`:message-type` exception) as a GatewayError. */
export function bedrockException(type: string, payload: Buffer): GatewayError {
  const parsed = parseErrorBody(payload) as { message?: unknown; Message?: unknown } | undefined;
  const raw = parsed?.message ?? parsed?.Message;
  const message = typeof raw === 'string' ? raw : `The upstream provider reported ${type}.`;
  const [code, status] = EXCEPTIONS[normaliseType(type)] ?? ['upstream_stream_error', 502];
  return providerError(code, message, status);
}

/** An HTTP error from Converse (`{"message": …}`, the type in `__type` when the body carries it). */
export function bedrockError(status: number, body: Buffer): GatewayError {
  const parsed = parseErrorBody(body) as
    { message?: unknown; Message?: unknown; __type?: unknown } | undefined;
  const raw = parsed?.message ?? parsed?.Message;
  if (typeof raw !== 'string') {
    return providerError(codeForStatus(status), `The upstream provider returned HTTP ${status}.`, status);
  }
  const known = typeof parsed?.__type === 'string' ? EXCEPTIONS[normaliseType(parsed.__type)] : undefined;
  // Bad or expired credentials come back as 403 (UnrecognizedClient, InvalidSignature, ExpiredToken).
  const badCredentials = status === 403 && /security token|signature/i.test(raw);
  // 424 is ModelErrorException: the model failed, not the request.
  const code = known?.[0] ?? (badCredentials ? 'unauthorized' : codeForStatus(status === 424 ? 502 : status));
  return providerError(code, raw, status);
}
