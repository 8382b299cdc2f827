import type { EndpointView } from '../contracts/scheduling.ts';

// When is an endpoint, or the whole pool, out of room? An endpoint is saturated when its queue (the
// engine's waiting count plus what the gateway has sent since the last scrape, which the engine's
// figures cannot show yet) reaches the queue threshold, when its KV cache is nearly full, when its
// telemetry is stale (unknown load is treated as full load, never as idle), or when it is unhealthy.
// The pool is saturated when no endpoint has room. Defaults follow GIE's saturation detector
// (queue depth 5, KV 0.8), with KV at 0.9 because vLLM reports blocks held by running sequences.

export interface SaturationThresholds {
  /** Waiting requests (plus sent-since-scrape) at which an endpoint counts as full. */
  readonly queueDepth: number;
  /** KV-cache use (0..1) at which an endpoint counts as full. */
  readonly kvUsage: number;
}

export const DEFAULT_SATURATION: SaturationThresholds = Object.freeze({ queueDepth: 5, kvUsage: 0.9 });

/** Waiting requests as the gateway best knows them: the engine's count plus what it sent since. */
export function effectiveQueue(e: EndpointView): number {
  return e.waiting + e.dispatchedSinceScrape;
}

export function isSaturated(e: EndpointView, t: SaturationThresholds): boolean {
  return e.stale || e.health === 'unhealthy' || effectiveQueue(e) >= t.queueDepth || e.kvUsage >= t.kvUsage;
}

/** True when every endpoint is saturated (an empty pool is saturated too). */
export function isPoolSaturated(endpoints: readonly EndpointView[], t: SaturationThresholds): boolean {
  for (const e of endpoints) if (!isSaturated(e, t)) return false;
  return true;
}
