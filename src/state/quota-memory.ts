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
// held by requests in flight. Check everything first, then apply: a refusal consumes nothing.

export interface QuotaStoreOptions {
  /** Reservations not settled within this long are dropped (a request that never ended). */
  readonly reservationTtlMs?: number;
  readonly clock?: () => number;
}

interface Held {
  readonly amount: number;
  readonly expiresAt: number;
}

interface Counter {
  readonly buckets: Map<number, number>;
  readonly fixed: Map<number, { value: number; end: number }>;
  /** In insertion order, which is expiry order: the TTL is one constant. */
  readonly holds: Map<string, Held>;
  held: number;
  /** The sliding window last used with this counter, so the sweeper can prune its buckets. */
  slide: { readonly ms: number; readonly bucketMs: number } | null;
}

interface Reading {
  readonly committed: number;
  readonly resetMs: number;
  /** Live buckets, oldest first (sliding windows only). */
  readonly live: readonly (readonly [number, number])[];
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

/** A first commit into an empty sliding window starts its reset clock. */
function resetAfterCommit(req: CounterRequest, resetMs: number, now: number): number {
  const w = req.window;
  if (resetMs > 0 || req.hold || w.kind !== 'sliding') return resetMs;
  return (Math.floor(now / w.bucketMs) + bucketCount(w)) * w.bucketMs - now;
}

/** ms until enough has left the window for `req` to fit, given the current reading. */
function retryAfter(req: CounterRequest, reading: Reading, used: number, now: number): number {
  if (req.amount > req.cap) return windowLength(req.window, now);
  const w = req.window;
  if (w.kind !== 'sliding') return windowLength(w, now);
  const need = Math.max(used + req.amount - req.cap, used - req.cap + 1);
  let acc = 0;
  for (const [b, v] of reading.live) {
    acc += v;
    if (acc >= need) return (b + bucketCount(w)) * w.bucketMs - now;
  }
  // What holds the count up is in flight, not in the window: it frees when requests end.
  return UNKNOWN_RETRY_MS;
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
      c = { buckets: new Map(), fixed: new Map(), holds: new Map(), held: 0, slide: null };
      this.#counters.set(key, c);
    }
    return c;
  }

  #purge(c: Counter, now: number): void {
    for (const [id, h] of c.holds) {
      if (h.expiresAt > now) break;
      c.holds.delete(id);
      c.held -= h.amount;
    }
  }

  #read(c: Counter, w: CounterWindow, now: number): Reading {
    switch (w.kind) {
      case 'none':
        return { committed: 0, resetMs: 0, live: [] };
      case 'fixed':
        return { committed: c.fixed.get(w.start)?.value ?? 0, resetMs: w.end - now, live: [] };
      case 'sliding': {
        c.slide = w;
        const nb = bucketCount(w);
        const low = Math.floor(now / w.bucketMs) - nb + 1;
        const live: [number, number][] = [];
        let committed = 0;
        for (const [b, v] of c.buckets) {
          if (b < low) c.buckets.delete(b);
          else {
            committed += v;
            live.push([b, v]);
          }
        }
        live.sort((x, y) => x[0] - y[0]);
        const oldest = live[0];
        return { committed, resetMs: oldest === undefined ? 0 : (oldest[0] + nb) * w.bucketMs - now, live };
      }
    }
  }

  #commit(c: Counter, w: CounterWindow, amount: number, now: number): void {
    if (w.kind === 'sliding') {
      const b = Math.floor(now / w.bucketMs);
      c.buckets.set(b, (c.buckets.get(b) ?? 0) + amount);
    } else if (w.kind === 'fixed') {
      const slot = c.fixed.get(w.start);
      if (slot === undefined) c.fixed.set(w.start, { value: amount, end: w.end });
      else slot.value += amount;
    }
  }

  async acquire(holdId: string, counters: readonly CounterRequest[]): Promise<AcquireResult> {
    const now = this.#clock();
    const states: CounterState[] = [];
    let failed = -1;
    let retryAfterMs = 0;
    for (const [i, req] of counters.entries()) {
      const c = this.#counter(req.key);
      this.#purge(c, now);
      const reading = this.#read(c, req.window, now);
      const used = reading.committed + c.held;
      states.push({ used, resetMs: Math.max(0, reading.resetMs) });
      if (failed < 0 && (used >= req.cap || used + req.amount > req.cap)) {
        failed = i;
        retryAfterMs = retryAfter(req, reading, used, now);
      }
    }
    if (failed >= 0) return { ok: false, failed, retryAfterMs: Math.max(1, retryAfterMs), states };
    for (const [i, req] of counters.entries()) {
      if (req.amount <= 0) continue;
      const c = this.#counter(req.key);
      if (req.hold) {
        c.holds.set(holdId, { amount: req.amount, expiresAt: now + this.#ttl });
        c.held += req.amount;
      } else this.#commit(c, req.window, req.amount, now);
      const s = states[i];
      if (s !== undefined)
        states[i] = { used: s.used + req.amount, resetMs: resetAfterCommit(req, s.resetMs, now) };
    }
    return { ok: true, degraded: false, states };
  }

  async settle(holdId: string, settlements: readonly Settlement[]): Promise<void> {
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

  async peek(counters: readonly Pick<CounterRequest, 'key' | 'window'>[]): Promise<readonly CounterState[]> {
    const now = this.#clock();
    return counters.map((req) => {
      const c = this.#counter(req.key);
      this.#purge(c, now);
      const reading = this.#read(c, req.window, now);
      return { used: reading.committed + c.held, resetMs: Math.max(0, reading.resetMs) };
    });
  }

  #sweep(): void {
    const now = this.#clock();
    for (const [key, c] of this.#counters) {
      this.#purge(c, now);
      for (const [start, slot] of c.fixed) if (slot.end + FIXED_GRACE_MS < now) c.fixed.delete(start);
      if (c.slide !== null) this.#read(c, { kind: 'sliding', ...c.slide }, now);
      if (c.holds.size === 0 && c.fixed.size === 0 && c.buckets.size === 0) this.#counters.delete(key);
    }
  }

  async close(): Promise<void> {
    clearInterval(this.#sweeper);
  }
}
