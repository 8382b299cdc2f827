import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { GpuBusy } from './gpu-busy.ts';
import { readTelemetry, emptyTelemetry } from '../scheduling/engine-metrics.ts';
import { renderMetrics } from './metrics.ts';
import { resolveSimOptions } from './options.ts';
import { Scheduler } from './scheduler.ts';
import { tokenizePrompt } from './tokens.ts';

// The simulated GPU's utilisation: the share of the last window in which a step ran, and its DCGM gauge.

describe('GpuBusy', () => {
  it('sums the busy part of the window, merging back-to-back steps', () => {
    const b = new GpuBusy();
    assert.equal(b.fraction(1000, 1000, null), 0);
    b.add(100, 120);
    b.add(120, 140); // back to back: one interval
    b.add(500, 700);
    assert.equal(b.fraction(1000, 1000, null), 0.24);
    assert.equal(b.fraction(1000, 500, null), 0.4); // only [500, 700] lies in [500, 1000]
    assert.equal(b.fraction(1600, 1000, null), 0.1); // [600, 700]
    assert.equal(b.fraction(2000, 1000, null), 0);
  });

  it('counts the running step up to now, and never more than the window', () => {
    const b = new GpuBusy();
    b.add(0, 900);
    assert.equal(b.fraction(1000, 1000, { startAt: 900, endAt: 1200 }), 1);
    assert.equal(b.fraction(1000, 1000, { startAt: 950, endAt: 1200 }), 0.95);
    assert.equal(b.fraction(950, 100, { startAt: 900, endAt: 1200 }), 1);
  });

  it('keeps the newest intervals when the ring is full', () => {
    const b = new GpuBusy();
    for (let i = 0; i < 1000; i++) b.add(i * 10, i * 10 + 5);
    assert.equal(b.fraction(10_000, 1000, null), 0.5);
  });
});

describe('sim GPU metrics', () => {
  it('a busy engine reports ~100 %, an idle one 0 %, read back as DCGM by the vLLM map', async () => {
    const s = new Scheduler(resolveSimOptions({ timeScale: 0.2, gpuMetrics: true }));
    try {
      const t = emptyTelemetry();
      assert.ok(readTelemetry('vllm', renderMetrics(s), t));
      assert.equal(t.gpuUtilization, 0);
      let finished = false;
      const sink = { token() {}, flush() {}, finish: () => (finished = true) };
      const prompt = tokenizePrompt('a long decode keeps the GPU busy', 16);
      const seq = s.submit({
        prompt,
        maxTokens: 400,
        finishReason: 'length',
        lora: null,
        chainSeed: 0,
        fillerSeed: 0,
        sink,
      });
      // ~2.4 ms steps for ~1 s: after more than one simulated second (200 ms) of steady decoding, the
      // window is (nearly) all busy; the margin allows for event-loop lag in a loaded test run.
      await new Promise((r) => setTimeout(r, 300));
      assert.ok(readTelemetry('vllm', renderMetrics(s), t));
      assert.ok(!finished);
      assert.ok(t.gpuUtilization >= 0.7, `busy engine reported ${t.gpuUtilization}`);
      assert.match(
        renderMetrics(s),
        /^DCGM_FI_DEV_GPU_UTIL\{gpu="0",UUID="GPU-[0-9-]+",device="nvidia0",modelName="Simulated GPU"\} \d+$/m,
      );
      s.abort(seq);
      await new Promise((r) => setTimeout(r, 250));
      assert.ok(readTelemetry('vllm', renderMetrics(s), t));
      assert.equal(t.gpuUtilization, 0);
    } finally {
      s.close();
    }
  });

  it('is left off the page by default', () => {
    const s = new Scheduler(resolveSimOptions({}));
    s.close();
    assert.ok(!renderMetrics(s).includes('DCGM_FI_DEV_GPU_UTIL'));
  });
});
