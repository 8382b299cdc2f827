import type { EngineKind, Telemetry } from '../contracts/scheduling.ts';
import { parsePrometheusText, type Sample } from './prom-text.ts';

// Per-engine maps from a /metrics page to the normalised Telemetry the picker reads. Sources:
// - vLLM: docs.vllm.ai/en/stable/usage/metrics (V1 names; vllm:gpu_cache_usage_perc is the pre-0.10
//   name of vllm:kv_cache_usage_perc; cache_config_info and lora_requests_info carry their data in
//   labels, the latter once per change with the wall-clock time as value: the newest row wins).
// - SGLang: docs.sglang.ai production metrics (sglang:num_queue_reqs, num_running_reqs, token_usage,
//   max_total_num_tokens; the radix cache has one-token pages).
// - TGI: huggingface.co/docs/text-generation-inference/reference/metrics (tgi_queue_size,
//   tgi_batch_current_size, tgi_batch_current_max_tokens; no KV figure, so KV use is derived from the
//   batch's max tokens when the pool states the engine's token capacity).
// - Triton + TensorRT-LLM backend: nv_trt_llm_request_metrics{request_type} and
//   nv_trt_llm_kv_cache_block_metrics{kv_cache_block_type} (waiting = active − scheduled when the
//   backend has no "waiting" row, as in tensorrtllm_backend#725).
// - NIM for LLMs: docs.nvidia.com/nim/large-language-models/latest/observability.html (the vLLM gauges
//   without prefix, served at /v1/metrics); newer NIMs expose the vllm: names, read as well.
// Multi-engine pages (data-parallel vLLM) repeat a gauge per engine: counts are summed, usage maxed.
//
// GPU utilisation, where a page has it: Triton's nv_gpu_utilization{gpu_uuid} (0..1, per GPU; Triton
// metrics docs), NIM's gpu_utilization (0..1; the NIM observability pages), and, for any engine,
// dcgm-exporter's DCGM_FI_DEV_GPU_UTIL{gpu,UUID} (0..100 percent) when the scraped page carries it (a
// sidecar or proxy that merges the exporter's page with the engine's). vLLM, SGLang and TGI report none
// of their own. Several GPUs (tensor parallelism) are averaged. A page with only GPU samples is not a
// valid engine page.

export interface EngineHints {
  /** KV capacity in tokens, for engines that do not report it (TGI's --max-batch-total-tokens). */
  readonly capacityTokens?: number;
}

const VLLM = [
  'vllm:num_requests_waiting',
  'vllm:num_requests_running',
  'vllm:kv_cache_usage_perc',
  'vllm:gpu_cache_usage_perc',
  'vllm:cache_config_info',
  'vllm:lora_requests_info',
];
const NIM = [...VLLM, 'num_requests_waiting', 'num_requests_running', 'gpu_cache_usage_perc'];
const SGLANG = [
  'sglang:num_queue_reqs',
  'sglang:num_running_reqs',
  'sglang:token_usage',
  'sglang:num_used_tokens',
  'sglang:max_total_num_tokens',
];
const TGI = ['tgi_queue_size', 'tgi_batch_current_size', 'tgi_batch_current_max_tokens'];
const TRTLLM = ['nv_trt_llm_request_metrics', 'nv_trt_llm_kv_cache_block_metrics'];

/** dcgm-exporter's utilisation field, in percent. */
const DCGM_UTIL = 'DCGM_FI_DEV_GPU_UTIL';
/** The engine's own utilisation gauge (a 0..1 fraction), for engines that have one. */
const OWN_GPU_UTIL: Readonly<Partial<Record<EngineKind, string>>> = {
  trtllm: 'nv_gpu_utilization',
  nim: 'gpu_utilization',
};
const GPU_NAMES: ReadonlySet<string> = new Set([DCGM_UTIL, ...Object.values(OWN_GPU_UTIL)]);

