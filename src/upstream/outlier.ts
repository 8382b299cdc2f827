// Outlier ejection (circuit breaking) per upstream endpoint, after Envoy's outlier detection: an endpoint
// is ejected after `consecutive` failures in a row, or when its failure rate over a sliding window passes
// `rate` (with at least `minRequests` in the window). An ejection lasts `baseMs × times ejected` up to
// `maxMs`; afterwards the endpoint is half-open: one probe request is let through, and its result closes
// or re-opens the circuit. At most `maxEjectedShare` of a group's endpoints are ejected at once.

export interface OutlierOptions {
  readonly consecutive: number;
  readonly rate: number;
  readonly minRequests: number;
  readonly windowMs: number;
  readonly baseMs: number;
  readonly maxMs: number;
  readonly maxEjectedShare: number;
}

type State = 'closed' | 'open' | 'half-open';

class EndpointCircuit {
  state: State = 'closed';
  consecutive = 0;
  ejections = 0;
  until = 0;
  probing = false;
  /** Ring of [time, failed] over the window, kept as two parallel arrays. */
  times: number[] = [];
  failures: number[] = [];
}

export class OutlierDetector {
  private readonly options: OutlierOptions;
  private readonly circuits = new Map<string, EndpointCircuit>();
  private readonly onChange: (id: string, ejected: boolean, untilMs: number) => void;
  private readonly now: () => number;

  constructor(
    options: OutlierOptions,
    onChange: (id: string, ejected: boolean, untilMs: number) => void = () => {},
    now = Date.now,
  ) {
    this.options = options;
    this.onChange = onChange;
    this.now = now;
  }

  private circuit(id: string): EndpointCircuit {
    let c = this.circuits.get(id);
    if (c === undefined) {
      c = new EndpointCircuit();
      this.circuits.set(id, c);
    }
    return c;
  }

  /** May a request go to this endpoint now? A half-open endpoint admits one probe at a time. */
  admits(id: string): boolean {
    const c = this.circuits.get(id);
    if (c === undefined || c.state === 'closed') return true;
    if (c.state === 'open') {
      if (this.now() < c.until) return false;
      c.state = 'half-open';
      c.probing = false;
    }
    if (c.probing) return false;
    c.probing = true;
    return true;
  }

  isEjected(id: string): boolean {
    const c = this.circuits.get(id);
    return c !== undefined && c.state === 'open' && this.now() < c.until;
  }

  /** Record an outcome. `group` lists the endpoints that share the cap on ejections. */
  record(id: string, ok: boolean, group: readonly string[] = [id]): void {
    const c = this.circuit(id);
    const now = this.now();
    if (c.state === 'open' && now >= c.until) c.state = 'half-open'; // ended without an admits() call
    if (c.state === 'half-open') {
      c.probing = false;
      if (ok) this.close(id, c);
      else this.eject(id, c, group, true);
      return;
    }
    c.times.push(now);
    c.failures.push(ok ? 0 : 1);
    const horizon = now - this.options.windowMs;
    let drop = 0;
    while (drop < c.times.length && c.times[drop]! < horizon) drop++;
    if (drop > 0) {
      c.times.splice(0, drop);
      c.failures.splice(0, drop);
    }
    if (ok) {
      c.consecutive = 0;
      return;
    }
    c.consecutive++;
    const total = c.times.length;
    const failed = c.failures.reduce((a, b) => a + b, 0);
    const rateTripped = total >= this.options.minRequests && failed / total >= this.options.rate;
    if (c.state === 'closed' && (c.consecutive >= this.options.consecutive || rateTripped))
      this.eject(id, c, group, false);
  }

  private eject(id: string, c: EndpointCircuit, group: readonly string[], force: boolean): void {
    if (!force) {
      const ejected = group.filter((g) => g !== id && this.isEjected(g)).length;
      if (ejected + 1 > Math.floor(group.length * this.options.maxEjectedShare) && group.length > 1) return;
      if (group.length === 1 && this.options.maxEjectedShare <= 0) return;
    }
    c.ejections++;
    c.state = 'open';
    c.until = this.now() + Math.min(this.options.maxMs, this.options.baseMs * c.ejections);
    c.consecutive = 0;
    c.times.length = 0;
    c.failures.length = 0;
    this.onChange(id, true, c.until);
  }

  private close(id: string, c: EndpointCircuit): void {
    c.state = 'closed';
    c.consecutive = 0;
    this.onChange(id, false, 0);
  }

  /** Ids currently ejected (for metrics and the dashboard). */
  ejected(): string[] {
    return [...this.circuits.keys()].filter((id) => this.isEjected(id));
  }
}
