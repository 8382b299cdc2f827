import type { JsonObject, RequestContext } from '../contracts/request.ts';
import { bucketOf, HIST_BUCKETS } from './live-histogram.ts';
import { SeriesTable, type SeriesRow } from './live-series.ts';
import {
  endpointsOf,
  seriesOf,
  summaryOf,
  topSubjects,
  type LiveCandidate,
  type LiveDecision,
  type LiveSnapshot,
} from './live-snapshot.ts';
import { LiveWindow } from './live-window.ts';

// The live dashboard's in-process aggregator. `observe` runs once per finished request, after the
// metrics: it bumps counters in the current one-second slot of a ring (per model, key, team and
// endpoint) and overwrites the oldest of a fixed set of decision records, allocating nothing once the
// names are known. `snapshot` turns the ring into plain JSON for GET /admin/dashboard. Memory is bounded
// by the options: about 115 KB per model (two latency histograms per second) and 15 KB per other name.

export interface LiveStatsOptions {
  /** Seconds kept in the ring (default 300). */
  readonly seconds?: number;
  /** Models tracked apart (default 32); more are counted as "(other)". */
  readonly maxModels?: number;
  /** Keys, teams and endpoints tracked apart (default 256 each). */
  readonly maxSubjects?: number;
  /** Keys and teams listed by name in a snapshot (default 10), the rest as "(other)". */
  readonly topK?: number;
  /** Routing decisions kept (default 50). */
  readonly decisions?: number;
  /** Endpoint-pick explanations wanted per second while a dashboard is open (default 5). */
  readonly explainPerSecond?: number;
  /** ms since epoch (tests pass a fake clock). */
  readonly clock?: () => number;
}

export interface SnapshotOptions {
  /** Window of the series in seconds (≤ the ring; default the whole ring). */
  readonly seconds?: number;
  /** Seconds per series point (default 2). */
  readonly step?: number;
}

/** Requests without an identity, or whose identity has no team. */
export const NONE = '(none)';
const UNKNOWN_MODEL = '(unknown)';
const RECENT_SECONDS = 60;
const RATE_SECONDS = 10;
/** A dashboard that has not asked for a snapshot for this long is considered closed. */
const DASHBOARD_IDLE_MS = 30_000;

/** One preallocated, overwritten slot of the decision ring: copies, so no request body is kept alive. */
interface DecisionRecord {
  at: number;
  id: string;
  model: string;
  route: string;
  target: string | null;
  provider: string | null;
  endpoint: string | null;
  status: number;
  outcome: string;
  error: string | null;
  latencyMs: number;
  ttftMs: number | null;
  input: number;
  output: number;
  cost: number | null;
  key: string | null;
  priority: string;
  attempts: number;
  explain: JsonObject | null;
}

function emptyRecord(): DecisionRecord {
  return {
    at: 0,
    id: '',
    model: '',
    route: '',
    target: null,
    provider: null,
    endpoint: null,
    status: 0,
    outcome: '',
    error: null,
    latencyMs: 0,
    ttftMs: null,
    input: 0,
    output: 0,
    cost: null,
    key: null,
    priority: '',
    attempts: 0,
    explain: null,
  };
}

/** What one request adds to each of its rows (reused by every observe). */
interface Counts {
  failed: number;
  rejected: number;
  input: number;
  output: number;
  cost: number;
}

function bump(row: SeriesRow, slot: number, c: Counts): void {
  row.requests[slot]! += 1;
  row.errors[slot]! += c.failed;
  row.rejected[slot]! += c.rejected;
  row.inputTokens[slot]! += c.input;
  row.outputTokens[slot]! += c.output;
  row.costUsd[slot]! += c.cost;
}

export class LiveStats {
  readonly seconds: number;
  private readonly clock: () => number;
  private readonly slotSec: Float64Array;
  private current = -Infinity;
  private readonly models: SeriesTable;
  private readonly keys: SeriesTable;
  private readonly teams: SeriesTable;
  private readonly endpoints: SeriesTable;
  private readonly topK: number;
  private readonly ring: DecisionRecord[];
  private next = 0;
  private filled = 0;
  private readonly counts: Counts = { failed: 0, rejected: 0, input: 0, output: 0, cost: 0 };
  private observed = 0;
  private readonly explainPerSecond: number;
  private lastReadAt = -Infinity;
  private explainSec = -1;
  private explainCount = 0;

