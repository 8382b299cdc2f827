import type { Metric, Registry } from 'prom-client';

// Counters and histograms for the per-request path. prom-client's own children re-validate and re-hash
// their label set on every observe()/inc() (and key buckets by the bound's string form), about a
// microsecond each, several times per request. These keep one child per label set with its buckets in
// a typed array, so an observation is a short scan and two additions. They plug into a prom-client
// Registry like its own metrics (the registry only calls get() and reset()), so the /metrics text is
// the same: same names, labels, buckets, HELP and TYPE lines.

interface Config<L extends string> {
  readonly name: string;
  readonly help: string;
  readonly labelNames?: readonly L[];
  readonly registers: readonly Registry[];
}

type LabelSet = Record<string, string | number>;

/** One sample, as prom-client's registry formats it. */
interface Sample {
  readonly labels: LabelSet;
  readonly value: number;
  readonly metricName?: string;
}

/** What get() returns: the shape of prom-client's own metric objects. */
export interface MetricSnapshot {
  readonly name: string;
  readonly help: string;
  readonly type: 'counter' | 'histogram';
  readonly aggregator: 'sum';
  readonly values: Sample[];
}

function labelSet(names: readonly string[], values: readonly string[]): LabelSet {
  const labels: LabelSet = {};
  for (let i = 0; i < names.length; i++) labels[names[i]!] = values[i] ?? '';
  return labels;
}

abstract class FastMetric<L extends string, C> {
  abstract readonly type: MetricSnapshot['type'];
  readonly name: string;
  readonly help: string;
  readonly aggregator = 'sum' as const;
  protected readonly labelNames: readonly L[];
  protected readonly children = new Map<string, { readonly labels: LabelSet; readonly child: C }>();

  constructor(config: Config<L>) {
    this.name = config.name;
    this.help = config.help;
    this.labelNames = config.labelNames ?? [];
    for (const registry of config.registers) registry.registerMetric(this as unknown as Metric);
  }

  protected abstract create(): C;

  /** One child's samples, as prom-client's registry formats them. */
  protected abstract samples(labels: LabelSet, child: C, out: Sample[]): void;

  async get(): Promise<MetricSnapshot> {
    const values: Sample[] = [];
    for (const { labels, child } of this.children.values()) this.samples(labels, child, values);
    // An unlabelled metric shows its zero before any use, as prom-client's do.
    if (this.labelNames.length === 0 && values.length === 0) this.samples({}, this.create(), values);
    return { name: this.name, help: this.help, type: this.type, aggregator: this.aggregator, values };
  }

  /** The child for these label values (in labelNames order), created on first use and kept. */
  labels(...values: string[]): C {
    const key = values.length === 1 ? values[0]! : values.join('\u0000');
    let entry = this.children.get(key);
    if (entry === undefined) {
      if (values.length !== this.labelNames.length) {
        throw new Error(
          `${this.name}: expected ${this.labelNames.length} label values, got ${values.length}`,
        );
      }
      entry = { labels: labelSet(this.labelNames, values), child: this.create() };
      this.children.set(key, entry);
    }
    return entry.child;
  }

  reset(): void {
    this.children.clear();
  }
}

export class CounterChild {
  value = 0;

  inc(amount = 1): void {
    // prom-client throws on these; a metric must never fail a request, so they are ignored.
    if (amount >= 0 && Number.isFinite(amount)) this.value += amount;
  }
}

export class FastCounter<L extends string = string> extends FastMetric<L, CounterChild> {
  readonly type = 'counter' as const;

  protected create(): CounterChild {
    return new CounterChild();
  }

  inc(amount = 1): void {
    this.labels().inc(amount);
  }

  protected samples(labels: LabelSet, child: CounterChild, out: Sample[]): void {
    out.push({ value: child.value, labels });
  }
}

export class HistogramChild {
  /** Observations per bucket (not cumulative); the last slot is +Inf. */
  readonly counts: Float64Array;
  sum = 0;
  count = 0;
  readonly #bounds: readonly number[];

  constructor(bounds: readonly number[]) {
    this.#bounds = bounds;
    this.counts = new Float64Array(bounds.length + 1);
  }

  observe(value: number): void {
    if (!Number.isFinite(value)) return;
    const bounds = this.#bounds;
    let i = 0;
    while (i < bounds.length && value > bounds[i]!) i++;
    this.counts[i]!++;
    this.sum += value;
    this.count++;
  }
}

export class FastHistogram<L extends string = string> extends FastMetric<L, HistogramChild> {
  readonly type = 'histogram' as const;
  readonly #bounds: readonly number[];

  constructor(config: Config<L> & { readonly buckets: readonly number[] }) {
    super(config);
    this.#bounds = [...config.buckets].sort((a, b) => a - b);
  }

  protected create(): HistogramChild {
    return new HistogramChild(this.#bounds);
  }

  protected samples(labels: LabelSet, child: HistogramChild, out: Sample[]): void {
    const bucket = `${this.name}_bucket`;
    let cumulative = 0;
    for (let i = 0; i <= this.#bounds.length; i++) {
      cumulative += child.counts[i]!;
      const le = i < this.#bounds.length ? this.#bounds[i]! : '+Inf';
      out.push({ labels: { le, ...labels }, value: cumulative, metricName: bucket });
    }
    out.push({ labels, value: child.sum, metricName: `${this.name}_sum` });
    out.push({ labels, value: child.count, metricName: `${this.name}_count` });
  }
}
