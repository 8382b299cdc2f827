import type { Percentiles } from './live-histogram.ts';
import { OTHER, type SeriesRow } from './live-series.ts';
import { addInto, type LiveWindow } from './live-window.ts';

// The dashboard's JSON (GET /admin/dashboard → `live`) and how it is built from the series tables.
// Series are aligned on `end`: point k covers seconds [end - seconds + 1 + k*step, … + step - 1], each value
// a sum over its seconds (divide by `step` for a per-second rate); `end` is a multiple of `step` minus one
// so a point keeps its seconds from one snapshot to the next. Summaries cover the `recent_seconds` and
// `rps` the `rate_seconds` up to the last complete second (which may be after `end`). The current,
// unfinished second is never included.

export interface LiveSummary {
  readonly requests: number;
  readonly errors: number;
  readonly rejected: number;
  readonly rps: number;
  /** errors / requests over the recent window (0 without requests). */
  readonly error_rate: number;
  readonly input_tokens: number;
  readonly output_tokens: number;
  readonly cost_usd: number;
  readonly latency_ms: Percentiles;
  /** Streams only. */
  readonly ttft_ms: Percentiles;
}

export interface LiveSeries {
  readonly requests: number[];
  readonly errors: number[];
  readonly rejected: number[];
  readonly input_tokens: number[];
  readonly output_tokens: number[];
  readonly cost_usd: number[];
  readonly latency_p50_ms: (number | null)[];
  readonly latency_p95_ms: (number | null)[];
  readonly latency_p99_ms: (number | null)[];
  readonly ttft_p95_ms: (number | null)[];
}

export interface ModelLive {
  readonly name: string;
  readonly summary: LiveSummary;
  readonly series: LiveSeries;
}

/** A key or team: totals over the whole window and its token and cost series. */
export interface SubjectLive {
  readonly name: string;
  readonly requests: number;
  readonly errors: number;
  readonly input_tokens: number;
  readonly output_tokens: number;
  readonly cost_usd: number;
  readonly series: { readonly tokens: number[]; readonly cost_usd: number[] };
}

export interface EndpointLive {
  readonly endpoint: string;
  /** The provider (pool) that last sent traffic there. */
  readonly pool: string | null;
  /** Over the recent window. */
  readonly requests: number;
  readonly errors: number;
  /** requests / all requests to the same pool over the recent window. */
  readonly share: number;
}

export interface LiveCandidate {
  readonly endpoint: string;
  readonly total: number | null;
  readonly scores: Record<string, number>;
}

export interface LiveDecision {
  /** Arrival, ms since epoch. */
  readonly at: number;
  readonly id: string;
  readonly model: string;
  readonly route: string;
  readonly target: string | null;
  readonly provider: string | null;
  readonly endpoint: string | null;
  readonly status: number;
  readonly outcome: string;
  readonly error: string | null;
  readonly latency_ms: number;
  readonly ttft_ms: number | null;
  readonly input_tokens: number;
  readonly output_tokens: number;
  readonly cost_usd: number | null;
  readonly key: string | null;
  readonly priority: string;
  readonly attempts: number;
  /** From the endpoint picker's explanation, when the request had one. */
  readonly pick: {
    readonly pool: string | null;
    readonly chosen: string | null;
    readonly reason: string | null;
    readonly candidates: readonly LiveCandidate[];
  } | null;
}

export interface LiveSnapshot {
  readonly now: number;
  /** Epoch second of the last series point's last second. */
  readonly end: number;
  /** Epoch second of the last complete second (the end of the summaries); end ≤ last < end + step. */
  readonly last: number;
  readonly seconds: number;
  readonly step: number;
  readonly recent_seconds: number;
  readonly rate_seconds: number;
  /** Requests observed since the process started. */
  readonly observed: number;
  readonly totals: LiveSummary;
  readonly series: LiveSeries;
  readonly models: ModelLive[];
  readonly keys: SubjectLive[];
  readonly teams: SubjectLive[];
  readonly endpoints: EndpointLive[];
  /** Newest first. */
  readonly decisions: LiveDecision[];
}

export interface WindowSpans {
  readonly recent: number;
  readonly rate: number;
}

const COST_DIGITS = 9;
const round = (v: number, digits: number): number => Math.round(v * 10 ** digits) / 10 ** digits;

function hists(rows: readonly SeriesRow[], pick: 'latency' | 'ttft'): Uint32Array[] {
  const out: Uint32Array[] = [];
  for (const r of rows) {
    const h = r[pick];
    if (h !== null) out.push(h);
  }
  return out;
}

function sumRows(w: LiveWindow, rows: readonly SeriesRow[], pick: (r: SeriesRow) => Float64Array, from = 0) {
  let total = 0;
  for (const r of rows) total += w.sum(pick(r), from);
  return total;
}

