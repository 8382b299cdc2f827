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
  type ChatContentPart,
  type ChatMessage,
} from './openai-chat-request.ts';
import type {
  GeminiContent,
  GeminiGenerationConfig,
  GeminiPart,
  GeminiRequest,
  GeminiToolConfig,
} from './gemini-types.ts';

// OpenAI chat request → Gemini GenerateContentRequest. System and developer messages become the
// systemInstruction; assistant turns become role "model"; tool results become functionResponse parts of a
// user turn (consecutive turns of one role are merged, so parallel tool results travel together).

/** Gemini 2.5+ signs function calls; the signature rides in our tool-call id so it returns next turn. */
export const SIGNATURE_MARK = '__thought__';

const EXT_MIME: Readonly<Record<string, string>> = {
  png: 'image/png',
  jpg: 'image/jpeg',
  jpeg: 'image/jpeg',
  webp: 'image/webp',
  gif: 'image/gif',
  heic: 'image/heic',
  pdf: 'application/pdf',
};

function fileUriPart(url: string): GeminiPart {
  const ext = /\.([a-z0-9]+)(?:[?#]|$)/i.exec(url)?.[1]?.toLowerCase();
  const mimeType = ext === undefined ? undefined : EXT_MIME[ext];
  return { fileData: mimeType === undefined ? { fileUri: url } : { mimeType, fileUri: url } };
}

function userPart(part: ChatContentPart, param: string): GeminiPart {
  switch (part.type) {
    case 'text':
      return { text: part.text ?? '' };
    case 'image_url': {
      const url = imageUrlOf(part);
      if (url === undefined) throw invalid('image_url.url is required', param);
      const data = parseDataUrl(url);
      return data === null ? fileUriPart(url) : { inlineData: data };
    }
    case 'input_audio':
      if (part.input_audio === undefined) throw invalid('input_audio is required', param);
      return { inlineData: { mimeType: `audio/${part.input_audio.format}`, data: part.input_audio.data } };
    case 'file': {
      const data = part.file?.file_data === undefined ? null : parseDataUrl(part.file.file_data);
      if (data === null) throw invalid('file parts need file_data as a data URL for this provider', param);
      return { inlineData: data };
    }
    default:
      throw invalid(`content part type ${part.type} is not supported by this provider`, param);
  }
}

/** Empty text parts are dropped: Gemini rejects them. */
function userParts(message: ChatMessage, param: string): GeminiPart[] {
  const { content } = message;
  if (typeof content === 'string') return content === '' ? [] : [{ text: content }];
  const parts = contentParts(content).map((part, i) => userPart(part, `${param}.content[${i}]`));
  return parts.filter((part) => part.text !== '');
}

function modelParts(message: ChatMessage, param: string): GeminiPart[] {
  const parts: GeminiPart[] = [];
  const text = contentText(message.content);
  if (text !== '') parts.push({ text });
  message.tool_calls?.forEach((call, i) => {
    const part: GeminiPart = {
      functionCall: {
        name: call.function.name,
        args: parseArguments(call.function.arguments, `${param}.tool_calls[${i}].function.arguments`),
      },
    };
    const mark = call.id.indexOf(SIGNATURE_MARK);
    if (mark !== -1) part.thoughtSignature = call.id.slice(mark + SIGNATURE_MARK.length);
    parts.push(part);
  });
  return parts;
}

function toolResponse(message: ChatMessage, names: ReadonlyMap<string, string>, param: string): GeminiPart {
  const name = message.tool_call_id === undefined ? undefined : names.get(message.tool_call_id);
  if (name === undefined)
    throw invalid('tool message does not answer a known tool call', `${param}.tool_call_id`);
  const text = contentText(message.content);
  let response: Record<string, unknown> = { output: text };
  try {
    const parsed = JSON.parse(text) as unknown;
    if (typeof parsed === 'object' && parsed !== null && !Array.isArray(parsed))
      response = parsed as JsonObject;
  } catch {
    // plain text output
  }
  return { functionResponse: { name, response } };
}

function contents(messages: readonly ChatMessage[]): { contents: GeminiContent[]; system: GeminiPart[] } {
  const out: GeminiContent[] = [];
  const system: GeminiPart[] = [];
  const names = new Map<string, string>();
  messages.forEach((message, i) => {
    const param = `messages[${i}]`;
    if (message.role === 'system' || message.role === 'developer') {
      const text = contentText(message.content);
      if (text !== '') system.push({ text });
      return;
    }
    for (const call of message.tool_calls ?? []) names.set(call.id, call.function.name);
    const role = message.role === 'assistant' ? 'model' : 'user';
    let parts: GeminiPart[];
    if (message.role === 'assistant') parts = modelParts(message, param);
    else if (message.role === 'tool') parts = [toolResponse(message, names, param)];
    else parts = userParts(message, param);
    if (parts.length === 0) return;
    const last = out.at(-1);
    if (last?.role === role) last.parts.push(...parts);
    else out.push({ role, parts });
  });
  return { contents: out, system };
}

function generationConfig(body: JsonObject): GeminiGenerationConfig | undefined {
  const config: GeminiGenerationConfig = {};
  const max = maxTokens(body);
  if (max !== undefined) config.maxOutputTokens = max;
  const numbers = [
    ['temperature', 'temperature'],
    ['top_p', 'topP'],
    ['top_k', 'topK'],
    ['n', 'candidateCount'],
    ['presence_penalty', 'presencePenalty'],
    ['frequency_penalty', 'frequencyPenalty'],
    ['seed', 'seed'],
  ] as const;
  for (const [from, to] of numbers) {
    const value = numberField(body, from);
    if (value !== undefined) config[to] = value;
  }
  const stop = stopSequences(body);
  if (stop !== undefined) config.stopSequences = stop;
  const format = body.response_format as { type?: unknown; json_schema?: { schema?: unknown } } | undefined;
  if (format?.type === 'json_object' || format?.type === 'json_schema')
    config.responseMimeType = 'application/json';
  const schema = format?.type === 'json_schema' ? format.json_schema?.schema : undefined;
  if (typeof schema === 'object' && schema !== null) config.responseJsonSchema = schema as JsonObject;
  return Object.keys(config).length > 0 ? config : undefined;
}

function toolConfig(body: JsonObject): GeminiToolConfig | undefined {
  const choice = toolChoice(body);
  if (choice === undefined) return undefined;
  if (choice.mode === 'named')
    return { functionCallingConfig: { mode: 'ANY', allowedFunctionNames: [choice.name] } };
  const mode = choice.mode === 'auto' ? 'AUTO' : choice.mode === 'none' ? 'NONE' : 'ANY';
  return { functionCallingConfig: { mode } };
}

export function geminiRequest(body: JsonObject): GeminiRequest {
  const { contents: turns, system } = contents(chatMessages(body));
  if (turns.length === 0) throw invalid('at least one user or assistant message is required', 'messages');
  const request: GeminiRequest = { contents: turns };
  if (system.length > 0) request.systemInstruction = { parts: system };
  const tools = functionTools(body);
  if (tools.length > 0) {
    const functionDeclarations = tools.map(({ name, description, parameters }) => ({
      name,
      ...(description === undefined ? {} : { description }),
      ...(parameters === undefined ? {} : { parametersJsonSchema: parameters }),
    }));
    request.tools = [{ functionDeclarations }];
  }
  const config = toolConfig(body);
  if (config !== undefined) request.toolConfig = config;
  const generation = generationConfig(body);
  if (generation !== undefined) request.generationConfig = generation;
  return request;
}

/** The `models/{model}` path segment (a configured "models/" prefix is accepted; tuned models pass as is). */
export function modelPath(model: string): string {
  const name = model.startsWith('models/') || model.startsWith('tunedModels/') ? model : `models/${model}`;
  return `/${name.split('/').map(encodeURIComponent).join('/')}`;
}
