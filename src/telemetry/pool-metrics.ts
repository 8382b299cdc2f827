import { Gauge, type Registry } from 'prom-client';
import type { EndpointState } from '../contracts/scheduling.ts';
import type { PoolProvider } from '../upstream/pool-provider.ts';
import { OTHER, type LabelCap } from './label-cap.ts';

// Gauges of self-hosted pools, computed at scrape time from the live scheduler state (nothing is
// recorded per request for them): queue depth per class, each endpoint's scraped telemetry, the
// gateway's own in-flight count, and the last scores the picker gave each endpoint. Endpoint labels are
// capped; the endpoints folded into `other` are summed (counts) or maxed (ratios and scores).

type Aggregate = 'sum' | 'max';

interface PoolGaugeDeps {
  readonly registers: Registry[];
  readonly pools: () => readonly PoolProvider[];
  readonly endpointCap: LabelCap;
}

function combine(agg: Aggregate, acc: number, v: number): number {
  if (Number.isNaN(acc)) return v;
  return agg === 'sum' ? acc + v : Math.max(acc, v);
}

interface EndpointGaugeSpec {
  readonly name: string;
  readonly help: string;
  readonly agg: Aggregate;
  /** The value for one endpoint; NaN emits no sample (the engine does not report it). */
  readonly read: (e: EndpointState, p: PoolProvider) => number;
}

function endpointGauge(deps: PoolGaugeDeps, spec: EndpointGaugeSpec): void {
  const { pools, endpointCap } = deps;
  new Gauge({
    name: spec.name,
    help: spec.help,
    labelNames: ['pool', 'endpoint'],
    registers: deps.registers,
    collect() {
      this.reset();
      for (const p of pools()) {
        let other = NaN;
        for (const e of p.scheduler.endpoints.all()) {
          const v = spec.read(e, p);
          if (Number.isNaN(v)) continue;
          const endpoint = endpointCap.fold(e.id);
          if (endpoint === OTHER) other = combine(spec.agg, other, v);
          else this.labels(p.name, endpoint).set(v);
        }
        if (!Number.isNaN(other)) this.labels(p.name, OTHER).set(other);
      }
    },
  });
}

function scoreGauge(deps: PoolGaugeDeps): void {
  const { pools, endpointCap } = deps;
  new Gauge({
    name: 'gateway_endpoint_score',
    help: 'The last score (0..1, before weighting) each scorer of the pool profile gave each endpoint.',
    labelNames: ['pool', 'endpoint', 'scorer'],
    registers: deps.registers,
    collect() {
      this.reset();
      for (const p of pools()) {
        const board = p.scheduler.profile.lastScores;
        const others: number[] = board.scorers.map(() => NaN);
        for (const e of p.scheduler.endpoints.all()) {
          const endpoint = endpointCap.fold(e.id);
          for (let s = 0; s < board.scorers.length; s++) {
            const v = board.score(e, s);
            if (Number.isNaN(v)) continue;
            if (endpoint === OTHER) others[s] = combine('max', others[s]!, v);
            else this.labels(p.name, endpoint, board.scorers[s]!).set(v);
          }
        }
        others.forEach((v, s) => {
          if (!Number.isNaN(v)) this.labels(p.name, OTHER, board.scorers[s]!).set(v);
        });
      }
    },
  });
}

export function registerPoolGauges(deps: PoolGaugeDeps): void {
  const { pools } = deps;
  new Gauge({
    name: 'gateway_queue_depth',
    help: "Requests waiting in a pool's flow-control queue, per priority class.",
    labelNames: ['pool', 'class'],
    registers: deps.registers,
    collect() {
      this.reset();
      for (const p of pools())
        for (const [cls, depth] of Object.entries(p.scheduler.queueDepths()))
          this.labels(p.name, cls).set(depth);
    },
  });
  const specs: EndpointGaugeSpec[] = [
    {
      name: 'gateway_endpoint_queue_depth',
      help: 'Waiting requests on each pool endpoint, as scraped.',
      agg: 'sum',
      read: (e) => e.waiting,
    },
    {
      name: 'gateway_endpoint_running',
      help: 'Running requests on each pool endpoint, as scraped.',
      agg: 'sum',
      read: (e) => e.running,
    },
    {
      name: 'gateway_endpoint_kv_cache_usage',
      help: 'KV-cache use (0..1) of each pool endpoint, as scraped.',
      agg: 'max',
      read: (e) => e.kvUsage,
    },
    {
      name: 'gateway_gpu_utilization_percent',
      help: 'GPU utilisation (0..100, mean over its GPUs) of each pool endpoint, where its metrics page reports it.',
      agg: 'max',
      read: (e) => e.gpuUtilization * 100,
    },
    {
      name: 'gateway_endpoint_in_flight',
      help: 'Requests the gateway has in flight to each pool endpoint.',
      agg: 'sum',
      read: (e) => e.inFlight,
    },
    {
      name: 'gateway_endpoint_up',
      help: '1 when the endpoint is healthy, not stale and not ejected.',
      agg: 'sum',
      read: (e) => (e.health !== 'unhealthy' && !e.stale && !e.ejected ? 1 : 0),
    },
    {
      name: 'gateway_endpoint_weighted_score',
      help: "The last weighted total (sum of score × weight) the pool profile gave each endpoint; the picker's input.",
      agg: 'max',
      read: (e, p) => p.scheduler.profile.lastScores.total(e),
    },
  ];
  for (const spec of specs) endpointGauge(deps, spec);
  scoreGauge(deps);
}
