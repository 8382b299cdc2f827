import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { chatChunks, startFakeUpstream, type FakeUpstream } from './fake-upstream.ts';
import { startGateway, waitFor } from './harness.ts';
import { parseConfig } from '../src/config/load.ts';

// Fault injection on loopback: retries with Retry-After, fallbacks, no failover on client errors,
// outlier ejection, fast 503 when everything is down, the retry budget, timeouts, a backend killed
// mid-stream under load, and reloads under load.

const json = { 'content-type': 'application/json' };
const chatBody = (model: string, stream = false) =>
  JSON.stringify({ model, stream, messages: [{ role: 'user', content: 'hi' }] });

function twoProviders(a: FakeUpstream, b: FakeUpstream | string, extra = ''): string {
  const bUrl = typeof b === 'string' ? b : b.url;
  return `
metrics: { process: false }
providers:
  - { name: a, type: openai, base_url: "${a.url}", retry: { attempts: 1, base: 20ms }, outlier: { consecutive_failures: 5 } }
  - { name: b, type: openai, base_url: "${bUrl}", retry: { attempts: 0 } }
models:
  - name: m
    targets: [{ provider: a, model: a-model }]
    fallbacks: [{ provider: b, model: b-model }]
${extra}`;
}

async function post(url: string, body: string) {
  const res = await fetch(`${url}/v1/chat/completions`, { method: 'POST', body, headers: json });
  return { res, text: await res.text() };
}

