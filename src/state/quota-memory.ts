import type {
  AcquireResult,
  CounterRequest,
  CounterState,
  CounterWindow,
  QuotaStore,
  Settlement,
} from '../contracts/governance.ts';

// Counters in process memory: exact for a single node, the same semantics as the Redis store (which
// mirrors this logic in Lua; both pass one contract suite).
//
// Algorithm: a sliding window counted in buckets (a bucket counts until it has wholly left the window, so
// the count is never low and is high by at most one bucket), or a fixed calendar window; plus the amounts
// held by requests in flight. Check everything first, then apply: a refusal consumes nothing. A counter
// named twice in one acquisition is checked with the earlier amount included (as two acquisitions in a
// row would be).
//
// Cost per counter is O(1): a sliding window keeps its running total and its oldest and newest buckets,
// and drops buckets as they leave the window (each bucket is visited once when it goes).

export interface QuotaStoreOptions {
  /** Reservations not settled within this long are dropped (a request that never ended). */
  readonly reservationTtlMs?: number;
  readonly clock?: () => number;
}

interface Held {
  amount: number;
  readonly expiresAt: number;
}

/** Sliding-window buckets: index (time / bucketMs) → amount, with their total and index range. */
interface Slide {
  readonly bucketMs: number;
  /** Buckets per window. */
  readonly count: number;
  readonly buckets: Map<number, number>;
  total: number;
  /** Oldest and newest bucket present (meaningless when empty). */
  lo: number;
  hi: number;
}

interface Counter {
  slide: Slide | null;
  fixed: Map<number, { value: number; readonly end: number }> | null;
  /** In insertion order, which is expiry order: the TTL is one constant. */
  readonly holds: Map<string, Held>;
  held: number;
  /** No hold expires before this (the first hold's expiry when it was last looked at). */
  soonest: number;
}

export const FIXED_GRACE_MS = 3_600_000;
export const UNKNOWN_RETRY_MS = 1_000;

export function bucketCount(window: { readonly ms: number; readonly bucketMs: number }): number {
  return Math.ceil(window.ms / window.bucketMs);
}

/** How long until a request that can never fit might: the window's length (or what is left of it). */
export function windowLength(w: CounterWindow, now: number): number {
  switch (w.kind) {
    case 'sliding':
      return w.ms;
    case 'fixed':
      return w.end - now;
    case 'none':
      return UNKNOWN_RETRY_MS;
  }
}

function newSlide(w: { readonly ms: number; readonly bucketMs: number }): Slide {
  return { bucketMs: w.bucketMs, count: bucketCount(w), buckets: new Map(), total: 0, lo: 0, hi: 0 };
}

/** Drops the buckets that have wholly left the window ending at `now`. */
function prune(s: Slide, now: number): void {
  if (s.buckets.size === 0) return;
  const low = Math.floor(now / s.bucketMs) - s.count + 1;
  if (s.lo >= low) return;
  if (s.hi < low) {
    s.buckets.clear();
    s.total = 0;
    return;
  }
  if (low - s.lo > 2 * s.count) {
    // Far behind (a clock that jumped): walk the map instead of the index range.
    for (const [b, v] of s.buckets) {
      if (b < low) {
        s.buckets.delete(b);
        s.total -= v;
      }
    }
  } else {
    for (let b = s.lo; b < low; b++) {
      const v = s.buckets.get(b);
      if (v !== undefined) {
        s.buckets.delete(b);
        s.total -= v;
      }
    }
  }
  let lo = low;
  if (s.hi - low > 2 * s.count) {
    lo = s.hi;
    for (const b of s.buckets.keys()) if (b < lo) lo = b;
  } else while (lo < s.hi && !s.buckets.has(lo)) lo++;
  s.lo = lo;
}

/** ms until the oldest bucket leaves the window; 0 when nothing is counted. */
function slideReset(s: Slide, now: number): number {
  return s.buckets.size === 0 ? 0 : Math.max(0, (s.lo + s.count) * s.bucketMs - now);
}

