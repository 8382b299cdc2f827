import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { chatCompletion, startFakeUpstream, type FakeUpstream } from './fake-upstream.ts';
import { basicConfig, startGateway, startGovernedExample, waitFor, type TestGateway } from './harness.ts';

// gateway_budget_remaining (read from the quota store at scrape time) and
// gateway_prompt_cache_hits_total, end to end on examples/governed.yaml (key "demo": 100000 tokens a day).

const SECRET = 'sy-demo-secret-for-budget-metrics';

async function chat(url: string, key: string | null): Promise<Response> {
  const headers: Record<string, string> = { 'content-type': 'application/json' };
  if (key !== null) headers.authorization = `Bearer ${key}`;
  const res = await fetch(`${url}/v1/chat/completions`, {
    method: 'POST',
    headers,
    body: JSON.stringify({
      model: 'mock-model',
      max_tokens: 10,
      messages: [{ role: 'user', content: 'hi' }],
    }),
  });
  await res.arrayBuffer();
  return res;
}

async function scrape(url: string): Promise<string[]> {
  return (await (await fetch(`${url}/metrics`)).text()).split('\n');
}

/** The value of the one sample of `name` whose labels include every `labels` pair, or null. */
function sample(lines: string[], name: string, labels: Record<string, string>): number | null {
  const want = Object.entries(labels).map(([k, v]) => `${k}="${v}"`);
  const hits = lines.filter((l) => l.startsWith(`${name}{`) && want.every((w) => l.includes(w)));
  assert.ok(hits.length <= 1, `several samples match: ${hits.join(' | ')}`);
  return hits.length === 0 ? null : Number(hits[0]!.slice(hits[0]!.lastIndexOf(' ') + 1));
}

describe('budget and prompt-cache metrics', () => {
  let upstream: FakeUpstream;
  let gw: TestGateway;

  let close: () => Promise<void>;

  before(async () => {
    ({ upstream, gw, close } = await startGovernedExample(SECRET));
  });
  after(() => close());

  it('shows no budget sample before the budget is charged', async () => {
    const lines = await scrape(gw.url);
    assert.ok(lines.includes('# TYPE gateway_budget_remaining gauge'));
    assert.equal(
      lines.filter((l) => l.startsWith('gateway_budget_remaining{')).length,
      0,
      'no budget charged yet',
    );
  });

  it('reports the demo key budget as its limit minus the tokens used', async () => {
    const cached = chatCompletion('mock-model');
    cached.usage = {
      prompt_tokens: 40,
      completion_tokens: 5,
      total_tokens: 45,
      prompt_tokens_details: { cached_tokens: 32 },
    };
    // 11 + 7 (the fake upstream's default usage), then 40 + 5 with 32 cached prompt tokens.
    upstream.script('/v1/chat/completions', { json: chatCompletion('mock-model') }, { json: cached });
    assert.equal((await chat(gw.url, SECRET)).status, 200);
    const labels = { scope: 'key', id: 'demo', metric: 'tokens', window: 'day' };
    // Settled in onEnd, which may run just after the response is sent.
    let remaining: number | null = null;
    const settled = async (expected: number) => {
      const deadline = Date.now() + 2_000;
      while (Date.now() < deadline) {
        remaining = sample(await scrape(gw.url), 'gateway_budget_remaining', labels);
        if (remaining === expected) return;
        await new Promise((r) => setTimeout(r, 10));
      }
    };
    await settled(100_000 - 18);
    assert.equal(remaining, 100_000 - 18);
    let lines = await scrape(gw.url);
    assert.notEqual(sample(lines, 'gateway_prompt_cache_hits_total', { model: 'mock-model' }), 1);

    assert.equal((await chat(gw.url, SECRET)).status, 200);
    await settled(100_000 - 18 - 45);
    assert.equal(remaining, 100_000 - 18 - 45);
    await waitFor(() => gw.accessLogs().length >= 2);
    lines = await scrape(gw.url);
    assert.equal(sample(lines, 'gateway_prompt_cache_hits_total', { model: 'mock-model' }), 1);
    assert.equal(sample(lines, 'gateway_tokens_total', { model: 'mock-model', type: 'cached_input' }), 32);
    // The key has no USD budget: no usd sample.
    assert.equal(sample(lines, 'gateway_budget_remaining', { ...labels, metric: 'usd' }), null);
  });

  it('keeps reporting a charged budget after a reload', async () => {
    const labels = { scope: 'key', id: 'demo', metric: 'tokens', window: 'day' };
    const before = sample(await scrape(gw.url), 'gateway_budget_remaining', labels);
    assert.notEqual(before, null);
    gw.gateway.reload(gw.gateway.config);
    assert.equal(sample(await scrape(gw.url), 'gateway_budget_remaining', labels), before);
  });

  it('counts no cache hit for a response without cached tokens', async () => {
    assert.equal((await chat(gw.url, SECRET)).status, 200);
    await waitFor(() => gw.accessLogs().length >= 3);
    const lines = await scrape(gw.url);
    assert.equal(sample(lines, 'gateway_prompt_cache_hits_total', { model: 'mock-model' }), 1);
  });
});

describe('budget gauge without a budget policy', () => {
  it('has no gateway_budget_remaining samples', async () => {
    const upstream = await startFakeUpstream();
    const gw = await startGateway(basicConfig(upstream.url));
    try {
      assert.equal((await chat(gw.url, null)).status, 200);
      const lines = await scrape(gw.url);
      assert.equal(lines.filter((l) => l.startsWith('gateway_budget_remaining{')).length, 0);
    } finally {
      await gw.close();
      await upstream.close();
    }
  });
});