  constructor(options: LiveStatsOptions = {}) {
    this.seconds = Math.max(10, Math.floor(options.seconds ?? 300));
    this.clock = options.clock ?? Date.now;
    this.slotSec = new Float64Array(this.seconds).fill(-1);
    const subjects = options.maxSubjects ?? 256;
    this.models = new SeriesTable(this.seconds, options.maxModels ?? 32, true);
    this.keys = new SeriesTable(this.seconds, subjects, false);
    this.teams = new SeriesTable(this.seconds, subjects, false);
    this.endpoints = new SeriesTable(this.seconds, subjects, false);
    this.topK = options.topK ?? 10;
    this.ring = Array.from({ length: Math.max(1, options.decisions ?? 50) }, emptyRecord);
    this.explainPerSecond = options.explainPerSecond ?? 5;
  }

  /** Record a finished request, whatever its outcome. Copies what it needs: `ctx` is not kept. */
  observe(ctx: RequestContext): void {
    this.observed++;
    const sec = this.advance();
    const slot = sec % this.seconds;
    const model = ctx.model === '' ? UNKNOWN_MODEL : ctx.model;
    const c = this.counts;
    const failed = ctx.status >= 500 || ctx.outcome === 'cut';
    c.failed = failed ? 1 : 0;
    c.rejected = !failed && ctx.status >= 400 ? 1 : 0;
    c.input = ctx.usage.inputTokens;
    c.output = ctx.usage.outputTokens;
    c.cost = ctx.costUsd ?? 0;
    const id = ctx.identity;
    const m = this.models.row(model, sec);
    bump(m, slot, c);
    bump(this.keys.row(id === null ? NONE : id.id, sec), slot, c);
    bump(this.teams.row(id?.team ?? NONE, sec), slot, c);
    m.latency![slot * HIST_BUCKETS + bucketOf(ctx.durationMs)]! += 1;
    if (ctx.stream && ctx.ttftMs !== null) m.ttft![slot * HIST_BUCKETS + bucketOf(ctx.ttftMs)]! += 1;
    if (ctx.endpoint !== null) {
      const e = this.endpoints.row(ctx.endpoint, sec);
      e.group = ctx.provider;
      e.requests[slot]! += 1;
      e.errors[slot]! += c.failed;
    }
    this.record(ctx, model);
  }

  private record(ctx: RequestContext, model: string): void {
    const d = this.ring[this.next]!;
    this.next = (this.next + 1) % this.ring.length;
    this.filled = Math.min(this.filled + 1, this.ring.length);
    d.at = ctx.receivedAt;
    d.id = ctx.id;
    d.model = model;
    d.route = ctx.route;
    d.target = ctx.target;
    d.provider = ctx.provider;
    d.endpoint = ctx.endpoint;
    d.status = ctx.status;
    d.outcome = ctx.outcome;
    d.error = ctx.errorCode;
    d.latencyMs = ctx.durationMs;
    d.ttftMs = ctx.ttftMs;
    d.input = ctx.usage.inputTokens;
    d.output = ctx.usage.outputTokens;
    d.cost = ctx.costUsd;
    d.key = ctx.identity?.id ?? null;
    d.priority = ctx.priority;
    d.attempts = ctx.attempts;
    d.explain = ctx.explain;
  }

  /**
   * Whether the request about to be scheduled should carry an endpoint-pick explanation, so the
   * dashboard can show scores: true at most `explainPerSecond` times a second, and only while a
   * dashboard has read a snapshot in the last 30 s.
   */
  wantsExplain(): boolean {
    const now = this.clock();
    if (now - this.lastReadAt > DASHBOARD_IDLE_MS) return false;
    const sec = Math.floor(now / 1000);
    if (sec !== this.explainSec) {
      this.explainSec = sec;
      this.explainCount = 0;
    }
    return this.explainCount++ < this.explainPerSecond;
  }

