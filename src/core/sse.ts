// Server-sent events framing over raw bytes. The framer carries an incomplete tail across reads and only
// scans the bytes that arrived since the last boundary, so a stream is never re-split from the start.
// Frames end with a blank line: "\n\n" or "\r\n\r\n" (WHATWG SSE also allows "\r\r", which no LLM server
// emits; it is not treated as a boundary here).

const LF_LF = Buffer.from('\n\n');
const LF_CR_LF = Buffer.from('\n\r\n');

/** End offset (exclusive) of the last frame boundary in buf at or after `from`, or -1. */
export function lastBoundaryEnd(buf: Buffer, from = 0): number {
  const view = from === 0 ? buf : buf.subarray(from);
  const a = view.lastIndexOf(LF_LF);
  const b = view.lastIndexOf(LF_CR_LF);
  const endA = a === -1 ? -1 : from + a + 2;
  const endB = b === -1 ? -1 : from + b + 3;
  return endA > endB ? endA : endB;
}

/** End offset (exclusive) of the first frame boundary at or after `from`, or -1. */
export function nextBoundaryEnd(buf: Buffer, from: number): number {
  const a = buf.indexOf(LF_LF, from);
  const b = buf.indexOf(LF_CR_LF, from);
  if (a === -1) return b === -1 ? -1 : b + 3;
  if (b === -1 || a + 2 <= b + 3) return a + 2;
  return b + 3;
}

/** Start offset of the frame that contains `pos`: just after the previous boundary, or 0. */
export function frameStartBefore(buf: Buffer, pos: number): number {
  const a = pos > 0 ? buf.lastIndexOf(LF_LF, pos - 1) : -1;
  const b = pos > 0 ? buf.lastIndexOf(LF_CR_LF, pos - 1) : -1;
  const endA = a === -1 ? 0 : a + 2;
  const endB = b === -1 ? 0 : b + 3;
  return endA > endB ? endA : endB;
}

/**
 * Splits a byte stream into runs of complete SSE frames. `push` returns every complete frame received so
 * far (possibly several) as one buffer, or null while a frame is still incomplete.
 */
export class SseFramer {
  private tail: Buffer | null = null;

  push(chunk: Buffer): Buffer | null {
    let buf = chunk;
    let from = 0;
    if (this.tail !== null) {
      // A boundary may straddle the old tail and the new chunk: rescan the last 3 bytes of the tail only.
      from = Math.max(0, this.tail.length - 3);
      buf = Buffer.concat([this.tail, chunk]);
    }
    const end = lastBoundaryEnd(buf, from);
    if (end === -1) {
      this.tail = buf;
      return null;
    }
    this.tail = end < buf.length ? buf.subarray(end) : null;
    return end === buf.length ? buf : buf.subarray(0, end);
  }

  /** The unterminated remainder at end of stream, if any. */
  flush(): Buffer | null {
    const rest = this.tail;
    this.tail = null;
    return rest !== null && rest.length > 0 ? rest : null;
  }

  get pending(): number {
    return this.tail === null ? 0 : this.tail.length;
  }
}

export interface SseEvent {
  /** The `event:` field, or undefined for the default "message" event. */
  readonly event: string | undefined;
  /** The `data:` lines joined with "\n". */
  readonly data: string;
}

/** Parse one frame's text (without its blank-line terminator) into an event. Comments are skipped. */
export function parseSseFrame(text: string): SseEvent | null {
  let event: string | undefined;
  let data: string | null = null;
  let start = 0;
  while (start <= text.length) {
    let end = text.indexOf('\n', start);
    if (end === -1) end = text.length;
    let line = text.slice(start, end);
    if (line.endsWith('\r')) line = line.slice(0, -1);
    start = end + 1;
    if (line.length === 0 || line.charCodeAt(0) === 58 /* ':' */) continue;
    const colon = line.indexOf(':');
    const field = colon === -1 ? line : line.slice(0, colon);
    let value = colon === -1 ? '' : line.slice(colon + 1);
    if (value.charCodeAt(0) === 32) value = value.slice(1);
    if (field === 'data') data = data === null ? value : `${data}\n${value}`;
    else if (field === 'event') event = value;
  }
  return data === null && event === undefined ? null : { event, data: data ?? '' };
}

/** Iterate the events in a run of complete frames (as returned by SseFramer.push). */
export function* sseEvents(frames: Buffer): Generator<SseEvent> {
  let start = 0;
  while (start < frames.length) {
    let end = nextBoundaryEnd(frames, start);
    if (end === -1) end = frames.length;
    const event = parseSseFrame(frames.toString('utf8', start, end).trimEnd());
    if (event !== null) yield event;
    start = end;
  }
}

/** Encode one SSE frame. */
export function sseFrame(data: string, event?: string): string {
  return event === undefined ? `data: ${data}\n\n` : `event: ${event}\ndata: ${data}\n\n`;
}

export const SSE_DONE = 'data: [DONE]\n\n';
