import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { renderMetrics } from './metrics.ts';
import { resolveSimOptions, type SimEngine } from './options.ts';
import { Scheduler } from './scheduler.ts';
import { tokenizePrompt } from './tokens.ts';

// The /metrics page: engine names present, well-formed Prometheus text, live values.

const SAMPLE = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{[^}]*\})? (-?[0-9.e+-]+|\+Inf|NaN)$/;

function parse(text: string): Map<string, string[]> {
  const families = new Map<string, string[]>();
  const typed = new Set<string>();
  for (const line of text.trimEnd().split('\n')) {
    if (line.startsWith('# TYPE ')) {
      const name = line.split(' ')[2]!;
      assert.ok(!typed.has(name), `duplicate TYPE for ${name}`);
      typed.add(name);
      continue;
    }
    if (line.startsWith('# HELP ')) continue;
    const m = SAMPLE.exec(line);
    assert.ok(m !== null, `bad sample line: ${line}`);
    const rows = families.get(m[1]!) ?? [];
    rows.push(`${m[2] ?? ''} ${m[3]}`);
    families.set(m[1]!, rows);
  }
  return families;
}

const engines: Scheduler[] = [];
after(() => engines.forEach((e) => e.close()));

function scheduler(engine: SimEngine): Scheduler {
  const s = new Scheduler(
    resolveSimOptions({ engine, model: 'm1', loraAdapters: ['ad1', 'ad2'], maxLoras: 2 }),
  );
  engines.push(s);
  return s;
}

describe('sim metrics', () => {
  it('exposes the vLLM names with model_name labels', () => {
    const s = scheduler('vllm');
    const f = parse(renderMetrics(s));
    for (const name of [
      'vllm:num_requests_running',
      'vllm:num_requests_waiting',
      'vllm:kv_cache_usage_perc',
      'vllm:gpu_cache_usage_perc',
      'vllm:prefix_cache_queries_total',
      'vllm:prefix_cache_hits_total',
      'vllm:prompt_tokens_total',
      'vllm:generation_tokens_total',
    ])
      assert.deepEqual(f.get(name), ['{model_name="m1"} 0'], name);
    assert.match(f.get('vllm:cache_config_info')![0]!, /block_size="16".*num_gpu_blocks="8192"\} 1$/);
    assert.match(
      f.get('vllm:lora_requests_info')![0]!,
      /^\{max_lora="2",running_lora_adapters="",waiting_lora_adapters=""\} \d+/,
    );
    for (const h of ['vllm:time_to_first_token_seconds', 'vllm:e2e_request_latency_seconds']) {
      assert.ok(
        f.get(`${h}_bucket`)!.some((row) => row.includes('le="+Inf"')),
        h,
      );
      assert.deepEqual(f.get(`${h}_count`), ['{model_name="m1"} 0']);
    }
  });

  it('reports queued work and adapters live', () => {
    const s = scheduler('vllm');
    const sink = { token() {}, finish() {}, flush() {} };
    const prompt = tokenizePrompt('hello world', 16);
    for (const lora of ['ad1', 'ad2', null])
      s.submit({ prompt, maxTokens: 5, finishReason: 'length', lora, chainSeed: 0, fillerSeed: 0, sink });
    const f = parse(renderMetrics(s));
    assert.deepEqual(f.get('vllm:num_requests_waiting'), ['{model_name="m1"} 3']);
    assert.match(f.get('vllm:lora_requests_info')![0]!, /waiting_lora_adapters="ad1,ad2"/);
  });

  it('omits lora_requests_info when no adapters are configured', () => {
    const s = new Scheduler(resolveSimOptions({}));
    engines.push(s);
    assert.ok(!renderMetrics(s).includes('vllm:lora_requests_info'));
  });

  it('speaks SGLang', () => {
    const f = parse(renderMetrics(scheduler('sglang')));
    for (const name of [
      'sglang:num_running_reqs',
      'sglang:num_queue_reqs',
      'sglang:token_usage',
      'sglang:cache_hit_rate',
      'sglang:prompt_tokens_total',
      'sglang:generation_tokens_total',
      'sglang:time_to_first_token_seconds_count',
    ])
      assert.ok(f.has(name), name);
    assert.deepEqual(f.get('sglang:max_total_num_tokens'), ['{model_name="m1"} 131072']);
  });

  it('speaks TGI', () => {
    const f = parse(renderMetrics(scheduler('tgi')));
    for (const name of [
      'tgi_queue_size',
      'tgi_batch_current_size',
      'tgi_batch_current_max_tokens',
      'tgi_request_count',
    ])
      assert.deepEqual(f.get(name), [' 0'], name);
    assert.ok(f.has('tgi_request_duration_bucket'));
  });
});
