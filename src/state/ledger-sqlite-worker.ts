import { parentPort, workerData } from 'node:worker_threads';
import { answerCalls } from '../core/worker-calls.ts';
import { SqliteLedgerBackend, type SqliteLedgerOptions } from './ledger-sqlite.ts';

// The worker side of ThreadedSqliteLedgerBackend: one SqliteLedgerBackend, called in message order.

interface Call {
  readonly method: 'insertRows' | 'page' | 'totals' | 'close';
  readonly args: readonly unknown[];
}

const backend = new SqliteLedgerBackend(workerData as SqliteLedgerOptions);

if (parentPort !== null) {
  answerCalls(parentPort, (call: Call) =>
    (backend[call.method] as (...a: unknown[]) => Promise<unknown>).apply(backend, call.args as unknown[]),
  );
}
