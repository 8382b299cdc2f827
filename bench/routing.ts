import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { Pool } from 'undici';

// Routing benchmark (issue 3, "Figures"): round robin, least-requests and the default profile in front
// of the same simulated vLLM fleet, under open-loop Poisson arrivals at a ladder of rates up to
// overload, for three workloads:
// - shared-prefix: groups of requests sharing a long system prompt, each with its own short question;
// - multi-turn: conversations that resend their whole history each turn (x-session-id header);
// - mixed: unique short prompts with some long ones (no reuse: load balance only).
// Every cell (workload × rate × profile) gets a fresh fleet (cold KV caches) and a fresh gateway, each
// its own child process; this process only generates load. The same seed gives every profile the same
// arrival times and prompts. Streams are read to the end: TTFT is the first non-empty content delta.
// The first WARMUP share of the arrival window is not measured; output tokens/s and the prefix-cache hit
// rate are deltas of the fleet's vllm:generation_tokens_total and vllm:prefix_cache_{hits,queries}_total
// over the measured window. Unfinished requests at the drain deadline count as errors with infinite
// latency. Times are wall-clock; the simulator runs at TIME_SCALE (simulated = wall / TIME_SCALE).
//
// Run: npm run bench:routing. Knobs (env): BENCH_ROUTING_SCALE (arrival window multiplier, 0.3 for a
// smoke run), BENCH_ROUTING_WORKLOADS and BENCH_ROUTING_PROFILES (comma lists), BENCH_ROUTING_RATES
// (overrides every ladder), BENCH_ROUTING_TIME_SCALE, BENCH_ROUTING_BLOCKS (KV blocks per server),
// BENCH_ROUTING_REPLICAS, BENCH_ROUTING_SEED, BENCH_ROUTING_OVERLOAD_TTFT_MS.

const env = (name: string, fallback: number): number => {
  const raw = process.env[`BENCH_ROUTING_${name}`];
  const n = raw === undefined || raw === '' ? fallback : Number(raw);
  if (!Number.isFinite(n) || n <= 0) throw new RangeError(`BENCH_ROUTING_${name} must be > 0, got '${raw}'`);
  return n;
};
const list = (name: string): string[] | null => {
  const raw = process.env[`BENCH_ROUTING_${name}`];
  return raw === undefined || raw.trim() === '' ? null : raw.split(',').map((s) => s.trim());
};

const SCALE = env('SCALE', 1);
const TIME_SCALE = env('TIME_SCALE', 1);
const BLOCKS = env('BLOCKS', 1024);
const REPLICAS = env('REPLICAS', 4);
const SEED = env('SEED', 7);
const WINDOW_MS = 5000 * SCALE;
const WARMUP = 0.2;
const DRAIN_MS = Math.max(4000, 2 * WINDOW_MS);
/** Round robin is overloaded at a rate where its TTFT p90 passes this, or more than 1% fail. */
const OVERLOAD_TTFT_MS = env('OVERLOAD_TTFT_MS', 2000 * TIME_SCALE);
const PROFILES = list('PROFILES') ?? ['round-robin', 'least-requests', 'default'];
const RATES = list('RATES')?.map(Number) ?? null;
const root = join(import.meta.dirname, '..');

// ---- Deterministic text -------------------------------------------------------------------------------

function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = Math.imul(s ^ (s >>> 15), 1 | s);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const VOCAB = (
  'the a of to and in is for on with as by at from that this be are it or an was will can may must ' +
  'account policy order refund ship customer invoice credit data model server cache token request ' +
  'reply answer step check case rule price plan team user tool query table field value error state ' +
  'always never should would please note first then after before when while where which about ' +
  'report summary detail context review update change issue help support level limit time date'
).split(' ');

function words(r: () => number, chars: number): string {
  let out = '';
  while (out.length < chars) out += (out.length === 0 ? '' : ' ') + VOCAB[Math.floor(r() * VOCAB.length)]!;
  return out;
}

const between = (r: () => number, lo: number, hi: number): number => lo + Math.floor(r() * (hi - lo + 1));

// ---- Workloads ----------------------------------------------------------------------------------------

