import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { request } from 'node:http';
import { chatChunks, startFakeUpstream, type FakeUpstream } from './fake-upstream.ts';
import { basicConfig, startGateway, waitFor, type TestGateway } from './harness.ts';

// Streams pass through frame by frame: client aborts reach the upstream at once, a cut upstream ends the
// client stream with an error event (never a fake [DONE]), an error before content is a plain error.

async function streamText(url: string, body: unknown): Promise<{ status: number; text: string }> {
  const res = await fetch(url, {
    method: 'POST',
    body: JSON.stringify(body),
    headers: { 'content-type': 'application/json' },
  });
  return { status: res.status, text: await res.text() };
}

describe('streaming', () => {
  let upstream: FakeUpstream;
  let gw: TestGateway;
  let chat: string;
  const body = { model: 'mock-model', stream: true, messages: [{ role: 'user', content: 'hi' }] };

  before(async () => {
    upstream = await startFakeUpstream();
    gw = await startGateway(basicConfig(upstream.url));
    chat = `${gw.url}/v1/chat/completions`;
  });
  after(async () => {
    await gw.close();
    await upstream.close();
  });

  it('a client abort cancels the upstream request within 500 ms', async () => {
    const words = Array.from({ length: 200 }, (_, i) => `w${i} `);
    upstream.script('/v1/chat/completions', { sse: chatChunks('m', words, true), frameDelayMs: 20 });
    const controller = new AbortController();
    const res = await fetch(chat, {
      method: 'POST',
      body: JSON.stringify(body),
      headers: { 'content-type': 'application/json' },
      signal: controller.signal,
    });
    const reader = res.body!.getReader();
    await reader.read();
    const abortedAt = performance.now();
    controller.abort();
    const rec = upstream.requests.at(-1)!;
    await waitFor(() => rec.aborted, 1000);
    assert.ok(
      rec.abortedAt! - abortedAt < 500,
      `upstream saw the abort after ${rec.abortedAt! - abortedAt} ms`,
    );
    await waitFor(() => gw.accessLogs().some((l) => l.outcome === 'aborted'));
    assert.equal(gw.accessLogs().find((l) => l.outcome === 'aborted').status, 499);
  });

  it('ends the client stream at [DONE] without waiting for the upstream to close', async () => {
    const frames = chatChunks('m', ['a', 'b'], true).map((f) => `data: ${JSON.stringify(f)}\n\n`);
    const usage = { prompt_tokens: 5, completion_tokens: 2, total_tokens: 7 };
    upstream.script('/v1/chat/completions', {
      chunks: [
        frames.join('') + `data: ${JSON.stringify({ id: 'x', choices: [], usage })}\n\ndata: [DONE]\n\n`,
        ': after the end\n\n',
      ],
      frameDelayMs: 600,
    });
    const started = performance.now();
    const r = await streamText(chat, body);
    const took = performance.now() - started;
    assert.equal(r.status, 200);
    assert.ok(r.text.endsWith('data: [DONE]\n\n'), r.text);
    assert.ok(!r.text.includes('after the end'));
    assert.ok(took < 500, `the client waited ${took.toFixed(0)} ms for the upstream to close`);
    // The exchange itself still completes (and is logged with its usage) once the upstream ends.
    await waitFor(() => gw.accessLogs().some((l) => l.input_tokens === 5 && l.outcome === 'ok'), 3000);
  });

  it('a stream cut mid-way ends with an error event and no [DONE]', async () => {
    upstream.script('/v1/chat/completions', {
      sse: chatChunks('m', ['a', 'b', 'c', 'd'], true),
      cutAfter: 3,
      frameDelayMs: 10,
    });
    const r = await streamText(chat, body);
    assert.equal(r.status, 200);
    assert.ok(!r.text.includes('[DONE]'));
    const last = r.text.trim().split('\n\n').at(-1)!;
    assert.equal(JSON.parse(last.slice(6)).error.code, 'upstream_stream_error');
    await waitFor(() => gw.accessLogs().some((l) => l.outcome === 'cut'));
  });

  it('an error event before any content is answered as a plain error', async () => {
    upstream.script('/v1/chat/completions', {
      sse: [{ error: { message: 'overloaded', type: 'server_error', code: 'overloaded' } }],
    });
    const res = await fetch(chat, {
      method: 'POST',
      body: JSON.stringify(body),
      headers: { 'content-type': 'application/json' },
    });
    assert.equal(res.status, 502);
    assert.match(res.headers.get('content-type') ?? '', /json/);
    assert.equal(((await res.json()) as any).error.message, 'overloaded');
  });

  it('applies back-pressure: a client that does not read holds the upstream back', async () => {
    const big = 'x'.repeat(16_000);
    const frames = Array.from({ length: 4000 }, () => ({ choices: [{ index: 0, delta: { content: big } }] }));
    upstream.script('/v1/chat/completions', { sse: [...frames, '[DONE]'] });
    const before = upstream.requests.length;
    const req = request(chat, { method: 'POST', headers: { 'content-type': 'application/json' } });
    req.end(JSON.stringify(body));
    const res = await new Promise<import('node:http').IncomingMessage>((r) => req.on('response', r));
    res.pause();
    await waitFor(() => upstream.requests.length > before);
    await new Promise((r) => setTimeout(r, 400));
    // 64 MB of frames were offered; with back-pressure only socket and stream buffers' worth can leave.
    const rec = upstream.requests.at(-1)!;
    const written = rec.framesWritten;
    res.destroy();
    assert.ok(written < 1000, `upstream wrote ${written} of 4000 frames to a client that read nothing`);
    await waitFor(() => rec.aborted, 1000);
  });
});