function slideAdd(s: Slide, amount: number, now: number): void {
  const b = Math.floor(now / s.bucketMs);
  const v = s.buckets.get(b);
  if (s.buckets.size === 0) {
    s.lo = b;
    s.hi = b;
  } else {
    if (b < s.lo) s.lo = b;
    if (b > s.hi) s.hi = b;
  }
  s.buckets.set(b, (v ?? 0) + amount);
  s.total += amount;
}

/** ms until enough has left the sliding window for `need` more to fit. */
function slideRetry(s: Slide, need: number, now: number): number {
  let acc = 0;
  const top = Math.min(s.hi, s.lo + 4 * s.count);
  for (let b = s.lo; b <= top; b++) {
    const v = s.buckets.get(b);
    if (v === undefined) continue;
    acc += v;
    if (acc >= need) return (b + s.count) * s.bucketMs - now;
  }
  // What holds the count up is in flight, not in the window: it frees when requests end.
  return UNKNOWN_RETRY_MS;
}

/** A first commit into an empty sliding window starts its reset clock. */
function resetAfterCommit(req: CounterRequest, resetMs: number, now: number): number {
  const w = req.window;
  if (resetMs > 0 || req.hold || w.kind !== 'sliding') return resetMs;
  return (Math.floor(now / w.bucketMs) + bucketCount(w)) * w.bucketMs - now;
}

export class MemoryQuotaStore implements QuotaStore {
  readonly #counters = new Map<string, Counter>();
  readonly #ttl: number;
  readonly #clock: () => number;
  readonly #sweeper: NodeJS.Timeout;

  constructor(options: QuotaStoreOptions = {}) {
    this.#ttl = options.reservationTtlMs ?? 60_000;
    this.#clock = options.clock ?? Date.now;
    this.#sweeper = setInterval(() => this.#sweep(), 60_000);
    this.#sweeper.unref();
  }

