// A small parser for the Prometheus text exposition format (0.0.4), reading only what the picker needs:
// metric name, labels and value of the samples whose names are wanted. Comments (# HELP, # TYPE) and
// every other metric are skipped after reading the name, so a large vLLM page (histograms included)
// costs one pass with no allocation for the lines it ignores. Timestamps are ignored.

export interface Sample {
  readonly name: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly value: number;
}

const NO_LABELS: Readonly<Record<string, string>> = Object.freeze({});

const SPACE = 32;
const TAB = 9;
const HASH = 35;
const OPEN = 123;
const CLOSE = 125;
const QUOTE = 34;
const BACKSLASH = 92;
const COMMA = 44;
const CR = 13;

function skipBlanks(text: string, i: number, end: number): number {
  while (i < end) {
    const c = text.charCodeAt(i);
    if (c !== SPACE && c !== TAB) break;
    i++;
  }
  return i;
}

function parseValue(token: string): number {
  switch (token) {
    case '+Inf':
    case 'Inf':
      return Infinity;
    case '-Inf':
      return -Infinity;
    default:
      return Number(token);
  }
}

/** Parse `{k="v",…}` starting at `i` (the `{`); returns the index after `}` or -1 when malformed. */
function parseLabels(text: string, i: number, end: number, out: Record<string, string>): number {
  i++;
  for (;;) {
    i = skipBlanks(text, i, end);
    if (i >= end) return -1;
    if (text.charCodeAt(i) === CLOSE) return i + 1;
    const eq = text.indexOf('=', i);
    if (eq === -1 || eq >= end) return -1;
    const key = text.slice(i, eq).trim();
    i = skipBlanks(text, eq + 1, end);
    if (text.charCodeAt(i) !== QUOTE) return -1;
    let value = '';
    let from = ++i;
    for (; i < end; i++) {
      const c = text.charCodeAt(i);
      if (c === QUOTE) break;
      if (c === BACKSLASH) {
        value += text.slice(from, i);
        const next = text.charAt(i + 1);
        value += next === 'n' ? '\n' : next;
        from = ++i + 1;
      }
    }
    if (i >= end) return -1;
    out[key] = value + text.slice(from, i);
    i = skipBlanks(text, i + 1, end);
    if (text.charCodeAt(i) === COMMA) i++;
    else if (text.charCodeAt(i) !== CLOSE) return -1;
  }
}

/**
 * The samples of `text` whose metric name is in `wanted`, in page order. Malformed lines are skipped
 * (a scrape must not fail on one odd line from a newer engine version).
 */
export function parsePrometheusText(text: string, wanted: ReadonlySet<string>): Sample[] {
  const out: Sample[] = [];
  const len = text.length;
  let start = 0;
  while (start < len) {
    let end = text.indexOf('\n', start);
    if (end === -1) end = len;
    const lineEnd = end > start && text.charCodeAt(end - 1) === CR ? end - 1 : end;
    const i = skipBlanks(text, start, lineEnd);
    start = end + 1;
    if (i >= lineEnd || text.charCodeAt(i) === HASH) continue;
    let j = i;
    while (j < lineEnd) {
      const c = text.charCodeAt(j);
      if (c === OPEN || c === SPACE || c === TAB) break;
      j++;
    }
    const name = text.slice(i, j);
    if (!wanted.has(name)) continue;
    let labels = NO_LABELS;
    if (text.charCodeAt(j) === OPEN) {
      const parsed: Record<string, string> = {};
      j = parseLabels(text, j, lineEnd, parsed);
      if (j === -1) continue;
      labels = parsed;
    }
    j = skipBlanks(text, j, lineEnd);
    let k = j;
    while (k < lineEnd && text.charCodeAt(k) !== SPACE && text.charCodeAt(k) !== TAB) k++;
    if (k === j) continue;
    const value = parseValue(text.slice(j, k));
    if (Number.isNaN(value) && text.slice(j, k) !== 'NaN') continue;
    out.push({ name, labels, value });
  }
  return out;
}
