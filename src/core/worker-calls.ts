import type { Worker } from 'node:worker_threads';

// Request/reply calls to a worker thread. Each message goes out with an id; the worker answers
// { id, ok: true, value } or { id, ok: false, error }. While a call waits the worker keeps the process
// alive (a flush at shutdown must finish); an idle worker does not.

export interface WorkerReply {
  readonly id: number;
  readonly ok: boolean;
  readonly value?: unknown;
  readonly error?: string;
}

interface Pending<M> {
  readonly message: M;
  readonly resolve: (value: unknown) => void;
  readonly reject: (err: Error) => void;
}

export class WorkerCalls<M extends object> {
  readonly #worker: Worker;
  readonly #pending = new Map<number, Pending<M>>();
  #next = 0;

  constructor(worker: Worker) {
    this.#worker = worker;
    worker.unref();
    worker.on('message', (reply: WorkerReply) => {
      const waiting = this.#pending.get(reply.id);
      if (waiting === undefined) return;
      this.#pending.delete(reply.id);
      if (this.#pending.size === 0) worker.unref();
      if (reply.ok) waiting.resolve(reply.value);
      else waiting.reject(new Error(reply.error ?? 'worker call failed'));
    });
  }

  call<R>(message: M, transfer: readonly ArrayBuffer[] = []): Promise<R> {
    const id = this.#next++;
    if (this.#pending.size === 0) this.#worker.ref();
    return new Promise<R>((resolve, reject) => {
      this.#pending.set(id, { message, resolve: resolve as (value: unknown) => void, reject });
      this.#worker.postMessage({ ...message, id }, transfer);
    });
  }

  /** The worker is gone: every call still waiting is settled by `settle` (an answer made here, or an error). */
  abandon(
    settle: (message: M, resolve: (value: unknown) => void, reject: (err: Error) => void) => void,
  ): void {
    const pending = [...this.#pending.values()];
    this.#pending.clear();
    for (const p of pending) settle(p.message, p.resolve, p.reject);
  }
}

/** The worker side: answers each message with what `handle` returns (or throws), in the reply shape above. */
export function answerCalls<M>(
  port: {
    on(event: 'message', listener: (m: M & { readonly id: number }) => void): unknown;
    postMessage(reply: WorkerReply): void;
  },
  handle: (message: M) => unknown,
): void {
  port.on('message', (m) => {
    Promise.resolve()
      .then(() => handle(m))
      .then(
        (value) => port.postMessage({ id: m.id, ok: true, value }),
        (err: unknown) =>
          port.postMessage({ id: m.id, ok: false, error: err instanceof Error ? err.message : String(err) }),
      );
  });
}
