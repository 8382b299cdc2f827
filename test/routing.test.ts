import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { startFakeUpstream, type FakeUpstream } from './fake-upstream.ts';
import { startGateway, type TestGateway } from './harness.ts';
import { startCollector } from './otlp-collector.ts';

// Header and field rules choose models; weighted splits choose arms, visible in a header and in metrics;
// Azure hosting gets its deployment path, api-version and api-key.

describe('routing', () => {
  let a: FakeUpstream;
  let b: FakeUpstream;
  let gw: TestGateway;

  before(async () => {
    a = await startFakeUpstream();
    b = await startFakeUpstream();
    gw = await startGateway(
      `
metrics: { process: false }
providers:
  - { name: a, type: openai, base_url: "${a.url}", auth: { type: bearer, token: "\${A_KEY}" }, headers: { x-team: blue } }
  - { name: b, type: openai, base_url: "${b.url}" }
  - name: az
    type: azure
    base_url: "${b.origin}/openai"
    api_version: 2024-10-21
    auth: { type: header, header: api-key, value: azkey }
models:
  - name: small
    targets: [{ provider: a, model: small-v1 }]
  - name: large
    targets:
      - { provider: a, model: large-v1, weight: 95, name: stable }
      - { provider: b, model: large-v2, weight: 5, name: canary }
  - name: azure-gpt
    targets: [{ provider: az, model: my-deployment }]
routes:
  - name: large-by-header
    match: { headers: { x-model-type: gpt-large } }
    model: large
  - name: premium-tier
    match: { fields: { metadata.tier: premium, max_tokens: { gte: 1000 } } }
    model: large
`,
      { A_KEY: 'sk-a' },
    );
  });
  after(async () => {
    await gw.close();
    await a.close();
    await b.close();
  });

  async function chat(body: Record<string, unknown>, headers: Record<string, string> = {}) {
    const res = await fetch(`${gw.url}/v1/chat/completions`, {
      method: 'POST',
      body: JSON.stringify({ messages: [{ role: 'user', content: 'hi' }], ...body }),
      headers: { 'content-type': 'application/json', ...headers },
    });
    await res.arrayBuffer();
    return res;
  }

  it('sends auth and configured headers upstream', async () => {
    await chat({ model: 'small' });
    const seen = a.requests.at(-1)!;
    assert.equal(seen.headers.authorization, 'Bearer sk-a');
    assert.equal(seen.headers['x-team'], 'blue');
    assert.equal(seen.body.model, 'small-v1');
  });

  it('a header rule chooses the model', async () => {
    const res = await chat(
      { model: 'small' },
      { 'x-model-type': 'gpt-large', 'x-switchyard-target': 'stable' },
    );
    assert.equal(res.headers.get('x-switchyard-target'), 'stable');
    assert.equal(a.requests.at(-1)!.body.model, 'large-v1');
  });

  it('a field rule matches nested fields and numeric comparisons', async () => {
    const hit = await chat({ model: 'small', metadata: { tier: 'premium' }, max_tokens: 2000 });
    assert.match(hit.headers.get('x-switchyard-target')!, /stable|canary/);
    const miss = await chat({ model: 'small', metadata: { tier: 'premium' }, max_tokens: 10 });
    assert.equal(miss.headers.get('x-switchyard-target'), 'a/small-v1');
  });

  it('splits traffic by weight and labels the arm in header and metrics', async () => {
    const counts = { stable: 0, canary: 0 } as Record<string, number>;
    for (let i = 0; i < 400; i++) {
      const res = await chat({ model: 'large' });
      counts[res.headers.get('x-switchyard-target')!]!++;
    }
    assert.ok(counts.canary! > 5 && counts.canary! < 45, `canary got ${counts.canary} of 400`);
    const metrics = await (await fetch(`${gw.url}/metrics`)).text();
    assert.match(
      metrics,
      /gateway_requests_total\{route="default",model="large",provider="b",target="canary",status="200"\} \d+/,
    );
    assert.match(metrics, /gateway_inference_duration_seconds_bucket\{le="[\d.]+",model="large"\}/);
  });

  it('Azure gets its deployment path, api-version and api-key', async () => {
    await chat({ model: 'azure-gpt' });
    const seen = b.requests.at(-1)!;
    assert.equal(seen.path, '/openai/deployments/my-deployment/chat/completions?api-version=2024-10-21');
    assert.equal(seen.headers['api-key'], 'azkey');
  });
});

