import { afterEach, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { resolveSimOptions, type SimOptions } from './options.ts';
import { Scheduler } from './scheduler.ts';
import type { FinishReason, Sequence, SeqSink, SeqUsage } from './sequence.ts';
import { chainSeed, tokenizePrompt } from './tokens.ts';

// The engine without HTTP. Sinks record when tokens arrive (in simulated ms) and probe the engine from
// inside token callbacks, which run at step boundaries in virtual time: no assertion depends on when
// wall-clock timers fire, so the tests hold on a loaded machine.

const SCALE = 0.02;
let engines: Scheduler[] = [];

afterEach(() => {
  for (const e of engines) e.close();
  engines = [];
});

function engine(options: SimOptions = {}): Scheduler {
  const s = new Scheduler(resolveSimOptions({ timeScale: SCALE, ...options }));
  engines.push(s);
  return s;
}

interface Result {
  reason: FinishReason;
  usage: SeqUsage;
  /** Simulated ms from arrival to first token, and the first token's wall-clock stamp. */
  ttftMs: number;
  firstTokenAt: number;
  tokens: number;
}

interface Run {
  seq: Sequence;
  done: Promise<Result>;
}

function submit(
  s: Scheduler,
  promptWords: number,
  maxTokens: number,
  opts: { lora?: string; text?: string; onToken?: (seq: Sequence) => void } = {},
): Run {
  const text = opts.text ?? Array.from({ length: promptWords }, (_, i) => `w${i % 97}`).join(' ');
  const lora = opts.lora ?? null;
  let first = -1;
  let tokens = 0;
  let resolve!: (v: Result) => void;
  const done = new Promise<Result>((r) => (resolve = r));
  let ended: { reason: FinishReason; usage: SeqUsage } | null = null;
  const sink: SeqSink = {
    token: () => {
      tokens++;
      if (first < 0) first = seq.firstTokenAt;
      opts.onToken?.(seq);
    },
    finish: (reason, usage) => (ended = { reason, usage }),
    flush: () => {
      if (ended !== null)
        resolve({ ...ended, ttftMs: (first - seq.arrivedAt) / SCALE, firstTokenAt: first, tokens });
    },
  };
  const prompt = tokenizePrompt(text, s.config.blockSize, chainSeed(lora));
  const seq = s.submit({
    prompt,
    maxTokens,
    finishReason: 'length',
    lora,
    chainSeed: chainSeed(lora),
    fillerSeed: 1,
    sink,
  });
  return { seq, done };
}

describe('sim scheduler', () => {
  it('never runs more than max_num_seqs sequences at once', async () => {
    const s = engine({ maxNumSeqs: 4 });
    let peak = 0;
    const onToken = (): void => void (peak = Math.max(peak, s.numRunning));
    const runs = Array.from({ length: 10 }, () => submit(s, 50, 20, { onToken }));
    const results = await Promise.all(runs.map((r) => r.done));
    assert.equal(peak, 4);
    assert.ok(results.every((r) => r.tokens === 20 && r.reason === 'length'));
    assert.equal(s.stats.generationTokens, 200);
  });

  it('makes TTFT grow with the queue ahead', async () => {
    const s = engine({ maxNumSeqs: 2 });
    const runs = Array.from({ length: 6 }, (_, i) => submit(s, 100, 30, { text: `prompt ${i} `.repeat(60) }));
    const t0 = runs[0]!.seq.arrivedAt;
    const first = (await Promise.all(runs.map((r) => r.done))).map((r) => (r.firstTokenAt - t0) / SCALE);
    // Two run at a time; each later pair waits for an earlier one to finish its 30 decode steps.
    const shown = first.map((t) => t.toFixed(0)).join(', ');
    assert.ok(first[2]! > first[0]! + 300 && first[3]! > first[1]! + 300, `first tokens at ${shown}`);
    assert.ok(first[4]! > first[2]! + 300 && first[5]! > first[3]! + 300, `first tokens at ${shown}`);
  });

  it('chunks a long prefill by the step token budget', async () => {
    const s = engine({ maxNumBatchedTokens: 256 });
    const r = await submit(s, 2000, 1).done;
    assert.ok(r.usage.promptTokens > 2000);
    assert.equal(s.stats.steps, Math.ceil(r.usage.promptTokens / 256));
    // Prefill time is proportional to computed tokens: ~0.07 ms each plus 12 ms per step.
    const expected = s.stats.steps * 12 + r.usage.promptTokens * 0.07;
    assert.ok(Math.abs(r.ttftMs - expected) < expected * 0.05, `ttft ${r.ttftMs} vs ${expected}`);
  });

  it('serves a repeated prompt from the prefix cache, faster', async () => {
    const s = engine();
    const text = 'a shared system prompt about routing '.repeat(150);
    const cold = await submit(s, 0, 2, { text }).done;
    const warm = await submit(s, 0, 2, { text }).done;
    assert.equal(cold.usage.cachedTokens, 0);
    assert.ok(warm.usage.cachedTokens >= cold.usage.promptTokens - 16, `cached ${warm.usage.cachedTokens}`);
    assert.ok(warm.ttftMs < cold.ttftMs / 2, `warm ${warm.ttftMs} cold ${cold.ttftMs}`);
    assert.equal(s.stats.prefixHits, warm.usage.cachedTokens);
  });

  it('keeps requests waiting while the KV cache is full', async () => {
    // 40 blocks of 16 = 640 tokens; each prompt alone needs 26 blocks.
    const s = engine({ numGpuBlocks: 40, maxModelLen: 640 });
    const seen: string[] = [];
    const onToken = (seq: Sequence): void => {
      if (seq.output === 1) seen.push(`${s.numRunning}/${s.numWaiting}`);
    };
    const runs = [
      submit(s, 0, 200, { text: 'alpha '.repeat(400), onToken }),
      submit(s, 0, 200, { text: 'beta '.repeat(400), onToken }),
    ];
    const [a, b] = await Promise.all(runs.map((r) => r.done));
    assert.deepEqual(seen, ['1/1', '1/0'], 'running/waiting at each first token');
    assert.ok(b!.firstTokenAt - a!.firstTokenAt > 200 * 12 * SCALE, 'the second waited for the first');
    assert.equal(s.kv.numFree, 40);
  });

  it('preempts the newest sequence when decoding runs out of blocks, and still finishes all', async () => {
    const s = engine({ numGpuBlocks: 24, maxModelLen: 384 });
    const runs = Array.from({ length: 3 }, (_, i) => submit(s, 0, 120, { text: `topic${i} `.repeat(60) }));
    const results = await Promise.all(runs.map((r) => r.done));
    assert.ok(results.every((r) => r.tokens === 120));
    assert.ok(s.stats.preemptions > 0);
    assert.equal(s.kv.numFree, 24);
  });

  it('frees the blocks of an aborted sequence', async () => {
    const s = engine();
    let aborted!: () => void;
    const gone = new Promise<void>((r) => (aborted = r));
    const onToken = (seq: Sequence): void => {
      if (seq.output !== 3) return;
      assert.equal(seq.state, 'running');
      assert.ok(s.kv.numFree < s.kv.numBlocks);
      s.abort(seq);
      aborted();
    };
    const r = submit(s, 500, 1000, { onToken });
    await gone;
    assert.equal(r.seq.state, 'aborted');
    assert.equal(s.kv.numFree, s.kv.numBlocks);
    assert.equal(s.numRunning, 0);
    assert.equal(s.stats.finished.abort, 1);
    assert.equal(s.stats.generationTokens, 3);
  });

  it('runs at most max_loras adapters in one batch', async () => {
    const s = engine({ loraAdapters: ['a', 'b'], maxLoras: 1 });
    const batches = new Set<string>();
    const onToken = (): void =>
      void batches.add(`${s.adapters('running').join('+')} | ${s.adapters('waiting').join('+')}`);
    const runs = [
      submit(s, 20, 50, { lora: 'a', onToken }),
      submit(s, 20, 50, { lora: 'b', onToken }),
      submit(s, 20, 50, { lora: 'a', onToken }),
    ];
    await Promise.all(runs.map((r) => r.done));
    const seen = [...batches];
    assert.ok(seen.includes('a | b'), seen.join('; '));
    assert.equal(seen.at(-1), 'b | ');
    assert.ok(
      seen.every((entry) => !entry.split(' | ')[0]!.includes('+')),
      seen.join('; '),
    );
  });
});
