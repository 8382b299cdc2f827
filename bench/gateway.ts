import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync, writeFileSync, mkdtempSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { once } from 'node:events';
import { load, type LoadResult } from './load.ts';

// Gateway overhead: chat requests (JSON and streamed) through the gateway to a fast local upstream,
// against the same upstream called directly and through a minimal Node proxy, at 1 and 32 connections.
// Each server is its own process; the load generator is this one. Access log and metrics are on.

// Each cell (JSON or stream, 1 or 32 connections) measures the three targets in short slices
// (BENCH_SLICE_MS, default 500 ms) over BENCH_ROUNDS rounds (default 6), each round in another order of
// the three, and reports the median of the rounds' own ratios: this machine's speed drifts by tens of
// percent within seconds, and side-by-side slices keep that drift out of the ratios. Rows show median
// slices.
const SLICE_MS = Number(process.env.BENCH_SLICE_MS ?? 500);
const ROUNDS = Math.max(1, Number(process.env.BENCH_ROUNDS ?? 6));
/**
 * Warm-up per server and body kind before any cell (BENCH_WARM_MS, default 2 s each): V8 goes on compiling hot
 * functions for seconds, and the figures are of a running gateway, not of its JIT warm-up.
 */
const WARM_MS = Number(process.env.BENCH_WARM_MS ?? 2_000);
const TARGETS = ['direct', 'minimal', 'gateway'] as const;
type Target = (typeof TARGETS)[number];
/** Every order of three targets: a round in each, so none always follows the same one. */
export const ORDERS = [
  [0, 1, 2],
  [2, 1, 0],
  [1, 2, 0],
  [0, 2, 1],
  [2, 0, 1],
  [1, 0, 2],
];
export const median = (xs: readonly number[]): number =>
  [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const root = join(import.meta.dirname, '..');

export async function freePort(): Promise<number> {
  const srv = createServer().listen(0, '127.0.0.1');
  await once(srv, 'listening');
  const port = (srv.address() as { port: number }).port;
  srv.close();
  return port;
}

/**
 * The runtime settings bin/switchyard.js starts the gateway with (V8 young generation, malloc arenas);
 * the baseline proxy gets the same, so the comparison is of the code, not of the settings.
 */
export const TUNED = {
  flags: ['--max-semi-space-size=8'],
  env: { ...process.env, MALLOC_ARENA_MAX: '2' },
};

/** The gateway as an operator starts it: through its launcher (which applies the runtime settings). */
export function spawnGateway(configFile: string, port: number): ChildProcess {
  return spawn(
    process.execPath,
    [join(root, 'bin/switchyard.js'), 'serve', '--config', configFile, '--port', String(port)],
    { stdio: ['ignore', 'ignore', 'inherit'] },
  );
}

export async function startPrinting(
  args: string[],
  tuned = false,
): Promise<{ child: ChildProcess; port: number }> {
  const child = spawn(process.execPath, tuned ? [...TUNED.flags, ...args] : args, {
    stdio: ['ignore', 'pipe', 'inherit'],
    env: tuned ? TUNED.env : process.env,
  });
  const [line] = (await once(child.stdout, 'data')) as [Buffer];
  return { child, port: Number(line.toString().trim()) };
}

export async function waitReady(url: string): Promise<void> {
  for (let i = 0; i < 200; i++) {
    try {
      if ((await fetch(url)).ok) return;
    } catch {
      /* not yet */
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`${url} never became ready`);
}

/** CPU time (user + system, every thread) a process has used so far, in µs (from /proc). */
export function cpuMicros(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  // utime and stime, fields 14 and 15 of stat(5), in clock ticks (100 per second on Linux).
  return (Number(fields[11]) + Number(fields[12])) * 10_000;
}

export function peakRssMb(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = Number(/VmHWM:\s+(\d+)/.exec(status)?.[1] ?? 0);
  return kb / 1024;
}

export async function benchGateway(): Promise<void> {
  const upstream = await startPrinting([join(root, 'bench/servers/upstream.ts')]);
  const upstreamOrigin = `http://127.0.0.1:${upstream.port}`;
  const minimal = await startPrinting([join(root, 'bench/servers/minimal-proxy.ts'), upstreamOrigin], true);
  const dir = mkdtempSync(join(tmpdir(), 'switchyard-bench-'));
  const configFile = join(dir, 'bench.yaml');
  writeFileSync(
    configFile,
    `logging: { access_log: true }\nproviders:\n  - { name: local, type: openai, base_url: "${upstreamOrigin}/v1" }\nmodels:\n  - name: bench-model\n    targets: [{ provider: local }]\n`,
  );
  const gwPort = await freePort();
  const gateway = spawnGateway(configFile, gwPort);
  await waitReady(`http://127.0.0.1:${gwPort}/readyz`);

  const targets = {
    direct: `${upstreamOrigin}/v1/chat/completions`,
    minimal: `http://127.0.0.1:${minimal.port}/v1/chat/completions`,
    gateway: `http://127.0.0.1:${gwPort}/v1/chat/completions`,
  };
  const messages = [
    { role: 'system', content: 'You are a helpful assistant.' },
    { role: 'user', content: 'Say something about foxes.' },
  ];
  const rows: string[] = [];
  const fmt = (n: number, d = 2): string => n.toFixed(d).padStart(9);
  try {
    for (const stream of [false, true]) {
      const body = JSON.stringify({ model: 'bench-model', messages, max_tokens: 32, stream });
      for (const url of [targets.gateway, targets.minimal])
        await load(url, body, { connections: 32, durationMs: WARM_MS });
    }
    for (const stream of [false, true]) {
      const body = JSON.stringify({ model: 'bench-model', messages, max_tokens: 32, stream });
      for (const connections of [1, 32]) {
        await load(targets.gateway, body, { connections, durationMs: 400 }); // warm-up
        await load(targets.minimal, body, { connections, durationMs: 400 });
        // Short slices, the three side by side in every order, ratios per round (see the header).
        const slices: Record<Target, LoadResult[]> = { direct: [], minimal: [], gateway: [] };
        const throughput: number[] = [];
        const addedRatio: number[] = [];
        for (let round = 0; round < ROUNDS; round++) {
          const r = {} as Record<Target, LoadResult>;
          for (const i of ORDERS[round % ORDERS.length]!) {
            const name = TARGETS[i]!;
            r[name] = await load(targets[name], body, { connections, durationMs: SLICE_MS });
            slices[name].push(r[name]);
          }
          throughput.push(r.gateway.rps / r.minimal.rps);
          addedRatio.push((r.gateway.p50 - r.direct.p50) / Math.max(r.minimal.p50 - r.direct.p50, 1e-3));
        }
        const m = (name: Target, pick: (x: LoadResult) => number): number => median(slices[name].map(pick));
        const label = `${stream ? 'stream' : 'json  '} c=${String(connections).padEnd(2)}`;
        for (const name of TARGETS) {
          const added = name === 'direct' ? 0 : m(name, (x) => x.p50) - m('direct', (x) => x.p50);
          rows.push(
            `${label} ${name.padEnd(8)} ${fmt(
              m(name, (x) => x.rps),
              0,
            )} rps  p50 ${fmt(m(name, (x) => x.p50))} ms  p99 ${fmt(m(name, (x) => x.p99))} ms  added p50 ${fmt(added, 3)} ms  errors ${slices[name].reduce((n, x) => n + x.errors, 0)}`,
          );
        }
        rows.push(
          `${label} ratios (median of ${ROUNDS} rounds): gateway/minimal throughput ${median(throughput).toFixed(2)}  added-p50 gateway/minimal ${median(addedRatio).toFixed(2)}`,
        );
        console.log(rows.slice(-4).join('\n'));
      }
    }
    console.log(
      `gateway peak RSS ${peakRssMb(gateway.pid!).toFixed(1)} MB (minimal proxy ${peakRssMb(minimal.child.pid!).toFixed(1)} MB)`,
    );
  } finally {
    gateway.kill('SIGTERM');
    minimal.child.kill();
    upstream.child.kill();
  }
}
