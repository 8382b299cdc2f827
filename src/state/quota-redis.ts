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
import { QUOTA_BATCH } from './quota-lua.ts';
import type { RedisState } from './redis-state.ts';

// Counters in Redis, shared by every replica: each acquisition and settlement is applied atomically by
// one script, so limits hold exactly however many replicas admit at once. Holds this replica owns are
// kept fresh by a heartbeat; when the replica dies they expire after the reservation TTL and free what
// they held.
//
// Operations are batched: everything the requests of one event-loop turn ask of the store goes to Redis
// as one script call (at most MAX_OPS operations each), applied in the order asked, each operation atomic
// on its own; while a call is out, new operations gather for the next one (for at most WAIT_MS). Under
// load this turns several script calls per request into a fraction of one; an idle gateway waits for
// nothing (the batch leaves at the end of the current turn).
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
/** Operations per script call: bounds how long one call holds Redis. */
const MAX_OPS = 64;
/** How long an operation waits for the call out before it is sent anyway. */
const WAIT_MS = 5;
/** Redis key names cached per counter key (reset when it grows past this). */
const MAX_CACHED_KEYS = 10_000;

interface Live {
  readonly keys: readonly string[];
  readonly since: number;
}

type Op =
  | {
      readonly kind: 'A';
      readonly holdId: string;
      readonly counters: readonly Pick<CounterRequest, 'key' | 'window' | 'cap' | 'amount' | 'hold'>[];
      readonly resolve: (reply: AcquireResult) => void;
      readonly reject: (err: unknown) => void;
      /** Failures are decided by fail mode (acquire) or thrown (peek). */
      readonly peek: boolean;
    }
  | {
      readonly kind: 'S';
      readonly holdId: string;
      readonly settlements: readonly Settlement[];
      readonly resolve: () => void;
    };

export class RedisQuotaStore implements QuotaStore {
  readonly #state: RedisState;
  readonly #ttl: number;
  readonly #clock: () => number;
  readonly #failOpen: boolean;
  readonly #maxHold: number;
  readonly #onEvent: StateEventHook;
  readonly #live = new Map<string, Live>();
  readonly #heartbeat: NodeJS.Timeout;
  readonly #names = new Map<string, readonly [string, string, string]>();
  #queue: Op[] = [];
  #scheduled = false;
  #inFlight = 0;
  #waiting: NodeJS.Timeout | null = null;

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

  /** Data, holds and amounts keys of a counter (the data key of a fixed window names the window). */
  #keys(key: string, w: CounterWindow): readonly [string, string, string] {
    let names = this.#names.get(key);
    if (names === undefined) {
      if (this.#names.size >= MAX_CACHED_KEYS) this.#names.clear();
      const base = this.#state.key('q:' + key);
      names = [base + ':w', base + ':r', base + ':h'];
      this.#names.set(key, names);
    }
    if (w.kind !== 'fixed') return names;
    return [`${this.#state.key('q:' + key)}:f:${w.start}`, names[1], names[2]];
  }

