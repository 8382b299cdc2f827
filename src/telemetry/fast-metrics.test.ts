import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Counter, Histogram, Registry } from 'prom-client';
import { FastCounter, FastHistogram } from './fast-metrics.ts';

// The fast metrics must print exactly what prom-client's own would for the same observations.

const BUCKETS = [0.005, 0.01, 0.1, 1, 10];
const OBSERVATIONS: [string, string, number][] = [
  ['a', 'x', 0.004],
  ['a', 'x', 0.005],
  ['a', 'y', 0.2],
  ['b\\"n\n', 'x', 12],
  ['a', 'x', 0.7],
  ['b\\"n\n', 'x', 0.01],
];

test('a FastHistogram prints what a prom-client Histogram prints', async () => {
  const slow = new Registry();
  const fast = new Registry();
  const config = { name: 'h_seconds', help: 'A histogram.', labelNames: ['model', 'op'] as const };
  const h = new Histogram({
    ...config,
    labelNames: [...config.labelNames],
    buckets: BUCKETS,
    registers: [slow],
  });
  const f = new FastHistogram({ ...config, buckets: BUCKETS, registers: [fast] });
  for (const [model, op, v] of OBSERVATIONS) {
    h.labels(model, op).observe(v);
    f.labels(model, op).observe(v);
  }
  f.labels('a', 'x').observe(Number.NaN); // ignored (prom-client would throw)
  assert.equal(await fast.metrics(), await slow.metrics());
});

test('a FastCounter prints what a prom-client Counter prints, with and without labels', async () => {
  const slow = new Registry();
  const fast = new Registry();
  const c = new Counter({
    name: 'c_total',
    help: 'A counter.',
    labelNames: ['model', 'op'],
    registers: [slow],
  });
  const f = new FastCounter({
    name: 'c_total',
    help: 'A counter.',
    labelNames: ['model', 'op'],
    registers: [fast],
  });
  const c0 = new Counter({ name: 'plain_total', help: 'No labels.', registers: [slow] });
  const f0 = new FastCounter({ name: 'plain_total', help: 'No labels.', registers: [fast] });
  assert.equal(await fast.metrics(), await slow.metrics()); // before anything is counted
  for (const [model, op, v] of OBSERVATIONS) {
    c.labels(model, op).inc(v);
    f.labels(model, op).inc(v);
  }
  c0.inc();
  f0.inc();
  f.labels('a', 'x').inc(-1); // ignored (prom-client would throw)
  assert.equal(await fast.metrics(), await slow.metrics());
  assert.throws(() => f.labels('only-one'), /expected 2 label values/);
});

test('an unlabelled FastHistogram prints its zero buckets before any observation, as prom-client does', async () => {
  const slow = new Registry();
  const fast = new Registry();
  const config = { name: 'u_seconds', help: 'Unlabelled.', buckets: BUCKETS };
  new Histogram({ ...config, registers: [slow] });
  new FastHistogram({ ...config, registers: [fast] });
  assert.equal(await fast.metrics(), await slow.metrics());
});