function wanted(engine: EngineKind, names: readonly string[]): ReadonlySet<string> {
  const own = OWN_GPU_UTIL[engine];
  return new Set([...names, DCGM_UTIL, ...(own === undefined ? [] : [own])]);
}

const WANTED: Readonly<Record<EngineKind, ReadonlySet<string>>> = {
  vllm: wanted('vllm', VLLM),
  nim: wanted('nim', NIM),
  sglang: wanted('sglang', SGLANG),
  tgi: wanted('tgi', TGI),
  trtllm: wanted('trtllm', TRTLLM),
};

const NONE: readonly string[] = Object.freeze([]);

/** Default path of each engine's Prometheus page (Triton serves it on its metrics port, 8002). */
export const DEFAULT_METRICS_PATH: Readonly<Record<EngineKind, string>> = {
  vllm: '/metrics',
  sglang: '/metrics',
  tgi: '/metrics',
  trtllm: '/metrics',
  nim: '/v1/metrics',
};

/** A telemetry record with every field at its "nothing reported" value. */
export function emptyTelemetry(): Telemetry {
  return {
    waiting: 0,
    running: 0,
    kvUsage: 0,
    kvBlocks: 0,
    blockSize: 0,
    runningLoras: NONE,
    waitingLoras: NONE,
    maxLoras: 0,
    gpuUtilization: NaN,
  };
}

class Acc {
  readonly sum = new Map<string, number>();
  readonly max = new Map<string, number>();
  constructor(samples: readonly Sample[]) {
    for (const s of samples) {
      if (!Number.isFinite(s.value)) continue;
      this.sum.set(s.name, (this.sum.get(s.name) ?? 0) + s.value);
      this.max.set(s.name, Math.max(this.max.get(s.name) ?? -Infinity, s.value));
    }
  }
  total(...names: string[]): number | undefined {
    for (const n of names) {
      const v = this.sum.get(n);
      if (v !== undefined) return v;
    }
    return undefined;
  }
  highest(...names: string[]): number | undefined {
    for (const n of names) {
      const v = this.max.get(n);
      if (v !== undefined) return v;
    }
    return undefined;
  }
}

function intLabel(value: string | undefined): number {
  const n = value === undefined ? NaN : Number(value);
  return Number.isFinite(n) && n > 0 ? Math.floor(n) : 0;
}

function adapterList(value: string | undefined): readonly string[] {
  if (value === undefined || value === '') return NONE;
  return value.split(',').filter((s) => s.length > 0);
}

function clamp01(v: number): number {
  return v > 1 ? 1 : v > 0 ? v : 0;
}

/** Mean utilisation (0..1) over the GPUs on the page: the engine's own gauge first, then DCGM's. */
function readGpuUtilization(engine: EngineKind, samples: readonly Sample[]): number {
  const own = OWN_GPU_UTIL[engine];
  for (const [name, scale] of [
    [own, 1],
    [DCGM_UTIL, 100],
  ] as const) {
    if (name === undefined) continue;
    let sum = 0;
    let n = 0;
    for (const s of samples) {
      if (s.name !== name || !Number.isFinite(s.value)) continue;
      sum += s.value / scale;
      n++;
    }
    if (n > 0) return clamp01(sum / n);
  }
  return NaN;
}

function readVllmLike(samples: readonly Sample[], out: Telemetry): void {
  const a = new Acc(samples);
  out.waiting = a.total('vllm:num_requests_waiting', 'num_requests_waiting') ?? 0;
  out.running = a.total('vllm:num_requests_running', 'num_requests_running') ?? 0;
  out.kvUsage = clamp01(
    a.highest('vllm:kv_cache_usage_perc', 'vllm:gpu_cache_usage_perc', 'gpu_cache_usage_perc') ?? 0,
  );
  let newest = -Infinity;
  for (const s of samples) {
    if (s.name === 'vllm:cache_config_info') {
      out.blockSize = intLabel(s.labels.block_size) || out.blockSize;
      out.kvBlocks = intLabel(s.labels.num_gpu_blocks) || out.kvBlocks;
    } else if (s.name === 'vllm:lora_requests_info' && s.value >= newest) {
      newest = s.value;
      out.runningLoras = adapterList(s.labels.running_lora_adapters);
      out.waitingLoras = adapterList(s.labels.waiting_lora_adapters);
      out.maxLoras = intLabel(s.labels.max_lora);
    }
  }
}

