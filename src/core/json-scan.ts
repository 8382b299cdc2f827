// Find one object-valued key in serialized JSON without parsing the whole document. Used to read `usage`
// from a response or stream frame that is otherwise passed through untouched.
//
// Why matching `"key"` is safe: inside a JSON string a quote is always escaped, so the bytes `"usage"`
// followed by optional whitespace and `:` can only be a key, never string content.

const QUOTE = 34;
const BACKSLASH = 92;
const OPEN = 123;
const CLOSE = 125;
const COLON = 58;

function skipSpace(buf: Buffer, i: number): number {
  while (i < buf.length) {
    const c = buf[i];
    if (c !== 32 && c !== 9 && c !== 10 && c !== 13) break;
    i++;
  }
  return i;
}

/** End (exclusive) of the object starting at `start` (which must be `{`), or -1 if unterminated. */
function objectEnd(buf: Buffer, start: number): number {
  let depth = 0;
  let inString = false;
  for (let i = start; i < buf.length; i++) {
    const c = buf[i];
    if (inString) {
      if (c === BACKSLASH) i++;
      else if (c === QUOTE) inString = false;
    } else if (c === QUOTE) inString = true;
    else if (c === OPEN) depth++;
    else if (c === CLOSE && --depth === 0) return i + 1;
  }
  return -1;
}

export interface Located {
  /** Offset of the key's opening quote. */
  readonly keyStart: number;
  readonly start: number;
  readonly end: number;
}

/**
 * Locate the last `"key": {…}` in buf[from, to). Returns the object's byte range, or null when the key is
 * absent or its value is not an object (e.g. `"usage":null`).
 */
export function findObjectValue(buf: Buffer, needle: Buffer, from = 0, to = buf.length): Located | null {
  let pos = buf.lastIndexOf(needle, to - needle.length);
  while (pos >= from) {
    let i = skipSpace(buf, pos + needle.length);
    if (buf[i] === COLON) {
      i = skipSpace(buf, i + 1);
      if (buf[i] === OPEN) {
        const end = objectEnd(buf, i);
        return end === -1 || end > to ? null : { keyStart: pos, start: i, end };
      }
    }
    if (pos === 0) break;
    pos = buf.lastIndexOf(needle, pos - 1);
  }
  return null;
}

/** Parse the last `"key": {…}` object in buf, or null. */
export function readObjectValue(buf: Buffer, needle: Buffer): unknown {
  const at = findObjectValue(buf, needle);
  if (at === null) return null;
  try {
    return JSON.parse(buf.toString('utf8', at.start, at.end)) as unknown;
  } catch {
    return null;
  }
}

export function keyNeedle(key: string): Buffer {
  return Buffer.from(`"${key}"`);
}