  #counter(key: string): Counter {
    let c = this.#counters.get(key);
    if (c === undefined) {
      c = { slide: null, fixed: null, holds: new Map(), held: 0, soonest: Infinity };
      this.#counters.set(key, c);
    }
    return c;
  }

  #purge(c: Counter, now: number): void {
    if (c.holds.size === 0 || now < c.soonest) return;
    c.soonest = Infinity;
    for (const [id, h] of c.holds) {
      if (h.expiresAt > now) {
        c.soonest = h.expiresAt;
        break;
      }
      c.holds.delete(id);
      c.held -= h.amount;
    }
  }

  /** The counter's sliding buckets for window `w` (re-bucketed if it was last used with another). */
  #slide(c: Counter, w: { readonly ms: number; readonly bucketMs: number }): Slide {
    const s = c.slide;
    if (s !== null && s.bucketMs === w.bucketMs && s.count === bucketCount(w)) return s;
    const next = newSlide(w);
    if (s !== null) {
      for (const [b, v] of s.buckets) slideAdd(next, v, b * s.bucketMs);
    }
    c.slide = next;
    return next;
  }

  /** Committed amount in the window (pruned to `now`). */
  #committed(c: Counter, w: CounterWindow, now: number): number {
    switch (w.kind) {
      case 'none':
        return 0;
      case 'fixed':
        return c.fixed?.get(w.start)?.value ?? 0;
      case 'sliding': {
        const s = this.#slide(c, w);
        prune(s, now);
        return s.total;
      }
    }
  }

  #resetMs(c: Counter, w: CounterWindow, now: number): number {
    switch (w.kind) {
      case 'none':
        return 0;
      case 'fixed':
        return Math.max(0, w.end - now);
      case 'sliding':
        return c.slide === null ? 0 : slideReset(c.slide, now);
    }
  }

  #commit(c: Counter, w: CounterWindow, amount: number, now: number): void {
    if (w.kind === 'sliding') {
      const s = this.#slide(c, w);
      prune(s, now);
      slideAdd(s, amount, now);
    } else if (w.kind === 'fixed') {
      c.fixed ??= new Map();
      const slot = c.fixed.get(w.start);
      if (slot === undefined) c.fixed.set(w.start, { value: amount, end: w.end });
      else slot.value += amount;
    }
  }

  #retryAfter(c: Counter, req: CounterRequest, used: number, now: number): number {
    if (req.amount > req.cap) return windowLength(req.window, now);
    const w = req.window;
    if (w.kind !== 'sliding' || c.slide === null) return windowLength(w, now);
    return slideRetry(c.slide, Math.max(used + req.amount - req.cap, used - req.cap + 1), now);
  }

  /** The same as `acquire`, without the promise (for callers on the hot path). */
  acquireNow(holdId: string, counters: readonly CounterRequest[]): AcquireResult {
    const now = this.#clock();
    const n = counters.length;
    const found: Counter[] = new Array<Counter>(n);
    const states: CounterState[] = new Array<CounterState>(n);
    let failed = -1;
    let retryAfterMs = 0;
    for (let i = 0; i < n; i++) {
      const req = counters[i]!;
      const c = this.#counter(req.key);
      found[i] = c;
      this.#purge(c, now);
      let used = this.#committed(c, req.window, now) + c.held;
      // The same counter named earlier in this acquisition counts its amount first.
      for (let j = 0; j < i; j++) if (found[j] === c) used += counters[j]!.amount;
      states[i] = { used, resetMs: this.#resetMs(c, req.window, now) };
      if (failed < 0 && (used >= req.cap || used + req.amount > req.cap)) {
        failed = i;
        retryAfterMs = this.#retryAfter(c, req, used, now);
      }
    }
    if (failed >= 0) return { ok: false, failed, retryAfterMs: Math.max(1, retryAfterMs), states };
    for (let i = 0; i < n; i++) {
      const req = counters[i]!;
      if (req.amount <= 0) continue;
      const c = found[i]!;
      if (req.hold) {
        const h = c.holds.get(holdId);
        if (h === undefined) {
          if (c.holds.size === 0) c.soonest = now + this.#ttl;
          c.holds.set(holdId, { amount: req.amount, expiresAt: now + this.#ttl });
        } else h.amount += req.amount;
        c.held += req.amount;
      } else this.#commit(c, req.window, req.amount, now);
      const s = states[i]!;
      states[i] = { used: s.used + req.amount, resetMs: resetAfterCommit(req, s.resetMs, now) };
    }
    return { ok: true, degraded: false, states };
  }

  async acquire(holdId: string, counters: readonly CounterRequest[]): Promise<AcquireResult> {
    return this.acquireNow(holdId, counters);
  }

  /** The same as `settle`, synchronously. */
  settleNow(holdId: string, settlements: readonly Settlement[]): void {
    const now = this.#clock();
    for (const s of settlements) {
      const c = this.#counter(s.key);
      const h = c.holds.get(holdId);
      if (h !== undefined) {
        c.holds.delete(holdId);
        c.held -= h.amount;
      }
      if (s.actual > 0) this.#commit(c, s.window, s.actual, now);
    }
  }

  async settle(holdId: string, settlements: readonly Settlement[]): Promise<void> {
    this.settleNow(holdId, settlements);
  }

  async peek(counters: readonly Pick<CounterRequest, 'key' | 'window'>[]): Promise<readonly CounterState[]> {
    const now = this.#clock();
    return counters.map((req) => {
      const c = this.#counter(req.key);
      this.#purge(c, now);
      const used = this.#committed(c, req.window, now) + c.held;
      return { used, resetMs: this.#resetMs(c, req.window, now) };
    });
  }

  #sweep(): void {
    const now = this.#clock();
    for (const [key, c] of this.#counters) {
      this.#purge(c, now);
      if (c.fixed !== null) {
        for (const [start, slot] of c.fixed) if (slot.end + FIXED_GRACE_MS < now) c.fixed.delete(start);
        if (c.fixed.size === 0) c.fixed = null;
      }
      if (c.slide !== null) {
        prune(c.slide, now);
        if (c.slide.buckets.size === 0) c.slide = null;
      }
      if (c.holds.size === 0 && c.fixed === null && c.slide === null) this.#counters.delete(key);
    }
  }

  async close(): Promise<void> {
    clearInterval(this.#sweeper);
  }
}