/** A route batching embeddings for model `emb` from a fake upstream, plus `extra` top-level config. */
function batchingConfig(upstream: string, extra = ''): string {
  return `
metrics: { process: false }
${extra}
providers:
  - { name: fake, type: openai, base_url: "${upstream}", retry: { attempts: 0 } }
models:
  - name: emb
    targets: [{ provider: fake, model: text-embed }]
routes:
  - name: batched
    match: { api: [embeddings] }
    embeddings_batching: { max_inputs: 64, max_delay: 250ms }
`;
}

describe('embeddings batching', () => {
  it('merges concurrent embedding requests into one upstream call and splits the answer back', async () => {
    const up = await startFakeUpstream();
    const gw = await startGateway(batchingConfig(up.url));
    const send = (input: string | string[]) =>
      fetch(`${gw.url}/v1/embeddings`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ model: 'emb', input }),
      }).then(async (r) => ({
        status: r.status,
        batched: r.headers.get('x-switchyard-batched'),
        body: (await r.json()) as any,
      }));
    const answers = await Promise.all([send('a'), send(['b', 'c']), send('d')]);
    const calls = up.requests.filter((r) => r.path === '/v1/embeddings');
    assert.equal(calls.length, 1, 'one upstream call');
    assert.deepEqual(calls[0]!.body.input, ['a', 'b', 'c', 'd']);
    assert.deepEqual(
      answers.map((a) => a.body.data.map((d: any) => d.index)),
      [[0], [0, 1], [0]],
    );
    for (const a of answers) {
      assert.equal(a.status, 200);
      assert.equal(a.batched, 'true');
    }
    assert.equal(answers[1].body.usage.prompt_tokens, 2); // half of the batch's 4 tokens (2 of 4 inputs)
    await gw.close();
    await up.close();
  });

  it('gives each batched request its attempt span, response policies, endpoint and request id', async (t) => {
    const up = await startFakeUpstream();
    const collector = await startCollector();
    const spans = collector.spans;
    let gw: TestGateway | null = null;
    t.after(async () => {
      await gw?.close();
      await collector.close();
      await up.close();
    });
    const g = await startGateway(
      batchingConfig(
        up.url,
        `tracing: { enabled: true, endpoint: ${collector.url} }
governance: { prices: { emb: { input: 1000, output: 0 } } }
policies:
  - { type: cost, params: { header: true } }`,
      ),
    );
    gw = g;
    const traceIds = ['4bf92f3577b34da6a3ce929d0e0e4736', '5bf92f3577b34da6a3ce929d0e0e4737'];
    const send = (input: string, i: number) =>
      fetch(`${g.url}/v1/embeddings`, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          'x-request-id': `req-${i}`,
          traceparent: `00-${traceIds[i]}-00f067aa0ba902b7-01`,
        },
        body: JSON.stringify({ model: 'emb', input }),
      });
    const answers = await Promise.all([send('a', 0), send('b', 1)]);
    for (const a of answers) {
      assert.equal(a.status, 200);
      assert.equal(a.headers.get('x-switchyard-batched'), 'true');
      assert.match(a.headers.get('x-switchyard-cost') ?? '', /^\d/, 'the cost policy ran at response start');
      await a.text();
    }
    const calls = up.requests.filter((r) => r.path === '/v1/embeddings');
    assert.equal(calls.length, 1);
    await g.close();
    gw = null;
    // One client span per request, each in its own trace; the upstream call's parent is the first's.
    const attempts = spans.filter((span) => span.kind === 3);
    assert.deepEqual(attempts.map((a) => a.traceId).sort(), [...traceIds].sort());
    const parent = attempts.find((a) => calls[0]!.headers.traceparent === `00-${a.traceId}-${a.spanId}-01`);
    assert.ok(parent !== undefined, `upstream traceparent ${String(calls[0]!.headers.traceparent)}`);
    assert.match(String(calls[0]!.headers['x-request-id']), /^req-[01]$/);
    const endpoints = spans
      .filter((span) => span.kind === 2)
      .map((span) => span.attrs['switchyard.endpoint']);
    assert.deepEqual(
      endpoints,
      [up.url, up.url].map((u) => new URL(u).origin),
    );
  });
});
