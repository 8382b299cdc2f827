import { Worker } from 'node:worker_threads';
import type {
  LedgerBackend,
  UsageFilter,
  UsageGroup,
  UsagePage,
  UsageRecord,
  UsageTotals,
} from '../contracts/governance.ts';
import { WorkerCalls } from '../core/worker-calls.ts';
import { encodeRows } from './ledger-rows.ts';
import { SqliteLedgerBackend, type SqliteLedgerOptions } from './ledger-sqlite.ts';

// The embedded ledger on a worker thread: node:sqlite is synchronous, so writing a batch on the event
// loop holds every request for as long as it takes (about 5 µs a record). Here the database lives in
// a worker (ledger-sqlite-worker.ts) and the event loop only hands batches over, flattened into typed
// arrays that are moved, not copied (ledger-rows.ts). Queries go to the worker too. A file database is
// opened once on this thread first, so a bad path or table fails at start, as with the synchronous
// backend.

type Method = 'insertRows' | 'page' | 'totals' | 'close';

interface Call {
  readonly method: Method;
  readonly args: readonly unknown[];
}

export class ThreadedSqliteLedgerBackend implements LedgerBackend {
  readonly #worker: Worker;
  readonly #calls: WorkerCalls<Call>;
  #failed: Error | null = null;
  #closed: Promise<void> | null = null;

  constructor(options: SqliteLedgerOptions) {
    if (options.path !== ':memory:') {
      // Creates the table and surfaces a bad path now; the worker opens the same file.
      void new SqliteLedgerBackend(options).close();
    }
    this.#worker = new Worker(new URL('./ledger-sqlite-worker.ts', import.meta.url), {
      workerData: options,
    });
    this.#calls = new WorkerCalls<Call>(this.#worker);
    const fail = (err: Error): void => {
      this.#failed = err;
      this.#calls.abandon((_call, _resolve, reject) => reject(err));
    };
    this.#worker.on('error', fail);
    this.#worker.on('exit', (code) => {
      if (this.#closed === null) fail(new Error(`ledger worker exited (code ${code})`));
    });
  }

  #call<T>(method: Method, args: readonly unknown[], transfer: ArrayBuffer[] = []): Promise<T> {
    if (this.#failed !== null) return Promise.reject(this.#failed);
    return this.#calls.call<T>({ method, args }, transfer);
  }

  insert(records: readonly UsageRecord[]): Promise<void> {
    // Flattened, and its buffers moved rather than copied (ledger-rows.ts).
    const batch = encodeRows(records);
    return this.#call('insertRows', [batch], [batch.numbers.buffer, batch.texts.buffer]);
  }

  page(filter: UsageFilter, limit: number, after: string | null): Promise<UsagePage> {
    return this.#call('page', [filter, limit, after]);
  }

  totals(filter: UsageFilter, groupBy: UsageGroup | null): Promise<UsageTotals[]> {
    return this.#call('totals', [filter, groupBy]);
  }

  close(): Promise<void> {
    this.#closed ??= (async () => {
      try {
        if (this.#failed === null) await this.#call('close', []);
      } finally {
        await this.#worker.terminate();
      }
    })();
    return this.#closed;
  }
}