describe('resilience', () => {
  it('honours Retry-After on a 429 and then succeeds on the same target', async () => {
    const a = await startFakeUpstream();
    const b = await startFakeUpstream();
    const gw = await startGateway(twoProviders(a, b));
    a.script('/v1/chat/completions', {
      status: 429,
      headers: { 'retry-after-ms': '250' },
      json: { error: { message: 'slow down', type: 'rate_limit_error', code: null, param: null } },
    });
    const t0 = performance.now();
    const { res } = await post(gw.url, chatBody('m'));
    const elapsed = performance.now() - t0;
    assert.equal(res.status, 200);
    assert.equal(res.headers.get('x-switchyard-attempts'), '2');
    assert.equal(res.headers.get('x-switchyard-target'), 'a/a-model');
    assert.ok(elapsed >= 240, `waited ${elapsed} ms`);
    assert.equal(b.requests.length, 0);
    await gw.close();
    await a.close();
    await b.close();
  });

  it('fails over on an error event before content in a 200 stream, and on connection errors', async () => {
    const a = await startFakeUpstream();
    const b = await startFakeUpstream();
    const gw = await startGateway(
      twoProviders(a, b).replace('retry: { attempts: 1, base: 20ms }', 'retry: { attempts: 0 }'),
    );
    a.script('/v1/chat/completions', { sse: [{ error: { message: 'overloaded', type: 'server_error' } }] });
    const { res, text } = await post(gw.url, chatBody('m', true));
    assert.equal(res.status, 200);
    assert.equal(res.headers.get('x-switchyard-target'), 'b/b-model');
    assert.equal(res.headers.get('x-switchyard-attempts'), '2');
    assert.ok(text.includes('[DONE]'));
    assert.equal(b.requests.at(-1)!.body.model, 'b-model');
    await gw.close();
    await a.close();

    const gw2 = await startGateway(twoProviders({ url: 'http://127.0.0.1:1/v1' } as FakeUpstream, b));
    const r2 = await post(gw2.url, chatBody('m'));
    assert.equal(r2.res.status, 200);
    assert.equal(r2.res.headers.get('x-switchyard-target'), 'b/b-model');
    await gw2.close();
    await b.close();
  });

  it('never retries or fails over a client error', async () => {
    const a = await startFakeUpstream();
    const b = await startFakeUpstream();
    const gw = await startGateway(twoProviders(a, b));
    a.script('/v1/chat/completions', {
      status: 400,
      json: { error: { message: 'bad field', type: 'invalid_request_error', code: null, param: 'x' } },
    });
    const { res } = await post(gw.url, chatBody('m'));
    assert.equal(res.status, 400);
    assert.equal(a.requests.length, 1);
    assert.equal(b.requests.length, 0);
    await gw.close();
    await a.close();
    await b.close();
  });

  it('uses the context-window fallback for context_length_exceeded', async () => {
    const a = await startFakeUpstream();
    const b = await startFakeUpstream();
    const gw = await startGateway(
      twoProviders(a, b).replace(
        'fallbacks: [{ provider: b, model: b-model }]',
        'context_fallbacks: [{ provider: b, model: b-long }]',
      ),
    );
    a.script('/v1/chat/completions', {
      status: 400,
      json: {
        error: {
          message: "This model's maximum context length is 8192 tokens",
          type: 'invalid_request_error',
          code: 'context_length_exceeded',
          param: null,
        },
      },
    });
    const { res } = await post(gw.url, chatBody('m'));
    assert.equal(res.status, 200);
    assert.equal(b.requests.at(-1)!.body.model, 'b-long');
    await gw.close();
    await a.close();
    await b.close();
  });

  it('ejects a failing target after at most 5 requests, and answers 503 fast when all are down', async () => {
    const a = await startFakeUpstream();
    const b = await startFakeUpstream();
    const gw = await startGateway(`
metrics: { process: false }
providers:
  - { name: bad, type: openai, base_url: "${a.url}", retry: { attempts: 0 }, outlier: { consecutive_failures: 5, base_ejection: 30s } }
  - { name: good, type: openai, base_url: "${b.url}", retry: { attempts: 0 } }
models:
  - name: m
    targets: [{ provider: bad, weight: 1 }, { provider: good, weight: 1 }]
    fallbacks: [{ provider: good }, { provider: bad }]
`);
    for (let i = 0; i < 50; i++)
      a.script('/v1/chat/completions', {
        status: 500,
        json: { error: { message: 'boom', type: 'server_error', code: null, param: null } },
      });
    for (let i = 0; i < 60; i++) {
      const { res } = await post(gw.url, chatBody('m'));
      assert.equal(res.status, 200);
    }
    assert.ok(a.requests.length <= 5, `the bad target got ${a.requests.length} requests`);
    const metrics = await (await fetch(`${gw.url}/metrics`)).text();
    assert.match(
      metrics,
      /gateway_endpoint_ejected\{provider="bad",endpoint="http:\/\/127\.0\.0\.1:\d+"\} 1/,
    );
    await b.close(); // now every target is down (bad is ejected, good refuses connections)
    for (let i = 0; i < 5; i++) await post(gw.url, chatBody('m')); // eject good too
    const t0 = performance.now();
    const { res, text } = await post(gw.url, chatBody('m'));
    const elapsed = performance.now() - t0;
    assert.equal(res.status, 503);
    assert.equal(JSON.parse(text).error.code, 'no_healthy_upstream');
    assert.ok(elapsed < 50, `503 took ${elapsed} ms`);
    await gw.close();
    await a.close();
  });

  it('active health checks take a dead target out of rotation (503 in under 50 ms)', async () => {
    const gw = await startGateway(`
metrics: { process: false }
providers:
  - { name: dead, type: openai, base_url: "http://127.0.0.1:1/v1", health: { enabled: true, interval: 50ms, timeout: 100ms, unhealthy_threshold: 1 } }
models:
  - name: m
    targets: [{ provider: dead }]
`);
    await new Promise((r) => setTimeout(r, 200));
    const t0 = performance.now();
    const { res } = await post(gw.url, chatBody('m'));
    assert.equal(res.status, 503);
    assert.ok(performance.now() - t0 < 50);
    await gw.close();
  });

  it('prewarming keeps /readyz at 503 until a first probe passes', async () => {
    const a = await startFakeUpstream();
    a.script('/v1/health', { delayMs: 300, json: { ok: true } });
    const gw = await startGateway(`
metrics: { process: false }
providers:
  - { name: a, type: openai, base_url: "${a.url}", health: { enabled: true, path: /v1/health, interval: 1s, timeout: 1s, prewarm: true } }
models:
  - name: m
    targets: [{ provider: a }]
`);
    assert.equal((await fetch(`${gw.url}/readyz`)).status, 503);
    assert.equal(
      (await post(gw.url, chatBody('m'))).res.status,
      503,
      'not in rotation before the first probe',
    );
    await waitFor(() => a.requests.some((r) => r.path === '/v1/health'), 1000);
    await new Promise((r) => setTimeout(r, 400));
    assert.equal((await fetch(`${gw.url}/readyz`)).status, 200);
    assert.equal((await post(gw.url, chatBody('m'))).res.status, 200);
    await gw.close();
    await a.close();
  });

  it('retries never exceed the retry budget', async () => {
    const a = await startFakeUpstream();
    const gw = await startGateway(`
metrics: { process: false }
resilience: { retry_budget: 0.1, min_retry_concurrency: 0 }
providers:
  - { name: a, type: openai, base_url: "${a.url}", retry: { attempts: 5, base: 1ms, max: 2ms }, outlier: { consecutive_failures: 1000, min_requests: 1000 } }
models:
  - name: m
    targets: [{ provider: a }]
`);
    for (let i = 0; i < 200; i++)
      a.script('/v1/chat/completions', {
        status: 500,
        delayMs: 100,
        json: { error: { message: 'boom', type: 'server_error', code: null, param: null } },
      });
    const results = await Promise.all(Array.from({ length: 20 }, () => post(gw.url, chatBody('m'))));
    for (const r of results) assert.equal(r.res.status, 500);
    // 20 live requests × 10% = 2 concurrent retries at most; without a budget there would be 120 attempts.
    assert.ok(a.requests.length <= 20 + 2 * 5, `upstream saw ${a.requests.length} attempts`);
    const metrics = await (await fetch(`${gw.url}/metrics`)).text();
    assert.match(metrics, /gateway_retry_budget_exhausted_total\{provider="a"\} [1-9]/);
    await gw.close();
    await a.close();
  });

  it('first-byte, idle and total timeouts each fire within 100 ms of their setting', async () => {
    const a = await startFakeUpstream();
    const base = (t: string) => `
metrics: { process: false }
providers:
  - { name: a, type: openai, base_url: "${a.url}", retry: { attempts: 0 }, timeouts: { ${t} } }
models:
  - name: m
    targets: [{ provider: a }]
`;
    const cases = [
      { t: 'first_byte: 200ms', reply: { delayMs: 1000, json: {} }, expect: 200 },
      {
        t: 'idle: 200ms',
        reply: { sse: chatChunks('m', ['a', 'b'], false), frameDelayMs: 1000 },
        expect: 200,
      },
      {
        t: 'total: 300ms',
        reply: { sse: chatChunks('m', ['a', 'b', 'c', 'd', 'e', 'f', 'g', 'h'], false), frameDelayMs: 100 },
        expect: 300,
      },
    ];
    for (const c of cases) {
      const gw = await startGateway(base(c.t));
      a.script('/v1/chat/completions', c.reply);
      const t0 = performance.now();
      const { text } = await post(gw.url, chatBody('m', true));
      const elapsed = performance.now() - t0;
      assert.match(text, /upstream_timeout/, c.t);
      assert.ok(elapsed >= c.expect - 5 && elapsed < c.expect + 100, `${c.t}: fired after ${elapsed} ms`);
      await gw.close();
    }
    await a.close();
  });

  it('a backend killed mid-stream under 200 concurrent streams: every client gets a terminal error within 1 s', async () => {
    const a = await startFakeUpstream();
    const gw = await startGateway(twoProviders(a, 'http://127.0.0.1:1/v1'));
    // Streams long enough (20 s) that none ends before all 200 are under way on a loaded machine; the
    // kill comes as soon as they are, so the test does not take that long.
    const words = Array.from({ length: 400 }, (_, i) => `w${i}`);
    for (let i = 0; i < 200; i++)
      a.script('/v1/chat/completions', { sse: chatChunks('m', words, false), frameDelayMs: 50 });
    const started: Promise<{ text: string; endedAt: number }>[] = [];
    for (let i = 0; i < 200; i++) {
      started.push(
        fetch(`${gw.url}/v1/chat/completions`, {
          method: 'POST',
          body: chatBody('m', true),
          headers: json,
        }).then(async (r) => ({ text: await r.text(), endedAt: performance.now() })),
      );
    }
    await waitFor(() => a.requests.length === 200, 15_000);
    await new Promise((r) => setTimeout(r, 200));
    const killedAt = performance.now();
    await a.close();
    const results = await Promise.all(started);
    for (const r of results) {
      assert.ok(!r.text.includes('[DONE]'));
      assert.match(r.text.trim().split('\n\n').at(-1)!, /"code":"upstream_stream_error"/);
      assert.ok(r.endedAt - killedAt < 1000, `ended ${r.endedAt - killedAt} ms after the kill`);
    }
    await gw.close();
  });

  it('reloads under a load of streaming and JSON requests lose nothing', async () => {
    const a = await startFakeUpstream();
    const yaml = twoProviders(a, 'http://127.0.0.1:1/v1');
    const gw = await startGateway(yaml);
    let stop = false;
    let failures = 0;
    let done = 0;
    const worker = async (i: number) => {
      while (!stop) {
        const { res, text } = await post(gw.url, chatBody('m', i % 2 === 1));
        if (res.status !== 200 || (i % 2 === 1 && !text.includes('[DONE]'))) failures++;
        done++;
      }
    };
    const workers = Array.from({ length: 20 }, (_, i) => worker(i));
    for (let i = 0; i < 5; i++) {
      await new Promise((r) => setTimeout(r, 60));
      gw.gateway.reload(parseConfig(yaml));
    }
    stop = true;
    await Promise.all(workers);
    assert.equal(failures, 0);
    assert.ok(done >= 20);
    await gw.close();
    await a.close();
  });
});
