// Options of one simulated model server, their defaults and the merge used for heterogeneous fleets.
// Every duration here is in simulated milliseconds; `timeScale` maps simulated time to wall time
// (0.1 = ten times faster than a real GPU). Defaults model Llama-3.1-8B in BF16 on one A100-class GPU
// served by vLLM's V1 engine; see perf.ts for the calibration and its sources.

export type SimEngine = 'vllm' | 'sglang' | 'tgi';

/** The step-time model of perf.ts, in simulated milliseconds. */
export interface SimPerf {
  /** Fixed cost of one engine step: reading the weights once (memory-bound decode at batch 1). */
  readonly stepBaseMs: number;
  /** Extra cost per sequence in the batch (sampling, MLP rows, scheduler bookkeeping). */
  readonly decodeMsPerSeq: number;
  /** Cost per prompt token computed in a step (compute-bound prefill). Cached tokens cost nothing. */
  readonly prefillMsPerToken: number;
  /** Cost of reading 1,000 tokens of KV cache in attention, summed over the batch's context. */
  readonly kvReadMsPer1kTokens: number;
}

/** Output length when a request gives no max_tokens: uniform in [min, max], fixed per prompt. */
export interface SimOutputLength {
  readonly min: number;
  readonly max: number;
}

/** Error injection. Rates are fractions in [0, 1], drawn per request from the seeded generator. */
export interface SimFaults {
  /** Fraction of requests answered with `errorStatus` before any body. */
  readonly errorRate: number;
  readonly errorStatus: number;
  /** Seconds for a Retry-After header on injected errors; null sends none. */
  readonly retryAfterS: number | null;
  /** Fraction of streams answered 200 whose first SSE frame is an error event. */
  readonly streamErrorRate: number;
  /** Fraction of streams cut (socket destroyed, no [DONE]) after `cutAfterChunks` data frames. */
  readonly cutRate: number;
  readonly cutAfterChunks: number;
  /** Simulated delay before response headers, on every completion request. */
  readonly headerDelayMs: number;
}

export interface SimConfig {
  readonly host: string;
  /** 0 picks an ephemeral port. */
  readonly port: number;
  readonly model: string;
  readonly loraAdapters: readonly string[];
  /** Distinct adapters allowed in one running batch (vLLM --max-loras). */
  readonly maxLoras: number;
  readonly engine: SimEngine;
  readonly timeScale: number;
  readonly blockSize: number;
  readonly numGpuBlocks: number;
  readonly maxNumSeqs: number;
  readonly maxNumBatchedTokens: number;
  readonly maxModelLen: number;
  readonly enablePrefixCaching: boolean;
  /**
   * Add dcgm-exporter's DCGM_FI_DEV_GPU_UTIL to the /metrics page (the share of the last simulated second
   * the engine spent running steps), as a page merged with a DCGM exporter's would carry.
   */
  readonly gpuMetrics: boolean;
  readonly perf: SimPerf;
  readonly output: SimOutputLength;
  readonly faults: SimFaults;
  /** Seeds fault draws (and varies filler text); without it faults use a random seed. */
  readonly seed: number | null;
  /** Shortest wall-clock wait between scheduler ticks; steps due sooner are run together. */
  readonly minTickMs: number;
}

type Partialish<T> = {
  -readonly [K in keyof T]?: T[K] extends readonly unknown[]
    ? T[K]
    : T[K] extends object
      ? Partial<T[K]>
      : T[K];
};

/** What callers pass: any subset, nested groups partially. */
export type SimOptions = Partialish<SimConfig>;

export const DEFAULT_SIM_CONFIG: SimConfig = Object.freeze({
  host: '127.0.0.1',
  port: 0,
  model: 'sim-model',
  loraAdapters: [],
  maxLoras: 1,
  engine: 'vllm',
  timeScale: 1,
  blockSize: 16,
  numGpuBlocks: 8192,
  maxNumSeqs: 256,
  maxNumBatchedTokens: 2048,
  maxModelLen: 8192,
  enablePrefixCaching: true,
  gpuMetrics: false,
  perf: { stepBaseMs: 12, decodeMsPerSeq: 0.1, prefillMsPerToken: 0.07, kvReadMsPer1kTokens: 0.085 },
  output: { min: 16, max: 256 },
  faults: {
    errorRate: 0,
    errorStatus: 500,
    retryAfterS: null,
    streamErrorRate: 0,
    cutRate: 0,
    cutAfterChunks: 0,
    headerDelayMs: 0,
  },
  seed: null,
  minTickMs: 1,
});

