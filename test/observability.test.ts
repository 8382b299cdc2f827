import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { closeFleet, startFleet, type SimServer } from '../src/sim/index.ts';
import { startGateway, waitFor, type TestGateway } from './harness.ts';

// Through a running gateway and simulated servers: GPU utilisation scraped from the servers' pages,
// the picker's last scores per endpoint and scorer, and metrics.max_label_values folding extra models
// and endpoints into "other".

function yaml(endpoints: string): string {
  return `
metrics: { process: false, max_label_values: 1 }
providers:
  - name: pool
    type: pool
    engine: vllm
    endpoints: "${endpoints}"
    retry: { attempts: 0 }
    scrape: { interval: 20ms, stale_after: 2s }
models:
  - name: first
    targets: [{ provider: pool, model: sim-model }]
  - name: second
    targets: [{ provider: pool, model: sim-model }]
`;
}

describe('pool observability', () => {
  let fleet: SimServer[];
  let gw: TestGateway;

  before(async () => {
    fleet = await startFleet(2, { timeScale: 0.02, gpuMetrics: true });
    gw = await startGateway(yaml(fleet.map((s) => s.url).join(',')));
  });
  after(async () => {
    await gw.close();
    await closeFleet(fleet);
  });

  async function chat(model: string): Promise<void> {
    const res = await fetch(`${gw.url}/v1/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ model, max_tokens: 3, messages: [{ role: 'user', content: 'hello' }] }),
    });
    assert.equal(res.status, 200);
    await res.json();
  }

  async function metrics(): Promise<string[]> {
    return (await (await fetch(`${gw.url}/metrics`)).text()).split('\n');
  }

  it('exports GPU utilisation, endpoint scores and capped labels', async () => {
    await chat('first');
    await chat('second');
    await chat('first');
    await waitFor(() => gw.accessLogs().length >= 3);
    const lines = await metrics();
    const requests = lines.filter((l) => l.startsWith('gateway_requests_total{'));
    assert.ok(
      requests.some((l) => l.includes('model="first"') && l.endsWith(' 2')),
      requests.join('\n'),
    );
    assert.ok(
      requests.some((l) => l.includes('model="other"') && l.endsWith(' 1')),
      requests.join('\n'),
    );
    assert.ok(!lines.some((l) => l.includes('model="second"')));
    const gpu = lines.filter((l) => l.startsWith('gateway_gpu_utilization_percent{'));
    assert.equal(gpu.length, 2, gpu.join('\n')); // one named endpoint, the other folded
    // The endpoint that served the first request keeps its name; the other is folded into "other".
    assert.deepEqual(
      gpu.map((l) => /endpoint="([^"]+)"/.exec(l)![1]).sort(),
      [gw.accessLogs()[0].endpoint, 'other'].sort(),
    );
    for (const l of gpu) {
      const v = Number(l.split(' ').at(-1));
      assert.ok(v >= 0 && v <= 100, l);
    }
    const scores = lines.filter((l) => l.startsWith('gateway_endpoint_score{'));
    for (const scorer of ['prefix-cache', 'queue-depth', 'kv-cache-utilization', 'session-affinity'])
      assert.ok(
        scores.some((l) => l.includes(`scorer="${scorer}"`)),
        scorer,
      );
    assert.ok(lines.some((l) => l.startsWith('gateway_endpoint_weighted_score{pool="pool"')));
  });
});
