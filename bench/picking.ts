import type { RequestContext } from '../src/contracts/request.ts';
import type { EndpointState, SchedulingRequest } from '../src/contracts/scheduling.ts';
import { profileFrom } from '../src/scheduling/builtins.ts';
import { StaticDiscovery } from '../src/scheduling/endpoint-set.ts';
import { PoolScheduler } from '../src/scheduling/pool-scheduler.ts';
import type { Profile } from '../src/contracts/scheduling.ts';
import { SchedulingRequestBuilder } from '../src/scheduling/scheduling-request.ts';

// Micro-benchmark of endpoint picking at 64 endpoints (issue 3: under 200 µs p99 per request).
// Realistic state: mixed queues and KV use, a few stale endpoints, a prefix index warmed by 200 groups
// of requests sharing ~3 KB system prompts, conversations with session keys. Measured in one run:
// - profile.pick alone (filters → scorers → picker, with the prefix/session index updates), for the
//   default profile and the round-robin baseline;
// - the whole per-request cost a pool adds: building the scheduling request from the body (prompt walk
//   and block hashing), flow-control checks, the pick and the release accounting.
// Run: node bench/picking.ts [iterations]

const ENDPOINTS = 64;
const GROUPS = 200;
const ITERATIONS = Number(process.argv[2] ?? 50_000);

let seed = 42;
function rand(): number {
  seed = (Math.imul(seed, 1664525) + 1013904223) >>> 0;
  return seed / 4294967296;
}

const SYSTEMS = Array.from({ length: GROUPS }, (_, g) =>
  `System prompt ${g}: you are assistant #${g} for department ${g % 17}. Follow the policy. `.repeat(40),
);

function body(i: number): Record<string, unknown> {
  const g = Math.floor(rand() * GROUPS);
  return {
    model: 'm',
    max_tokens: 128,
    user: `conv-${i % 500}`,
    messages: [
      { role: 'system', content: SYSTEMS[g] },
      {
        role: 'user',
        content: `Question ${i}: how does feature ${Math.floor(rand() * 1000)} behave under load?`,
      },
    ],
  };
}

function ctx(i: number): RequestContext {
  return {
    id: `r${i}`,
    body: body(i),
    clientHeaders: {},
    model: 'm',
    upstreamModel: 'm',
    identity: null,
    priority: 'standard',
    debug: false,
    explain: null,
    signal: new AbortController().signal,
    startedAt: performance.now(),
    ttftMs: 50,
    status: 200,
  } as unknown as RequestContext;
}

async function pool(profile: string): Promise<PoolScheduler> {
  const urls = Array.from({ length: ENDPOINTS }, (_, i) => ({
    url: `http://10.1.${i >> 8}.${i & 255}:8000`,
  }));
  const s = new PoolScheduler({
    name: 'bench',
    engine: 'vllm',
    profile: profileFrom(profile),
    discovery: new StaticDiscovery(urls),
    scrape: null,
    saturation: { queueDepth: 1e9, kvUsage: 1 }, // never saturated: measure picking, not queueing
    flow: {
      enabled: true,
      maxQueue: { critical: 1, standard: 1, sheddable: 0 },
      maxWaitMs: { critical: 1, standard: 1, sheddable: 0 },
      retryAfterSeconds: 1,
    },
  });
  await s.start();
  for (const e of s.endpoints.all()) randomise(e);
  return s;
}

function randomise(e: EndpointState): void {
  e.waiting = Math.floor(rand() * 8);
  e.running = 20 + Math.floor(rand() * 200);
  e.kvUsage = 0.2 + rand() * 0.75;
  e.kvBlocks = 8192;
  e.blockSize = 16;
  e.stale = rand() < 0.05;
  e.ttftEwmaMs = 50 + rand() * 400;
}

function stats(samples: Float64Array): { p50: number; p99: number; max: number } {
  const sorted = Float64Array.from(samples).sort();
  const at = (q: number) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!;
  return { p50: at(0.5), p99: at(0.99), max: sorted[sorted.length - 1]! };
}

function timePicks(
  profile: Profile,
  endpoints: readonly EndpointState[],
  reqs: readonly SchedulingRequest[],
): Float64Array {
  const out = new Float64Array(reqs.length);
  for (let i = 0; i < reqs.length; i++) {
    const t0 = process.hrtime.bigint();
    profile.pick(reqs[i]!, endpoints, null);
    out[i] = Number(process.hrtime.bigint() - t0) / 1000;
    if ((i & 63) === 0) randomise(endpoints[i % endpoints.length]!);
  }
  return out;
}

function timeRequests(s: PoolScheduler, ctxs: readonly RequestContext[]): Float64Array {
  const out = new Float64Array(ctxs.length);
  for (let i = 0; i < ctxs.length; i++) {
    const c = ctxs[i]!;
    const t0 = process.hrtime.bigint();
    const e = s.acquire(c) as EndpointState;
    s.release(e.id, c);
    out[i] = Number(process.hrtime.bigint() - t0) / 1000;
    if ((i & 63) === 0) randomise(s.endpoints.all()[i % ENDPOINTS]!);
  }
  return out;
}

function line(label: string, r: { p50: number; p99: number; max: number }): string {
  return `${label.padEnd(46)} p50 ${r.p50.toFixed(1).padStart(6)} µs   p99 ${r.p99.toFixed(1).padStart(6)} µs   max ${r.max.toFixed(0).padStart(5)} µs`;
}

const builder = new SchedulingRequestBuilder();
const warm = Array.from({ length: 4000 }, (_, i) => ctx(i));
const ctxs = Array.from({ length: ITERATIONS }, (_, i) => ctx(i + 4000));
const reqs = ctxs.map((c) => builder.build(c));

const results: [string, { p50: number; p99: number; max: number }][] = [];
for (const name of ['default', 'round-robin']) {
  const s = await pool(name);
  timeRequests(s, warm); // warms the prefix and session indexes and the JIT
  results.push([`${name}: profile.pick`, stats(timePicks(s.profile, s.endpoints.all(), reqs))]);
  results.push([`${name}: acquire + release (with hashing)`, stats(timeRequests(s, ctxs))]);
  await s.close();
}

const [, , , rr] = results;
console.log(
  `endpoint picking at ${ENDPOINTS} endpoints, ${ITERATIONS} requests, ~3 KB prompts (${GROUPS} shared prefixes)`,
);
for (const [label, r] of results) console.log(line(label, r));
const dflt = results[1]![1];
console.log(
  `default vs round-robin, whole request p99: +${(dflt.p99 - rr![1].p99).toFixed(1)} µs (target: under 200 µs p99)`,
);
