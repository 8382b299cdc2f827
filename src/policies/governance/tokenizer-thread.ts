import { Worker } from 'node:worker_threads';
import { countBpeTokens } from '../../core/tokenizer.ts';
import { WorkerCalls } from '../../core/worker-calls.ts';

// BPE token counts on a worker thread. The tokenizer's tables are large (some 75 MB of small objects):
// in the gateway's own heap every major garbage collection has to walk them, which costs the event loop
// and the collector's helper threads time on every request. In a worker they live in a heap of their own,
// and a long prompt is tokenized without holding the event loop either. If the worker cannot run, counts
// are made on this thread.

interface Count {
  readonly texts: readonly string[];
}

export class TokenizerThread {
  #calls: WorkerCalls<Count> | null = null;
  #broken = false;

  #start(): WorkerCalls<Count> | null {
    if (this.#calls !== null || this.#broken) return this.#calls;
    try {
      const worker = new Worker(new URL('./tokenizer-worker.ts', import.meta.url));
      const calls = new WorkerCalls<Count>(worker);
      const fail = (): void => this.#fail(calls);
      worker.on('error', fail);
      worker.on('exit', fail);
      this.#calls = calls;
    } catch {
      this.#broken = true;
    }
    return this.#calls;
  }

  /** The worker is gone: count what it was asked on this thread, and every later text too. */
  #fail(calls: WorkerCalls<Count>): void {
    this.#broken = true;
    this.#calls = null;
    calls.abandon((m, resolve) => resolve(m.texts.map(countBpeTokens)));
  }

  /** Starts the worker and loads its tables ahead of the first request that needs them. */
  warm(): void {
    void this.count(['']);
  }

  count(texts: readonly string[]): Promise<number[]> {
    const calls = this.#start();
    if (calls === null) return Promise.resolve(texts.map(countBpeTokens));
    return calls.call<number[]>({ texts });
  }
}

export const tokenizerThread = new TokenizerThread();
