import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import OpenAI from 'openai';
import { FaultInjector } from './faults.ts';
import { DEFAULT_SIM_CONFIG } from './options.ts';
import { startSimulator, type SimServer } from './server.ts';

// Error injection: statuses with Retry-After, an error event as the first frame, cut streams, delays.

const servers: SimServer[] = [];
after(() => Promise.all(servers.map((s) => s.close())));

async function sim(faults: Partial<typeof DEFAULT_SIM_CONFIG.faults>, seed = 7): Promise<SimServer> {
  const s = await startSimulator({ timeScale: 0.02, seed, faults });
  servers.push(s);
  return s;
}

function chat(url: string, body: Record<string, unknown> = {}): Promise<Response> {
  return fetch(`${url}/v1/chat/completions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({
      model: 'sim-model',
      messages: [{ role: 'user', content: 'hi' }],
      max_tokens: 4,
      ...body,
    }),
  });
}

describe('sim fault injection', () => {
  it('draws the same faults for the same seed', () => {
    const faults = { ...DEFAULT_SIM_CONFIG.faults, errorRate: 0.3, cutRate: 0.5, cutAfterChunks: 2 };
    const a = new FaultInjector(faults, 11);
    const b = new FaultInjector(faults, 11);
    const draws = (f: FaultInjector) => Array.from({ length: 50 }, () => f.next(true));
    const da = draws(a);
    assert.deepEqual(da, draws(b));
    const errors = da.filter((p) => p.error).length;
    assert.ok(errors > 5 && errors < 30, `errors ${errors}`);
  });

  it('fails requests with the configured status and Retry-After', async () => {
    const s = await sim({ errorRate: 1, errorStatus: 429, retryAfterS: 3 });
    const res = await chat(s.url);
    assert.equal(res.status, 429);
    assert.equal(res.headers.get('retry-after'), '3');
    const body = (await res.json()) as { error: { type: string } };
    assert.equal(body.error.type, 'rate_limit_error');
    const client = new OpenAI({ baseURL: `${s.url}/v1`, apiKey: 'x', maxRetries: 0 });
    await assert.rejects(
      client.chat.completions.create({ model: 'sim-model', messages: [{ role: 'user', content: 'x' }] }),
      OpenAI.RateLimitError,
    );
    assert.equal(s.stats().errors, 2);
  });

  it('sends an error event as the first frame of a 200 stream', async () => {
    const s = await sim({ streamErrorRate: 1 });
    const res = await chat(s.url, { stream: true });
    assert.equal(res.status, 200);
    const text = await res.text();
    assert.match(text, /^data: \{"error":\{"message":"Simulated error in stream\."/);
    assert.ok(!text.includes('[DONE]'));
    const client = new OpenAI({ baseURL: `${s.url}/v1`, apiKey: 'x', maxRetries: 0 });
    const stream = await client.chat.completions.create({
      model: 'sim-model',
      messages: [{ role: 'user', content: 'x' }],
      stream: true,
    });
    await assert.rejects(async () => {
      for await (const _ of stream);
    }, OpenAI.APIError);
  });

  it('cuts a stream after N frames without [DONE], freeing the sequence', async () => {
    const s = await sim({ cutRate: 1, cutAfterChunks: 3 });
    const res = await chat(s.url, { stream: true, max_tokens: 100 });
    let text = '';
    await assert.rejects(async () => {
      for await (const chunk of res.body!) text += Buffer.from(chunk).toString();
    });
    assert.equal(text.split('\n\n').filter((f) => f.startsWith('data: ')).length, 3);
    assert.ok(!text.includes('[DONE]'));
    const end = Date.now() + 2000;
    while (s.stats().running > 0 && Date.now() < end) await new Promise((r) => setTimeout(r, 2));
    assert.equal(s.stats().freeBlocks, s.config.numGpuBlocks);
  });

  it('delays headers by the scaled header delay', async () => {
    const s = await sim({ headerDelayMs: 5000 }); // 5 s simulated = 100 ms at time scale 0.02
    const start = performance.now();
    const res = await chat(s.url);
    assert.equal(res.status, 200);
    assert.ok(performance.now() - start >= 95);
  });
});
