import { Readable } from 'node:stream';
import type {
  LedgerBackend,
  StateEventHook,
  UsageFilter,
  UsageGroup,
  UsageLedger,
  UsagePage,
  UsageRecord,
  UsageTotals,
} from '../contracts/governance.ts';
import { exportLines } from './ledger-export.ts';

// The usage ledger: `append` only queues (the hot path never waits on a database); batches are written
// when `batchSize` records are queued or every `flushIntervalMs`, one write at a time. A failed batch
// goes back to the head of the queue and is retried on the next tick; past `maxQueue` the oldest records
// are dropped and reported. `close` writes everything still queued, so a graceful shutdown loses nothing.

export interface LedgerOptions {
  readonly backend: LedgerBackend;
  readonly batchSize?: number;
  readonly flushIntervalMs?: number;
  readonly maxQueue?: number;
  readonly onEvent?: StateEventHook;
  /** Records dropped because the queue overflowed while the backend was failing. */
  readonly onDrop?: (count: number) => void;
}

export class BatchedLedger implements UsageLedger {
  readonly #backend: LedgerBackend;
  readonly #batchSize: number;
  readonly #maxQueue: number;
  readonly #onEvent: StateEventHook;
  readonly #onDrop: (count: number) => void;
  readonly #timer: NodeJS.Timeout;
  /** Queued records are #queue[#head…]: taking a batch or dropping the oldest moves #head (O(1)). */
  #queue: UsageRecord[] = [];
  #head = 0;
  #writing: Promise<void> | null = null;
  #closed = false;

  constructor(options: LedgerOptions) {
    this.#backend = options.backend;
    this.#batchSize = options.batchSize ?? 500;
    this.#maxQueue = options.maxQueue ?? 100_000;
    this.#onEvent = options.onEvent ?? (() => {});
    this.#onDrop = options.onDrop ?? (() => {});
    this.#timer = setInterval(() => {
      if (this.pending > 0 && this.#writing === null) void this.#drain(true);
    }, options.flushIntervalMs ?? 1_000);
    this.#timer.unref();
  }

  /** Records queued and not yet written. */
  get pending(): number {
    return this.#queue.length - this.#head;
  }

  append(record: UsageRecord): void {
    if (this.#closed) {
      this.#onDrop(1);
      return;
    }
    this.#queue.push(record);
    const excess = this.pending - this.#maxQueue;
    if (excess > 0) {
      this.#advance(excess);
      this.#onDrop(excess);
    }
    if (this.pending >= this.#batchSize && this.#writing === null) void this.#drain(false);
  }

  /** Removes and returns the `n` oldest queued records. */
  #take(n: number): UsageRecord[] {
    const batch = this.#queue.slice(this.#head, this.#head + n);
    this.#advance(batch.length);
    return batch;
  }

  /** Forgets the `n` oldest queued records (compacting the array now and then). */
  #advance(n: number): void {
    this.#head += n;
    if (this.#head >= this.#queue.length) {
      this.#queue = [];
      this.#head = 0;
    } else if (this.#head > 4_096 && this.#head * 2 > this.#queue.length) {
      this.#queue = this.#queue.slice(this.#head);
      this.#head = 0;
    }
  }

  /** Writes full batches (and, when `all`, the partial one at the end); true when the queue is empty. */
  #drain(all: boolean): Promise<boolean> {
    const run = this.#writing ?? (this.#writing = this.#writeAll(all).finally(() => (this.#writing = null)));
    return run.then(() => this.pending === 0);
  }

  async #writeAll(all: boolean): Promise<void> {
    while (this.pending >= (all ? 1 : this.#batchSize)) {
      const batch = this.#take(this.#batchSize);
      try {
        await this.#backend.insert(batch);
      } catch (err) {
        this.#queue = batch.concat(this.#queue.slice(this.#head));
        this.#head = 0;
        const error = err instanceof Error ? err : new Error(String(err));
        this.#onEvent({ component: 'ledger', kind: 'error', decision: null, error });
        return;
      }
    }
  }

  async flush(): Promise<void> {
    // A write may be under way with records queued behind it: drain until empty or a write fails.
    for (let i = 0; i < 3; i++) {
      await this.#writing;
      if (await this.#drain(true)) return;
    }
    throw new Error(`usage ledger: ${this.pending} records could not be written`);
  }

  page(filter: UsageFilter, limit: number, after: string | null = null): Promise<UsagePage> {
    return this.#backend.page(filter, limit, after);
  }

  totals(filter: UsageFilter, groupBy: UsageGroup | null = null): Promise<UsageTotals[]> {
    return this.#backend.totals(filter, groupBy);
  }

  export(filter: UsageFilter, format: 'jsonl' | 'csv'): Readable {
    return Readable.from(exportLines(this.#backend, filter, format));
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    clearInterval(this.#timer);
    try {
      await this.flush();
    } finally {
      await this.#backend.close();
    }
  }
}
