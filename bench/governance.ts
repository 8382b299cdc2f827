import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomUUID } from 'node:crypto';
import { cpuMicros, freePort, median, ORDERS, spawnGateway, startPrinting, waitReady } from './gateway.ts';
import { Redis } from 'ioredis';
import { load, type LoadResult } from './load.ts';

// Governance overhead (issue 6): throughput with a key, two rate limits, a budget, cost and the ledger,
// against the same route without them, in memory mode and with Redis, in one run.
//
// Each gateway is first warmed up for BENCH_WARM_MS (default 8 s) so the figures are of steady state.
// The three gateways are measured in turn in short slices (BENCH_SLICE_MS, default 600 ms), many rounds
// (BENCH_ROUNDS, default 18, going through every order of the three so none always follows the same
// one), and the ratios are the median of each round's own: this machine's speed drifts by tens of percent
// over seconds, and slices this short put the three side by side in time, so drift and bursts of other
// work move them together.

const PAUSE_MS = 150;
const SLICE_MS = Number(process.env.BENCH_SLICE_MS ?? 600);
const ROUNDS = Math.max(1, Number(process.env.BENCH_ROUNDS ?? 18));
const WARM_MS = Number(process.env.BENCH_WARM_MS ?? 8_000);
const root = join(import.meta.dirname, '..');
const SECRET = 'sy-bench-secret-0123456789';

function config(upstream: string, governed: boolean, state: string): string {
  const base = `logging: { access_log: true }\nproviders:\n  - { name: local, type: openai, base_url: "${upstream}/v1" }\nmodels:\n  - name: bench-model\n    targets: [{ provider: local }]\n`;
  if (!governed) return base;
  return `${base}
governance:
  state: ${state}
  redis_prefix: "bench-${randomUUID()}:"
  command_timeout: 500ms
  prices: { bench-model: { input: 1, output: 2 } }
  ledger: { store: "sqlite::memory:" }
  keys:
    - { id: bench, secret: ${SECRET}, team: bench-team, budgets: [{ tokens: 1000000000000, window: day }] }
policies:
  - type: auth
  - type: rate-limit
    params:
      limits:
        - { scope: key, requests: 100000000, window: 1m }
        - { scope: team, tokens: 100000000000, window: 1m }
  - type: budget
  - type: cost
  - type: ledger
`;
}

async function startGateway(yaml: string): Promise<{ child: ChildProcess; url: string; pid: number }> {
  const dir = mkdtempSync(join(tmpdir(), 'switchyard-gov-'));
  const file = join(dir, 'config.yaml');
  writeFileSync(file, yaml);
  const port = await freePort();
  const child = spawnGateway(file, port);
  await waitReady(`http://127.0.0.1:${port}/readyz`);
  return { child, url: `http://127.0.0.1:${port}/v1/chat/completions`, pid: child.pid! };
}

