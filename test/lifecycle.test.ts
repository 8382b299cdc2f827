import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { chatChunks, startFakeUpstream } from './fake-upstream.ts';
import { basicConfig, startGateway, waitFor } from './harness.ts';
import { parseConfig } from '../src/config/load.ts';

// Hot reload swaps the Runtime while in-flight requests finish on the old one; shutdown drains.

const streamBody = JSON.stringify({
  model: 'mock-model',
  stream: true,
  messages: [{ role: 'user', content: 'hi' }],
});

describe('reload and drain', () => {
  it('a reload during a stream lets the stream finish and routes new requests by the new config', async () => {
    const up = await startFakeUpstream();
    const gw = await startGateway(basicConfig(up.url));
    up.script('/v1/chat/completions', {
      sse: chatChunks('m', ['a', 'b', 'c', 'd', 'e'], true),
      frameDelayMs: 40,
    });
    const pending = fetch(`${gw.url}/v1/chat/completions`, {
      method: 'POST',
      body: streamBody,
      headers: { 'content-type': 'application/json' },
    }).then((r) => r.text());
    await waitFor(() => up.requests.length === 1);
    gw.gateway.reload(parseConfig(basicConfig(up.url).replace('upstream-mock', 'upstream-v2')));
    const text = await pending;
    assert.ok(text.includes('[DONE]'), 'the in-flight stream completed on the old runtime');
    await fetch(`${gw.url}/v1/chat/completions`, {
      method: 'POST',
      body: streamBody,
      headers: { 'content-type': 'application/json' },
    }).then((r) => r.text());
    assert.equal(up.requests.at(-1)!.body.model, 'upstream-v2');
    await gw.close();
    await up.close();
  });

  it('shutdown drains in-flight streams and refuses new requests with 503', async () => {
    const up = await startFakeUpstream();
    const gw = await startGateway(basicConfig(up.url));
    for (let i = 0; i < 5; i++)
      up.script('/v1/chat/completions', {
        sse: chatChunks('m', ['a', 'b', 'c', 'd'], false),
        frameDelayMs: 50,
      });
    const streams = Array.from({ length: 5 }, () =>
      fetch(`${gw.url}/v1/chat/completions`, {
        method: 'POST',
        body: streamBody,
        headers: { 'content-type': 'application/json' },
      }).then((r) => r.text()),
    );
    await waitFor(() => up.requests.length === 5);
    const closing = gw.close();
    const texts = await Promise.all(streams);
    for (const t of texts) assert.ok(t.includes('[DONE]'));
    await closing;
    await up.close();
  });

  it('a draining gateway answers 503 shutting_down to a request arriving on an open connection', async () => {
    const up = await startFakeUpstream();
    const gw = await startGateway(basicConfig(up.url));
    up.script(
      '/v1/chat/completions',
      { sse: chatChunks('m', ['a'], false), delayMs: 100 },
      { sse: chatChunks('m', ['b'], false), delayMs: 900 },
    );
    const { connect } = await import('node:net');
    const port = Number(new URL(gw.url).port);
    const open = (): { socket: import('node:net').Socket; out: () => string } => {
      const socket = connect(port, '127.0.0.1');
      let out = '';
      socket.on('data', (d) => (out += d.toString()));
      return { socket, out: () => out };
    };
    const req = `POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(streamBody)}\r\n\r\n${streamBody}`;
    const a = open();
    a.socket.write(req);
    await waitFor(() => up.requests.length === 1);
    const b = open();
    b.socket.write(req);
    await waitFor(() => up.requests.length === 2);
    const closing = gw.close();
    await waitFor(() => a.out().includes('0\r\n\r\n'), 3000); // request 1 done; b keeps the drain going
    a.socket.write(req);
    await waitFor(() => a.out().includes('shutting_down'), 3000);
    assert.match(a.out(), /HTTP\/1\.1 503/);
    await closing;
    assert.ok(b.out().includes('[DONE]'), 'the other in-flight stream completed');
    assert.equal(up.requests.length, 2);
    a.socket.destroy();
    b.socket.destroy();
    await up.close();
  });
});
