import { z } from 'zod';
import type { EndpointView, Filter, SchedulingRequest } from '../contracts/scheduling.ts';
import { fraction, nonNegative } from './params.ts';
import { DEFAULT_SATURATION, isSaturated, type SaturationThresholds } from './saturation.ts';
import { definePlugin } from './registry.ts';

// Filters narrow the candidates before scoring. The load filters fall back to every input endpoint
// when none passes: filtering everything out would turn a busy pool into an error, and a busy pool is
// flow control's business, not the filter's.

function copyAll(input: readonly EndpointView[], out: EndpointView[]): void {
  for (const e of input) out.push(e);
}

/** Drops unhealthy and ejected endpoints (and, when asked, stale ones). */
export class HealthyFilter implements Filter {
  readonly type = 'healthy';
  readonly name: string;
  private readonly dropStale: boolean;
  private readonly fallback: boolean;

  constructor(name: string, options: { dropStale: boolean; fallback: boolean }) {
    this.name = name;
    this.dropStale = options.dropStale;
    this.fallback = options.fallback;
  }

  filter(_req: SchedulingRequest, input: readonly EndpointView[], out: EndpointView[]): void {
    for (const e of input)
      if (e.health !== 'unhealthy' && !e.ejected && !(this.dropStale && e.stale)) out.push(e);
    if (out.length === 0 && this.fallback) copyAll(input, out);
  }
}

/**
 * Keeps endpoints that can serve the request's LoRA adapter: it is loaded or loading there, the
 * endpoint has room for another adapter, or the endpoint does not report adapters at all.
 */
export class LoraCapableFilter implements Filter {
  readonly type = 'lora-capable';
  readonly name: string;

  constructor(name: string) {
    this.name = name;
  }

  filter(req: SchedulingRequest, input: readonly EndpointView[], out: EndpointView[]): void {
    const adapter = req.adapter;
    if (adapter === null) return copyAll(input, out);
    for (const e of input) {
      const loaded = e.runningLoras.includes(adapter) || e.waitingLoras.includes(adapter);
      const unknown = e.maxLoras === 0 && e.runningLoras.length === 0 && e.waitingLoras.length === 0;
      const room = e.maxLoras > 0 && e.runningLoras.length + e.waitingLoras.length < e.maxLoras;
      if (loaded || room || unknown) out.push(e);
    }
    if (out.length === 0) copyAll(input, out);
  }
}

/** Keeps endpoints below the queue and KV thresholds (stale ones count as saturated). */
export class NotSaturatedFilter implements Filter {
  readonly type = 'not-saturated';
  readonly name: string;
  private readonly thresholds: SaturationThresholds;

  constructor(name: string, thresholds: SaturationThresholds) {
    this.name = name;
    this.thresholds = thresholds;
  }

  filter(_req: SchedulingRequest, input: readonly EndpointView[], out: EndpointView[]): void {
    for (const e of input) if (!isSaturated(e, this.thresholds)) out.push(e);
    if (out.length === 0) copyAll(input, out);
  }
}

const healthyParams = z
  .strictObject({ drop_stale: z.boolean().default(false), fallback: z.boolean().default(false) })
  .prefault({});

const saturationFilterParams = z
  .strictObject({
    queue_depth: nonNegative.default(DEFAULT_SATURATION.queueDepth),
    kv_usage: fraction.default(DEFAULT_SATURATION.kvUsage),
  })
  .prefault({});

export const filterFactories = [
  definePlugin<'filter', z.infer<typeof healthyParams>>({
    type: 'healthy',
    kind: 'filter',
    description: 'Drops unhealthy endpoints; with drop_stale also those whose telemetry is stale.',
    params: healthyParams,
    create: (name, p) => new HealthyFilter(name, { dropStale: p.drop_stale, fallback: p.fallback }),
  }),
  definePlugin<'filter', object>({
    type: 'lora-capable',
    kind: 'filter',
    description: "Keeps endpoints that have the request's LoRA adapter loaded or room to load it.",
    params: z.strictObject({}).prefault({}),
    create: (name) => new LoraCapableFilter(name),
  }),
  definePlugin<'filter', z.infer<typeof saturationFilterParams>>({
    type: 'not-saturated',
    kind: 'filter',
    description: 'Keeps endpoints below the queue-depth and KV-use thresholds; all when none is.',
    params: saturationFilterParams,
    create: (name, p) => new NotSaturatedFilter(name, { queueDepth: p.queue_depth, kvUsage: p.kv_usage }),
  }),
];
