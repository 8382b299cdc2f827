import { parentPort } from 'node:worker_threads';
import { countBpeTokens } from '../../core/tokenizer.ts';
import { answerCalls } from '../../core/worker-calls.ts';

// The worker side of TokenizerThread: counts the texts of each message, in order.

if (parentPort !== null) {
  answerCalls(parentPort, (m: { readonly texts: readonly string[] }) => m.texts.map(countBpeTokens));
}
