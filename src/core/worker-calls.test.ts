import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Worker } from 'node:worker_threads';
import { WorkerCalls } from './worker-calls.ts';

// Calls to a real worker thread that answers through answerCalls: values, thrown errors, and calls
// still waiting when the worker goes away.

const WORKER = `
const { parentPort } = require('node:worker_threads');
import(${JSON.stringify(new URL('./worker-calls.ts', import.meta.url).href)}).then(({ answerCalls }) =>
  answerCalls(parentPort, (m) => {
    if (m.op === 'fail') throw new Error('no such thing');
    if (m.op === 'hang') return new Promise(() => {});
    return m.x * 2;
  }),
);
`;

test('a worker call resolves with its answer, rejects with its error, and abandoned calls settle', async () => {
  const worker = new Worker(WORKER, { eval: true });
  const calls = new WorkerCalls<{ op: string; x?: number }>(worker);
  assert.deepEqual(
    await Promise.all([
      calls.call<number>({ op: 'double', x: 21 }),
      calls.call<number>({ op: 'double', x: 2 }),
    ]),
    [42, 4],
  );
  await assert.rejects(calls.call({ op: 'fail' }), /no such thing/);
  const waiting = calls.call<string>({ op: 'hang' });
  await worker.terminate();
  calls.abandon((m, resolve) => resolve(`answered here: ${m.op}`));
  assert.equal(await waiting, 'answered here: hang');
});
