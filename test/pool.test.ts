import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { closeFleet, startFleet } from '../src/sim/index.ts';
import type { SimServer } from '../src/sim/index.ts';
import { startGateway, waitFor, type TestGateway } from './harness.ts';

// A pool of simulated vLLM servers behind the endpoint picker: explanations, session affinity,
// saturation and shedding, outlier ejection, an empty pool.

const json = { 'content-type': 'application/json' };

function poolYaml(endpoints: string, extra = ''): string {
  return `
metrics: { process: false }
providers:
  - name: pool
    type: pool
    engine: vllm
    endpoints: "${endpoints}"
    retry: { attempts: 0 }
    scrape: { interval: 20ms, stale_after: 2s }
    session: { header: x-session-id }
${extra}
models:
  - name: sim-model
    targets: [{ provider: pool }]
`;
}

async function chat(url: string, headers: Record<string, string> = {}, content = 'hello there') {
  const res = await fetch(`${url}/v1/chat/completions`, {
    method: 'POST',
    headers: { ...json, ...headers },
    body: JSON.stringify({ model: 'sim-model', max_tokens: 4, messages: [{ role: 'user', content }] }),
  });
  return { res, body: (await res.json()) as any };
}

describe('pool of simulated servers', () => {
  let fleet: SimServer[];
  let gw: TestGateway;

  before(async () => {
    fleet = await startFleet(3, { timeScale: 0.02 });
    gw = await startGateway(poolYaml(fleet.map((s) => s.url).join(',')));
    await waitFor(() => gw.gateway.config !== undefined);
  });
  after(async () => {
    await gw.close();
    await closeFleet(fleet);
  });

  it('explains the pick with every candidate and its scores when asked', async () => {
    const { res, body } = await chat(gw.url, { 'x-switchyard-debug': '1' });
    assert.equal(res.status, 200);
    assert.equal(body.usage.completion_tokens, 4);
    const explain = JSON.parse(res.headers.get('x-switchyard-explain')!);
    assert.equal(explain.candidates.length, 3);
    assert.ok(fleet.some((s) => s.url === explain.chosen));
    for (const c of explain.candidates) assert.equal(typeof c.scores['prefix-cache'], 'number');
    const plain = await chat(gw.url);
    assert.equal(plain.res.headers.get('x-switchyard-explain'), null);
  });

  it('keeps a conversation on one endpoint', async () => {
    const seen = new Set<string>();
    for (let i = 0; i < 8; i++) {
      const { res } = await chat(
        gw.url,
        { 'x-session-id': 'conv-42', 'x-switchyard-debug': '1' },
        `turn ${i}`,
      );
      seen.add(JSON.parse(res.headers.get('x-switchyard-explain')!).chosen);
    }
    assert.equal(seen.size, 1);
  });

  it('routes a shared prefix back to the endpoint that cached it', async () => {
    const prefix = 'You are a meticulous assistant. '.repeat(60);
    const chosen: string[] = [];
    for (let i = 0; i < 6; i++) {
      const { res } = await chat(gw.url, { 'x-switchyard-debug': '1' }, `${prefix} Question ${i}?`);
      chosen.push(JSON.parse(res.headers.get('x-switchyard-explain')!).chosen);
    }
    assert.equal(new Set(chosen.slice(1)).size, 1, `picks: ${chosen.join(' ')}`);
  });
});

describe('pool saturation, ejection and emptiness', () => {
  it('sheds sheddable requests with 429 and Retry-After when saturated, serves critical ones', async () => {
    const fleet = await startFleet(1, { timeScale: 1, maxNumSeqs: 1 });
    const gw = await startGateway(
      poolYaml(fleet[0]!.url, '    saturation: { queue_depth: 1, kv_usage: 0.9 }'),
    );
    const load = Array.from({ length: 6 }, () =>
      fetch(`${gw.url}/v1/chat/completions`, {
        method: 'POST',
        headers: json,
        body: JSON.stringify({
          model: 'sim-model',
          max_tokens: 40,
          messages: [{ role: 'user', content: 'long job' }],
        }),
      }).then((r) => r.text()),
    );
    await new Promise((r) => setTimeout(r, 150));
    const shed = await chat(gw.url, { 'x-switchyard-priority': 'sheddable' });
    assert.equal(shed.res.status, 429);
    assert.equal(shed.body.error.code, 'queue_full');
    assert.ok(Number(shed.res.headers.get('retry-after')) >= 1);
    const metrics = await (await fetch(`${gw.url}/metrics`)).text();
    assert.match(metrics, /gateway_queue_depth\{pool="pool",class="standard"\} \d+/);
    await Promise.all(load);
    await gw.close();
    await closeFleet(fleet);
  });

  it('ejects a failing endpoint after at most 5 requests', async () => {
    const fleet = await startFleet(3, { timeScale: 0.02 }, [
      { faults: { errorRate: 1, errorStatus: 500 }, seed: 1 },
      {},
      {},
    ]);
    const bad = fleet[0]!.url;
    const gw = await startGateway(
      poolYaml(fleet.map((s) => s.url).join(',')).replace(
        'retry: { attempts: 0 }',
        'retry: { attempts: 0 }\n    outlier: { consecutive_failures: 3, base_ejection: 30s, max_ejected_share: 0.34 }',
      ) + '    fallbacks: [{ provider: pool }]\n',
    );
    let toBad = 0;
    for (let i = 0; i < 40; i++) {
      const { res } = await chat(gw.url, { 'x-switchyard-debug': '1' }, `question number ${i}`);
      const explain = JSON.parse(res.headers.get('x-switchyard-explain') ?? '{}');
      if (explain.chosen === bad) toBad++;
    }
    assert.ok(toBad <= 5, `the failing endpoint got ${toBad} requests`);
    const metrics = await (await fetch(`${gw.url}/metrics`)).text();
    assert.match(
      metrics,
      new RegExp(
        `gateway_endpoint_ejected\\{provider="pool",endpoint="${bad.replace(/[.:/]/g, '\\$&')}"\\} 1`,
      ),
    );
    await gw.close();
    await closeFleet(fleet);
  });

  it("retries a request on another endpoint than the one that failed it, even against the session's affinity", async () => {
    const fleet = await startFleet(2, { timeScale: 0.02 }, [
      { faults: { errorRate: 1, errorStatus: 500 }, seed: 1 },
      {},
    ]);
    // No ejection: only the retry's choice of endpoint keeps requests away from the failing server.
    const gw = await startGateway(
      poolYaml(fleet.map((s) => s.url).join(',')).replace(
        'retry: { attempts: 0 }',
        'retry: { attempts: 1, base: 1ms, max: 1ms }\n    outlier: { consecutive_failures: 1000 }',
      ),
    );
    try {
      let retried = 0;
      for (let i = 0; i < 12; i++) {
        const { res, body } = await chat(gw.url, { 'x-session-id': `s${i % 3}` }, `question number ${i}`);
        assert.equal(res.status, 200, JSON.stringify(body));
        if (res.headers.get('x-switchyard-attempts') === '2') retried++;
      }
      // The session scorer pins conversations to an endpoint; some were pinned to the failing one.
      assert.ok(retried > 0, 'some requests first went to the failing endpoint');
    } finally {
      await gw.close();
      await closeFleet(fleet);
    }
  });

  it('an empty pool is a 503 pool_empty', async () => {
    const gw = await startGateway(poolYaml(''));
    const { res, body } = await chat(gw.url);
    assert.equal(res.status, 503);
    assert.equal(body.error.code, 'pool_empty');
    await gw.close();
  });
});