interface Message {
  readonly role: string;
  readonly content: string;
}

interface Plan {
  readonly messages: Message[];
  readonly maxTokens: number;
  readonly session: string | null;
  /** Called with the reply (null on failure) when the request ends. */
  readonly done?: (reply: string | null) => void;
}

interface Workload {
  readonly name: string;
  /** Offered rates in requests per wall-clock second at TIME_SCALE 1 (divided by TIME_SCALE). */
  readonly ladder: readonly number[];
  /** A fresh request generator for one cell, seeded; `rate` in requests per wall-clock second. */
  start(seed: number, rate: number): () => Plan;
}

const sharedPrefix: Workload = {
  name: 'shared-prefix',
  ladder: [40, 60, 80, 100],
  start(seed) {
    const r = rng(seed);
    const groups = Array.from(
      { length: 16 },
      (_, g) => `Group ${g} system prompt. ${words(rng(1000 + g), between(r, 3000, 4000))}`,
    );
    let n = 0;
    return () => ({
      messages: [
        { role: 'system', content: groups[Math.floor(r() * groups.length)]! },
        { role: 'user', content: `Question ${n++}: ${words(r, between(r, 80, 240))}?` },
      ],
      maxTokens: between(r, 16, 64),
      session: null,
    });
  },
};

interface Conversation {
  readonly id: string;
  readonly messages: Message[];
  turnsLeft: number;
  busy: boolean;
}

/**
 * Conversations interleave: an arrival continues a random idle conversation (one not waiting for its
 * reply) or, while fewer than LIVE are open or none is idle, opens another. LIVE = rate × 2 simulated
 * seconds, so at every rate a conversation sends a turn about every 2 s: the load grows with the number
 * of users, as does the KV cache the conversations need.
 */
const multiTurn: Workload = {
  name: 'multi-turn',
  ladder: [30, 45, 60, 75],
  start(seed, rate) {
    const LIVE = Math.ceil(rate * 2 * TIME_SCALE);
    const r = rng(seed);
    const live: Conversation[] = [];
    let n = 0;
    const open = (): Conversation => {
      const c: Conversation = {
        id: `conv-${seed}-${n}`,
        messages: [{ role: 'system', content: `Conversation ${n++}. ${words(r, between(r, 400, 1200))}` }],
        turnsLeft: between(r, 4, 8),
        busy: false,
      };
      live.push(c);
      return c;
    };
    const end = (c: Conversation): void => {
      const i = live.indexOf(c);
      if (i !== -1) live.splice(i, 1);
    };
    return () => {
      let c: Conversation | undefined;
      if (live.length >= LIVE) {
        const idle = live.filter((x) => !x.busy);
        c = idle[Math.floor(r() * idle.length)];
      }
      c ??= open();
      c.busy = true;
      const question: Message = { role: 'user', content: words(r, between(r, 100, 300)) };
      const conv = c;
      return {
        messages: [...conv.messages, question],
        maxTokens: between(r, 24, 64),
        session: conv.id,
        done: (reply) => {
          conv.busy = false;
          if (reply === null) return end(conv);
          conv.messages.push(question, { role: 'assistant', content: reply });
          if (--conv.turnsLeft === 0) end(conv);
        },
      };
    };
  },
};

const mixed: Workload = {
  name: 'mixed',
  ladder: [8, 12, 16, 20],
  start(seed) {
    const r = rng(seed);
    let n = 0;
    return () => {
      const long = r() < 0.2;
      return {
        messages: [
          {
            role: 'user',
            content: `Request ${n++}: ${words(r, long ? between(r, 10_000, 20_000) : between(r, 200, 1000))}`,
          },
        ],
        maxTokens: long ? between(r, 16, 64) : between(r, 16, 128),
        session: null,
      };
    };
  },
};

const WORKLOADS = [sharedPrefix, multiTurn, mixed].filter((w) => list('WORKLOADS')?.includes(w.name) ?? true);

// ---- Child processes ----------------------------------------------------------------------------------

const children = new Set<ChildProcess>();
const killAll = (): void => {
  for (const c of children) c.kill('SIGKILL');
};
process.on('exit', killAll);
for (const sig of ['SIGINT', 'SIGTERM'] as const)
  process.once(sig, () => {
    killAll();
    process.exit(130);
  });

