import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { closeFleet, startFleet } from './fleet.ts';
import type { SimEngine, SimOptions } from './options.ts';

// `switchyard sim`: start a fleet of simulated vLLM-like servers, print their URLs, run until SIGINT or
// SIGTERM (or the given abort signal).

export const SIM_HELP = `switchyard sim: a fleet of simulated vLLM-like model servers

Usage: switchyard sim [options]

  --replicas N               servers to start (default 1)
  --port P                   first port; replicas take P, P+1, ... (default 0: ephemeral)
  --host H                   listen address (default 127.0.0.1)
  --model NAME               served model name (default sim-model)
  --lora A,B                 LoRA adapter names accepted as models
  --max-loras N              adapters per running batch (default 1)
  --engine vllm|sglang|tgi   metric names to expose (default vllm)
  --time-scale X             wall time per simulated second (0.1 = 10x faster; default 1)
  --block-size N             KV block size in tokens (default 16)
  --num-gpu-blocks N         KV cache blocks (default 8192)
  --max-num-seqs N           running sequences cap (default 256)
  --max-num-batched-tokens N token budget per step (default 2048)
  --max-model-len N          context length (default 8192)
  --no-prefix-caching        disable automatic prefix caching
  --gpu-metrics              add DCGM_FI_DEV_GPU_UTIL (busy share of the last simulated second)
  --output-min N, --output-max N   output length without max_tokens (default 16..256)
  --seed N                   make fault injection deterministic
  --error-rate F --error-status S --retry-after SECONDS
  --stream-error-rate F      fraction of streams whose first frame is an error event
  --cut-rate F --cut-after N fraction of streams cut after N frames
  --header-delay-ms MS       simulated delay before headers
  --overrides JSON|@FILE     per-replica options, e.g. '[{},{"perf":{"stepBaseMs":24}}]'
  -h, --help

Prints one URL per line, then POOL_ENDPOINTS=<comma-separated URLs>.
`;

export interface SimCliIo {
  readonly stdout?: (text: string) => void;
  readonly stderr?: (text: string) => void;
  /** Stops the fleet when aborted (besides SIGINT/SIGTERM). */
  readonly signal?: AbortSignal;
}

const num = { type: 'string' } as const;

function parseNumber(name: string, raw: string | undefined): number | undefined {
  if (raw === undefined) return undefined;
  const n = Number(raw);
  if (raw.trim() === '' || !Number.isFinite(n))
    throw new RangeError(`--${name} must be a number, got '${raw}'`);
  return n;
}

function parseOverrides(raw: string | undefined): SimOptions[] {
  if (raw === undefined) return [];
  const text = raw.startsWith('@') ? readFileSync(raw.slice(1), 'utf8') : raw;
  const value: unknown = JSON.parse(text);
  if (!Array.isArray(value)) throw new RangeError('--overrides must be a JSON array of option objects');
  return value as SimOptions[];
}

/** Parse `switchyard sim` arguments into fleet size, options and per-replica overrides. */
export function parseSimArgs(argv: readonly string[]): {
  replicas: number;
  options: SimOptions;
  overrides: SimOptions[];
  help: boolean;
} {
  const { values: v } = parseArgs({
    args: [...argv],
    strict: true,
    options: {
      replicas: num,
      port: num,
      host: { type: 'string' },
      model: { type: 'string' },
      lora: { type: 'string', multiple: true },
      'max-loras': num,
      engine: { type: 'string' },
      'time-scale': num,
      'block-size': num,
      'num-gpu-blocks': num,
      'max-num-seqs': num,
      'max-num-batched-tokens': num,
      'max-model-len': num,
      'no-prefix-caching': { type: 'boolean' },
      'gpu-metrics': { type: 'boolean' },
      'output-min': num,
      'output-max': num,
      seed: num,
      'error-rate': num,
      'error-status': num,
      'retry-after': num,
      'stream-error-rate': num,
      'cut-rate': num,
      'cut-after': num,
      'header-delay-ms': num,
      overrides: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  const n = (name: keyof typeof v): number | undefined => parseNumber(name, v[name] as string | undefined);
  type Defined<T> = { [K in keyof T]?: Exclude<T[K], undefined> };
  const drop = <T extends object>(o: T): Defined<T> =>
    Object.fromEntries(Object.entries(o).filter(([, x]) => x !== undefined)) as Defined<T>;
  const cutAfter = n('cut-after');
  const options: SimOptions = drop({
    port: n('port'),
    host: v.host,
    model: v.model,
    maxLoras: n('max-loras'),
    engine: v.engine as SimEngine | undefined,
    timeScale: n('time-scale'),
    blockSize: n('block-size'),
    numGpuBlocks: n('num-gpu-blocks'),
    maxNumSeqs: n('max-num-seqs'),
    maxNumBatchedTokens: n('max-num-batched-tokens'),
    maxModelLen: n('max-model-len'),
    seed: n('seed'),
    loraAdapters: v.lora
      ?.flatMap((s) => s.split(','))
      .map((s) => s.trim())
      .filter((s) => s.length > 0),
    enablePrefixCaching: v['no-prefix-caching'] === true ? false : undefined,
    gpuMetrics: v['gpu-metrics'] === true ? true : undefined,
    output: drop({ min: n('output-min'), max: n('output-max') }),
    faults: drop({
      errorRate: n('error-rate'),
      errorStatus: n('error-status'),
      retryAfterS: n('retry-after'),
      streamErrorRate: n('stream-error-rate'),
      cutAfterChunks: cutAfter,
      cutRate: n('cut-rate') ?? (cutAfter === undefined ? undefined : 1),
      headerDelayMs: n('header-delay-ms'),
    }),
  });
  return {
    replicas: n('replicas') ?? 1,
    options,
    overrides: parseOverrides(v.overrides),
    help: v.help === true,
  };
}

/** Run `switchyard sim` until SIGINT/SIGTERM or `io.signal`. */
export async function runSim(argv: string[], io: SimCliIo = {}): Promise<void> {
  const out = io.stdout ?? ((t: string) => void process.stdout.write(t));
  const err = io.stderr ?? ((t: string) => void process.stderr.write(t));
  const { replicas, options, overrides, help } = parseSimArgs(argv);
  if (help) return out(SIM_HELP);
  const fleet = await startFleet(replicas, options, overrides);
  const first = fleet[0]?.config;
  err(`switchyard sim: ${replicas} × ${first?.model} (${first?.engine}, time scale ${first?.timeScale})\n`);
  const urls = fleet.map((s) => s.url);
  out(`${urls.join('\n')}\nPOOL_ENDPOINTS=${urls.join(',')}\n`);
  await new Promise<void>((resolve) => {
    const stop = (): void => {
      process.off('SIGINT', stop);
      process.off('SIGTERM', stop);
      io.signal?.removeEventListener('abort', stop);
      resolve();
    };
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
    if (io.signal?.aborted === true) stop();
    else io.signal?.addEventListener('abort', stop, { once: true });
  });
  await closeFleet(fleet);
  err('switchyard sim: stopped\n');
}
