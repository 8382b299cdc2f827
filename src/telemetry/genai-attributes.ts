import type { Attributes } from '@opentelemetry/api';
import type { ApiKind, JsonObject } from '../contracts/request.ts';

// Span attribute names and values from the OpenTelemetry GenAI semantic conventions. They are kept here as
// plain strings: @opentelemetry/semantic-conventions marks the gen_ai.* constants incubating (and now
// deprecated there, as they moved to their own repository), and its docs advise copying such names.

export const GEN_AI = {
  operation: 'gen_ai.operation.name',
  provider: 'gen_ai.provider.name',
  /** Older name of gen_ai.provider.name, still read by many backends. */
  system: 'gen_ai.system',
  requestModel: 'gen_ai.request.model',
  responseModel: 'gen_ai.response.model',
  maxTokens: 'gen_ai.request.max_tokens',
  temperature: 'gen_ai.request.temperature',
  topP: 'gen_ai.request.top_p',
  stream: 'gen_ai.request.stream',
  finishReasons: 'gen_ai.response.finish_reasons',
  timeToFirstChunk: 'gen_ai.response.time_to_first_chunk',
  inputTokens: 'gen_ai.usage.input_tokens',
  outputTokens: 'gen_ai.usage.output_tokens',
  cacheReadTokens: 'gen_ai.usage.cache_read.input_tokens',
  cacheWriteTokens: 'gen_ai.usage.cache_creation.input_tokens',
  reasoningTokens: 'gen_ai.usage.reasoning.output_tokens',
} as const;

/** The gateway's own attributes. */
export const SWITCHYARD = {
  requestId: 'switchyard.request_id',
  requestedModel: 'switchyard.requested_model',
  route: 'switchyard.route',
  target: 'switchyard.target',
  provider: 'switchyard.provider',
  endpoint: 'switchyard.endpoint',
  attempts: 'switchyard.attempts',
  attempt: 'switchyard.attempt',
  outcome: 'switchyard.outcome',
  priority: 'switchyard.priority',
  identity: 'switchyard.identity',
  team: 'switchyard.team',
  costUsd: 'switchyard.cost_usd',
  stage: 'switchyard.stage',
} as const;

const OPERATIONS: Readonly<Record<ApiKind, string>> = {
  chat: 'chat',
  completions: 'text_completion',
  embeddings: 'embeddings',
  responses: 'chat',
  messages: 'chat',
};

/** The client-facing path of each API, for http.route on the server span. */
export const ROUTES: Readonly<Record<ApiKind, string>> = {
  chat: '/v1/chat/completions',
  completions: '/v1/completions',
  embeddings: '/v1/embeddings',
  responses: '/v1/responses',
  messages: '/v1/messages',
};

export function operationOf(api: ApiKind): string {
  return OPERATIONS[api];
}

/** Well-known gen_ai.provider.name values by provider type; other types (pool) pass through as is. */
const PROVIDER_NAMES: Readonly<Record<string, string>> = {
  openai: 'openai',
  azure: 'azure.ai.openai',
  anthropic: 'anthropic',
  gemini: 'gcp.gemini',
  bedrock: 'aws.bedrock',
};

export function providerNameOf(type: string): string {
  return PROVIDER_NAMES[type] ?? type;
}

function numberIn(body: JsonObject, key: string): number | undefined {
  const value = body[key];
  return typeof value === 'number' && Number.isFinite(value) ? value : undefined;
}

/** Sampling parameters the client sent (after on-request policies), named as GenAI attributes. */
export function requestParameters(body: JsonObject, into: Attributes): void {
  const maxTokens =
    numberIn(body, 'max_tokens') ??
    numberIn(body, 'max_completion_tokens') ??
    numberIn(body, 'max_output_tokens');
  if (maxTokens !== undefined) into[GEN_AI.maxTokens] = maxTokens;
  const temperature = numberIn(body, 'temperature');
  if (temperature !== undefined) into[GEN_AI.temperature] = temperature;
  const topP = numberIn(body, 'top_p');
  if (topP !== undefined) into[GEN_AI.topP] = topP;
}
