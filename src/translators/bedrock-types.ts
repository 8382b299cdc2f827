// Wire types of Amazon Bedrock Runtime's Converse and ConverseStream APIs (REST JSON) as far as the
// translator uses them. Blobs (image bytes) travel base64-encoded in JSON.

export type BedrockImageFormat = 'png' | 'jpeg' | 'gif' | 'webp';

export interface BedrockToolResultBlock {
  toolUseId: string;
  content: ({ text: string } | { json: unknown })[];
  status?: 'success' | 'error';
}

export type BedrockContentBlock =
  | { text: string }
  | { image: { format: BedrockImageFormat; source: { bytes: string } | { s3Location: { uri: string } } } }
  | { toolUse: { toolUseId: string; name: string; input: unknown } }
  | { toolResult: BedrockToolResultBlock }
  | { reasoningContent: { reasoningText?: { text: string; signature?: string } } }
  | { cachePoint: { type: 'default' } };

export interface BedrockMessage {
  role: 'user' | 'assistant';
  content: BedrockContentBlock[];
}

export type BedrockSystemBlock = { text: string } | { cachePoint: { type: 'default' } };

export interface BedrockToolConfig {
  tools: { toolSpec: { name: string; description?: string; inputSchema: { json: unknown } } }[];
  toolChoice?: { auto: Record<string, never> } | { any: Record<string, never> } | { tool: { name: string } };
}

export interface BedrockInferenceConfig {
  maxTokens?: number;
  temperature?: number;
  topP?: number;
  stopSequences?: string[];
}

export interface BedrockRequest {
  messages: BedrockMessage[];
  system?: BedrockSystemBlock[];
  toolConfig?: BedrockToolConfig;
  inferenceConfig?: BedrockInferenceConfig;
}

export type BedrockStopReason =
  | 'end_turn'
  | 'tool_use'
  | 'max_tokens'
  | 'stop_sequence'
  | 'guardrail_intervened'
  | 'content_filtered'
  | 'model_context_window_exceeded';

export interface BedrockUsage {
  inputTokens?: number;
  outputTokens?: number;
  totalTokens?: number;
  cacheReadInputTokens?: number;
  cacheWriteInputTokens?: number;
}

export interface BedrockResponse {
  output?: { message?: { role: 'assistant'; content?: BedrockContentBlock[] } };
  stopReason?: BedrockStopReason;
  usage?: BedrockUsage;
}

/** ConverseStream event payloads, by `:event-type`. */
export interface BedrockStreamEvents {
  messageStart: { role: 'assistant' };
  contentBlockStart: { contentBlockIndex: number; start?: { toolUse?: { toolUseId: string; name: string } } };
  contentBlockDelta: {
    contentBlockIndex: number;
    delta?: {
      text?: string;
      toolUse?: { input: string };
      reasoningContent?: { text?: string; signature?: string };
    };
  };
  contentBlockStop: { contentBlockIndex: number };
  messageStop: { stopReason?: BedrockStopReason };
  metadata: { usage?: BedrockUsage };
}
