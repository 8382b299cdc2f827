import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import OpenAI from 'openai';
import { startSimulator, type SimServer } from './server.ts';

// The official OpenAI client as a real peer against a simulated server on loopback.

const SYSTEM = 'You are a careful assistant for a routing gateway. '.repeat(30);

async function waitFor(check: () => boolean, ms = 2000): Promise<void> {
  const end = Date.now() + ms;
  while (!check()) {
    if (Date.now() > end) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 2));
  }
}

describe('sim server with the OpenAI client', () => {
  let sim: SimServer;
  let client: OpenAI;

  before(async () => {
    sim = await startSimulator({
      timeScale: 0.02,
      model: 'sim-model',
      loraAdapters: ['sql-lora'],
      maxLoras: 2,
    });
    client = new OpenAI({ baseURL: `${sim.url}/v1`, apiKey: 'unused', maxRetries: 0 });
  });
  after(() => sim.close());

  it('answers a chat completion with usage', async () => {
    const res = await client.chat.completions.create({
      model: 'sim-model',
      messages: [
        { role: 'system', content: SYSTEM },
        { role: 'user', content: 'Route this, please.' },
      ],
      max_tokens: 12,
    });
    assert.equal(res.object, 'chat.completion');
    assert.equal(res.model, 'sim-model');
    assert.equal(res.choices[0]!.message.role, 'assistant');
    assert.equal(res.choices[0]!.finish_reason, 'length');
    assert.equal(res.choices[0]!.message.content!.split(' ').length, 12);
    assert.equal(res.usage!.completion_tokens, 12);
    assert.ok(res.usage!.prompt_tokens > 300);
    assert.equal(res.usage!.total_tokens, res.usage!.prompt_tokens + 12);
  });

  it('streams a chat completion with a final usage chunk, and reuses the cached prefix', async () => {
    const stream = await client.chat.completions.create({
      model: 'sim-model',
      messages: [
        { role: 'system', content: SYSTEM },
        { role: 'user', content: 'Another question.' },
      ],
      max_completion_tokens: 8,
      stream: true,
      stream_options: { include_usage: true },
    });
    let text = '';
    let finish: string | null = null;
    let usage: OpenAI.CompletionUsage | null | undefined;
    let roleSeen = false;
    for await (const chunk of stream) {
      if (chunk.usage) {
        assert.deepEqual(chunk.choices, []);
        usage = chunk.usage;
        continue;
      }
      const choice = chunk.choices[0]!;
      roleSeen ||= choice.delta.role === 'assistant';
      text += choice.delta.content ?? '';
      finish = choice.finish_reason ?? finish;
    }
    assert.ok(roleSeen);
    assert.equal(finish, 'length');
    assert.equal(text.split(' ').length, 8);
    assert.equal(usage!.completion_tokens, 8);
    assert.ok(usage!.prompt_tokens_details!.cached_tokens! >= 300, 'system prompt served from cache');
  });

  it('streams without a usage chunk unless asked', async () => {
    const stream = await client.chat.completions.create({
      model: 'sim-model',
      messages: [{ role: 'user', content: 'hi' }],
      max_tokens: 3,
      stream: true,
    });
    const chunks = [];
    for await (const chunk of stream) chunks.push(chunk);
    assert.ok(chunks.every((c) => c.usage === undefined || c.usage === null));
    assert.equal(chunks.at(-1)!.choices[0]!.finish_reason, 'length');
  });

  it('answers legacy completions, streamed and not, for a LoRA adapter', async () => {
    const res = await client.completions.create({ model: 'sql-lora', prompt: 'SELECT', max_tokens: 5 });
    assert.equal(res.object, 'text_completion');
    assert.equal(res.model, 'sql-lora');
    assert.equal(res.usage!.completion_tokens, 5);
    const stream = await client.completions.create({
      model: 'sql-lora',
      prompt: [1, 2, 3],
      max_tokens: 4,
      stream: true,
    });
    let text = '';
    for await (const chunk of stream) text += chunk.choices[0]?.text ?? '';
    assert.equal(text.split(' ').length, 4);
  });

  it('picks an output length when max_tokens is absent', async () => {
    const res = await client.chat.completions.create({
      model: 'sim-model',
      messages: [{ role: 'user', content: 'go' }],
    });
    const n = res.usage!.completion_tokens;
    assert.ok(n >= 16 && n <= 256, `length ${n}`);
    assert.equal(res.choices[0]!.finish_reason, 'stop');
    const again = await client.chat.completions.create({
      model: 'sim-model',
      messages: [{ role: 'user', content: 'go' }],
    });
    assert.equal(again.choices[0]!.message.content, res.choices[0]!.message.content, 'deterministic');
  });

  it('lists the model and its adapters', async () => {
    const ids: string[] = [];
    for await (const m of client.models.list()) ids.push(m.id);
    assert.deepEqual(ids, ['sim-model', 'sql-lora']);
  });

  it('rejects an unknown model with a 404 and a too-long request with a 400', async () => {
    await assert.rejects(
      client.chat.completions.create({ model: 'gpt-nope', messages: [{ role: 'user', content: 'x' }] }),
      (err: unknown) => err instanceof OpenAI.NotFoundError && /does not exist/.test(err.message),
    );
    await assert.rejects(
      client.chat.completions.create({
        model: 'sim-model',
        messages: [{ role: 'user', content: 'x' }],
        max_tokens: 9000,
      }),
      (err: unknown) => err instanceof OpenAI.BadRequestError && /maximum context length/.test(err.message),
    );
  });

  it('stops the sequence and frees its blocks when the client aborts', async () => {
    const controller = new AbortController();
    const stream = await client.chat.completions.create(
      {
        model: 'sim-model',
        messages: [{ role: 'user', content: 'long one' }],
        max_tokens: 5000,
        stream: true,
      },
      { signal: controller.signal },
    );
    let n = 0;
    try {
      for await (const _ of stream) if (++n === 3) controller.abort();
    } catch {
      // the client reports the abort
    }
    assert.equal(n, 3);
    await waitFor(() => sim.stats().running === 0);
    assert.equal(sim.stats().freeBlocks, sim.config.numGpuBlocks);
    assert.ok(sim.stats().finished.abort >= 1);
  });

  it('serves /health and /metrics', async () => {
    assert.equal((await fetch(`${sim.url}/health`)).status, 200);
    const res = await fetch(`${sim.url}/metrics`);
    assert.match(res.headers.get('content-type')!, /^text\/plain; version=0\.0\.4/);
    const text = await res.text();
    assert.match(text, /vllm:generation_tokens_total\{model_name="sim-model"\} [1-9]/);
    assert.match(text, /vllm:prefix_cache_hits_total\{model_name="sim-model"\} [1-9]/);
    assert.equal((await fetch(`${sim.url}/nope`)).status, 404);
  });
});