  snapshot(options: SnapshotOptions = {}): LiveSnapshot {
    const now = this.clock();
    this.lastReadAt = now;
    const step = Math.max(1, Math.floor(options.step ?? 2));
    const wanted = Math.min(this.seconds - step, Math.floor(options.seconds ?? this.seconds));
    const seconds = Math.max(step, Math.floor(wanted / step) * step);
    // Series end on a multiple of `step` (minus one) so points keep their seconds between snapshots;
    // summaries run to the last complete second.
    const last = Math.floor(now / 1000) - 1;
    const end = last - ((last + 1) % step);
    const w = new LiveWindow(this.slotSec, {
      first: end - seconds + 1,
      length: seconds + (last - end),
      step,
      seriesLength: seconds,
    });
    const spans = { recent: Math.min(RECENT_SECONDS, seconds), rate: Math.min(RATE_SECONDS, seconds) };
    const models = this.models.rows.filter((r) => w.sum(r.requests) > 0);
    return {
      now,
      end,
      last,
      seconds,
      step,
      recent_seconds: spans.recent,
      rate_seconds: spans.rate,
      observed: this.observed,
      totals: summaryOf(w, models, spans),
      series: seriesOf(w, models),
      models: models.map((r) => ({
        name: r.name,
        summary: summaryOf(w, [r], spans),
        series: seriesOf(w, [r]),
      })),
      keys: topSubjects(w, this.keys.rows, this.topK),
      teams: topSubjects(w, this.teams.rows, this.topK),
      endpoints: endpointsOf(w, this.endpoints.rows, spans),
      decisions: this.decisions(),
    };
  }

  /** The current second, its ring slot zeroed for every table when the ring first moves onto it. */
  private advance(): number {
    let sec = Math.floor(this.clock() / 1000);
    if (sec < this.current) sec = this.current; // the wall clock stepped back: keep the newest second
    const slot = sec % this.seconds;
    if (this.slotSec[slot] !== sec) {
      for (const t of [this.models, this.keys, this.teams, this.endpoints]) t.clearSlot(slot);
      this.slotSec[slot] = sec;
    }
    this.current = sec;
    return sec;
  }

  private decisions(): LiveDecision[] {
    const out: LiveDecision[] = [];
    const n = this.ring.length;
    for (let i = 1; i <= this.filled; i++) out.push(decisionOf(this.ring[(this.next - i + n) % n]!));
    return out;
  }
}

function decisionOf(d: DecisionRecord): LiveDecision {
  return {
    at: d.at,
    id: d.id,
    model: d.model,
    route: d.route,
    target: d.target,
    provider: d.provider,
    endpoint: d.endpoint,
    status: d.status,
    outcome: d.outcome,
    error: d.error,
    latency_ms: Math.round(d.latencyMs * 10) / 10,
    ttft_ms: d.ttftMs === null ? null : Math.round(d.ttftMs * 10) / 10,
    input_tokens: d.input,
    output_tokens: d.output,
    cost_usd: d.cost,
    key: d.key,
    priority: d.priority,
    attempts: d.attempts,
    pick: d.explain === null ? null : pickOf(d.explain),
  };
}

const MAX_CANDIDATES = 16;
const str = (v: unknown): string | null => (typeof v === 'string' ? v : null);

/** The parts of an endpoint-pick explanation the dashboard shows (explain is free-form JSON). */
function pickOf(explain: JsonObject): LiveDecision['pick'] {
  const candidates: LiveCandidate[] = [];
  const raw = Array.isArray(explain.candidates) ? (explain.candidates as unknown[]) : [];
  for (const c of raw.slice(0, MAX_CANDIDATES)) {
    if (typeof c !== 'object' || c === null) continue;
    const { endpoint, total, scores } = c as { endpoint?: unknown; total?: unknown; scores?: unknown };
    candidates.push({
      endpoint: str(endpoint) ?? '?',
      total: typeof total === 'number' ? total : null,
      scores: typeof scores === 'object' && scores !== null ? { ...(scores as Record<string, number>) } : {},
    });
  }
  return { pool: str(explain.pool), chosen: str(explain.chosen), reason: str(explain.reason), candidates };
}
