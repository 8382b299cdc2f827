import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { emptyTelemetry, readTelemetry } from './engine-metrics.ts';
import { parsePrometheusText } from './prom-text.ts';

// Metric pages shaped like the engines' own (names, label order, HELP/TYPE lines, histograms around
// the gauges we read), parsed into the picker's Telemetry.

const VLLM = `# HELP vllm:num_requests_running Number of requests in model execution batches.
# TYPE vllm:num_requests_running gauge
vllm:num_requests_running{engine="0",model_name="meta-llama/Llama-3.1-8B-Instruct"} 7.0
# HELP vllm:num_requests_waiting Number of requests waiting to be processed.
# TYPE vllm:num_requests_waiting gauge
vllm:num_requests_waiting{engine="0",model_name="meta-llama/Llama-3.1-8B-Instruct"} 3.0
# HELP vllm:kv_cache_usage_perc KV-cache usage. 1 means 100 percent usage.
# TYPE vllm:kv_cache_usage_perc gauge
vllm:kv_cache_usage_perc{engine="0",model_name="meta-llama/Llama-3.1-8B-Instruct"} 0.4375
# HELP vllm:cache_config_info Information of the LLMEngine CacheConfig
# TYPE vllm:cache_config_info gauge
vllm:cache_config_info{block_size="16",cache_dtype="auto",calculate_kv_scales="False",enable_prefix_caching="True",engine="0",gpu_memory_utilization="0.9",num_gpu_blocks="27776",prefix_caching_hash_algo="sha256"} 1.0
# HELP vllm:lora_requests_info Running stats on lora requests.
# TYPE vllm:lora_requests_info gauge
vllm:lora_requests_info{max_lora="4",running_lora_adapters="sql-lora",waiting_lora_adapters=""} 1.7301e+09
vllm:lora_requests_info{max_lora="4",running_lora_adapters="sql-lora,tweet-lora",waiting_lora_adapters="chat-lora"} 1.7302e+09
# HELP vllm:time_to_first_token_seconds Histogram of time to first token in seconds.
# TYPE vllm:time_to_first_token_seconds histogram
vllm:time_to_first_token_seconds_bucket{engine="0",le="0.001",model_name="m"} 0.0
vllm:time_to_first_token_seconds_bucket{engine="0",le="+Inf",model_name="m"} 12.0
vllm:time_to_first_token_seconds_count{engine="0",model_name="m"} 12.0
`;

describe('prometheus text parser', () => {
  it('reads names, labels and values of wanted samples only, skipping comments', () => {
    const samples = parsePrometheusText(
      VLLM,
      new Set(['vllm:num_requests_waiting', 'vllm:cache_config_info']),
    );
    assert.equal(samples.length, 2);
    assert.deepEqual(samples[0], {
      name: 'vllm:num_requests_waiting',
      labels: { engine: '0', model_name: 'meta-llama/Llama-3.1-8B-Instruct' },
      value: 3,
    });
    assert.equal(samples[1]!.labels.num_gpu_blocks, '27776');
  });

  it('handles escapes, no labels, timestamps, CRLF, special values and malformed lines', () => {
    const text =
      'a{x="q\\"uote",y="back\\\\slash",z="new\\nline"} 1 1700000000000\r\n' +
      'a 2.5e3\n' +
      'a{broken="x} 9\n' +
      'a{} +Inf\n' +
      'a NaN\n' +
      'a not-a-number\n' +
      '  # indented comment\n' +
      'b 1\n';
    const s = parsePrometheusText(text, new Set(['a']));
    assert.deepEqual(s[0]!.labels, { x: 'q"uote', y: 'back\\slash', z: 'new\nline' });
    assert.equal(s[0]!.value, 1);
    assert.deepEqual(
      s.slice(1).map((x) => x.value),
      [2500, Infinity, NaN],
    );
  });
});