function readSglang(samples: readonly Sample[], out: Telemetry): void {
  const a = new Acc(samples);
  out.waiting = a.total('sglang:num_queue_reqs') ?? 0;
  out.running = a.total('sglang:num_running_reqs') ?? 0;
  const capacity = a.total('sglang:max_total_num_tokens') ?? 0;
  const used = a.total('sglang:num_used_tokens');
  const usage = a.highest('sglang:token_usage');
  out.kvUsage = clamp01(usage ?? (used !== undefined && capacity > 0 ? used / capacity : 0));
  out.kvBlocks = capacity;
  out.blockSize = capacity > 0 ? 1 : 0;
}

function readTgi(samples: readonly Sample[], out: Telemetry, hints: EngineHints): void {
  const a = new Acc(samples);
  out.waiting = a.total('tgi_queue_size') ?? 0;
  out.running = a.total('tgi_batch_current_size') ?? 0;
  const capacity = hints.capacityTokens ?? 0;
  const batchTokens = a.total('tgi_batch_current_max_tokens') ?? 0;
  out.kvUsage = capacity > 0 ? clamp01(batchTokens / capacity) : 0;
  out.kvBlocks = capacity;
  out.blockSize = capacity > 0 ? 1 : 0;
}

function readTrtllm(samples: readonly Sample[], out: Telemetry): void {
  const req = new Map<string, number>();
  const kv = new Map<string, number>();
  for (const s of samples) {
    if (GPU_NAMES.has(s.name)) continue;
    const table = s.name === 'nv_trt_llm_request_metrics' ? req : kv;
    const key = s.labels.request_type ?? s.labels.kv_cache_block_type;
    if (key !== undefined && Number.isFinite(s.value)) table.set(key, (table.get(key) ?? 0) + s.value);
  }
  const active = req.get('active') ?? 0;
  const scheduled = req.get('scheduled') ?? active;
  out.waiting = req.get('waiting') ?? Math.max(0, active - scheduled);
  out.running = scheduled;
  const maxBlocks = kv.get('max') ?? 0;
  const used = kv.get('used') ?? (kv.has('free') ? maxBlocks - (kv.get('free') ?? 0) : 0);
  out.kvUsage = clamp01(kv.get('fraction') ?? (maxBlocks > 0 ? used / maxBlocks : 0));
  out.kvBlocks = maxBlocks;
  out.blockSize = kv.get('tokens_per') ?? 0;
}

/**
 * Read one /metrics page of `engine` into `out` (fields the page lacks are reset to their defaults).
 * Returns false, leaving `out` untouched, when the page has none of the engine's metrics: a wrong
 * engine or path must not look like an idle server.
 */
export function readTelemetry(
  engine: EngineKind,
  text: string,
  out: Telemetry,
  hints: EngineHints = {},
): boolean {
  const samples = parsePrometheusText(text, WANTED[engine]);
  if (!samples.some((s) => !GPU_NAMES.has(s.name))) return false;
  Object.assign(out, emptyTelemetry());
  out.gpuUtilization = readGpuUtilization(engine, samples);
  switch (engine) {
    case 'vllm':
    case 'nim':
      readVllmLike(samples, out);
      return true;
    case 'sglang':
      readSglang(samples, out);
      return true;
    case 'tgi':
      readTgi(samples, out, hints);
      return true;
    case 'trtllm':
      readTrtllm(samples, out);
      return true;
  }
}
