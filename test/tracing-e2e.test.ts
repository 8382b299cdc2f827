import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { startFakeUpstream } from './fake-upstream.ts';
import { basicConfig, startGateway } from './harness.ts';
import { startCollector } from './otlp-collector.ts';

// Tracing through the real gateway: a fake upstream that fails once then answers, a loopback OTLP/HTTP
// collector, and a client traceparent. The upstream must see each attempt span as its parent.

const CLIENT_TRACE = '4bf92f3577b34da6a3ce929d0e0e4736';

describe('tracing end to end', () => {
  it('exports the request, stage, attempt and pick spans and propagates traceparent upstream', async () => {
    const col = await startCollector();
    const up = await startFakeUpstream();
    up.script('/v1/chat/completions', { status: 503, json: { error: { message: 'busy' } } });
    const gw = await startGateway(
      basicConfig(up.url, `tracing: { enabled: true, endpoint: ${col.url} }`).replace(
        'attempts: 0',
        'attempts: 1, base: 1ms',
      ),
    );
    const res = await fetch(`${gw.url}/v1/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', traceparent: `00-${CLIENT_TRACE}-00f067aa0ba902b7-01` },
      body: JSON.stringify({
        model: 'mock-model',
        max_tokens: 9,
        messages: [{ role: 'user', content: 'hi' }],
      }),
    });
    assert.equal(res.status, 200);
    await res.text();
    await gw.close();
    const server = col.spans.find((s) => s.kind === 2)!;
    const attempts = col.spans.filter((s) => s.kind === 3);
    assert.equal(server.traceId, CLIENT_TRACE);
    assert.equal(server.name, 'chat mock-model');
    assert.equal(server.attrs['gen_ai.usage.input_tokens'], 11);
    assert.equal(server.attrs['switchyard.attempts'], 2);
    assert.equal(attempts.length, 2);
    assert.equal(up.requests.length, 2);
    for (const [i, r] of up.requests.entries()) {
      const span = attempts.find((a) => a.attrs['switchyard.attempt'] === i + 1);
      assert.ok(span !== undefined, `attempt ${i + 1} exported`);
      assert.equal(r.headers.traceparent, `00-${CLIENT_TRACE}-${span.spanId}-01`);
    }
    assert.equal(col.spans.filter((s) => s.name === 'switchyard.endpoint_pick').length, 2);
    assert.equal(col.spans.filter((s) => s.name === 'switchyard.on_request').length, 1);
    await up.close();
    await col.close();
  });
});