describe('engine metric maps', () => {
  it('vLLM: queue, running, KV use, cache config and the newest LoRA row', () => {
    const t = emptyTelemetry();
    assert.equal(readTelemetry('vllm', VLLM, t), true);
    assert.equal(t.waiting, 3);
    assert.equal(t.running, 7);
    assert.equal(t.kvUsage, 0.4375);
    assert.equal(t.blockSize, 16);
    assert.equal(t.kvBlocks, 27776);
    assert.deepEqual(t.runningLoras, ['sql-lora', 'tweet-lora']);
    assert.deepEqual(t.waitingLoras, ['chat-lora']);
    assert.equal(t.maxLoras, 4);
  });

  it('vLLM: accepts the older gpu_cache_usage_perc and sums data-parallel engines', () => {
    const text = `vllm:gpu_cache_usage_perc{model_name="m"} 0.25
vllm:num_requests_waiting{engine="0",model_name="m"} 2
vllm:num_requests_waiting{engine="1",model_name="m"} 5
`;
    const t = emptyTelemetry();
    readTelemetry('vllm', text, t);
    assert.equal(t.kvUsage, 0.25);
    assert.equal(t.waiting, 7);
  });

  it('SGLang: queue, running and token usage with the pool size', () => {
    const text = `# HELP sglang:num_running_reqs The number of running requests.
# TYPE sglang:num_running_reqs gauge
sglang:num_running_reqs{model_name="qwen",tp_rank="0"} 12.0
# TYPE sglang:num_queue_reqs gauge
sglang:num_queue_reqs{model_name="qwen",tp_rank="0"} 4.0
sglang:token_usage{model_name="qwen",tp_rank="0"} 0.61
sglang:max_total_num_tokens{model_name="qwen",tp_rank="0"} 411000.0
sglang:cache_hit_rate{model_name="qwen",tp_rank="0"} 0.5
`;
    const t = emptyTelemetry();
    readTelemetry('sglang', text, t);
    assert.deepEqual([t.waiting, t.running, t.kvUsage, t.kvBlocks, t.blockSize], [4, 12, 0.61, 411000, 1]);
  });

  it('TGI: queue and batch size; KV use only with a stated capacity', () => {
    const text = `# TYPE tgi_queue_size gauge
tgi_queue_size 6
# TYPE tgi_batch_current_size gauge
tgi_batch_current_size 20
tgi_batch_current_max_tokens 16000
tgi_request_count 1234
`;
    const t = emptyTelemetry();
    readTelemetry('tgi', text, t);
    assert.deepEqual([t.waiting, t.running, t.kvUsage], [6, 20, 0]);
    readTelemetry('tgi', text, t, { capacityTokens: 32000 });
    assert.equal(t.kvUsage, 0.5);
  });

  it('Triton TensorRT-LLM: waiting from active − scheduled, KV from used/max blocks', () => {
    const text = `# TYPE nv_trt_llm_request_metrics gauge
nv_trt_llm_request_metrics{model="tensorrt_llm",request_type="context",version="1"} 1
nv_trt_llm_request_metrics{model="tensorrt_llm",request_type="scheduled",version="1"} 8
nv_trt_llm_request_metrics{model="tensorrt_llm",request_type="max",version="1"} 64
nv_trt_llm_request_metrics{model="tensorrt_llm",request_type="active",version="1"} 11
# TYPE nv_trt_llm_kv_cache_block_metrics gauge
nv_trt_llm_kv_cache_block_metrics{kv_cache_block_type="free",model="tensorrt_llm",version="1"} 300
nv_trt_llm_kv_cache_block_metrics{kv_cache_block_type="max",model="tensorrt_llm",version="1"} 400
nv_trt_llm_kv_cache_block_metrics{kv_cache_block_type="used",model="tensorrt_llm",version="1"} 100
nv_trt_llm_kv_cache_block_metrics{kv_cache_block_type="tokens_per",model="tensorrt_llm",version="1"} 64
`;
    const t = emptyTelemetry();
    readTelemetry('trtllm', text, t);
    assert.deepEqual([t.waiting, t.running, t.kvUsage, t.kvBlocks, t.blockSize], [3, 8, 0.25, 400, 64]);
  });

  it('NIM: the unprefixed vLLM gauges', () => {
    const text = `# HELP num_requests_running Number of requests currently running on GPU.
num_requests_running{model_name="meta/llama-3.1-8b-instruct"} 2.0
num_requests_waiting{model_name="meta/llama-3.1-8b-instruct"} 1.0
num_request_max{model_name="meta/llama-3.1-8b-instruct"} 256.0
gpu_cache_usage_perc{model_name="meta/llama-3.1-8b-instruct"} 0.125
`;
    const t = emptyTelemetry();
    readTelemetry('nim', text, t);
    assert.deepEqual([t.waiting, t.running, t.kvUsage], [1, 2, 0.125]);
  });

  it('a page without the engine’s metrics is a failed read, not an idle server', () => {
    const t = emptyTelemetry();
    t.waiting = 9;
    assert.equal(readTelemetry('vllm', 'tgi_queue_size 0\n', t), false);
    assert.equal(t.waiting, 9);
    // GPU samples alone do not make a page the engine's.
    assert.equal(readTelemetry('vllm', 'DCGM_FI_DEV_GPU_UTIL{gpu="0"} 50\n', t), false);
    assert.equal(t.waiting, 9);
  });
});

