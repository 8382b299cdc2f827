import type { ApiKind, JsonObject, PayloadCapture, RequestContext } from '../contracts/request.ts';
import { SseFramer } from '../core/sse.ts';
import type { PayloadLogConfig } from './payload-log-config.ts';
import { promptMessages, responseText, streamDelta, type LoggedMessage } from './payload-text.ts';
import { Redactor } from './redaction.ts';

// Payload logging for one route (its `log_payloads`): built once per Runtime; each request on the route
// gets a capture that watches what is sent to the client and adds `prompt` and/or `response` to the
// access-log line. A stream is observed, never held: the relay writes each chunk to the client first and
// hands the capture the same bytes, which it frames and reads for text until it has enough.
//
// Bounds: each field keeps `max_chars` characters after redaction, then …[truncated]. At most twice that
// is read and redacted (so a secret cut at the read limit cannot show: redaction would have to shrink
// the text by half before the cut reaches the kept part); the rest of a long stream is not parsed at all.

export const TRUNCATED = '…[truncated]';

export class PayloadLog {
  readonly prompts: boolean;
  readonly responses: boolean;
  readonly maxChars: number;
  readonly redactor: Redactor;

  constructor(config: PayloadLogConfig) {
    this.prompts = config.prompts;
    this.responses = config.responses;
    this.maxChars = config.max_chars;
    this.redactor = new Redactor({ builtin: config.redact, patterns: config.patterns });
  }

  /** The capture of one request on this route. */
  begin(api: ApiKind): PayloadCapture {
    return new Capture(this, api);
  }

  /** Redact, then keep `room` characters; `cut` says the raw text was already cut short. */
  bounded(raw: string, room: number, cut: boolean): string {
    const text = this.redactor.redact(raw);
    if (text.length > room) return text.slice(0, room) + TRUNCATED;
    return cut ? text + TRUNCATED : text;
  }

  /** The request's messages, redacted, within `maxChars` in total. */
  prompt(ctx: RequestContext): LoggedMessage[] {
    let room = this.maxChars;
    let readable = 2 * this.maxChars;
    const out: LoggedMessage[] = [];
    for (const m of promptMessages(ctx.api, ctx.body)) {
      if (room <= 0) {
        out.push({ role: m.role, content: TRUNCATED });
        break;
      }
      const cut = m.content.length > readable;
      const content = this.bounded(cut ? m.content.slice(0, readable) : m.content, room, cut);
      readable -= Math.min(readable, m.content.length);
      room -= content.length;
      out.push({ role: m.role, content });
      if (content.endsWith(TRUNCATED)) break;
    }
    return out;
  }
}

class Capture implements PayloadCapture {
  private readonly log: PayloadLog;
  private readonly api: ApiKind;
  /** Text per choice index. */
  private readonly texts: string[] = [];
  private chars = 0;
  /** The read limit was reached: later text is ignored. */
  private full = false;
  private framer: SseFramer | null = null;
  private readonly sink = (index: number, text: string): void => this.append(index, text);

  constructor(log: PayloadLog, api: ApiKind) {
    this.log = log;
    this.api = api;
  }

  chunk(out: string | Buffer): void {
    if (!this.log.responses || this.full) return;
    this.framer ??= new SseFramer();
    const frames = this.framer.push(typeof out === 'string' ? Buffer.from(out) : out);
    if (frames === null) return;
    for (const frame of frames.toString('utf8').split(/\r?\n\r?\n/)) {
      for (const line of frame.split(/\r?\n/)) {
        if (!line.startsWith('data:')) continue;
        const data = line.slice(line.charCodeAt(5) === 32 ? 6 : 5);
        if (data === '[DONE]' || data === '') continue;
        const event = parse(data);
        if (event !== null) streamDelta(this.api, event, this.sink);
        if (this.full) return;
      }
    }
  }

  body(out: string | Buffer): void {
    if (!this.log.responses) return;
    const parsed = parse(typeof out === 'string' ? out : out.toString('utf8'));
    if (parsed !== null) responseText(this.api, parsed, this.sink);
  }

  fields(ctx: RequestContext): JsonObject {
    const fields: JsonObject = {};
    try {
      if (this.log.prompts) fields.prompt = this.log.prompt(ctx);
      if (this.log.responses) fields.response = this.response();
    } catch {
      // A body of an unexpected shape must never cost the request its access-log line.
    }
    return fields;
  }

  private response(): string | null {
    const texts = this.texts;
    if (texts.length === 0) return this.full ? TRUNCATED : null;
    const raw =
      texts.length === 1 ? texts[0]! : Array.from(texts, (t, i) => `[choice ${i}] ${t ?? ''}`).join('\n\n');
    return this.log.bounded(raw, this.log.maxChars, this.full);
  }

  private append(index: number, text: string): void {
    const room = 2 * this.log.maxChars - this.chars;
    if (room <= 0) {
      this.full = true;
      return;
    }
    const kept = text.length > room ? text.slice(0, room) : text;
    if (kept.length < text.length) this.full = true;
    this.texts[index] = (this.texts[index] ?? '') + kept;
    this.chars += kept.length;
  }
}

function parse(text: string): Record<string, unknown> | null {
  try {
    const v: unknown = JSON.parse(text);
    return typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Record<string, unknown>) : null;
  } catch {
    return null;
  }
}
