import { SSE_DONE } from '../core/sse.ts';
import { usageToOpenAI, type Usage } from '../core/usage.ts';
import { completionId, type FinishReason } from './openai-chat-response.ts';

// The hot path of Anthropic → chat streaming. Most frames are content_block_delta events carrying one
// JSON string (text, thinking or partial tool input). `scanDelta` recognises Anthropic's compact layout,
//   data: {"type":"content_block_delta","index":N,"delta":{"type":"text_delta","text":"…"}}
// and returns the string's JSON literal as sent, which `ChunkFrames` copies into the client frame: no
// JSON.parse, no re-serialisation (STYLE.md rule 18). Anything else — another key order, extra fields —
// returns null and takes the parsing path. Matching `"delta":{"type":` is safe inside the frame because a
// quote inside a JSON string is always escaped.

export type RawKind = 'text' | 'thinking' | 'json';

export interface RawDelta {
  readonly kind: RawKind;
  /** The Anthropic content block index. */
  readonly index: number;
  /** The delta's string value as a JSON literal, quotes included. */
  readonly literal: string;
}

const DATA = Buffer.from('data: {"type":"content_block_delta","index":');
const DELTA = Buffer.from(',"delta":{"type":"');
const KINDS: readonly (readonly [Buffer, RawKind])[] = [
  [Buffer.from('text_delta","text":"'), 'text'],
  [Buffer.from('input_json_delta","partial_json":"'), 'json'],
  [Buffer.from('thinking_delta","thinking":"'), 'thinking'],
];
const LF = 10;
const CR = 13;
const QUOTE = 34;
const BRACE = 125;

function at(buf: Buffer, pos: number, end: number, what: Buffer): boolean {
  return pos + what.length <= end && buf.compare(what, 0, what.length, pos, pos + what.length) === 0;
}

/** The raw string delta in the frame buf[start, end), or null when the frame is anything else. */
export function scanDelta(buf: Buffer, start: number, end: number): RawDelta | null {
  let i = buf.indexOf(DATA, start);
  if (i === -1 || i >= end || (i !== start && buf[i - 1] !== LF)) return null;
  i += DATA.length;
  let index = 0;
  const digits = i;
  for (let c = buf[i]; i < end && c !== undefined && c >= 48 && c <= 57; c = buf[++i])
    index = index * 10 + c - 48;
  if (i === digits || !at(buf, i, end, DELTA)) return null;
  i += DELTA.length;
  for (const [mark, kind] of KINDS) {
    if (!at(buf, i, end, mark)) continue;
    const literal = i + mark.length - 1;
    let line = buf.indexOf(LF, literal);
    if (line === -1 || line > end) line = end;
    for (let k = line; k < end; k++) if (buf[k] !== LF && buf[k] !== CR) return null; // the frame's last line
    if (buf[line - 1] === CR) line--;
    if (line - literal < 4 || buf[line - 1] !== BRACE || buf[line - 2] !== BRACE || buf[line - 3] !== QUOTE)
      return null;
    return { kind, index, literal: buf.toString('utf8', literal, line - 2) };
  }
  return null;
}

/** chat.completion.chunk frames for one stream (choice 0): one id, one created time, one model. */
export class ChunkFrames {
  private readonly head: string;
  private readonly choiceHead: string;
  private roleSent = false;

  constructor(model: string) {
    const created = Math.floor(Date.now() / 1000);
    this.head = `data: {"id":"${completionId()}","object":"chat.completion.chunk","created":${created},"model":${JSON.stringify(model)}`;
    this.choiceHead = `${this.head},"choices":[{"index":0,"delta":`;
  }

  /** A frame for a serialised delta object; the first one also carries the assistant role. */
  delta(json: string, finish: FinishReason | null = null): string {
    let delta = json;
    if (!this.roleSent) {
      this.roleSent = true;
      delta = json === '{}' ? '{"role":"assistant"}' : `{"role":"assistant",${json.slice(1)}`;
    }
    const reason = finish === null ? 'null' : `"${finish}"`;
    return `${this.choiceHead}${delta},"logprobs":null,"finish_reason":${reason}}]}\n\n`;
  }

  /** The closing frames: the usage chunk (choices: []) when the client asked for it, then [DONE]. */
  close(usage: Usage | null, clientWantsUsage: boolean): string {
    if (!clientWantsUsage || usage === null) return SSE_DONE;
    return `${this.head},"choices":[],"usage":${JSON.stringify(usageToOpenAI(usage))}}\n\n${SSE_DONE}`;
  }
}
