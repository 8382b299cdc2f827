import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { chatChunks, chatCompletion, startFakeUpstream, type FakeUpstream } from './fake-upstream.ts';
import { basicConfig, startGateway, waitFor, type TestGateway } from './harness.ts';

// Per-route prompt/response logging: off by default (nothing of the prompt or the answer reaches the
// log), on for a route that asks, redacted with the built-ins and the route's own patterns; streams are
// assembled from what the client received while every frame still reaches the client at once.

const ROUTES = `
routes:
  - name: audited
    match: { headers: { x-team: audit } }
    log_payloads:
      prompts: true
      responses: true
      max_chars: 2000
      patterns:
        - { name: ticket, regex: "TCK-\\\\d+" }
`;

const PROMPT = 'Contact me at jane.doe@example.com about TCK-991, my card is 4111 1111 1111 1111.';

describe('payload logging', () => {
  let upstream: FakeUpstream;
  let gw: TestGateway;

  before(async () => {
    upstream = await startFakeUpstream();
    gw = await startGateway(basicConfig(upstream.url, ROUTES));
  });
  after(async () => {
    await gw.close();
    await upstream.close();
  });

  async function send(path: string, body: unknown, headers: Record<string, string> = {}): Promise<Response> {
    return fetch(`${gw.url}${path}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...headers },
      body: JSON.stringify(body),
    });
  }

  async function lineAfter(before: number): Promise<any> {
    await waitFor(() => gw.accessLogs().length > before);
    return gw.accessLogs()[before];
  }

  it('a route without log_payloads logs no prompt or response text', async () => {
    upstream.script('/v1/chat/completions', {
      json: chatCompletion('upstream-mock', 'Reply to jane.doe@example.com'),
    });
    const before = gw.accessLogs().length;
    const res = await send('/v1/chat/completions', {
      model: 'mock-model',
      messages: [{ role: 'user', content: PROMPT }],
    });
    assert.equal(res.status, 200);
    await res.text();
    const line = await lineAfter(before);
    assert.equal(line.route, 'default');
    assert.ok(!('prompt' in line) && !('response' in line));
    const raw = JSON.stringify(gw.logs);
    assert.ok(!raw.includes('jane.doe') && !raw.includes('Contact me') && !raw.includes('Reply to'));
  });

  it('a route with it logs the messages and the answer, redacted', async () => {
    upstream.script('/v1/chat/completions', {
      json: chatCompletion('upstream-mock', 'I will write to jane.doe@example.com today.'),
    });
    const before = gw.accessLogs().length;
    const res = await send(
      '/v1/chat/completions',
      {
        model: 'mock-model',
        messages: [
          { role: 'system', content: 'You are a support agent.' },
          { role: 'user', content: PROMPT },
        ],
      },
      { 'x-team': 'audit' },
    );
    assert.equal(res.status, 200);
    assert.equal(
      ((await res.json()) as any).choices[0].message.content,
      'I will write to jane.doe@example.com today.',
    );
    const line = await lineAfter(before);
    assert.equal(line.route, 'audited');
    assert.deepEqual(line.prompt, [
      { role: 'system', content: 'You are a support agent.' },
      {
        role: 'user',
        content: 'Contact me at [REDACTED:email] about [REDACTED:ticket], my card is [REDACTED:credit_card].',
      },
    ]);
    assert.equal(line.response, 'I will write to [REDACTED:email] today.');
    assert.ok(!JSON.stringify(gw.logs).includes('jane.doe'));
  });

  it('a stream is assembled from the frames the client got, which were not held back', async () => {
    const words = ['Reach ', 'jane.doe@', 'example.com', ' or ', '+1 415 555 0100', '.'];
    const frames = chatChunks('upstream-mock', words, true);
    upstream.script('/v1/chat/completions', { sse: frames, frameDelayMs: 40 });
    const before = gw.accessLogs().length;
    const res = await send(
      '/v1/chat/completions',
      { model: 'mock-model', stream: true, messages: [{ role: 'user', content: 'How do I reach you?' }] },
      { 'x-team': 'audit' },
    );
    assert.equal(res.status, 200);
    const reader = res.body!.getReader();
    const decoder = new TextDecoder();
    let text = '';
    let writtenWhenFirstWordArrived = -1;
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      text += decoder.decode(value, { stream: true });
      if (writtenWhenFirstWordArrived < 0 && text.includes('Reach '))
        writtenWhenFirstWordArrived = upstream.requests.at(-1)!.framesWritten;
    }
    // The first word reached the client while the upstream was still far from done.
    assert.ok(
      writtenWhenFirstWordArrived > 0 && writtenWhenFirstWordArrived < frames.length - 2,
      `first word arrived after ${writtenWhenFirstWordArrived} of ${frames.length} frames`,
    );
    assert.ok(text.includes('jane.doe@') && text.includes('data: [DONE]'));
    const line = await lineAfter(before);
    assert.equal(line.response, 'Reach [REDACTED:email] or [REDACTED:phone].');
    assert.deepEqual(line.prompt, [{ role: 'user', content: 'How do I reach you?' }]);
  });

  it('the Anthropic surface logs the text of the Anthropic frames it sent', async () => {
    upstream.script('/v1/chat/completions', {
      sse: chatChunks('upstream-mock', ['Hi ', 'ops@acme.io'], true),
    });
    const before = gw.accessLogs().length;
    const res = await send(
      '/v1/messages',
      {
        model: 'mock-model',
        max_tokens: 16,
        stream: true,
        system: 'Sys prompt',
        messages: [{ role: 'user', content: 'ping from 10.1.2.3' }],
      },
      { 'x-team': 'audit' },
    );
    assert.equal(res.status, 200);
    assert.match(await res.text(), /content_block_delta/);
    const line = await lineAfter(before);
    assert.deepEqual(line.prompt, [
      { role: 'system', content: 'Sys prompt' },
      { role: 'user', content: 'ping from [REDACTED:ipv4]' },
    ]);
    assert.equal(line.response, 'Hi [REDACTED:email]');
  });
});
