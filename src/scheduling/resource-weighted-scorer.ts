import { z } from 'zod';
import type { EndpointView, SchedulingRequest, Scorer } from '../contracts/scheduling.ts';
import { invertMinMax, scaleByMax } from './normalize.ts';
import { nonNegative } from './params.ts';
import { effectiveQueue } from './saturation.ts';
import { definePlugin } from './registry.ts';

// One scorer whose blend of resource signals the operator sets, e.g. { kv_utilization: 0.4,
// free_memory: 0.3, latency: 0.3 }. Each factor is a [0,1] score; the result is their weighted mean.
// - kv_utilization: 1 − KV-cache use (a fraction: the same on a small and a large GPU).
// - free_memory: free KV capacity in tokens, relative to the roomiest candidate (heterogeneous fleets:
//   a half-full 80 GB card has more room than a half-full 24 GB one). Falls back to 1 − use when the
//   engine does not report its cache size.
// - latency: observed TTFT EWMA, min-max (no observation yet = 0.5).
// - queue: engine queue plus sent-since-scrape, min-max.
// - inflight_tokens: tokens in flight from this gateway, min-max.
// Stale telemetry zeroes the telemetry factors. Buffers are the plugin's own and reused (picks are sync).

export interface ResourceFactors {
  readonly kvUtilization: number;
  readonly freeMemory: number;
  readonly latency: number;
  readonly queue: number;
  readonly inflightTokens: number;
}

export class ResourceWeightedScorer implements Scorer {
  readonly type = 'resource-weighted';
  readonly name: string;
  private readonly f: ResourceFactors;
  private readonly sum: number;
  private buf = new Float64Array(64);

  constructor(name: string, factors: ResourceFactors) {
    this.name = name;
    this.f = factors;
    this.sum =
      factors.kvUtilization + factors.freeMemory + factors.latency + factors.queue + factors.inflightTokens;
  }

  score(_req: SchedulingRequest, endpoints: readonly EndpointView[], out: Float64Array): void {
    const n = endpoints.length;
    if (this.buf.length < n) this.buf = new Float64Array(n * 2);
    const buf = this.buf;
    out.fill(0, 0, n);
    if (this.sum <= 0) return;
    if (this.f.kvUtilization > 0) {
      for (let j = 0; j < n; j++) {
        const e = endpoints[j]!;
        out[j]! += this.f.kvUtilization * (e.stale ? 0 : 1 - e.kvUsage);
      }
    }
    if (this.f.freeMemory > 0) {
      let sized = true;
      for (let j = 0; j < n; j++) {
        const e = endpoints[j]!;
        const capacity = e.kvBlocks * e.blockSize;
        if (capacity === 0) sized = false;
        buf[j] = e.stale ? 0 : capacity * (1 - e.kvUsage);
      }
      if (sized) scaleByMax(buf, n);
      else for (let j = 0; j < n; j++) buf[j] = endpoints[j]!.stale ? 0 : 1 - endpoints[j]!.kvUsage;
      this.add(out, n, this.f.freeMemory);
    }
    if (this.f.latency > 0) {
      for (let j = 0; j < n; j++) buf[j] = endpoints[j]!.ttftEwmaMs;
      invertMinMax(buf, n, 0.5);
      this.add(out, n, this.f.latency);
    }
    if (this.f.queue > 0) {
      for (let j = 0; j < n; j++) buf[j] = endpoints[j]!.stale ? Infinity : effectiveQueue(endpoints[j]!);
      invertMinMax(buf, n, 1);
      this.add(out, n, this.f.queue);
    }
    if (this.f.inflightTokens > 0) {
      for (let j = 0; j < n; j++) buf[j] = endpoints[j]!.inFlightTokens;
      invertMinMax(buf, n, 1);
      this.add(out, n, this.f.inflightTokens);
    }
    for (let j = 0; j < n; j++) out[j]! /= this.sum;
  }

  private add(out: Float64Array, n: number, factor: number): void {
    for (let j = 0; j < n; j++) out[j]! += factor * this.buf[j]!;
  }
}

const params = z
  .strictObject({
    factors: z
      .strictObject({
        kv_utilization: nonNegative.default(0),
        free_memory: nonNegative.default(0),
        latency: nonNegative.default(0),
        queue: nonNegative.default(0),
        inflight_tokens: nonNegative.default(0),
      })
      .default({ kv_utilization: 0.4, free_memory: 0.3, latency: 0.3, queue: 0, inflight_tokens: 0 }),
  })
  .prefault({})
  .refine((p) => Object.values(p.factors).some((v) => v > 0), {
    message: 'at least one factor must be greater than 0',
    path: ['factors'],
  });

export const resourceWeightedFactory = definePlugin<'scorer', z.infer<typeof params>>({
  type: 'resource-weighted',
  kind: 'scorer',
  description:
    'Weighted mean of resource signals (KV use, free KV memory, latency, queue, in-flight tokens).',
  params,
  create: (name, p) =>
    new ResourceWeightedScorer(name, {
      kvUtilization: p.factors.kv_utilization,
      freeMemory: p.factors.free_memory,
      latency: p.factors.latency,
      queue: p.factors.queue,
      inflightTokens: p.factors.inflight_tokens,
    }),
});
