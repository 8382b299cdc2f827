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
import { newRequestId } from '../core/ids.ts';

// Counters in Redis, shared by every replica: each acquisition and settlement is applied atomically by
// one script, so limits hold exactly however many replicas admit at once.
//
// Reservations are counted per replica (quota-lua.ts): this store knows what each of its requests reserved,
// gives it back when the request settles, and keeps its replica's share of each counter alive with a
// heartbeat; when the replica dies its shares expire after the reservation TTL and free what they held.
// When a call fails, Redis may or may not have applied it, so the next call that is alone on the wire
// (nothing sent before it is still unanswered) resets this replica's shares to what it knows.
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
const NONE: CounterWindow = { kind: 'none' };
/** Operations per script call: bounds how long one call holds Redis. */
const MAX_OPS = 64;
/** How long an operation waits for the call out before it is sent anyway. */
const WAIT_MS = 5;
/** Redis key names cached per counter key (reset when it grows past this). */
const MAX_CACHED_KEYS = 10_000;

/** Redis key names of a counter: data, shares (each replica's part of its holds). */
type Names = readonly [string, string];

/** What one admitted request reserved, per counter key (and the share it counts in), until it settles. */
interface Hold {
  readonly since: number;
  readonly keys: string[];
  readonly shares: Share[];
  readonly amounts: number[];
}

/** This replica's share of one counter's holds, as it knows it. */
interface Share {
  readonly names: Names;
  amount: number;
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
      readonly hold: Hold | undefined;
      readonly settlements: readonly Settlement[];
      readonly resolve: () => void;
    };

const ACQUIRE = 1;
const SETTLE = 2;
const RESYNC = 3;
const REFRESH = 4;

export class RedisQuotaStore implements QuotaStore {
  readonly #state: RedisState;
  readonly #ttl: number;
  readonly #clock: () => number;
  readonly #failOpen: boolean;
  readonly #maxHold: number;
  readonly #onEvent: StateEventHook;
  /** This replica's id in the counters' holds (a restarted process is a new replica). */
  readonly #rid = newRequestId();
  readonly #holds = new Map<string, Hold>();
  /** By shares key. Entries at 0 stay until a resync has written the 0. */
  readonly #shares = new Map<string, Share>();
  readonly #heartbeat: NodeJS.Timeout;
  readonly #names = new Map<string, Names>();
  #queue: Op[] = [];
  #scheduled = false;
  #inFlight = 0;
  #waiting: NodeJS.Timeout | null = null;
  /** The heartbeat is due: refresh (or resync) this replica's shares with the next call. */
  #refresh = false;
  /** A call failed: this replica's shares in Redis may differ from what it knows. */
  #resync = false;

  constructor(options: RedisQuotaStoreOptions) {
    this.#state = options.state;
    this.#ttl = options.reservationTtlMs ?? 30_000;
    this.#clock = options.clock ?? Date.now;
    this.#failOpen = (options.failMode ?? 'open') === 'open';
    this.#maxHold = options.maxHoldMs ?? 3_600_000;
    this.#onEvent = options.onEvent ?? (() => {});
    this.#heartbeat = setInterval(() => this.#beat(), Math.max(10, Math.floor(this.#ttl / 3)));
    this.#heartbeat.unref();
  }

