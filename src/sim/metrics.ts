import type { Histogram } from './engine-stats.ts';
import type { Scheduler } from './scheduler.ts';

// The Prometheus text page (format 0.0.4) of one simulated server, under the metric names of the
// engine it imitates. Built on demand from the scheduler's live state; nothing is kept between scrapes.
// Names and label shapes follow the engines' docs:
// - vLLM: docs.vllm.ai/en/stable/usage/metrics and docs/design/metrics.md (V1). lora_requests_info's
//   value is the wall-clock time and its labels are comma-joined adapter names, as vLLM sets them.
// - SGLang: docs.sglang.io/references/production_metrics.
// - TGI: huggingface.co/docs/text-generation-inference/reference/metrics (no labels).
// - DCGM (optional): docs.nvidia.com/datacenter/dcgm, dcgm-exporter's DCGM_FI_DEV_GPU_UTIL{gpu,UUID,…}.

type Labels = Readonly<Record<string, string>>;

function escape(value: string): string {
  return value.replace(/\\/g, '\\\\').replace(/\n/g, '\\n').replace(/"/g, '\\"');
}

function labelText(labels: Labels, extra?: string): string {
  const parts = Object.entries(labels).map(([k, v]) => `${k}="${escape(v)}"`);
  if (extra !== undefined) parts.push(extra);
  return parts.length === 0 ? '' : `{${parts.join(',')}}`;
}

class Page {
  private out = '';

  gauge(name: string, help: string, value: number, labels: Labels = {}): this {
    return this.family('gauge', name, help, [[value, labels]]);
  }

  counter(name: string, help: string, value: number, labels: Labels = {}): this {
    return this.family('counter', name, help, [[value, labels]]);
  }

  /** One metric family with several label sets. */
  family(
    type: 'gauge' | 'counter',
    name: string,
    help: string,
    rows: readonly (readonly [number, Labels])[],
  ): this {
    this.out += `# HELP ${name} ${help}\n# TYPE ${name} ${type}\n`;
    for (const [value, labels] of rows) this.out += `${name}${labelText(labels)} ${value}\n`;
    return this;
  }

  histogram(name: string, help: string, h: Histogram, labels: Labels = {}): this {
    this.out += `# HELP ${name} ${help}\n# TYPE ${name} histogram\n`;
    let cumulative = 0;
    for (let i = 0; i <= h.bounds.length; i++) {
      cumulative += h.counts[i] ?? 0;
      const le = i < h.bounds.length ? String(h.bounds[i]) : '+Inf';
      this.out += `${name}_bucket${labelText(labels, `le="${le}"`)} ${cumulative}\n`;
    }
    this.out += `${name}_sum${labelText(labels)} ${h.sum}\n${name}_count${labelText(labels)} ${h.count}\n`;
    return this;
  }

  text(): string {
    return this.out;
  }
}

function vllmPage(s: Scheduler): string {
  const { config, stats, kv } = s;
  const m = { model_name: config.model };
  const page = new Page()
    .gauge('vllm:num_requests_running', 'Number of requests in model execution batches.', s.numRunning, m)
    .gauge('vllm:num_requests_waiting', 'Number of requests waiting to be processed.', s.numWaiting, m)
    .gauge('vllm:kv_cache_usage_perc', 'KV-cache usage. 1 means 100 percent usage.', kv.usage, m)
    .gauge('vllm:gpu_cache_usage_perc', 'GPU KV-cache usage (deprecated name).', kv.usage, m)
    .gauge('vllm:cache_config_info', 'Information of the LLMEngine CacheConfig', 1, {
      block_size: String(config.blockSize),
      cache_dtype: 'auto',
      enable_prefix_caching: config.enablePrefixCaching ? 'True' : 'False',
      gpu_memory_utilization: '0.9',
      num_gpu_blocks: String(config.numGpuBlocks),
    });
  if (config.loraAdapters.length > 0)
    page.gauge('vllm:lora_requests_info', 'Running stats on lora requests.', Date.now() / 1000, {
      max_lora: String(config.maxLoras),
      running_lora_adapters: s.adapters('running').join(','),
      waiting_lora_adapters: s.adapters('waiting').join(','),
    });
  return page
    .counter('vllm:prefix_cache_queries_total', 'Prefix cache queries, in tokens.', stats.prefixQueries, m)
    .counter('vllm:prefix_cache_hits_total', 'Prefix cache hits, in tokens.', stats.prefixHits, m)
    .counter('vllm:num_preemptions_total', 'Cumulative number of preemptions.', stats.preemptions, m)
    .counter('vllm:prompt_tokens_total', 'Number of prefill tokens processed.', stats.promptTokens, m)
    .counter('vllm:generation_tokens_total', 'Number of generation tokens.', stats.generationTokens, m)
    .family('counter', 'vllm:request_success_total', 'Count of successfully processed requests.', [
      [stats.finished.stop, { ...m, finished_reason: 'stop' }],
      [stats.finished.length, { ...m, finished_reason: 'length' }],
      [stats.finished.abort, { ...m, finished_reason: 'abort' }],
    ])
    .histogram(
      'vllm:time_to_first_token_seconds',
      'Histogram of time to first token in seconds.',
      stats.ttft,
      m,
    )
    .histogram(
      'vllm:e2e_request_latency_seconds',
      'Histogram of e2e request latency in seconds.',
      stats.e2e,
      m,
    )
    .histogram('vllm:request_queue_time_seconds', 'Histogram of time spent in WAITING phase.', stats.queue, m)
    .text();
}

function sglangPage(s: Scheduler): string {
  const { config, stats, kv } = s;
  const m = { model_name: config.model };
  const capacity = config.numGpuBlocks * config.blockSize;
  const hitRate = stats.prefixQueries === 0 ? 0 : stats.prefixHits / stats.prefixQueries;
  const requests = stats.finished.stop + stats.finished.length + stats.finished.abort;
  return new Page()
    .gauge('sglang:num_running_reqs', 'The number of running requests.', s.numRunning, m)
    .gauge('sglang:num_queue_reqs', 'The number of requests in the waiting queue.', s.numWaiting, m)
    .gauge('sglang:token_usage', 'The token usage.', kv.usage, m)
    .gauge('sglang:num_used_tokens', 'The number of used tokens.', Math.round(kv.usage * capacity), m)
    .gauge('sglang:max_total_num_tokens', 'Maximum total number of tokens in the KV pool.', capacity, m)
    .gauge('sglang:cache_hit_rate', 'The prefix cache hit rate.', hitRate, m)
    .counter('sglang:prompt_tokens_total', 'Number of prefill tokens processed.', stats.promptTokens, m)
    .counter(
      'sglang:generation_tokens_total',
      'Number of generation tokens processed.',
      stats.generationTokens,
      m,
    )
    .counter('sglang:cached_tokens_total', 'Number of cached prompt tokens.', stats.prefixHits, m)
    .counter('sglang:num_requests_total', 'Number of requests processed.', requests, m)
    .histogram(
      'sglang:time_to_first_token_seconds',
      'Histogram of time to first token in seconds.',
      stats.ttft,
      m,
    )
    .histogram(
      'sglang:e2e_request_latency_seconds',
      'Histogram of End-to-end request latency in seconds',
      stats.e2e,
      m,
    )
    .text();
}

function tgiPage(s: Scheduler): string {
  const { stats } = s;
  let failures = 0;
  for (const n of stats.errors.values()) failures += n;
  const success = stats.finished.stop + stats.finished.length;
  return new Page()
    .gauge('tgi_queue_size', 'Current queue size', s.numWaiting)
    .gauge('tgi_batch_current_size', 'Current batch size', s.numRunning)
    .gauge('tgi_batch_current_max_tokens', 'Maximum tokens for the current batch', s.runningMaxTokens())
    .counter('tgi_request_count', 'Total number of requests', stats.requests)
    .counter('tgi_request_success', 'Number of successful requests', success)
    .counter('tgi_request_failure', 'Number of failed requests', failures)
    .histogram('tgi_request_duration', 'Total time spent processing the request', stats.e2e)
    .histogram('tgi_request_queue_duration', 'Time spent in the queue per request', stats.queue)
    .text();
}

/** dcgm-exporter's utilisation gauge (integer percent, as DCGM reports it), labelled as the exporter does. */
function dcgmPage(s: Scheduler): string {
  return new Page()
    .gauge('DCGM_FI_DEV_GPU_UTIL', 'GPU utilization (in %).', Math.round(s.gpuUtilization() * 100), {
      gpu: '0',
      UUID: 'GPU-00000000-0000-0000-0000-000000000000',
      device: 'nvidia0',
      modelName: 'Simulated GPU',
    })
    .text();
}

function enginePage(s: Scheduler): string {
  switch (s.config.engine) {
    case 'vllm':
      return vllmPage(s);
    case 'sglang':
      return sglangPage(s);
    case 'tgi':
      return tgiPage(s);
  }
}

/** The /metrics page for the scheduler's engine flavour (plus the DCGM gauge with `gpuMetrics`). */
export function renderMetrics(s: Scheduler): string {
  const page = enginePage(s);
  return s.config.gpuMetrics ? page + dcgmPage(s) : page;
}
