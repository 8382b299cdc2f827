import { parentPort, workerData } from 'node:worker_threads';
import { SqliteLedgerBackend, type SqliteLedgerOptions } from './ledger-sqlite.ts';

// The worker side of ThreadedSqliteLedgerBackend: one SqliteLedgerBackend, called in message order.

interface Call {
  readonly id: number;
  readonly method: 'insertRows' | 'page' | 'totals' | 'close';
  readonly args: readonly unknown[];
}

const backend = new SqliteLedgerBackend(workerData as SqliteLedgerOptions);
const port = parentPort;

port?.on('message', (call: Call) => {
  const run = (backend[call.method] as (...a: unknown[]) => Promise<unknown>).apply(
    backend,
    call.args as unknown[],
  );
  run.then(
    (value) => port.postMessage({ id: call.id, ok: true, value }),
    (err: unknown) =>
      port.postMessage({ id: call.id, ok: false, error: err instanceof Error ? err.message : String(err) }),
  );
});
