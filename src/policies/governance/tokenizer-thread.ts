import { Worker } from 'node:worker_threads';
import { countBpeTokens } from '../../core/tokenizer.ts';

// BPE token counts on a worker thread. The tokenizer's tables are large (some 75 MB of small objects):
// in the gateway's own heap every major garbage collection has to walk them, which costs the event loop
// and the collector's helper threads time on every request. In a worker they live in a heap of their own,
// and a long prompt is tokenized without holding the event loop either. If the worker cannot run, counts
// are made on this thread.

interface Waiting {
  readonly resolve: (counts: number[]) => void;
  readonly texts: readonly string[];
}

export class TokenizerThread {
  #worker: Worker | null = null;
  #broken = false;
  #next = 0;
  readonly #waiting = new Map<number, Waiting>();

  #start(): Worker | null {
    if (this.#worker !== null || this.#broken) return this.#worker;
    try {
      const worker = new Worker(new URL('./tokenizer-worker.ts', import.meta.url));
      worker.unref();
      worker.on('message', (m: { readonly id: number; readonly counts: number[] }) => {
        const w = this.#waiting.get(m.id);
        if (w === undefined) return;
        this.#waiting.delete(m.id);
        if (this.#waiting.size === 0) worker.unref();
        w.resolve(m.counts);
      });
      const fail = (): void => this.#fail();
      worker.on('error', fail);
      worker.on('exit', fail);
      this.#worker = worker;
    } catch {
      this.#broken = true;
    }
    return this.#worker;
  }

  /** The worker is gone: count what it was asked on this thread, and every later text too. */
  #fail(): void {
    this.#broken = true;
    this.#worker = null;
    for (const w of this.#waiting.values()) w.resolve(w.texts.map(countBpeTokens));
    this.#waiting.clear();
  }

  /** Starts the worker and loads its tables ahead of the first request that needs them. */
  warm(): void {
    void this.count(['']);
  }

  count(texts: readonly string[]): Promise<number[]> {
    const worker = this.#start();
    if (worker === null) return Promise.resolve(texts.map(countBpeTokens));
    const id = this.#next++;
    // A count in flight keeps the process alive.
    if (this.#waiting.size === 0) worker.ref();
    return new Promise((resolve) => {
      this.#waiting.set(id, { resolve, texts });
      worker.postMessage({ id, texts });
    });
  }
}

export const tokenizerThread = new TokenizerThread();
