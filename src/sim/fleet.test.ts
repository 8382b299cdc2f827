import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { parseSimArgs, runSim } from './cli.ts';
import { closeFleet, startFleet } from './fleet.ts';

describe('sim fleet and CLI', () => {
  it('starts a heterogeneous fleet', async () => {
    const fleet = await startFleet(3, { timeScale: 0.05, model: 'fleet-model', seed: 5 }, [
      {},
      { engine: 'sglang' },
      { numGpuBlocks: 1024 },
    ]);
    try {
      assert.equal(new Set(fleet.map((s) => s.port)).size, 3);
      assert.deepEqual(
        fleet.map((s) => s.config.seed),
        [5, 6, 7],
      );
      assert.equal(fleet[2]!.config.numGpuBlocks, 1024);
      const metrics = await Promise.all(fleet.map(async (s) => (await fetch(`${s.url}/metrics`)).text()));
      assert.match(metrics[0]!, /^# HELP vllm:num_requests_running/);
      assert.match(metrics[1]!, /sglang:num_queue_reqs\{model_name="fleet-model"\} 0/);
      assert.match(metrics[2]!, /num_gpu_blocks="1024"/);
    } finally {
      await closeFleet(fleet);
    }
  });

  it('parses the command line into options', () => {
    const parsed = parseSimArgs([
      '--replicas',
      '4',
      '--port',
      '9100',
      '--model',
      'm',
      '--time-scale',
      '0.1',
      '--lora',
      'a,b',
      '--lora',
      'c',
      '--engine',
      'tgi',
      '--error-rate',
      '0.1',
      '--error-status',
      '503',
      '--cut-after',
      '5',
      '--no-prefix-caching',
      '--overrides',
      '[{},{"perf":{"stepBaseMs":24}}]',
    ]);
    assert.equal(parsed.replicas, 4);
    assert.deepEqual(parsed.options.loraAdapters, ['a', 'b', 'c']);
    assert.equal(parsed.options.engine, 'tgi');
    assert.equal(parsed.options.enablePrefixCaching, false);
    assert.deepEqual(parsed.options.faults, {
      errorRate: 0.1,
      errorStatus: 503,
      cutAfterChunks: 5,
      cutRate: 1,
    });
    assert.deepEqual(parsed.overrides[1], { perf: { stepBaseMs: 24 } });
    assert.throws(() => parseSimArgs(['--time-scale', 'fast']), /must be a number/);
  });

  it('runs `switchyard sim`, printing URLs and POOL_ENDPOINTS, until stopped', async () => {
    const controller = new AbortController();
    let out = '';
    const running = runSim(['--replicas', '2', '--time-scale', '0.05'], {
      stdout: (t) => (out += t),
      stderr: () => {},
      signal: controller.signal,
    });
    const end = Date.now() + 2000;
    while (!out.includes('POOL_ENDPOINTS=') && Date.now() < end) await new Promise((r) => setTimeout(r, 5));
    const lines = out.trim().split('\n');
    assert.equal(lines.length, 3);
    assert.equal(lines[2], `POOL_ENDPOINTS=${lines[0]},${lines[1]}`);
    for (const url of lines.slice(0, 2)) assert.equal((await fetch(`${url}/health`)).status, 200);
    controller.abort();
    await running;
    await assert.rejects(fetch(`${lines[0]}/health`));
  });
});

describe('sim options', () => {
  it('rejects unknown and out-of-range options by name', async () => {
    await assert.rejects(
      startFleet(1, {}, [{ perf: { stepBase: 3 } as never }]),
      /perf\.stepBase is not a known option/,
    );
    await assert.rejects(startFleet(1, { timeScale: 0 }), /timeScale must be > 0/);
    await assert.rejects(startFleet(1, { maxModelLen: 200_000 }), /must fit in the KV cache/);
  });
});
