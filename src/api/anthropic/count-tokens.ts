import { countBpeTokens as bpeCount } from '../../core/tokenizer.ts';
import type { JsonObject } from '../../contracts/request.ts';
import type { ContentBlock, MessageParam, ToolDefinition } from '../../translators/anthropic-types.ts';
import { invalid } from './messages-content.ts';

// POST /v1/messages/count_tokens for upstreams that cannot count (an Anthropic upstream can: forward the
// request to its /messages/count_tokens instead). An approximation: text is counted with the o200k_base
// BPE (gpt-tokenizer), which runs some percent below Claude's own tokenizer, so the text count is scaled
// by TEXT_FACTOR; images count IMAGE_TOKENS each (Anthropic's cap for an image resized to fit,
// ≈ width × height / 750) and PDF pages PDF_PAGE_TOKENS each (text plus page image); each message adds
// PER_MESSAGE and tool use adds Anthropic's published tool-use system prompt (TOOLS_PROMPT). Text beyond
// MAX_CHARS is extrapolated from the counted part, which bounds the CPU one request can take.

export const TEXT_FACTOR = 1.1;
export const IMAGE_TOKENS = 1600;
export const PDF_PAGE_TOKENS = 2000;
export const PER_MESSAGE = 3;
export const TOOLS_PROMPT = 346;
const MAX_CHARS = 400_000;

interface Tally {
  text: string;
  fixed: number;
}

function pdfPages(base64: string): number {
  const pdf = Buffer.from(base64, 'base64').toString('latin1');
  const pages = pdf.match(/\/Type\s*\/Page(?!s)/g);
  return Math.max(1, pages?.length ?? 0);
}

function block(b: ContentBlock, tally: Tally): void {
  switch (b.type) {
    case 'text':
      tally.text += b.text + '\n';
      return;
    case 'image':
      tally.fixed += IMAGE_TOKENS;
      return;
    case 'document':
      if (b.source?.type === 'text') tally.text += b.source.data + '\n';
      else if (b.source?.type === 'base64') tally.fixed += PDF_PAGE_TOKENS * pdfPages(b.source.data);
      else tally.fixed += PDF_PAGE_TOKENS;
      return;
    case 'tool_use':
      tally.text += `${b.name} ${JSON.stringify(b.input ?? {})}\n`;
      return;
    case 'tool_result':
      if (typeof b.content === 'string') tally.text += b.content + '\n';
      else for (const inner of b.content ?? []) block(inner, tally);
      return;
    case 'thinking':
      tally.text += b.thinking + '\n';
      return;
    case 'redacted_thinking':
      return;
  }
}

function content(value: string | readonly ContentBlock[] | undefined, tally: Tally): void {
  if (typeof value === 'string') tally.text += value + '\n';
  else if (Array.isArray(value)) for (const b of value as readonly ContentBlock[]) block(b, tally);
}

/** Estimated input tokens of a Messages request (the count_tokens body: model, messages, system, tools…). */
export function countTokens(body: JsonObject): { input_tokens: number } {
  if (!Array.isArray(body.messages)) throw invalid('messages must be an array', 'messages');
  const tally: Tally = { text: '', fixed: 0 };
  content(body.system as string | ContentBlock[] | undefined, tally);
  const messages = body.messages as MessageParam[];
  for (const message of messages) content(message?.content, tally);
  const tools = Array.isArray(body.tools) ? (body.tools as ToolDefinition[]) : [];
  for (const tool of tools) {
    tally.text += `${tool.name} ${tool.description ?? ''} ${JSON.stringify(tool.input_schema ?? {})}\n`;
  }
  const { text } = tally;
  const counted =
    text.length <= MAX_CHARS
      ? bpeCount(text)
      : (bpeCount(text.slice(0, MAX_CHARS)) * text.length) / MAX_CHARS;
  const overhead = messages.length * PER_MESSAGE + (tools.length > 0 ? TOOLS_PROMPT : 0);
  return { input_tokens: Math.max(1, Math.ceil(counted * TEXT_FACTOR) + tally.fixed + overhead) };
}