function track(child: ChildProcess): ChildProcess {
  children.add(child);
  child.once('exit', () => children.delete(child));
  return child;
}

async function stop(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = once(child, 'exit');
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 2000);
  await exited;
  clearTimeout(timer);
}

async function freePort(): Promise<number> {
  const srv = createServer().listen(0, '127.0.0.1');
  await once(srv, 'listening');
  const port = (srv.address() as { port: number }).port;
  srv.close();
  return port;
}

/** CPU seconds (user + system) a process has used so far, from /proc (0 where there is none). */
function cpuSeconds(pid: number | undefined): number {
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
    return (Number(fields[11]) + Number(fields[12])) / 100; // utime, stime in clock ticks (USER_HZ 100)
  } catch {
    return 0;
  }
}

interface Servers {
  readonly fleet: ChildProcess;
  readonly gateway: ChildProcess;
  readonly urls: readonly string[];
  readonly origin: string;
}

/**
 * `switchyard sim` (REPLICAS servers on ports chosen here) and `switchyard serve` in front of them, each
 * in a child process, started together; resolves once the fleet listens, the gateway is ready and a few
 * scrapes have run.
 */
async function startServers(dir: string, profile: string): Promise<Servers> {
  const ports = await Promise.all(Array.from({ length: REPLICAS + 1 }, freePort));
  const gatewayPort = ports.pop()!;
  const urls = ports.map((p) => `http://127.0.0.1:${p}`);
  const file = join(dir, `gateway-${profile}.yaml`);
  writeFileSync(
    file,
    [
      `server: { host: 127.0.0.1, port: ${gatewayPort}, drain_timeout: 500ms }`,
      'logging: { level: warn, access_log: false }',
      'providers:',
      '  - name: sim-pool',
      '    type: pool',
      '    engine: vllm',
      `    endpoints: "${urls.join(',')}"`,
      `    profile: ${profile}`,
      '    scrape: { interval: 50ms, stale_after: 1s }',
      '    saturation: { queue_depth: 5, kv_usage: 0.9 }',
      '    session: { header: x-session-id }',
      'models:',
      '  - name: sim-model',
      '    targets: [{ provider: sim-pool }]',
      '',
    ].join('\n'),
  );
  const main = join(root, 'src/cli/main.ts');
  const simArgs = ['sim', '--replicas', String(REPLICAS), '--time-scale', String(TIME_SCALE)];
  simArgs.push('--num-gpu-blocks', String(BLOCKS), '--seed', String(SEED));
  simArgs.push('--overrides', JSON.stringify(ports.map((port) => ({ port }))));
  const fleet = track(spawn(process.execPath, [main, ...simArgs], { stdio: ['ignore', 'pipe', 'ignore'] }));
  const gateway = track(
    spawn(process.execPath, [main, 'serve', '--config', file, '--port', String(gatewayPort)], {
      stdio: ['ignore', 'ignore', 'inherit'],
    }),
  );
  const origin = `http://127.0.0.1:${gatewayPort}`;
  const listening = (async () => {
    let out = '';
    fleet.stdout!.setEncoding('utf8');
    for await (const chunk of fleet.stdout! as AsyncIterable<string>) {
      out += chunk;
      if (out.includes('POOL_ENDPOINTS=')) return;
    }
    throw new Error('the simulator exited before listing its endpoints');
  })();
  const ready = (async () => {
    for (let i = 0; i < 300 && gateway.exitCode === null; i++) {
      try {
        if ((await fetch(`${origin}/readyz`)).ok) return;
      } catch {
        /* not yet */
      }
      await sleep(25);
    }
    throw new Error(`the gateway (${profile}) never became ready`);
  })();
  await Promise.all([listening, ready]);
  await sleep(250); // a few scrapes (the first ones may have found the fleet not yet listening)
  return { fleet, gateway, urls, origin };
}

// ---- Load ---------------------------------------------------------------------------------------------

interface Outcome {
  readonly sentAt: number;
  ok: boolean;
  ttft: number;
  e2e: number;
  /** usage.completion_tokens of a finished stream. */
  tokens: number;
}

