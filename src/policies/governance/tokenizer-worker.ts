import { parentPort } from 'node:worker_threads';
import { countBpeTokens } from '../../core/tokenizer.ts';

// The worker side of TokenizerThread: counts the texts of each message, in order.

parentPort?.on('message', (m: { readonly id: number; readonly texts: readonly string[] }) => {
  parentPort?.postMessage({ id: m.id, counts: m.texts.map(countBpeTokens) });
});