export function summaryOf(w: LiveWindow, rows: readonly SeriesRow[], spans: WindowSpans): LiveSummary {
  const from = w.length - spans.recent;
  const requests = sumRows(w, rows, (r) => r.requests, from);
  const errors = sumRows(w, rows, (r) => r.errors, from);
  return {
    requests,
    errors,
    rejected: sumRows(w, rows, (r) => r.rejected, from),
    rps: round(sumRows(w, rows, (r) => r.requests, w.length - spans.rate) / spans.rate, 3),
    error_rate: requests === 0 ? 0 : round(errors / requests, 4),
    input_tokens: sumRows(w, rows, (r) => r.inputTokens, from),
    output_tokens: sumRows(w, rows, (r) => r.outputTokens, from),
    cost_usd: round(
      sumRows(w, rows, (r) => r.costUsd, from),
      COST_DIGITS,
    ),
    latency_ms: w.percentiles(hists(rows, 'latency'), from),
    ttft_ms: w.percentiles(hists(rows, 'ttft'), from),
  };
}

export function seriesOf(w: LiveWindow, rows: readonly SeriesRow[]): LiveSeries {
  const sum = (pick: (r: SeriesRow) => Float64Array, digits = 0): number[] => {
    const out = new Array<number>(Math.ceil(w.seriesLength / w.step)).fill(0);
    for (const r of rows) addInto(out, w.series(pick(r)));
    return digits === 0 ? out : out.map((v) => round(v, digits));
  };
  const latency = hists(rows, 'latency');
  return {
    requests: sum((r) => r.requests),
    errors: sum((r) => r.errors),
    rejected: sum((r) => r.rejected),
    input_tokens: sum((r) => r.inputTokens),
    output_tokens: sum((r) => r.outputTokens),
    cost_usd: sum((r) => r.costUsd, COST_DIGITS),
    latency_p50_ms: w.quantileSeries(latency, 0.5),
    latency_p95_ms: w.quantileSeries(latency, 0.95),
    latency_p99_ms: w.quantileSeries(latency, 0.99),
    ttft_p95_ms: w.quantileSeries(hists(rows, 'ttft'), 0.95),
  };
}

/** Rows with traffic in the window, the top `k` by tokens (then requests), the rest merged as "(other)". */
export function topSubjects(w: LiveWindow, rows: readonly SeriesRow[], k: number): SubjectLive[] {
  const all: SubjectLive[] = [];
  for (const r of rows) {
    const requests = w.sum(r.requests);
    if (requests === 0) continue;
    const input = w.sum(r.inputTokens);
    const output = w.sum(r.outputTokens);
    const tokens = w.series(r.inputTokens);
    addInto(tokens, w.series(r.outputTokens));
    all.push({
      name: r.name,
      requests,
      errors: w.sum(r.errors),
      input_tokens: input,
      output_tokens: output,
      cost_usd: round(w.sum(r.costUsd), COST_DIGITS),
      series: { tokens, cost_usd: w.series(r.costUsd, COST_DIGITS) },
    });
  }
  all.sort(
    (a, b) =>
      (a.name === OTHER ? 1 : 0) - (b.name === OTHER ? 1 : 0) ||
      b.input_tokens + b.output_tokens - (a.input_tokens + a.output_tokens) ||
      b.requests - a.requests,
  );
  if (all.length <= k && all.every((s) => s.name !== OTHER)) return all;
  const top = all.filter((s) => s.name !== OTHER).slice(0, k);
  const rest = all.filter((s) => !top.includes(s));
  if (rest.length === 0) return top;
  const first = rest[0]!;
  const other = {
    name: OTHER,
    requests: 0,
    errors: 0,
    input_tokens: 0,
    output_tokens: 0,
    cost_usd: 0,
    series: { tokens: first.series.tokens.map(() => 0), cost_usd: first.series.cost_usd.map(() => 0) },
  };
  for (const s of rest) {
    other.requests += s.requests;
    other.errors += s.errors;
    other.input_tokens += s.input_tokens;
    other.output_tokens += s.output_tokens;
    other.cost_usd = round(other.cost_usd + s.cost_usd, COST_DIGITS);
    addInto(other.series.tokens, s.series.tokens);
    addInto(other.series.cost_usd, s.series.cost_usd);
  }
  return [...top, other];
}

export function endpointsOf(w: LiveWindow, rows: readonly SeriesRow[], spans: WindowSpans): EndpointLive[] {
  const from = w.length - spans.recent;
  const perPool = new Map<string | null, number>();
  const out: { endpoint: string; pool: string | null; requests: number; errors: number; share: number }[] =
    [];
  for (const r of rows) {
    const requests = w.sum(r.requests, from);
    if (requests === 0) continue;
    perPool.set(r.group, (perPool.get(r.group) ?? 0) + requests);
    out.push({ endpoint: r.name, pool: r.group, requests, errors: w.sum(r.errors, from), share: 0 });
  }
  for (const e of out) e.share = round(e.requests / (perPool.get(e.pool) ?? e.requests), 4);
  return out;
}
