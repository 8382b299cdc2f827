import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { connect } from 'node:net';
import { startFakeUpstream, type FakeUpstream } from './fake-upstream.ts';
import { basicConfig, startGateway, type TestGateway } from './harness.ts';

// Every failure is an OpenAI-shaped JSON body with a stable code and the right status.

async function post(
  url: string,
  body: string,
  headers: Record<string, string> = { 'content-type': 'application/json' },
) {
  const res = await fetch(url, { method: 'POST', body, headers });
  return { status: res.status, headers: res.headers, json: (await res.json()) as any };
}

function rawRequest(port: number, text: string, waitMs = 2000): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1', () => socket.write(text));
    let out = '';
    socket.on('data', (d) => (out += d.toString()));
    socket.on('close', () => resolve(out));
    socket.on('error', reject);
    setTimeout(() => {
      socket.destroy();
      resolve(out);
    }, waitMs);
  });
}

describe('errors and limits', () => {
  let upstream: FakeUpstream;
  let gw: TestGateway;
  let chat: string;

  before(async () => {
    upstream = await startFakeUpstream();
    gw = await startGateway(
      basicConfig(
        upstream.url,
        `
  - name: dead-model
    targets: [{ provider: dead }]
  - name: slow-model
    targets: [{ provider: slow }]
server:
  limits: { body: 2kb, headers: 4kb }
  timeouts: { headers: 300ms, request: 600ms }
`,
      ).replace(
        'models:',
        `  - name: dead
    type: openai
    base_url: http://127.0.0.1:1/v1
    retry: { attempts: 0 }
  - name: slow
    type: openai
    base_url: ${upstream.url}
    timeouts: { first_byte: 150ms }
    retry: { attempts: 0 }
models:`,
      ),
    );
    chat = `${gw.url}/v1/chat/completions`;
  });
  after(async () => {
    await gw.close();
    await upstream.close();
  });

  const msg = JSON.stringify({ model: 'mock-model', messages: [{ role: 'user', content: 'hi' }] });

  it('malformed JSON is 400 invalid_json', async () => {
    const r = await post(chat, '{"model": ');
    assert.equal(r.status, 400);
    assert.equal(r.json.error.code, 'invalid_json');
    assert.equal(r.json.error.type, 'invalid_request_error');
  });

  it('a wrong content type is 415', async () => {
    const r = await post(chat, msg, { 'content-type': 'text/plain' });
    assert.equal(r.status, 415);
    assert.equal(r.json.error.code, 'unsupported_media_type');
  });

  it('a body over the limit is 413, declared or chunked', async () => {
    const big = JSON.stringify({
      model: 'mock-model',
      messages: [{ role: 'user', content: 'x'.repeat(5000) }],
    });
    const r = await post(chat, big);
    assert.equal(r.status, 413);
    assert.equal(r.json.error.code, 'payload_too_large');
    const stream = new ReadableStream({
      start(c) {
        for (let i = 0; i < 10; i++) c.enqueue(new TextEncoder().encode('x'.repeat(1000)));
        c.close();
      },
    });
    const res = await fetch(chat, {
      method: 'POST',
      body: stream,
      duplex: 'half',
      headers: { 'content-type': 'application/json' },
    });
    assert.equal(res.status, 413);
  });

  it('headers over the limit are 431 with a JSON body', async () => {
    const port = Number(new URL(gw.url).port);
    const out = await rawRequest(
      port,
      `GET /v1/models HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(6000)}\r\n\r\n`,
    );
    assert.match(out, /^HTTP\/1\.1 431/);
    assert.match(out, /"code":"headers_too_large"/);
  });

  it('a client trickling its headers is cut off with 408 without harming others', async () => {
    const port = Number(new URL(gw.url).port);
    const slow = rawRequest(port, 'POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\n', 3000);
    const ok = await post(chat, msg);
    assert.equal(ok.status, 200);
    const out = await slow;
    assert.match(out, /^HTTP\/1\.1 408/);
  });

  it('an unknown model is 404, a missing model 400, unknown paths 404', async () => {
    const r = await post(chat, JSON.stringify({ model: 'gpt-unknown', messages: [] }));
    assert.equal(r.status, 404);
    assert.equal(r.json.error.code, 'model_not_found');
    const m = await post(chat, JSON.stringify({ messages: [] }));
    assert.equal(m.status, 400);
    assert.equal(m.json.error.param, 'model');
    const p = await fetch(`${gw.url}/v2/nothing`);
    assert.equal(p.status, 404);
    assert.equal(((await p.json()) as any).error.code, 'not_found');
  });

  it('an unreachable upstream is 502, a silent one 504', async () => {
    const r = await post(chat, JSON.stringify({ model: 'dead-model', messages: [] }));
    assert.equal(r.status, 502);
    assert.equal(r.json.error.code, 'upstream_unreachable');
    upstream.script('/v1/chat/completions', { delayMs: 600, json: {} });
    const t0 = performance.now();
    const s = await post(chat, JSON.stringify({ model: 'slow-model', messages: [] }));
    assert.equal(s.status, 504);
    assert.equal(s.json.error.code, 'upstream_timeout');
    assert.ok(performance.now() - t0 < 500, 'first-byte timeout fires near its setting');
  });

  it('OpenAI-shaped upstream errors pass through with their status', async () => {
    const body = {
      error: {
        message: 'Rate limit reached',
        type: 'rate_limit_error',
        param: null,
        code: 'rate_limit_exceeded',
      },
    };
    upstream.script('/v1/chat/completions', { status: 429, json: body });
    const r = await post(chat, msg);
    assert.equal(r.status, 429);
    assert.deepEqual(r.json, body);
  });

  it('returns and logs the client request id', async () => {
    const res = await fetch(chat, {
      method: 'POST',
      body: msg,
      headers: { 'content-type': 'application/json', 'x-request-id': 'abc-123' },
    });
    assert.equal(res.headers.get('x-request-id'), 'abc-123');
    assert.equal(upstream.requests.at(-1)!.headers['x-request-id'], 'abc-123');
    const generated = await fetch(chat, {
      method: 'POST',
      body: msg,
      headers: { 'content-type': 'application/json' },
    });
    assert.match(generated.headers.get('x-request-id') ?? '', /^[0-9a-f]{32}$/);
  });
});