const COUNTERS = ['prefix_cache_hits', 'prefix_cache_queries'] as const;
type Counters = Record<(typeof COUNTERS)[number], number>;

/** Fleet counters summed over every server's /metrics. */
async function scrapeFleet(urls: readonly string[]): Promise<Counters> {
  const sum: Counters = { prefix_cache_hits: 0, prefix_cache_queries: 0 };
  const pages = await Promise.all(urls.map(async (u) => (await fetch(`${u}/metrics`)).text()));
  for (const page of pages)
    for (const name of COUNTERS) {
      const m = new RegExp(`^vllm:${name}_total(?:\\{[^}]*\\})? (\\S+)$`, 'm').exec(page);
      sum[name] += Number(m?.[1] ?? 0);
    }
  return sum;
}

/** One streamed chat request: TTFT at the first non-empty content delta, e2e at [DONE]. */
async function send(pool: Pool, plan: Plan, signal: AbortSignal, outcome: Outcome): Promise<void> {
  let reply = '';
  let done = false;
  try {
    const headers: Record<string, string> = { 'content-type': 'application/json' };
    if (plan.session !== null) headers['x-session-id'] = plan.session;
    const res = await pool.request({
      method: 'POST',
      path: '/v1/chat/completions',
      headers,
      signal,
      body: JSON.stringify({
        model: 'sim-model',
        messages: plan.messages,
        max_tokens: plan.maxTokens,
        stream: true,
        stream_options: { include_usage: true },
      }),
    });
    if (res.statusCode !== 200) {
      await res.body.dump();
      return;
    }
    res.body.setEncoding('utf8');
    let buf = '';
    for await (const chunk of res.body as AsyncIterable<string>) {
      buf += chunk;
      let end: number;
      while ((end = buf.indexOf('\n\n')) !== -1) {
        const event = buf.slice(0, end);
        buf = buf.slice(end + 2);
        if (!event.startsWith('data: ')) continue;
        const data = event.slice(6);
        if (data === '[DONE]') {
          done = true;
          continue;
        }
        if (!data.includes('"content":"') && !data.includes('"error"') && !data.includes('"usage"')) continue;
        const frame = JSON.parse(data) as {
          choices?: { delta?: { content?: string } }[];
          usage?: { completion_tokens?: number };
          error?: unknown;
        };
        if (frame.error !== undefined) return;
        if (frame.usage?.completion_tokens !== undefined) outcome.tokens = frame.usage.completion_tokens;
        const text = frame.choices?.[0]?.delta?.content ?? '';
        if (text !== '' && Number.isNaN(outcome.ttft)) outcome.ttft = performance.now() - outcome.sentAt;
        reply += text;
      }
    }
    if (done && !Number.isNaN(outcome.ttft)) {
      outcome.ok = true;
      outcome.e2e = performance.now() - outcome.sentAt;
    }
  } catch {
    /* counted as an error */
  } finally {
    plan.done?.(outcome.ok ? reply : null);
  }
}

interface CellResult {
  readonly rate: number;
  readonly profile: string;
  readonly measured: number;
  readonly errors: number;
  readonly ttftP50: number;
  readonly ttftP90: number;
  readonly e2eP90: number;
  readonly tokensPerS: number;
  readonly hitRate: number;
  /** CPU used during the measured window, in cores: gateway, simulator, load generator. */
  readonly cpu: readonly number[];
}

function pct(values: number[], p: number): number {
  if (values.length === 0) return NaN;
  const sorted = values.slice().sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
}