describe('GPU utilisation', () => {
  it('is absent (NaN) when the page does not report it', () => {
    for (const [engine, page] of [
      ['vllm', VLLM],
      ['sglang', 'sglang:num_queue_reqs 1\n'],
      ['tgi', 'tgi_queue_size 1\n'],
      ['nim', 'num_requests_waiting 1\n'],
      ['trtllm', 'nv_trt_llm_request_metrics{request_type="active"} 1\n'],
    ] as const) {
      const t = emptyTelemetry();
      t.gpuUtilization = 0.5;
      assert.equal(readTelemetry(engine, page, t), true);
      assert.ok(Number.isNaN(t.gpuUtilization), engine);
    }
  });

  it('Triton: nv_gpu_utilization (0..1) averaged over the GPUs', () => {
    const text = `# HELP nv_gpu_utilization GPU utilization rate [0.0 - 1.0)
# TYPE nv_gpu_utilization gauge
nv_gpu_utilization{gpu_uuid="GPU-c06bbf33-c250-ca45-579b-19134b518844"} 0.900000
nv_gpu_utilization{gpu_uuid="GPU-8a1e3b5c-1111-2222-3333-444455556666"} 0.700000
nv_trt_llm_request_metrics{model="tensorrt_llm",request_type="active",version="1"} 4
nv_trt_llm_kv_cache_block_metrics{kv_cache_block_type="max",model="tensorrt_llm",version="1"} 400
nv_trt_llm_kv_cache_block_metrics{kv_cache_block_type="used",model="tensorrt_llm",version="1"} 100
`;
    const t = emptyTelemetry();
    readTelemetry('trtllm', text, t);
    assert.ok(Math.abs(t.gpuUtilization - 0.8) < 1e-9);
    assert.deepEqual([t.running, t.kvUsage, t.kvBlocks], [4, 0.25, 400]);
  });

  it('NIM: gpu_utilization (0..1)', () => {
    const text = `num_requests_running{model_name="m"} 2.0
# HELP gpu_utilization GPU utilization rate (0.0–1.0)
gpu_utilization{gpu="0"} 0.42
`;
    const t = emptyTelemetry();
    readTelemetry('nim', text, t);
    assert.equal(t.gpuUtilization, 0.42);
  });

  it('any engine: DCGM_FI_DEV_GPU_UTIL (percent) on a merged page; the engine’s own gauge wins', () => {
    const dcgm = `# HELP DCGM_FI_DEV_GPU_UTIL GPU utilization (in %).
# TYPE DCGM_FI_DEV_GPU_UTIL gauge
DCGM_FI_DEV_GPU_UTIL{gpu="0",UUID="GPU-604ac76c-d9cf-fef3-62e9-d92044ab6e52",device="nvidia0",modelName="NVIDIA A100-SXM4-80GB"} 63
DCGM_FI_DEV_GPU_UTIL{gpu="1",UUID="GPU-704ac76c-d9cf-fef3-62e9-d92044ab6e52",device="nvidia1",modelName="NVIDIA A100-SXM4-80GB"} 81
`;
    const t = emptyTelemetry();
    assert.equal(readTelemetry('vllm', VLLM + dcgm, t), true);
    assert.ok(Math.abs(t.gpuUtilization - 0.72) < 1e-9);
    assert.equal(t.waiting, 3);
    readTelemetry('tgi', 'tgi_queue_size 1\nDCGM_FI_DEV_GPU_UTIL{gpu="0"} 100\n', t);
    assert.equal(t.gpuUtilization, 1);
    readTelemetry('nim', 'num_requests_running 1\ngpu_utilization 0.25\n' + dcgm, t);
    assert.equal(t.gpuUtilization, 0.25);
    // A later page without it resets the figure to "not reported".
    readTelemetry('vllm', VLLM, t);
    assert.ok(Number.isNaN(t.gpuUtilization));
  });
});