  #failure(err: unknown, decision: 'open' | 'closed' | null): void {
    const error = err instanceof Error ? err : new Error(String(err));
    this.#onEvent({ component: 'quota', kind: 'error', decision, error });
  }

  #enqueue(op: Op): void {
    this.#queue.push(op);
    this.#schedule();
  }

  /**
   * Sends the queue at the end of this event-loop turn; while a call is out, what comes in waits for its
   * reply (so under load each call carries more and there are fewer socket writes), but never longer
   * than WAIT_MS, which keeps every decision within the command timeout of its own call plus that.
   */
  #schedule(): void {
    if (this.#queue.length === 0) return;
    if (this.#inFlight === 0) {
      if (!this.#scheduled) {
        this.#scheduled = true;
        setImmediate(() => this.#flush());
      }
    } else if (this.#waiting === null) {
      this.#waiting = setTimeout(() => this.#flush(), WAIT_MS);
      this.#waiting.unref();
    }
  }

  acquire(holdId: string, counters: readonly CounterRequest[]): Promise<AcquireResult> {
    return new Promise((resolve, reject) =>
      this.#enqueue({ kind: 'A', holdId, counters, resolve, reject, peek: false }),
    );
  }

  settle(holdId: string, settlements: readonly Settlement[]): Promise<void> {
    this.#live.delete(holdId);
    if (settlements.length === 0) return Promise.resolve();
    return new Promise((resolve) => this.#enqueue({ kind: 'S', holdId, settlements, resolve }));
  }

  async peek(counters: readonly Pick<CounterRequest, 'key' | 'window'>[]): Promise<readonly CounterState[]> {
    const probes = counters.map((c) => ({
      key: c.key,
      window: c.window,
      cap: MAX_CAP,
      amount: 0,
      hold: false,
    }));
    const result = await new Promise<AcquireResult>((resolve, reject) =>
      this.#enqueue({ kind: 'A', holdId: '', counters: probes, resolve, reject, peek: true }),
    );
    return result.states;
  }

  #flush(): void {
    this.#scheduled = false;
    if (this.#waiting !== null) {
      clearTimeout(this.#waiting);
      this.#waiting = null;
    }
    const queue = this.#queue;
    this.#queue = [];
    for (let i = 0; i < queue.length; i += MAX_OPS) {
      this.#inFlight++;
      void this.#send(queue.slice(i, i + MAX_OPS)).finally(() => {
        this.#inFlight--;
        this.#schedule();
      });
    }
  }

  async #send(ops: readonly Op[]): Promise<void> {
    const now = this.#clock();
    // Each counter goes once into KEYS (and its window into ARGV); operations name it by number.
    const keys: string[] = [];
    const table: (string | number)[] = [];
    const numbers = new Map<string, number>();
    const counter = (key: string, w: CounterWindow): number => {
      const k = this.#keys(key, w);
      const id = k[0];
      let n = numbers.get(id);
      if (n === undefined) {
        n = numbers.size + 1;
        numbers.set(id, n);
        keys.push(k[0], k[1], k[2]);
        if (w.kind === 'sliding') table.push(1, w.ms, w.bucketMs);
        else if (w.kind === 'fixed') table.push(2, w.start, w.end);
        else table.push(0, 0, 0);
      }
      return n;
    };
    const list: (string | number)[] = [];
    for (const op of ops) {
      if (op.kind === 'A') {
        list.push('A', op.holdId, op.counters.length);
        for (const c of op.counters) {
          const cap = Math.min(Math.floor(c.cap), MAX_CAP);
          list.push(counter(c.key, c.window), cap, Math.ceil(c.amount), c.hold ? 1 : 0);
        }
      } else {
        list.push('S', op.holdId, op.settlements.length);
        for (const s of op.settlements) {
          list.push(counter(s.key, s.window), Math.max(0, Math.ceil(s.actual)));
        }
      }
    }
    const args = [JSON.stringify([now, now + this.#ttl, numbers.size, ...table, ...list])];
    let reply: number[];
    try {
      reply = (await this.#state.run(QUOTA_BATCH, keys, args)) as number[];
    } catch (err) {
      for (const op of ops) this.#failed(op, err);
      // What queued up behind this call would most likely meet the same fate: decide it now.
      const behind = this.#queue;
      this.#queue = [];
      for (const op of behind) this.#failed(op, err);
      return;
    }
    let at = 0;
    for (const op of ops) {
      if (op.kind === 'S') {
        op.resolve();
        continue;
      }
      const n = op.counters.length;
      if (reply[at] === 1) {
        const states = readStates(reply, at + 1, n);
        at += 1 + 2 * n;
        if (!op.peek) this.#track(op.holdId, op.counters, now);
        op.resolve({ ok: true, degraded: false, states });
      } else {
        const failed = reply[at + 1] ?? 0;
        const retryAfterMs = reply[at + 2] ?? 1_000;
        const states = readStates(reply, at + 3, n);
        at += 3 + 2 * n;
        op.resolve({ ok: false, failed, retryAfterMs, states });
      }
    }
  }

  /** Remembers an admitted acquisition's holds for the heartbeat. */
  #track(holdId: string, counters: Extract<Op, { kind: 'A' }>['counters'], now: number): void {
    let held: string[] | null = null;
    for (const c of counters) {
      if (!c.hold || c.amount <= 0) continue;
      const k = this.#keys(c.key, c.window);
      (held ??= []).push(k[1], k[2]);
    }
    if (held !== null) this.#live.set(holdId, { keys: held, since: now });
  }

  #failed(op: Op, err: unknown): void {
    if (op.kind === 'S') {
      // The hold expires by itself; the actual amount is lost to the counter (the ledger still has it).
      this.#failure(err, null);
      op.resolve();
      return;
    }
    if (op.peek) {
      op.reject(err);
      return;
    }
    this.#failure(err, this.#failOpen ? 'open' : 'closed');
    if (!this.#failOpen) {
      op.reject(
        new GatewayError('state_unavailable', 'Limits cannot be checked right now; try again shortly.', {
          cause: err,
          headers: { 'retry-after': '1' },
        }),
      );
      return;
    }
    op.resolve({ ok: true, degraded: true, states: op.counters.map(() => ({ used: 0, resetMs: 0 })) });
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

function readStates(reply: readonly number[], from: number, n: number): CounterState[] {
  const out: CounterState[] = new Array<CounterState>(n);
  for (let i = 0; i < n; i++) {
    out[i] = { used: reply[from + 2 * i] ?? 0, resetMs: Math.max(0, reply[from + 2 * i + 1] ?? 0) };
  }
  return out;
}
