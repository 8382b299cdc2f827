import type { JsonObject } from '../contracts/request.ts';
import {
  chatMessages,
  contentParts,
  contentText,
  functionTools,
  imageUrlOf,
  invalid,
  maxTokens,
  numberField,
  parseArguments,
  parseDataUrl,
  stopSequences,
  toolChoice,
  type ChatMessage,
} from './openai-chat-request.ts';
import type {
  BedrockContentBlock,
  BedrockImageFormat,
  BedrockInferenceConfig,
  BedrockMessage,
  BedrockRequest,
  BedrockSystemBlock,
  BedrockToolConfig,
} from './bedrock-types.ts';

// OpenAI chat request → Bedrock Converse request. System and developer messages become `system`; tool
// results become toolResult blocks of a user turn; consecutive turns of one role are merged because
// Converse requires user and assistant turns to alternate. Empty text blocks are dropped (Converse
// rejects them). A part's `cache_control` marker becomes a cachePoint block after it.

const CACHE_POINT = { cachePoint: { type: 'default' } } as const;

const IMAGE_FORMATS: Readonly<Record<string, BedrockImageFormat>> = {
  'image/png': 'png',
  'image/jpeg': 'jpeg',
  'image/jpg': 'jpeg',
  'image/gif': 'gif',
  'image/webp': 'webp',
};

function imageBlock(url: string, param: string): BedrockContentBlock {
  const data = parseDataUrl(url);
  if (data !== null) {
    const format = IMAGE_FORMATS[data.mimeType];
    if (format === undefined) throw invalid(`image type ${data.mimeType} is not supported by Bedrock`, param);
    return { image: { format, source: { bytes: data.data } } };
  }
  if (url.startsWith('s3://')) {
    const ext = /\.([a-z]+)$/i.exec(url)?.[1]?.toLowerCase() ?? '';
    const format = IMAGE_FORMATS[`image/${ext}`];
    if (format === undefined) throw invalid('cannot tell the image format of this S3 object', param);
    return { image: { format, source: { s3Location: { uri: url } } } };
  }
  throw invalid('Bedrock accepts images as data URLs or s3:// locations, not web URLs', param);
}

function userBlocks(message: ChatMessage, param: string): BedrockContentBlock[] {
  const { content } = message;
  if (typeof content === 'string') return content === '' ? [] : [{ text: content }];
  const blocks: BedrockContentBlock[] = [];
  contentParts(content).forEach((part, i) => {
    const at = `${param}.content[${i}]`;
    if (part.type === 'text') {
      if (typeof part.text === 'string' && part.text !== '') blocks.push({ text: part.text });
    } else if (part.type === 'image_url') {
      const url = imageUrlOf(part);
      if (url === undefined) throw invalid('image_url.url is required', at);
      blocks.push(imageBlock(url, at));
    } else {
      throw invalid(`content part type ${part.type} is not supported by this provider`, at);
    }
    if (part.cache_control !== undefined) blocks.push(CACHE_POINT);
  });
  return blocks;
}

function assistantBlocks(message: ChatMessage, param: string): BedrockContentBlock[] {
  const text = contentText(message.content);
  const blocks: BedrockContentBlock[] = text === '' ? [] : [{ text }];
  message.tool_calls?.forEach((call, i) => {
    const input = parseArguments(call.function.arguments, `${param}.tool_calls[${i}].function.arguments`);
    blocks.push({ toolUse: { toolUseId: call.id, name: call.function.name, input } });
  });
  return blocks;
}

function toolResultBlock(message: ChatMessage, param: string): BedrockContentBlock {
  if (typeof message.tool_call_id !== 'string')
    throw invalid('tool messages need a tool_call_id', `${param}.tool_call_id`);
  return {
    toolResult: { toolUseId: message.tool_call_id, content: [{ text: contentText(message.content) }] },
  };
}

function systemBlocks(message: ChatMessage): BedrockSystemBlock[] {
  const text = contentText(message.content);
  const blocks: BedrockSystemBlock[] = text === '' ? [] : [{ text }];
  const cached = contentParts(message.content).some((part) => part.cache_control !== undefined);
  if (cached) blocks.push(CACHE_POINT);
  return blocks;
}

function conversation(messages: readonly ChatMessage[]): {
  messages: BedrockMessage[];
  system: BedrockSystemBlock[];
} {
  const out: BedrockMessage[] = [];
  const system: BedrockSystemBlock[] = [];
  messages.forEach((message, i) => {
    const param = `messages[${i}]`;
    if (message.role === 'system' || message.role === 'developer') {
      system.push(...systemBlocks(message));
      return;
    }
    const role = message.role === 'assistant' ? 'assistant' : 'user';
    let blocks: BedrockContentBlock[];
    if (message.role === 'assistant') blocks = assistantBlocks(message, param);
    else if (message.role === 'tool') blocks = [toolResultBlock(message, param)];
    else blocks = userBlocks(message, param);
    if (blocks.length === 0) return;
    const last = out.at(-1);
    if (last?.role === role) last.content.push(...blocks);
    else out.push({ role, content: blocks });
  });
  return { messages: out, system };
}

/** Converse needs toolConfig whenever the history holds tool blocks, even when tool_choice is none. */
function toolConfiguration(
  body: JsonObject,
  messages: readonly BedrockMessage[],
): BedrockToolConfig | undefined {
  const tools = functionTools(body);
  if (tools.length === 0) return undefined;
  const choice = toolChoice(body);
  const usesTools = messages.some((m) =>
    m.content.some((block) => 'toolUse' in block || 'toolResult' in block),
  );
  if (choice?.mode === 'none' && !usesTools) return undefined;
  const config: BedrockToolConfig = {
    tools: tools.map(({ name, description, parameters }) => ({
      toolSpec: {
        name,
        ...(description === undefined ? {} : { description }),
        inputSchema: { json: parameters ?? { type: 'object', properties: {} } },
      },
    })),
  };
  if (choice?.mode === 'auto') config.toolChoice = { auto: {} };
  else if (choice?.mode === 'required') config.toolChoice = { any: {} };
  else if (choice?.mode === 'named') config.toolChoice = { tool: { name: choice.name } };
  return config;
}

function inferenceConfig(body: JsonObject): BedrockInferenceConfig | undefined {
  const config: BedrockInferenceConfig = {};
  const max = maxTokens(body);
  if (max !== undefined) config.maxTokens = max;
  const temperature = numberField(body, 'temperature');
  if (temperature !== undefined) config.temperature = temperature;
  const topP = numberField(body, 'top_p');
  if (topP !== undefined) config.topP = topP;
  const stop = stopSequences(body);
  if (stop !== undefined) config.stopSequences = stop;
  return Object.keys(config).length > 0 ? config : undefined;
}

export function bedrockRequest(body: JsonObject): BedrockRequest {
  if ((numberField(body, 'n') ?? 1) > 1)
    throw invalid('Bedrock returns one choice per request; n must be 1', 'n');
  const { messages, system } = conversation(chatMessages(body));
  if (messages.length === 0) throw invalid('at least one user or assistant message is required', 'messages');
  const request: BedrockRequest = { messages };
  if (system.length > 0) request.system = system;
  const tools = toolConfiguration(body, messages);
  if (tools !== undefined) request.toolConfig = tools;
  const inference = inferenceConfig(body);
  if (inference !== undefined) request.inferenceConfig = inference;
  return request;
}
