import { HIST_BUCKETS } from './live-histogram.ts';

// Per-second series for a bounded set of names (models, keys, teams, endpoints), stored in a ring of
// `seconds` slots. Every row owns preallocated typed arrays, so recording a request is a handful of
// indexed additions with no allocation; a slot is zeroed for every row when the ring moves onto it.
// At most `cap` names are tracked: a name seen when the table is full takes over a row that has been idle
// for the whole ring, or else is counted under OTHER.

export const OTHER = '(other)';

export class SeriesRow {
  name: string;
  /** The last second (since epoch) this row was written: rows idle for a whole ring can be reused. */
  lastSec = -Infinity;
  /** Free-form owner of the row (the pool of an endpoint); last value written wins. */
  group: string | null = null;
  readonly requests: Float64Array;
  /** Server-side failures: status ≥ 500, or a stream cut after its first byte. */
  readonly errors: Float64Array;
  /** Refused or failed because of the request: status 400–499 (429 included, 499 = client went away). */
  readonly rejected: Float64Array;
  readonly inputTokens: Float64Array;
  readonly outputTokens: Float64Array;
  readonly costUsd: Float64Array;
  /** HIST_BUCKETS counts per slot, or null for tables kept without latency. */
  readonly latency: Uint32Array | null;
  readonly ttft: Uint32Array | null;

  constructor(name: string, seconds: number, histograms: boolean) {
    this.name = name;
    this.requests = new Float64Array(seconds);
    this.errors = new Float64Array(seconds);
    this.rejected = new Float64Array(seconds);
    this.inputTokens = new Float64Array(seconds);
    this.outputTokens = new Float64Array(seconds);
    this.costUsd = new Float64Array(seconds);
    this.latency = histograms ? new Uint32Array(seconds * HIST_BUCKETS) : null;
    this.ttft = histograms ? new Uint32Array(seconds * HIST_BUCKETS) : null;
  }

  clearSlot(slot: number): void {
    this.requests[slot] = 0;
    this.errors[slot] = 0;
    this.rejected[slot] = 0;
    this.inputTokens[slot] = 0;
    this.outputTokens[slot] = 0;
    this.costUsd[slot] = 0;
    const start = slot * HIST_BUCKETS;
    this.latency?.fill(0, start, start + HIST_BUCKETS);
    this.ttft?.fill(0, start, start + HIST_BUCKETS);
  }

  clearAll(): void {
    for (const a of [this.requests, this.errors, this.rejected, this.inputTokens, this.outputTokens])
      a.fill(0);
    this.costUsd.fill(0);
    this.latency?.fill(0);
    this.ttft?.fill(0);
    this.group = null;
  }
}

export class SeriesTable {
  private readonly byName = new Map<string, SeriesRow>();
  private readonly list: SeriesRow[] = [];
  private other: SeriesRow | null = null;
  /** No row can be reused before this second (saves a scan per request once the table is full). */
  private reuseAt = -Infinity;

  private readonly seconds: number;
  private readonly cap: number;
  private readonly histograms: boolean;

  constructor(seconds: number, cap: number, histograms: boolean) {
    this.seconds = seconds;
    this.cap = cap;
    this.histograms = histograms;
  }

  /** Every row, the overflow row last when it exists. */
  get rows(): readonly SeriesRow[] {
    return this.list;
  }

  /** The row to record `name` in at second `sec`. */
  row(name: string, sec: number): SeriesRow {
    let row = this.byName.get(name);
    if (row === undefined) row = this.admit(name, sec);
    row.lastSec = sec;
    return row;
  }

  clearSlot(slot: number): void {
    for (const row of this.list) row.clearSlot(slot);
  }

  private admit(name: string, sec: number): SeriesRow {
    if (this.byName.size < this.cap) {
      const row = new SeriesRow(name, this.seconds, this.histograms);
      this.byName.set(name, row);
      // Keep the overflow row last.
      if (this.other === null) this.list.push(row);
      else this.list.splice(this.list.length - 1, 0, row);
      return row;
    }
    if (sec >= this.reuseAt) {
      let oldest = Infinity;
      for (const row of this.byName.values()) {
        if (row.lastSec > sec - this.seconds) {
          if (row.lastSec < oldest) oldest = row.lastSec;
          continue;
        }
        this.byName.delete(row.name);
        row.clearAll();
        row.name = name;
        this.byName.set(name, row);
        return row;
      }
      this.reuseAt = oldest + this.seconds;
    }
    if (this.other === null) {
      this.other = new SeriesRow(OTHER, this.seconds, this.histograms);
      this.list.push(this.other);
    }
    return this.other;
  }
}
