import { Pool } from 'undici';

// A closed-loop load generator: `connections` workers each send one request at a time for `durationMs`
// (bounded also by `maxRequests`), recording each latency. Reads the whole response, streams included.

export interface LoadResult {
  readonly requests: number;
  readonly errors: number;
  readonly rps: number;
  readonly p50: number;
  readonly p99: number;
}

export function percentile(sorted: Float64Array, p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

export async function load(
  url: string,
  body: string,
  options: {
    connections: number;
    durationMs: number;
    maxRequests?: number;
    headers?: Record<string, string>;
  },
): Promise<LoadResult> {
  const origin = new URL(url).origin;
  const path = new URL(url).pathname;
  const pool = new Pool(origin, { connections: options.connections, pipelining: 1 });
  const latencies: number[] = [];
  let errors = 0;
  const max = options.maxRequests ?? 1_000_000;
  const start = performance.now();
  const end = start + options.durationMs;
  const worker = async (): Promise<void> => {
    while (performance.now() < end && latencies.length + errors < max) {
      const t0 = performance.now();
      try {
        const res = await pool.request({
          method: 'POST',
          path,
          body,
          headers: { 'content-type': 'application/json', ...options.headers },
        });
        for await (const _ of res.body) {
          // drain
        }
        if (res.statusCode !== 200) errors++;
        else latencies.push(performance.now() - t0);
      } catch {
        errors++;
      }
    }
  };
  await Promise.all(Array.from({ length: options.connections }, worker));
  const elapsed = performance.now() - start;
  await pool.close();
  const sorted = Float64Array.from(latencies).sort();
  return {
    requests: latencies.length,
    errors,
    rps: (latencies.length / elapsed) * 1000,
    p50: percentile(sorted, 50),
    p99: percentile(sorted, 99),
  };
}