export async function benchGovernance(): Promise<void> {
  const upstream = await startPrinting([join(root, 'bench/servers/upstream.ts')]);
  const origin = `http://127.0.0.1:${upstream.port}`;
  const plain = await startGateway(config(origin, false, 'memory'));
  const memory = await startGateway(config(origin, true, 'memory'));
  const redis = await startGateway(config(origin, true, 'redis://127.0.0.1:6379'));
  // The Redis server's own CPU (it shares this machine's cores with the gateways).
  const info = new Redis('redis://127.0.0.1:6379');
  const redisCpu = async (): Promise<number> => {
    const text = await info.info('cpu');
    const seconds = (name: string): number => Number(new RegExp(`${name}:([\\d.]+)`).exec(text)?.[1] ?? 0);
    return (seconds('used_cpu_user') + seconds('used_cpu_sys')) * 1e6;
  };
  const body = JSON.stringify({
    model: 'bench-model',
    max_tokens: 32,
    messages: [{ role: 'user', content: 'Say something about foxes.' }],
  });
  const headers = { authorization: `Bearer ${SECRET}` };
  try {
    for (const connections of [32]) {
      const targets = [
        { name: 'ungoverned', url: plain.url, pid: plain.pid, headers: {} },
        { name: 'governed memory', url: memory.url, pid: memory.pid, headers },
        { name: 'governed redis', url: redis.url, pid: redis.pid, headers },
      ];
      const cpu = new Map<string, { gateway: number; redis: number }[]>(targets.map((t) => [t.name, []]));
      // Warm-up: V8 goes on compiling hot functions for seconds; measured before it is done, the slices
      // would time the compiler (on helper threads) as much as the gateway.
      for (const t of targets)
        await load(t.url, body, { connections, durationMs: WARM_MS, headers: t.headers });
      const row = (name: string, x: LoadResult): string =>
        `governance c=${connections} ${name.padEnd(16)} ${x.rps.toFixed(0).padStart(7)} rps (median slice)  p50 ${x.p50.toFixed(2)} ms  p99 ${x.p99.toFixed(2)} ms  errors ${x.errors}`;
      const ratios: { memory: number; redis: number }[] = [];
      const slices = new Map<string, LoadResult[]>(targets.map((t) => [t.name, []]));
      for (let round = 0; round < ROUNDS; round++) {
        const results = new Map<string, LoadResult>();
        for (const i of ORDERS[round % ORDERS.length]!) {
          const t = targets[i]!;
          const cpu0 = cpuMicros(t.pid);
          const redis0 = await redisCpu();
          const result = await load(t.url, body, { connections, durationMs: SLICE_MS, headers: t.headers });
          // The gateway's trailing work (ledger batches, settlements) finishes, and is counted, before the next.
          await new Promise((resolve) => setTimeout(resolve, PAUSE_MS));
          results.set(t.name, result);
          const n = Math.max(1, result.requests);
          cpu.get(t.name)!.push({
            gateway: (cpuMicros(t.pid) - cpu0) / n,
            redis: ((await redisCpu()) - redis0) / n,
          });
        }
        const [p, m, r] = targets.map((t) => results.get(t.name)!);
        for (const t of targets) slices.get(t.name)!.push(results.get(t.name)!);
        ratios.push({ memory: m!.rps / p!.rps, redis: r!.rps / p!.rps });
        console.log(
          `governance c=${connections} round ${round + 1}: ${targets.map((t) => `${t.name} ${results.get(t.name)!.rps.toFixed(0)}`).join(', ')} rps; memory/ungoverned ${ratios.at(-1)!.memory.toFixed(2)}  redis/ungoverned ${ratios.at(-1)!.redis.toFixed(2)}`,
        );
      }
      const plainCpu = median(cpu.get('ungoverned')!.map((x) => x.gateway));
      for (const t of targets) {
        const xs = slices.get(t.name)!;
        const gateway = median(cpu.get(t.name)!.map((x) => x.gateway));
        const server = median(cpu.get(t.name)!.map((x) => x.redis));
        console.log(
          `governance c=${connections} ${t.name.padEnd(16)} CPU per request (median slice): gateway ${gateway.toFixed(0)} µs (${(gateway / plainCpu).toFixed(2)}× ungoverned), Redis server ${server.toFixed(1)} µs`,
        );
        console.log(
          row(t.name, {
            requests: xs.reduce((sum, x) => sum + x.requests, 0),
            errors: xs.reduce((sum, x) => sum + x.errors, 0),
            rps: median(xs.map((x) => x.rps)),
            p50: median(xs.map((x) => x.p50)),
            p99: median(xs.map((x) => x.p99)),
          }),
        );
      }
      console.log(
        `governance c=${connections} ratios (median of ${ROUNDS}): memory/ungoverned ${median(ratios.map((x) => x.memory)).toFixed(2)} (target ≥ 0.85)  redis/ungoverned ${median(ratios.map((x) => x.redis)).toFixed(2)} (target ≥ 0.70)`,
      );
    }
  } finally {
    info.disconnect();
    for (const g of [plain, memory, redis]) g.child.kill('SIGTERM');
    upstream.child.kill();
  }
}
