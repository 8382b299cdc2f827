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
// - shared-prefix: 32 groups of requests sharing a 4-8k-character system prompt, each request with its
//   own short question;
// - multi-turn: conversations that resend their whole history, reply included, each turn (with an
//   x-session-id header);
// - mixed: unique prompts, 80% short and 20% long (no reuse: load balance only).
// Every cell (workload × rate × profile) gets a fresh fleet (cold KV caches) and a fresh gateway, each
// its own child process; this process only generates load. The same seed gives every profile the same
// arrival times and prompts (multi-turn: the same conversations; which one speaks next depends on which
// replies have arrived). The KV cache (2048 blocks of 16 tokens per server) is sized so that one server
// cannot hold the prefixes or conversations in play but the fleet can: where requests land decides
// whether their prefix is cached. Streams are read to the end: TTFT is the first non-empty content
// delta; tok/s is vLLM benchmark_serving's output throughput (output tokens of the finished requests /
// time from the first send to the last completion); the hit rate is the fleet's
// vllm:prefix_cache_hits_total / vllm:prefix_cache_queries_total over the measured window. The first
// WARMUP share of each window is not measured; requests unfinished at the drain deadline are errors
// with infinite latency. Times are wall-clock; the simulator runs at TIME_SCALE (simulated = wall /
// TIME_SCALE). A cell during which other processes were busy (this machine is shared) is run again,
// choosing between the two runs by the noise measures only.
//
// Run: npm run bench:routing (about 5-6 minutes). Knobs (env): BENCH_ROUTING_SCALE (arrival window
// multiplier; 0.3 with BENCH_ROUTING_WORKLOADS=shared-prefix BENCH_ROUTING_RATES=30,75 is a ~30 s smoke
// run), BENCH_ROUTING_WORKLOADS and BENCH_ROUTING_PROFILES (comma lists), BENCH_ROUTING_RATES
// (overrides every ladder), BENCH_ROUTING_TIME_SCALE, BENCH_ROUTING_BLOCKS (KV blocks per server),
// BENCH_ROUTING_REPLICAS, BENCH_ROUTING_SEED, BENCH_ROUTING_OVERLOAD_TTFT_MS, BENCH_ROUTING_MAX_RERUNS,
// and BENCH_ROUTING_PROFILE_JSON: a written-out profile ({"name": ..., "scorers": [...], "picker": ...})
// run as one more profile, to try weights without editing the built-ins.

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
const BLOCKS = env('BLOCKS', 2048);
const REPLICAS = env('REPLICAS', 4);
const SEED = env('SEED', 7);
const WINDOW_MS = 5000 * SCALE;
const WARMUP = 0.2;
const DRAIN_MS = Math.max(4000, 2 * WINDOW_MS);
/** Round robin is overloaded at a rate where its TTFT p90 passes this, or more than 1% fail. */
const OVERLOAD_TTFT_MS = env('OVERLOAD_TTFT_MS', 1000 * TIME_SCALE);
/** A cell is run once more (at most MAX_RERUNS times per run) when the machine was busy during it. */
const NOISY_CPU = 0.5;
const NOISY_LAG_MS = 100;
const MAX_RERUNS = env('MAX_RERUNS', 6);
/** Profile label → its value in the pool config: a named profile, or one written out (JSON is YAML). */
const PROFILES = new Map(
  (list('PROFILES') ?? ['round-robin', 'least-requests', 'default']).map((name) => [name, name]),
);
const custom = process.env.BENCH_ROUTING_PROFILE_JSON;
if (custom !== undefined && custom !== '') {
  const parsed = JSON.parse(custom) as { name?: unknown };
  PROFILES.set(typeof parsed.name === 'string' ? parsed.name : 'custom', custom);
}
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
  ladder: [30, 45, 60, 75],
  start(seed) {
    const r = rng(seed);
    const groups = Array.from(
      { length: 32 },
      (_, g) => `Group ${g} system prompt. ${words(rng(1000 + g), between(r, 4000, 8000))}`,
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
  /** Requests of this conversation in flight. */
  busy: number;
}

/**
 * LIVE = rate × 2 simulated seconds conversations are open, so at every rate a conversation sends a
 * turn about every 2 s and the load grows with the number of users (and so does the KV cache their
 * histories need). An arrival continues a random conversation not waiting for a reply; when every one
 * is waiting (overload), a random one sends another message with the history it has. A conversation
 * that has sent its last turn (4 to 8) is replaced by a new one; each turn appends the question and the
 * reply as streamed, so the next turn's prompt starts with the previous prompt and reply.
 */
const multiTurn: Workload = {
  name: 'multi-turn',
  ladder: [50, 100, 150, 200],
  start(seed, rate) {
    const LIVE = Math.max(4, Math.ceil(rate * 2 * TIME_SCALE));
    const r = rng(seed);
    const live: Conversation[] = [];
    let n = 0;
    const open = (): Conversation => {
      const c: Conversation = {
        id: `conv-${seed}-${n}`,
        messages: [{ role: 'system', content: `Conversation ${n++}. ${words(r, between(r, 400, 1200))}` }],
        turnsLeft: between(r, 4, 8),
        busy: 0,
      };
      live.push(c);
      return c;
    };
    return () => {
      let c: Conversation | undefined;
      if (live.length >= LIVE) {
        const idle = live.filter((x) => x.busy === 0);
        c = idle.length > 0 ? idle[Math.floor(r() * idle.length)] : live[Math.floor(r() * live.length)];
      }
      c ??= open();
      const conv = c;
      conv.busy++;
      if (--conv.turnsLeft === 0) live.splice(live.indexOf(conv), 1);
      const question: Message = { role: 'user', content: words(r, between(r, 100, 300)) };
      return {
        messages: [...conv.messages, question],
        maxTokens: between(r, 24, 64),
        session: conv.id,
        done: (reply) => {
          conv.busy--;
          if (reply !== null) conv.messages.push(question, { role: 'assistant', content: reply });
        },
      };
    };
  },
};

const mixed: Workload = {
  name: 'mixed',
  ladder: [20, 35, 50, 65],
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
const dir = mkdtempSync(join(tmpdir(), 'switchyard-routing-'));
const killAll = (): void => {
  for (const c of children) c.kill('SIGKILL');
  rmSync(dir, { recursive: true, force: true });
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

/** CPU seconds every process of the machine has used (busy time of all CPUs, from /proc/stat). */
function machineCpuSeconds(): number {
  try {
    const [, ...ticks] = readFileSync('/proc/stat', 'utf8').split('\n', 1)[0]!.trim().split(/\s+/);
    const [user, nice, system, , , irq, softirq, steal] = ticks.map(Number);
    return (user! + nice! + system! + irq! + softirq! + steal!) / 100;
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
  const profileValue = PROFILES.get(profile) ?? profile;
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
      `    profile: ${profileValue}`,
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
  const listening = new Promise<void>((resolve, reject) => {
    let out = '';
    fleet.stdout!.setEncoding('utf8');
    fleet.stdout!.on('data', (chunk: string) => {
      out += chunk;
      if (out.includes('POOL_ENDPOINTS=')) resolve();
    });
    fleet.once('exit', () => reject(new Error('the simulator exited before listing its endpoints')));
  });
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
  /** Scheduled arrival (performance.now() ms). */
  readonly at: number;
  /** When it was sent; latencies count from here. */
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
  /** CPU used during the measured window, in cores: gateway, simulator, load generator, other processes. */
  readonly cpu: readonly number[];
  /** Largest delay of a send past its scheduled arrival (the load generator's own lag). */
  readonly lagMs: number;
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
  const cpu = (): number[] => {
    const own = process.cpuUsage();
    const ours = [
      cpuSeconds(servers.gateway.pid),
      cpuSeconds(servers.fleet.pid),
      (own.user + own.system) / 1e6,
    ];
    return [...ours, machineCpuSeconds() - ours.reduce((a, b) => a + b, 0)];
  };
  /** Fleet counters and CPU at a moment, taken off the arrival loop. */
  const snapshot = async (): Promise<{ counters: Counters; cpu: number[]; at: number }> => {
    const at = performance.now();
    const cpuNow = cpu();
    return { counters: await scrapeFleet(urls), cpu: cpuNow, at };
  };
  const t0 = performance.now();
  const warmEnd = t0 + WARMUP * WINDOW_MS;
  const windowEnd = t0 + WINDOW_MS;
  const before = sleep(warmEnd - t0).then(snapshot);
  let at = t0;
  let lag = 0;
  while (outcomes.length < maxRequests) {
    at += (-Math.log(1 - r()) / rate) * 1000;
    if (at >= windowEnd) break;
    const wait = at - performance.now();
    if (wait > 1) await sleep(wait);
    const outcome: Outcome = { at, sentAt: performance.now(), ok: false, ttft: NaN, e2e: NaN, tokens: 0 };
    lag = Math.max(lag, outcome.sentAt - at);
    outcomes.push(outcome);
    inflight.push(send(pool, next(), abort.signal, outcome));
  }
  const wait = windowEnd - performance.now();
  if (wait > 0) await sleep(wait);
  const end = await snapshot();
  const start = await before;
  const cpuShare = end.cpu.map((v, i) => (v - start.cpu[i]!) / ((end.at - start.at) / 1000));
  const after = end.counters;
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
  const measured = outcomes.filter((o) => o.at >= warmEnd);
  const ttft = measured.map((o) => (o.ok ? o.ttft : Infinity));
  const e2e = measured.map((o) => (o.ok ? o.e2e : Infinity));
  const queries = after.prefix_cache_queries - start.counters.prefix_cache_queries;
  return {
    measured: measured.length,
    errors: measured.filter((o) => !o.ok).length,
    ttftP50: pct(ttft, 50),
    ttftP90: pct(ttft, 90),
    e2eP90: pct(e2e, 90),
    tokensPerS: last > t0 ? (tokens / (last - t0)) * 1000 : 0,
    hitRate: queries > 0 ? (after.prefix_cache_hits - start.counters.prefix_cache_hits) / queries : 0,
    cpu: cpuShare,
    lagMs: lag,
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

function row(c: CellResult, rr?: CellResult): string {
  const cells = [
    c.rate.toFixed(0).padStart(5),
    (c.profile + (c.cpu[3]! > NOISY_CPU || c.lagMs > NOISY_LAG_MS ? '*' : '')).padEnd(14),
    ms(c.ttftP50),
    ms(c.ttftP90),
    ms(c.e2eP90),
    c.tokensPerS.toFixed(0).padStart(7),
    c.hitRate.toFixed(2).padStart(5),
    `${((100 * c.errors) / Math.max(1, c.measured)).toFixed(1)}%`.padStart(6),
    String(c.measured).padStart(4),
  ];
  if (rr !== undefined && rr !== c)
    cells.push(
      (c.ttftP90 / rr.ttftP90).toFixed(2).padStart(9),
      (c.tokensPerS / rr.tokensPerS).toFixed(2).padStart(8),
    );
  return cells.join(' ');
}

const HEADER = [
  'rate'.padStart(5),
  'profile'.padEnd(14),
  'ttft p50'.padStart(8),
  'ttft p90'.padStart(8),
  'e2e p90'.padStart(8),
  'tok/s'.padStart(7),
  'hit'.padStart(5),
  'errors'.padStart(6),
  'n'.padStart(4),
  'ttft90/rr'.padStart(9),
  'tok/s/rr'.padStart(8),
].join(' ');

const overloaded = (c: CellResult): boolean => c.ttftP90 > OVERLOAD_TTFT_MS || c.errors > 0.01 * c.measured;

function summarize(w: Workload, results: readonly CellResult[]): string[] {
  const at = (rate: number, profile: string) => results.find((c) => c.rate === rate && c.profile === profile);
  const lines = [`\n${w.name}`, HEADER];
  for (const c of results) lines.push(row(c, at(c.rate, 'round-robin')));
  const rates = [...new Set(results.map((c) => c.rate))];
  const ok = rates.filter((rate) => {
    const rr = at(rate, 'round-robin');
    return rr !== undefined && !overloaded(rr);
  });
  const rate = ok[ok.length - 1];
  const rr = rate === undefined ? undefined : at(rate, 'round-robin');
  const d = rate === undefined ? undefined : at(rate, 'default');
  if (rr === undefined || d === undefined) {
    lines.push('no rate below overload with both round-robin and default measured');
    return lines;
  }
  const ttft = d.ttftP90 / rr.ttftP90;
  const tput = d.tokensPerS / rr.tokensPerS;
  const verdict = (met: boolean): string => (met ? 'met' : 'NOT met');
  lines.push(
    `highest rate below overload: ${rr.rate.toFixed(0)} req/s; default/round-robin TTFT p90 ${ttft.toFixed(2)}` +
      (w.name === 'mixed' ? '' : ` (target <= 0.5: ${verdict(ttft <= 0.5)})`) +
      `, throughput ${tput.toFixed(2)} (target >= 1: ${verdict(tput >= 1)})`,
  );
  return lines;
}

// ---- Main ---------------------------------------------------------------------------------------------

const started = performance.now();
const report: string[] = [
  `routing benchmark: ${REPLICAS} simulated vLLM servers (${BLOCKS} KV blocks of 16 tokens each, time scale ` +
    `${TIME_SCALE}) behind the gateway; a fresh fleet and gateway per cell`,
  `${(WINDOW_MS / 1000).toFixed(1)} s of Poisson arrivals per cell, the first ${WARMUP * 100}% not measured; ` +
    `times in wall-clock ms; tok/s: output tokens of all finished requests / (last completion - first send)`,
  `hit: prefix-cache hit rate of the fleet (tokens) over the measured window; errors include requests ` +
    `unfinished ${(DRAIN_MS / 1000).toFixed(0)} s after the window (counted as infinite latency)`,
  `overload: round robin's TTFT p90 > ${OVERLOAD_TTFT_MS} ms or errors > 1%; x/rr columns: ratio to round robin at that rate`,
];
/** The machine was busy with other work during a cell: others' CPU or a late load generator. */
const noisy = (c: CellResult): boolean => c.cpu[3]! > NOISY_CPU || c.lagMs > NOISY_LAG_MS;
const noise = (c: CellResult): number => c.cpu[3]! / NOISY_CPU + c.lagMs / NOISY_LAG_MS;
const peak = [0, 0, 0];
let reruns = 0;
let stillNoisy = 0;
try {
  for (const w of WORKLOADS) {
    const results: CellResult[] = [];
    for (const base of RATES ?? w.ladder) {
      const rate = base / TIME_SCALE;
      for (const profile of PROFILES.keys()) {
        let c = await cell(dir, w, rate, profile);
        const log = (x: CellResult, note: string): void => {
          const [gw, sim, load, other] = x.cpu.map((v) => `${(v * 100).toFixed(0)}%`);
          process.stderr.write(
            `${w.name.padEnd(14)}${row(x)}  cpu: gateway ${gw} sim ${sim} load ${load} other ${other}, ` +
              `send lag ${x.lagMs.toFixed(0)} ms${note}\n`,
          );
        };
        if (noisy(c) && reruns < MAX_RERUNS) {
          // Chosen by the noise measures alone, never by the figures.
          log(c, ' (machine busy: run again)');
          reruns++;
          const again = await cell(dir, w, rate, profile);
          c = noise(again) < noise(c) ? again : c;
        }
        if (noisy(c)) stillNoisy++;
        log(c, '');
        results.push(c);
        c.cpu.slice(0, 3).forEach((v, i) => (peak[i] = Math.max(peak[i]!, v)));
      }
    }
    report.push(...summarize(w, results));
  }
  const [gw, sim, load] = peak.map((v) => `${(v * 100).toFixed(0)}%`);
  report.push(
    `\npeak CPU in a measured window (share of one core): gateway ${gw}, simulator ${sim}, load generator ${load}`,
    `cells run again because other processes used > ${NOISY_CPU * 100}% of a core or sends lagged > ` +
      `${NOISY_LAG_MS} ms: ${reruns}; cells still noisy (marked *): ${stillNoisy}`,
    `total ${((performance.now() - started) / 1000).toFixed(0)} s`,
  );
  console.log(report.join('\n'));
} finally {
  killAll();
}