  /** Data and shares keys of a counter (the data key of a fixed window names the window). */
  #keys(key: string, w: CounterWindow): Names {
    let names = this.#names.get(key);
    if (names === undefined) {
      if (this.#names.size >= MAX_CACHED_KEYS) this.#names.clear();
      const base = this.#state.key('q:' + key);
      names = [base + ':w', base + ':s'];
      this.#names.set(key, names);
    }
    if (w.kind !== 'fixed') return names;
    return [`${this.#state.key('q:' + key)}:f:${w.start}`, names[1]];
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
    if (this.#queue.length === 0 && !this.#refresh) return;
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

  /** Every TTL/3: drops holds older than maxHold (requests that never ended), then refreshes the rest. */
  #beat(): void {
    const now = this.#clock();
    for (const [id, hold] of this.#holds) {
      if (now - hold.since <= this.#maxHold) break; // in order of admission
      this.#holds.delete(id);
      for (let i = 0; i < hold.keys.length; i++) release(hold, i);
      this.#resync = true;
    }
    if (this.#shares.size === 0 || !this.#state.healthy) return;
    this.#refresh = true;
    this.#schedule();
  }

  /** This replica's share of counter `key`'s holds, created at 0 on first use. */
  #share(key: string): Share {
    const names = this.#keys(key, NONE);
    let share = this.#shares.get(names[1]);
    if (share === undefined) {
      share = { names, amount: 0 };
      this.#shares.set(names[1], share);
    }
    return share;
  }

  acquire(holdId: string, counters: readonly CounterRequest[]): Promise<AcquireResult> {
    return new Promise((resolve, reject) =>
      this.#enqueue({ kind: 'A', holdId, counters, resolve, reject, peek: false }),
    );
  }

  settle(holdId: string, settlements: readonly Settlement[]): Promise<void> {
    const hold = this.#holds.get(holdId);
    if (hold !== undefined) this.#holds.delete(holdId);
    if (settlements.length === 0 && hold === undefined) return Promise.resolve();
    return new Promise((resolve) => this.#enqueue({ kind: 'S', hold, settlements, resolve }));
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
    if (queue.length === 0 && !this.#refresh) return;
    this.#queue = [];
    let i = 0;
    do {
      this.#inFlight++;
      void this.#send(queue.slice(i, i + MAX_OPS)).finally(() => {
        this.#inFlight--;
        this.#schedule();
      });
      i += MAX_OPS;
    } while (i < queue.length);
  }

  async #send(ops: readonly Op[]): Promise<void> {
    const now = this.#clock();
    // Each counter goes once into KEYS (and its window into ARGV); operations name it by number.
    const keys: string[] = [];
    const table: (string | number)[] = [];
    const numbers = new Map<string, number>();
    const counter = (names: Names, w: CounterWindow): number => {
      const id = names[0];
      let n = numbers.get(id);
      if (n === undefined) {
        n = numbers.size + 1;
        numbers.set(id, n);
        keys.push(names[0], names[1]);
        if (w.kind === 'sliding') table.push(1, w.ms, w.bucketMs);
        else if (w.kind === 'fixed') table.push(2, w.start, w.end);
        else table.push(0, 0, 0);
      }
      return n;
    };
    // This replica's shares as they stand before this call's operations (which run after them). A resync
    // only when nothing sent earlier is still unanswered: its effect on the shares is then known, or void.
    let resync: { readonly shares: Share[]; readonly amounts: number[] } | null = null;
    let refresh: Share[] | null = null;
    if ((this.#refresh || this.#resync) && this.#inFlight === 1) {
      const shares = [...this.#shares.values()];
      resync = { shares, amounts: shares.map((share) => share.amount) };
      this.#refresh = this.#resync = false;
    } else if (this.#refresh) {
      refresh = [...this.#shares.values()].filter((share) => share.amount > 0);
      this.#refresh = false;
    }
    const list: number[] = [];
    for (const op of ops) {
      if (op.kind === 'A') {
        list.push(ACQUIRE, op.counters.length);
        for (const c of op.counters) {
          const cap = Math.min(Math.floor(c.cap), MAX_CAP);
          list.push(counter(this.#keys(c.key, c.window), c.window), cap, Math.ceil(c.amount), c.hold ? 1 : 0);
        }
      } else {
        const { hold } = op;
        const at = list.length;
        list.push(SETTLE, 0);
        for (const s of op.settlements) {
          const i = hold === undefined ? -1 : hold.keys.indexOf(s.key);
          list.push(
            counter(this.#keys(s.key, s.window), s.window),
            i < 0 ? 0 : release(hold!, i),
            Math.max(0, Math.ceil(s.actual)),
          );
        }
        // Reservations on counters the settlement did not name are given back too.
        for (let i = 0; hold !== undefined && i < hold.keys.length; i++) {
          if (hold.amounts[i]! > 0) list.push(counter(hold.shares[i]!.names, NONE), release(hold, i), 0);
        }
        list[at + 1] = (list.length - at - 2) / 3;
      }
    }
    // Registered after the operations' counters, which carry the windows (a share's names carry none).
    const head: number[] = [];
    if (resync !== null) {
      head.push(RESYNC, resync.shares.length);
      for (let i = 0; i < resync.shares.length; i++)
        head.push(counter(resync.shares[i]!.names, NONE), resync.amounts[i]!);
    } else if (refresh !== null) {
      head.push(REFRESH, refresh.length);
      for (const share of refresh) head.push(counter(share.names, NONE));
    }
    const args = [
      JSON.stringify([now, now + this.#ttl, this.#rid, numbers.size, ...table, ...head, ...list]),
    ];
    let reply: number[];
    try {
      reply = (await this.#state.run(QUOTA_BATCH, keys, args)) as number[];
    } catch (err) {
      this.#resync = true;
      for (const op of ops) this.#failed(op, err);
      // What queued up behind this call would most likely meet the same fate: decide it now.
      const behind = this.#queue;
      this.#queue = [];
      for (const op of behind) this.#failed(op, err);
      return;
    }
    if (resync !== null) {
      // Shares written as 0 and still 0 are gone from Redis too.
      for (const share of resync.shares) if (share.amount === 0) this.#shares.delete(share.names[1]);
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

  /** Remembers an admitted acquisition's reservations, and adds them to this replica's shares. */
  #track(holdId: string, counters: Extract<Op, { kind: 'A' }>['counters'], now: number): void {
    let hold: Hold | null = null;
    for (const c of counters) {
      if (!c.hold || c.amount <= 0) continue;
      const amount = Math.ceil(c.amount);
      hold ??= { since: now, keys: [], shares: [], amounts: [] };
      const i = hold.keys.indexOf(c.key);
      const share = i >= 0 ? hold.shares[i]! : this.#share(c.key);
      if (i >= 0) hold.amounts[i]! += amount;
      else {
        hold.keys.push(c.key);
        hold.shares.push(share);
        hold.amounts.push(amount);
      }
      share.amount += amount;
    }
    if (hold !== null) this.#holds.set(holdId, hold);
  }

  #failed(op: Op, err: unknown): void {
    if (op.kind === 'S') {
      // Redis may or may not have applied it; the resync settles which. The actual amount is lost to the
      // counter (the ledger still has it).
      this.#failure(err, null);
      op.resolve();
      return;
    }
    // Redis may have applied it: the resync writes this counter's share (0 if this replica holds none).
    for (const c of op.counters) if (c.hold && c.amount > 0) this.#share(c.key);
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

  /** Stops the heartbeat. Holds still open are left to expire (as if this replica had died). */
  async close(): Promise<void> {
    clearInterval(this.#heartbeat);
    this.#holds.clear();
    this.#shares.clear();
  }
}

/** Takes entry `i` of a hold off this replica's share; returns its amount (0 once given back). */
function release(hold: Hold, i: number): number {
  const amount = hold.amounts[i]!;
  hold.amounts[i] = 0;
  hold.shares[i]!.amount -= amount;
  return amount;
}

function readStates(reply: readonly number[], from: number, n: number): CounterState[] {
  const out: CounterState[] = new Array<CounterState>(n);
  for (let i = 0; i < n; i++) {
    out[i] = { used: reply[from + 2 * i] ?? 0, resetMs: Math.max(0, reply[from + 2 * i + 1] ?? 0) };
  }
  return out;
}
