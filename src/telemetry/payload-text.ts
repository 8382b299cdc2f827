import type { ApiKind, JsonObject } from '../contracts/request.ts';

// The text of a request and of its response, per client API, for payload logging. Requests are read
// from the parsed client body; responses from what the gateway sent to the client (the client's own
// schema: OpenAI chat/completions/Responses or Anthropic messages), whole or one stream event at a time.
// Only text is kept: non-text parts (images, audio, tool calls) appear as "[<type>]".

export interface LoggedMessage {
  readonly role: string;
  readonly content: string;
}

type Json = Record<string, unknown>;

function isObject(v: unknown): v is Json {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function partText(part: unknown): string {
  if (typeof part === 'string') return part;
  if (!isObject(part)) return '';
  if (typeof part.text === 'string') return part.text; // text, input_text, output_text
  if (part.type === 'tool_result') return textOf(part.content);
  return typeof part.type === 'string' ? `[${part.type}]` : '';
}

/** A message's content: a string, or an array of parts (OpenAI content parts, Anthropic blocks). */
export function textOf(content: unknown): string {
  if (typeof content === 'string') return content;
  if (!Array.isArray(content)) return '';
  let out = '';
  for (const part of content) {
    const t = partText(part);
    if (t !== '') out = out === '' ? t : `${out}\n${t}`;
  }
  return out;
}

function message(m: unknown): LoggedMessage | null {
  if (!isObject(m)) return null;
  const role = typeof m.role === 'string' ? m.role : typeof m.type === 'string' ? m.type : 'user';
  let content = textOf(m.content);
  if (Array.isArray(m.tool_calls) && m.tool_calls.length > 0)
    content = content === '' ? '[tool_calls]' : `${content}\n[tool_calls]`;
  if (content === '' && typeof m.type === 'string' && m.content === undefined) content = `[${m.type}]`;
  return { role, content };
}

/** Prompt strings (completions' prompt, embeddings' input): a string or a list; token arrays are not text. */
function inputs(value: unknown, out: LoggedMessage[]): void {
  if (typeof value === 'string') out.push({ role: 'user', content: value });
  else if (Array.isArray(value)) {
    if (value.every((v) => typeof v === 'number')) out.push({ role: 'user', content: '[tokens]' });
    else for (const v of value) inputs(v, out);
  }
}

/** The request's messages in order, system prompt first. */
export function promptMessages(api: ApiKind, body: JsonObject): LoggedMessage[] {
  const out: LoggedMessage[] = [];
  const system = api === 'responses' ? body.instructions : api === 'messages' ? body.system : undefined;
  const systemText = textOf(system);
  if (systemText !== '') out.push({ role: 'system', content: systemText });
  if (api === 'chat' || api === 'messages') {
    if (Array.isArray(body.messages))
      for (const m of body.messages) {
        const logged = message(m);
        if (logged !== null) out.push(logged);
      }
  } else if (api === 'completions') {
    inputs(body.prompt, out);
  } else if (api === 'embeddings') {
    inputs(body.input, out);
  } else if (typeof body.input === 'string') {
    out.push({ role: 'user', content: body.input });
  } else if (Array.isArray(body.input)) {
    for (const item of body.input) {
      const logged = typeof item === 'string' ? { role: 'user', content: item } : message(item);
      if (logged !== null) out.push(logged);
    }
  }
  return out;
}

/** Receives response text: `index` is the choice (0 unless the client asked for several). */
export type TextSink = (index: number, text: string) => void;

function choices(value: unknown, read: (choice: Json) => unknown, sink: TextSink): void {
  if (!Array.isArray(value)) return;
  for (const c of value) {
    if (!isObject(c)) continue;
    const text = textOf(read(c));
    if (text !== '') sink(typeof c.index === 'number' ? c.index : 0, text);
  }
}

/** The text of a whole JSON response body, in the client's schema. */
export function responseText(api: ApiKind, body: Json, sink: TextSink): void {
  switch (api) {
    case 'chat':
      return choices(body.choices, (c) => (isObject(c.message) ? c.message.content : undefined), sink);
    case 'completions':
      return choices(body.choices, (c) => c.text, sink);
    case 'messages':
      if (Array.isArray(body.content)) {
        const text = body.content
          .filter((b) => isObject(b) && b.type === 'text')
          .map((b) => (b as Json).text)
          .join('');
        if (text !== '') sink(0, text);
      }
      return;
    case 'responses':
      if (Array.isArray(body.output))
        for (const item of body.output) {
          if (!isObject(item) || item.type !== 'message' || !Array.isArray(item.content)) continue;
          for (const part of item.content)
            if (isObject(part) && part.type === 'output_text' && typeof part.text === 'string')
              sink(0, part.text);
        }
      return;
    case 'embeddings':
      return;
  }
}

/** The text one stream event adds, in the client's schema. */
export function streamDelta(api: ApiKind, event: Json, sink: TextSink): void {
  switch (api) {
    case 'chat':
      return choices(event.choices, (c) => (isObject(c.delta) ? c.delta.content : undefined), sink);
    case 'completions':
      return choices(event.choices, (c) => c.text, sink);
    case 'messages':
      if (event.type === 'content_block_delta' && isObject(event.delta) && event.delta.type === 'text_delta')
        if (typeof event.delta.text === 'string') sink(0, event.delta.text);
      return;
    case 'responses':
      if (event.type === 'response.output_text.delta' && typeof event.delta === 'string')
        sink(0, event.delta);
      return;
    case 'embeddings':
      return;
  }
}