/** Open-loop Poisson arrivals at `rate` for the window, then a bounded drain. */
async function drive(
  servers: Servers,
  next: () => Plan,
  rate: number,
): Promise<Omit<CellResult, 'rate' | 'profile'>> {
  const { urls, origin } = servers;
  const pool = new Pool(origin, { connections: null, pipelining: 1, keepAliveTimeout: 30_000 });
  const abort = new AbortController();
  const r = rng(SEED * 7919 + Math.round(rate * 1000));
  const outcomes: Outcome[] = [];
  const inflight: Promise<void>[] = [];
  const maxRequests = Math.ceil(rate * (WINDOW_MS / 1000) * 2 + 50);
  const t0 = performance.now();
  const warmEnd = t0 + WARMUP * WINDOW_MS;
  const windowEnd = t0 + WINDOW_MS;
  let before: Counters | null = null;
  let cpuBefore: number[] = [];
  let cpuAt = t0;
  const cpu = (): number[] => [
    cpuSeconds(servers.gateway.pid),
    cpuSeconds(servers.fleet.pid),
    process.cpuUsage().user / 1e6 + process.cpuUsage().system / 1e6,
  ];
  let at = t0;
  while (outcomes.length < maxRequests) {
    at += (-Math.log(1 - r()) / rate) * 1000;
    if (at >= windowEnd) break;
    if (before === null && at >= warmEnd) {
      before = await scrapeFleet(urls);
      cpuBefore = cpu();
      cpuAt = performance.now();
    }
    const wait = at - performance.now();
    if (wait > 1) await sleep(wait);
    const outcome: Outcome = { sentAt: performance.now(), ok: false, ttft: NaN, e2e: NaN, tokens: 0 };
    outcomes.push(outcome);
    inflight.push(send(pool, next(), abort.signal, outcome));
  }
  if (before === null) {
    before = await scrapeFleet(urls);
    cpuBefore = cpu();
    cpuAt = performance.now();
  }
  const wait = windowEnd - performance.now();
  if (wait > 0) await sleep(wait);
  const after = await scrapeFleet(urls);
  if (process.env.BENCH_ROUTING_DEBUG) {
    for (const u of urls) {
      const page = await (await fetch(`${u}/metrics`)).text();
      const g = (n: string) => new RegExp(`^vllm:${n}(?:\\{[^}]*\\})? (\\S+)$`, 'm').exec(page)?.[1];
      process.stderr.write(
        `  ${u} run ${g('num_requests_running')} wait ${g('num_requests_waiting')} kv ${Number(g('kv_cache_usage_perc')).toFixed(2)} preempt ${g('num_preemptions_total')} hits ${g('prefix_cache_hits_total')} q ${g('prefix_cache_queries_total')} ok ${g('request_success_total')}\n`,
      );
    }
  }
  const cpuShare = cpu().map((v, i) => (v - cpuBefore[i]!) / ((performance.now() - cpuAt) / 1000));
  const timer = setTimeout(() => abort.abort(), DRAIN_MS);
  await Promise.all(inflight);
  clearTimeout(timer);
  await pool.close();

  // Throughput as vLLM's benchmark_serving reports it: output tokens of every finished request over
  // the time from the first send to the last completion (a backlog drains at the fleet's capacity).
  let tokens = 0;
  let last = t0;
  for (const o of outcomes)
    if (o.ok) {
      tokens += o.tokens;
      last = Math.max(last, o.sentAt + o.e2e);
    }
  const measured = outcomes.filter((o) => o.sentAt >= warmEnd);
  const ttft = measured.map((o) => (o.ok ? o.ttft : Infinity));
  const e2e = measured.map((o) => (o.ok ? o.e2e : Infinity));
  const queries = after.prefix_cache_queries - before.prefix_cache_queries;
  return {
    measured: measured.length,
    errors: measured.filter((o) => !o.ok).length,
    ttftP50: pct(ttft, 50),
    ttftP90: pct(ttft, 90),
    e2eP90: pct(e2e, 90),
    tokensPerS: last > t0 ? (tokens / (last - t0)) * 1000 : 0,
    hitRate: queries > 0 ? (after.prefix_cache_hits - before.prefix_cache_hits) / queries : 0,
    cpu: cpuShare,
  };
}

async function cell(dir: string, w: Workload, rate: number, profile: string): Promise<CellResult> {
  const servers = await startServers(dir, profile);
  try {
    const next = w.start(SEED * 31 + Math.round(rate * 1000), rate);
    return { rate, profile, ...(await drive(servers, next, rate)) };
  } finally {
    await Promise.all([stop(servers.gateway), stop(servers.fleet)]);
  }
}

