import { GatewayError } from '../core/errors.ts';
import type {
  AcquireResult,
  CounterRequest,
  CounterState,
  CounterWindow,
  QuotaStore,
  Settlement,
  StateEventHook,
} from '../contracts/governance.ts';
import type { QuotaStoreOptions } from './quota-memory.ts';
import { ACQUIRE, SETTLE } from './quota-lua.ts';
import type { RedisState } from './redis-state.ts';

// Counters in Redis, shared by every replica: each acquire and settle is one atomic script, so limits
// hold exactly however many replicas admit at once. Holds this replica owns are kept fresh by a heartbeat;
// when the replica dies they expire after the reservation TTL and free what they held.
//
// When Redis fails (down, or no reply within the command timeout) the store decides at once: fail open
// (admit, marked degraded) or fail closed (503 state_unavailable), and reports each failure.

export interface RedisQuotaStoreOptions extends QuotaStoreOptions {
  readonly state: RedisState;
  readonly failMode?: 'open' | 'closed';
  /** Holds older than this stop being refreshed (a request that never ended); default 1 h. */
  readonly maxHoldMs?: number;
  readonly onEvent?: StateEventHook;
}

const MAX_CAP = Number.MAX_SAFE_INTEGER;

interface Live {
  readonly keys: readonly string[];
  readonly since: number;
}

function windowArgs(w: CounterWindow): [number, number, number] {
  switch (w.kind) {
    case 'none':
      return [0, 0, 0];
    case 'sliding':
      return [1, w.ms, w.bucketMs];
    case 'fixed':
      return [2, w.start, w.end];
  }
}

export class RedisQuotaStore implements QuotaStore {
  readonly #state: RedisState;
  readonly #ttl: number;
  readonly #clock: () => number;
  readonly #failOpen: boolean;
  readonly #maxHold: number;
  readonly #onEvent: StateEventHook;
  readonly #live = new Map<string, Live>();
  readonly #heartbeat: NodeJS.Timeout;

  constructor(options: RedisQuotaStoreOptions) {
    this.#state = options.state;
    this.#ttl = options.reservationTtlMs ?? 30_000;
    this.#clock = options.clock ?? Date.now;
    this.#failOpen = (options.failMode ?? 'open') === 'open';
    this.#maxHold = options.maxHoldMs ?? 3_600_000;
    this.#onEvent = options.onEvent ?? (() => {});
    this.#heartbeat = setInterval(() => void this.#refresh(), Math.max(10, Math.floor(this.#ttl / 3)));
    this.#heartbeat.unref();
  }

  #keys(key: string, w: CounterWindow): [string, string, string] {
    const base = this.#state.key('q:' + key);
    const data = w.kind === 'fixed' ? `${base}:f:${w.start}` : base + ':s';
    return [data, base + ':r', base + ':h'];
  }

  #failure(err: unknown, decision: 'open' | 'closed' | null): void {
    const error = err instanceof Error ? err : new Error(String(err));
    this.#onEvent({ component: 'quota', kind: 'error', decision, error });
  }

  async acquire(holdId: string, counters: readonly CounterRequest[]): Promise<AcquireResult> {
    const now = this.#clock();
    const keys: string[] = [];
    const args: (string | number)[] = [now, holdId, now + this.#ttl];
    const held: string[] = [];
    for (const c of counters) {
      const k = this.#keys(c.key, c.window);
      keys.push(...k);
      const [kind, p1, p2] = windowArgs(c.window);
      args.push(kind, Math.min(Math.floor(c.cap), MAX_CAP), Math.ceil(c.amount), c.hold ? 1 : 0, p1, p2);
      if (c.hold && c.amount > 0) held.push(k[1], k[2]);
    }
    let reply: number[];
    try {
      reply = (await this.#state.run(ACQUIRE, keys, args)) as number[];
    } catch (err) {
      this.#failure(err, this.#failOpen ? 'open' : 'closed');
      if (!this.#failOpen) {
        throw new GatewayError(
          'state_unavailable',
          'Limits cannot be checked right now; try again shortly.',
          {
            cause: err,
            headers: { 'retry-after': '1' },
          },
        );
      }
      return { ok: true, degraded: true, states: counters.map(() => ({ used: 0, resetMs: 0 })) };
    }
    if (reply[0] === 1) {
      if (held.length > 0) this.#live.set(holdId, { keys: held, since: now });
      return { ok: true, degraded: false, states: states(reply, 1) };
    }
    return { ok: false, failed: reply[1] ?? 0, retryAfterMs: reply[2] ?? 1_000, states: states(reply, 3) };
  }

  async settle(holdId: string, settlements: readonly Settlement[]): Promise<void> {
    this.#live.delete(holdId);
    if (settlements.length === 0) return;
    const keys: string[] = [];
    const args: (string | number)[] = [this.#clock(), holdId];
    for (const s of settlements) {
      keys.push(...this.#keys(s.key, s.window));
      const [kind, p1, p2] = windowArgs(s.window);
      args.push(kind, Math.max(0, Math.ceil(s.actual)), p1, p2);
    }
    try {
      await this.#state.run(SETTLE, keys, args);
    } catch (err) {
      // The hold expires by itself; the actual amount is lost to the counter (the ledger still has it).
      this.#failure(err, null);
    }
  }

  async peek(counters: readonly Pick<CounterRequest, 'key' | 'window'>[]): Promise<readonly CounterState[]> {
    const keys: string[] = [];
    const now = this.#clock();
    const args: (string | number)[] = [now, '', now];
    for (const c of counters) {
      keys.push(...this.#keys(c.key, c.window));
      const [kind, p1, p2] = windowArgs(c.window);
      args.push(kind, MAX_CAP, 0, 0, p1, p2);
    }
    return states((await this.#state.run(ACQUIRE, keys, args)) as number[], 1);
  }

  /** Pushes the expiry of this replica's live holds forward (a dead replica's holds then lapse). */
  async #refresh(): Promise<void> {
    if (this.#live.size === 0 || !this.#state.healthy) return;
    const now = this.#clock();
    const exp = now + this.#ttl;
    const pipe = this.#state.client.pipeline();
    for (const [id, live] of this.#live) {
      if (now - live.since > this.#maxHold) {
        this.#live.delete(id);
        continue;
      }
      for (let i = 0; i + 1 < live.keys.length; i += 2) {
        const z = live.keys[i] ?? '';
        pipe.zadd(z, 'XX', exp, id);
        pipe.pexpireat(z, exp + 60_000);
        pipe.pexpireat(live.keys[i + 1] ?? '', exp + 60_000);
      }
    }
    await pipe.exec().catch((err: unknown) => this.#failure(err, null));
  }

  /** Stops the heartbeat. Holds still open are left to expire (as if this replica had died). */
  async close(): Promise<void> {
    clearInterval(this.#heartbeat);
    this.#live.clear();
  }
}

function states(reply: readonly number[], from: number): CounterState[] {
  const out: CounterState[] = [];
  for (let i = from; i + 1 < reply.length; i += 2) {
    out.push({ used: reply[i] ?? 0, resetMs: Math.max(0, reply[i + 1] ?? 0) });
  }
  return out;
}
