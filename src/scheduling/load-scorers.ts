import { z } from 'zod';
import type { EndpointView, SchedulingRequest, Scorer } from '../contracts/scheduling.ts';
import { invertMinMax } from './normalize.ts';
import { nonNegative } from './params.ts';
import { effectiveQueue } from './saturation.ts';
import { definePlugin } from './registry.ts';

// Load scorers: prefer the endpoint with the shortest queue, the most free KV cache, the fewest
// in-flight tokens or the lowest observed latency. Stale telemetry scores 0 (unknown load is treated
// as full load), so a scraper outage never makes an endpoint look idle.

/** Fewest waiting requests (engine queue plus sent-since-scrape), min-max over the candidates. */
export class QueueDepthScorer implements Scorer {
  readonly type = 'queue-depth';
  readonly name: string;
  private readonly runningWeight: number;

  constructor(name: string, runningWeight: number) {
    this.name = name;
    this.runningWeight = runningWeight;
  }

  score(_req: SchedulingRequest, endpoints: readonly EndpointView[], out: Float64Array): void {
    for (let j = 0; j < endpoints.length; j++) {
      const e = endpoints[j]!;
      out[j] = e.stale ? Infinity : effectiveQueue(e) + this.runningWeight * e.running;
    }
    invertMinMax(out, endpoints.length, 1);
  }
}

/** Most free KV cache: 1 − usage. */
export class KvCacheUtilizationScorer implements Scorer {
  readonly type = 'kv-cache-utilization';
  readonly name: string;

  constructor(name: string) {
    this.name = name;
  }

  score(_req: SchedulingRequest, endpoints: readonly EndpointView[], out: Float64Array): void {
    for (let j = 0; j < endpoints.length; j++) {
      const e = endpoints[j]!;
      out[j] = e.stale ? 0 : 1 - e.kvUsage;
    }
  }
}

/** Fewest tokens in flight from this gateway (never stale: the gateway counts them itself). */
export class InflightTokensScorer implements Scorer {
  readonly type = 'inflight-tokens';
  readonly name: string;

  constructor(name: string) {
    this.name = name;
  }

  score(_req: SchedulingRequest, endpoints: readonly EndpointView[], out: Float64Array): void {
    for (let j = 0; j < endpoints.length; j++) out[j] = endpoints[j]!.inFlightTokens;
    invertMinMax(out, endpoints.length, 1);
  }
}

export type LatencyMetric = 'ttft' | 'e2e';

/** Lowest observed latency (EWMA of TTFT or end-to-end); endpoints with no observation yet score 0.5. */
export class LatencyScorer implements Scorer {
  readonly type = 'latency';
  readonly name: string;
  private readonly metric: LatencyMetric;

  constructor(name: string, metric: LatencyMetric) {
    this.name = name;
    this.metric = metric;
  }

  score(_req: SchedulingRequest, endpoints: readonly EndpointView[], out: Float64Array): void {
    const ttft = this.metric === 'ttft';
    for (let j = 0; j < endpoints.length; j++) {
      const e = endpoints[j]!;
      out[j] = ttft ? e.ttftEwmaMs : e.latencyEwmaMs;
    }
    invertMinMax(out, endpoints.length, 0.5);
  }
}

const queueParams = z
  .strictObject({
    /** Also count running requests, at this weight (0 = waiting only, as GIE's queue scorer). */
    running_weight: nonNegative.default(0),
  })
  .prefault({});
const latencyParams = z.strictObject({ metric: z.enum(['ttft', 'e2e']).default('ttft') }).prefault({});
const none = z.strictObject({}).prefault({});

export const loadScorerFactories = [
  definePlugin<'scorer', z.infer<typeof queueParams>>({
    type: 'queue-depth',
    kind: 'scorer',
    description: 'Prefers short engine queues (waiting + sent since the last scrape).',
    params: queueParams,
    create: (name, p) => new QueueDepthScorer(name, p.running_weight),
  }),
  definePlugin<'scorer', object>({
    type: 'kv-cache-utilization',
    kind: 'scorer',
    description: 'Prefers endpoints with the most free KV cache (1 − usage).',
    params: none,
    create: (name) => new KvCacheUtilizationScorer(name),
  }),
  definePlugin<'scorer', object>({
    type: 'inflight-tokens',
    kind: 'scorer',
    description: 'Prefers endpoints with the fewest estimated tokens in flight from this gateway.',
    params: none,
    create: (name) => new InflightTokensScorer(name),
  }),
  definePlugin<'scorer', z.infer<typeof latencyParams>>({
    type: 'latency',
    kind: 'scorer',
    description: 'Prefers endpoints with the lowest observed TTFT (or end-to-end) EWMA.',
    params: latencyParams,
    create: (name, p) => new LatencyScorer(name, p.metric),
  }),
];