/** Merge options over a base config; nested groups merge key by key. */
export function mergeSimOptions(base: SimConfig, options: SimOptions = {}): SimConfig {
  const defined = <T extends object>(o: T | undefined): Partial<T> =>
    Object.fromEntries(Object.entries(o ?? {}).filter(([, v]) => v !== undefined)) as Partial<T>;
  return {
    ...base,
    ...defined(options),
    perf: { ...base.perf, ...defined(options.perf) },
    output: { ...base.output, ...defined(options.output) },
    faults: { ...base.faults, ...defined(options.faults) },
    loraAdapters: options.loraAdapters ?? base.loraAdapters,
  };
}

/** Defaults + options, validated. Throws a RangeError naming the first bad option. */
export function resolveSimOptions(options: SimOptions = {}): SimConfig {
  const c = mergeSimOptions(DEFAULT_SIM_CONFIG, options);
  const fail = (name: string, why: string): never => {
    throw new RangeError(`sim option ${name} ${why}`);
  };
  const known = (group: object, given: object, prefix: string): void => {
    for (const key of Object.keys(given))
      if (!(key in group)) fail(`${prefix}${key}`, 'is not a known option');
  };
  known(DEFAULT_SIM_CONFIG, c, '');
  known(DEFAULT_SIM_CONFIG.perf, c.perf, 'perf.');
  known(DEFAULT_SIM_CONFIG.output, c.output, 'output.');
  known(DEFAULT_SIM_CONFIG.faults, c.faults, 'faults.');
  const int = (name: string, v: number, min: number): void => {
    if (!Number.isInteger(v) || v < min) fail(name, `must be an integer >= ${min}, got ${v}`);
  };
  const frac = (name: string, v: number): void => {
    if (!(v >= 0 && v <= 1)) fail(name, `must be within [0, 1], got ${v}`);
  };
  int('port', c.port, 0);
  if (c.port > 65535) fail('port', 'must be <= 65535');
  if (c.model.length === 0) fail('model', 'must not be empty');
  if (!['vllm', 'sglang', 'tgi'].includes(c.engine))
    fail('engine', `must be vllm, sglang or tgi, got ${c.engine}`);
  if (!(c.timeScale > 0 && Number.isFinite(c.timeScale)))
    fail('timeScale', `must be > 0, got ${c.timeScale}`);
  int('blockSize', c.blockSize, 1);
  int('numGpuBlocks', c.numGpuBlocks, 1);
  int('maxNumSeqs', c.maxNumSeqs, 1);
  int('maxNumBatchedTokens', c.maxNumBatchedTokens, 1);
  int('maxModelLen', c.maxModelLen, 2);
  int('maxLoras', c.maxLoras, 1);
  if (c.maxModelLen > c.numGpuBlocks * c.blockSize)
    fail('maxModelLen', `(${c.maxModelLen}) must fit in the KV cache (numGpuBlocks × blockSize)`);
  for (const [k, v] of Object.entries(c.perf)) if (!(v >= 0)) fail(`perf.${k}`, `must be >= 0, got ${v}`);
  int('output.min', c.output.min, 1);
  int('output.max', c.output.max, c.output.min);
  frac('faults.errorRate', c.faults.errorRate);
  frac('faults.streamErrorRate', c.faults.streamErrorRate);
  frac('faults.cutRate', c.faults.cutRate);
  int('faults.errorStatus', c.faults.errorStatus, 400);
  if (c.faults.errorStatus > 599) fail('faults.errorStatus', 'must be an HTTP error status');
  int('faults.cutAfterChunks', c.faults.cutAfterChunks, 0);
  if (!(c.faults.headerDelayMs >= 0)) fail('faults.headerDelayMs', 'must be >= 0');
  if (c.faults.retryAfterS !== null && !(c.faults.retryAfterS >= 0))
    fail('faults.retryAfterS', 'must be >= 0');
  if (c.seed !== null && !Number.isInteger(c.seed)) fail('seed', 'must be an integer');
  if (!(c.minTickMs >= 0)) fail('minTickMs', 'must be >= 0');
  for (const name of c.loraAdapters)
    if (name.length === 0 || name === c.model) fail('loraAdapters', `bad name '${name}'`);
  return Object.freeze(c);
}