// ---- Report -------------------------------------------------------------------------------------------

const ms = (v: number): string => (Number.isFinite(v) ? v.toFixed(0) : 'inf').padStart(8);

function row(c: CellResult): string {
  return [
    c.rate.toFixed(1).padStart(6),
    c.profile.padEnd(15),
    ms(c.ttftP50),
    ms(c.ttftP90),
    ms(c.e2eP90),
    c.tokensPerS.toFixed(0).padStart(8),
    c.hitRate.toFixed(2).padStart(6),
    `${((100 * c.errors) / Math.max(1, c.measured)).toFixed(1)}%`.padStart(7),
    String(c.measured).padStart(5),
  ].join(' ');
}

const HEADER = `${'rate'.padStart(6)} ${'profile'.padEnd(15)} ${'ttft p50'.padStart(8)} ${'ttft p90'.padStart(8)} ${'e2e p90'.padStart(8)} ${'tok/s'.padStart(8)} ${'hit'.padStart(6)} ${'errors'.padStart(7)} ${'n'.padStart(5)}`;

const overloaded = (c: CellResult | undefined): boolean =>
  c === undefined || c.ttftP90 > OVERLOAD_TTFT_MS || c.errors > 0.01 * c.measured;

function summarize(w: Workload, results: readonly CellResult[]): string[] {
  const lines = [`\n${w.name}`, HEADER];
  for (const c of results) lines.push(row(c));
  const rates = [...new Set(results.map((c) => c.rate))];
  const at = (rate: number, profile: string) => results.find((c) => c.rate === rate && c.profile === profile);
  const ok = rates.filter((rate) => !overloaded(at(rate, 'round-robin')));
  const rate = ok[ok.length - 1];
  if (rate === undefined) {
    lines.push(`no rate below overload (round robin's TTFT p90 > ${OVERLOAD_TTFT_MS} ms or errors > 1%)`);
    return lines;
  }
  const rr = at(rate, 'round-robin')!;
  const d = at(rate, 'default');
  if (d === undefined) return lines;
  const ttft = d.ttftP90 / rr.ttftP90;
  const tput = d.tokensPerS / rr.tokensPerS;
  const target =
    w.name === 'mixed' ? '' : ttft <= 0.5 ? ' (target <= 0.5: met)' : ' (target <= 0.5: NOT met)';
  lines.push(
    `highest rate below overload: ${rate} req/s. default/round-robin: TTFT p90 ${ttft.toFixed(2)}${target}, ` +
      `throughput ${tput.toFixed(2)}${tput >= 1 ? ' (target >= 1: met)' : ' (target >= 1: NOT met)'}`,
  );
  return lines;
}

// ---- Main ---------------------------------------------------------------------------------------------

const started = performance.now();
const dir = mkdtempSync(join(tmpdir(), 'switchyard-routing-'));
const report: string[] = [
  `routing benchmark: ${REPLICAS} simulated servers (${BLOCKS} KV blocks of 16 tokens each, time scale ${TIME_SCALE}), ` +
    `${(WINDOW_MS / 1000).toFixed(1)} s of Poisson arrivals per cell (first ${WARMUP * 100}% not measured), ` +
    `fresh fleet and gateway per cell; times in wall-clock ms; overload: round robin TTFT p90 > ${OVERLOAD_TTFT_MS} ms or errors > 1%`,
];
try {
  for (const w of WORKLOADS) {
    const results: CellResult[] = [];
    for (const base of RATES ?? w.ladder) {
      const rate = base / TIME_SCALE;
      for (const profile of PROFILES) {
        const c = await cell(dir, w, rate, profile);
        results.push(c);
        const [gw, sim, load] = c.cpu.map((v) => `${(v * 100).toFixed(0)}%`);
        process.stderr.write(`${w.name.padEnd(14)}${row(c)}   cpu: gateway ${gw} sim ${sim} load ${load}\n`);
      }
    }
    report.push(...summarize(w, results));
  }
  report.push(`\ntotal ${((performance.now() - started) / 1000).toFixed(0)} s`);
  console.log(report.join('\n'));
} finally {
  killAll();
  rmSync(dir, { recursive: true, force: true });
}
