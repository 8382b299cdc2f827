import { HIST_BUCKETS, mergeInto, percentiles, quantile, type Percentiles } from './live-histogram.ts';

// A read-only view of the ring for one snapshot: which ring slot holds each second of the window (or -1
// when that second saw no request and its slot still holds older data), and the sums, series and
// percentiles the snapshot is built from. Snapshots are read once a second per dashboard, off the hot
// path, so this side favours clarity over allocation.

export class LiveWindow {
  /** Ring slot of each second of the window, oldest first; -1 for a second with no data. */
  readonly slots: Int32Array;
  /** Seconds per series point. */
  readonly step: number;
  /** Series cover the first `seriesLength` seconds; sums and percentiles may reach past them. */
  readonly seriesLength: number;
  private readonly scratch = new Uint32Array(HIST_BUCKETS);

  constructor(
    slotSec: Float64Array,
    view: { first: number; length: number; step: number; seriesLength: number },
  ) {
    const ring = slotSec.length;
    this.step = view.step;
    this.seriesLength = view.seriesLength;
    this.slots = new Int32Array(view.length);
    for (let i = 0; i < view.length; i++) {
      const sec = view.first + i;
      const slot = ((sec % ring) + ring) % ring;
      this.slots[i] = slotSec[slot] === sec ? slot : -1;
    }
  }

  get length(): number {
    return this.slots.length;
  }

  /** Sum of `values` over window seconds [from, to). */
  sum(values: Float64Array, from = 0, to = this.slots.length): number {
    let total = 0;
    for (let i = Math.max(0, from); i < to; i++) {
      const slot = this.slots[i]!;
      if (slot >= 0) total += values[slot]!;
    }
    return total;
  }

  /** One sum per point of `step` seconds. */
  series(values: Float64Array, digits = 0): number[] {
    const out: number[] = [];
    const scale = 10 ** digits;
    for (let from = 0; from < this.seriesLength; from += this.step) {
      const v = this.sum(values, from, from + this.step);
      out.push(digits === 0 ? v : Math.round(v * scale) / scale);
    }
    return out;
  }

  /** Merge the histograms of window seconds [from, to) of every given row into the scratch histogram. */
  private merge(hists: readonly Uint32Array[], from: number, to: number): Uint32Array {
    const h = this.scratch;
    h.fill(0);
    for (let i = Math.max(0, from); i < to; i++) {
      const slot = this.slots[i]!;
      if (slot < 0) continue;
      for (const hist of hists) mergeInto(h, hist, slot * HIST_BUCKETS);
    }
    return h;
  }

  percentiles(hists: readonly Uint32Array[], from = 0, to = this.slots.length): Percentiles {
    return percentiles(this.merge(hists, from, to));
  }

  /** The q-quantile per point; null where a point has no samples. */
  quantileSeries(hists: readonly Uint32Array[], q: number): (number | null)[] {
    const out: (number | null)[] = [];
    for (let from = 0; from < this.seriesLength; from += this.step)
      out.push(quantile(this.merge(hists, from, from + this.step), q));
    return out;
  }
}

/** Add `b` into `a` element-wise (for merging rows into totals or "(other)"). */
export function addInto(a: number[], b: readonly number[]): void {
  for (let i = 0; i < a.length; i++) a[i]! += b[i] ?? 0;
}
