import type { SimFaults } from './options.ts';

// Error injection, decided once per completion request from a seeded generator so that a run with a
// seed fails the same requests (by arrival order) every time.

export interface FaultPlan {
  /** Answer with faults.errorStatus before any body. */
  readonly error: boolean;
  /** Answer 200 and send an error event as the first SSE frame. */
  readonly streamError: boolean;
  /** Destroy the stream after this many data frames; -1 for never. */
  readonly cutAfter: number;
}

const NO_FAULT: FaultPlan = Object.freeze({ error: false, streamError: false, cutAfter: -1 });

/** mulberry32: a small, fast 32-bit generator; returns floats in [0, 1). */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export class FaultInjector {
  private readonly faults: SimFaults;
  private readonly random: () => number;
  private readonly active: boolean;

  constructor(faults: SimFaults, seed: number | null) {
    this.faults = faults;
    this.random = seededRandom(seed ?? Math.floor(Math.random() * 4294967296));
    this.active = faults.errorRate > 0 || faults.streamErrorRate > 0 || faults.cutRate > 0;
  }

  /** Draw the faults of the next request. Always three draws, so plans do not shift with `stream`. */
  next(stream: boolean): FaultPlan {
    if (!this.active) return NO_FAULT;
    const f = this.faults;
    const error = this.random() < f.errorRate;
    const streamError = this.random() < f.streamErrorRate;
    const cut = this.random() < f.cutRate;
    if (error) return { error, streamError: false, cutAfter: -1 };
    if (!stream) return NO_FAULT;
    return { error: false, streamError, cutAfter: !streamError && cut ? f.cutAfterChunks : -1 };
  }

  /** Headers of an injected error response. */
  errorHeaders(): Record<string, string> {
    const retry = this.faults.retryAfterS;
    return retry === null ? {} : { 'retry-after': String(retry) };
  }
}
