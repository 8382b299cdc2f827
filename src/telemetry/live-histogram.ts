// Fixed log-scale latency buckets for the live dashboard: 42 buckets, each √2 wider than the one before,
// from ≤1 ms up to 2^20 ms (about 17 minutes) plus an overflow bucket. A bucket is one Uint32 slot, so a
// per-second histogram costs 168 bytes and merging seconds is a loop of additions. Percentiles are read
// by linear interpolation inside the bucket that holds the rank: within ±21% of the true value, which is
// what a dashboard needs (exact quantiles come from Prometheus).

export const HIST_BUCKETS = 42;

/** Upper bound in ms of bucket i (the last bucket is unbounded). */
export function bucketUpper(i: number): number {
  return i >= HIST_BUCKETS - 1 ? Infinity : 2 ** (i / 2);
}

function bucketLower(i: number): number {
  return i === 0 ? 0 : 2 ** ((i - 1) / 2);
}

/** The bucket of a duration in ms. NaN and negative values land in bucket 0. */
export function bucketOf(ms: number): number {
  if (!(ms > 1)) return 0;
  const i = Math.ceil(2 * Math.log2(ms) - 1e-9); // the epsilon keeps exact bounds in their own bucket
  return i < HIST_BUCKETS - 1 ? i : HIST_BUCKETS - 1;
}

/** Add the histogram stored at `from[offset .. offset+HIST_BUCKETS)` into `into`. */
export function mergeInto(into: Uint32Array, from: Uint32Array, offset: number): void {
  for (let b = 0; b < HIST_BUCKETS; b++) into[b]! += from[offset + b]!;
}

export interface Percentiles {
  readonly p50: number | null;
  readonly p95: number | null;
  readonly p99: number | null;
}

export const NO_PERCENTILES: Percentiles = Object.freeze({ p50: null, p95: null, p99: null });

/** The q-quantile (0 < q ≤ 1) of a histogram in ms, rounded to 0.1 ms; null when it is empty. */
export function quantile(hist: Uint32Array, q: number): number | null {
  let total = 0;
  for (let b = 0; b < HIST_BUCKETS; b++) total += hist[b]!;
  if (total === 0) return null;
  const rank = q * total;
  let seen = 0;
  for (let b = 0; b < HIST_BUCKETS; b++) {
    const n = hist[b]!;
    if (n === 0 || seen + n < rank) {
      seen += n;
      continue;
    }
    const lower = bucketLower(b);
    const upper = bucketUpper(b);
    // The overflow bucket has no upper bound: report its lower bound rather than invent a value.
    const value = upper === Infinity ? lower : lower + ((upper - lower) * (rank - seen)) / n;
    return Math.round(value * 10) / 10;
  }
  return null;
}

export function percentiles(hist: Uint32Array): Percentiles {
  const p50 = quantile(hist, 0.5);
  if (p50 === null) return NO_PERCENTILES;
  return { p50, p95: quantile(hist, 0.95), p99: quantile(hist, 0.99) };
}
