// Counters and histograms an engine keeps for its /metrics page. Latencies are in simulated seconds
// (wall time divided by the time scale), so a scraper sees the same figures at any time scale.

/** vLLM V1 bucket bounds (vllm/v1/metrics/loggers.py). */
export const TTFT_BUCKETS: readonly number[] = [
  0.001, 0.005, 0.01, 0.02, 0.04, 0.06, 0.08, 0.1, 0.25, 0.5, 0.75, 1, 2.5, 5, 7.5, 10, 20, 40, 80, 160, 640,
  2560,
];
export const LATENCY_BUCKETS: readonly number[] = [
  0.3, 0.5, 0.8, 1, 1.5, 2, 2.5, 5, 10, 15, 20, 30, 40, 50, 60, 120, 240, 480, 960, 1920, 7680,
];

export class Histogram {
  readonly bounds: readonly number[];
  /** counts[i] = observations <= bounds[i] (not cumulative; rendering accumulates). Last slot: +Inf. */
  readonly counts: Float64Array;
  sum = 0;
  count = 0;

  constructor(bounds: readonly number[]) {
    this.bounds = bounds;
    this.counts = new Float64Array(bounds.length + 1);
  }

  observe(value: number): void {
    let i = 0;
    while (i < this.bounds.length && value > (this.bounds[i] ?? Infinity)) i++;
    this.counts[i] = (this.counts[i] ?? 0) + 1;
    this.sum += value;
    this.count++;
  }
}

export interface FinishCounts {
  stop: number;
  length: number;
  abort: number;
}

export class EngineStats {
  /** Completion requests received (before fault injection and validation). */
  requests = 0;
  promptTokens = 0;
  generationTokens = 0;
  /** Prompt tokens looked up in the prefix cache, and those found (first admission of each request). */
  prefixQueries = 0;
  prefixHits = 0;
  preemptions = 0;
  steps = 0;
  /** Requests refused by injected faults or validation, by HTTP status. */
  readonly errors = new Map<number, number>();
  readonly finished: FinishCounts = { stop: 0, length: 0, abort: 0 };
  readonly ttft = new Histogram(TTFT_BUCKETS);
  readonly e2e = new Histogram(LATENCY_BUCKETS);
  readonly queue = new Histogram(LATENCY_BUCKETS);

  countError(status: number): void {
    this.errors.set(status, (this.errors.get(status) ?? 0) + 1);
  }
}
