import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import OpenAI from 'openai';
import { startFakeUpstream, type FakeUpstream } from './fake-upstream.ts';
import { basicConfig, startGateway, waitFor, type TestGateway } from './harness.ts';

// The official openai client as a real peer: chat (plain and streaming), completions, embeddings, models.

describe('OpenAI-compatible surface with the official client', () => {
  let upstream: FakeUpstream;
  let gw: TestGateway;
  let client: OpenAI;

  before(async () => {
    upstream = await startFakeUpstream();
    gw = await startGateway(basicConfig(upstream.url));
    client = new OpenAI({ baseURL: `${gw.url}/v1`, apiKey: 'unused', maxRetries: 0 });
  });
  after(async () => {
    await gw.close();
    await upstream.close();
  });

  it('answers a chat completion and maps the model name both ways', async () => {
    const res = await client.chat.completions.create({
      model: 'mock-model',
      messages: [{ role: 'user', content: 'hi' }],
      temperature: 0.2,
    });
    assert.equal(res.choices[0]?.message.content, 'Hello from the fake upstream.');
    assert.equal(res.usage?.total_tokens, 18);
    const seen = upstream.requests.at(-1)!;
    assert.equal(seen.body.model, 'upstream-mock');
    assert.equal(seen.body.temperature, 0.2);
    await waitFor(() => gw.accessLogs().length >= 1);
    const line = gw.accessLogs().at(-1);
    assert.equal(line.model, 'mock-model');
    assert.equal(line.input_tokens, 11);
    assert.equal(line.status, 200);
  });

  it('passes unknown request fields through untouched', async () => {
    await client.chat.completions.create({
      model: 'mock-alias',
      messages: [{ role: 'user', content: 'hi' }],
      // @ts-expect-error vendor extension fields are not in the SDK's types
      top_k: 7,
      chat_template_kwargs: { enable_thinking: false },
    });
    const seen = upstream.requests.at(-1)!;
    assert.equal(seen.body.top_k, 7);
    assert.deepEqual(seen.body.chat_template_kwargs, { enable_thinking: false });
  });

  it('streams chunks and hides the injected usage frame from a client that did not ask', async () => {
    const stream = await client.chat.completions.create({
      model: 'mock-model',
      messages: [{ role: 'user', content: 'hi' }],
      stream: true,
    });
    let text = '';
    let usageFrames = 0;
    for await (const chunk of stream) {
      text += chunk.choices[0]?.delta.content ?? '';
      if (chunk.usage) usageFrames++;
    }
    assert.equal(text, 'Hello there!');
    assert.equal(usageFrames, 0);
    assert.equal(upstream.requests.at(-1)!.body.stream_options.include_usage, true);
    await waitFor(() => gw.accessLogs().some((l) => l.stream && l.output_tokens === 3));
  });

  it('streams usage to a client that asked for it', async () => {
    const stream = await client.chat.completions.create({
      model: 'mock-model',
      messages: [{ role: 'user', content: 'hi' }],
      stream: true,
      stream_options: { include_usage: true },
    });
    let usage: OpenAI.CompletionUsage | undefined;
    for await (const chunk of stream) if (chunk.usage) usage = chunk.usage;
    assert.equal(usage?.completion_tokens, 3);
  });

  it('serves completions and embeddings', async () => {
    const completion = await client.completions.create({ model: 'mock-model', prompt: 'hello' });
    assert.equal(completion.choices[0]?.text, ' world');
    const emb = await client.embeddings.create({ model: 'mock-model', input: ['a', 'b'] });
    assert.equal(emb.data.length, 2);
    assert.equal(upstream.requests.at(-1)!.path, '/v1/embeddings');
  });

  it('lists the configured models', async () => {
    const ids: string[] = [];
    for await (const m of client.models.list()) ids.push(m.id);
    assert.deepEqual(ids.sort(), ['mock-alias', 'mock-model']);
  });

  it('answers an unknown model with 404 model_not_found', async () => {
    await assert.rejects(
      client.chat.completions.create({ model: 'nope', messages: [{ role: 'user', content: 'hi' }] }),
      (err: any) =>
        err.status === 404 && err.code === 'model_not_found' && !String(err.message).includes('fake'),
    );
  });
});
