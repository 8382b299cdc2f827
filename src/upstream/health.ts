import type { Dispatcher } from 'undici';

// Active health checks: each endpoint is probed every `intervalMs` with an HTTP GET (any 2xx is a pass)
// and, when configured, a one-token inference request. `unhealthyThreshold` failures in a row take an
// endpoint out of rotation, `healthyThreshold` passes bring it back. Endpoints start healthy unless
// `startUnhealthy` (prewarming: not in rotation until a first probe passes).

export interface HealthOptions {
  readonly path: string;
  readonly intervalMs: number;
  readonly timeoutMs: number;
  readonly healthyThreshold: number;
  readonly unhealthyThreshold: number;
  /** A one-token completion probe: the model to ask and the path of the completions API. */
  readonly inference: {
    readonly path: string;
    readonly model: string;
    readonly headers: Record<string, string>;
  } | null;
  readonly startUnhealthy: boolean;
}

export interface ProbeTarget {
  readonly id: string;
  readonly origin: string;
  readonly dispatcher: Dispatcher;
}

interface TargetState {
  healthy: boolean;
  passes: number;
  fails: number;
  probing: boolean;
  checked: boolean;
}

export class HealthChecker {
  private readonly options: HealthOptions;
  private readonly targets = new Map<string, { target: ProbeTarget; state: TargetState }>();
  private readonly onChange: (id: string, healthy: boolean) => void;
  private timer: NodeJS.Timeout | null = null;

  constructor(options: HealthOptions, onChange: (id: string, healthy: boolean) => void = () => {}) {
    this.options = options;
    this.onChange = onChange;
  }

  add(target: ProbeTarget): void {
    const healthy = !this.options.startUnhealthy;
    this.targets.set(target.id, {
      target,
      state: { healthy, passes: 0, fails: 0, probing: false, checked: false },
    });
  }

  remove(id: string): void {
    this.targets.delete(id);
  }

  isHealthy(id: string): boolean {
    return this.targets.get(id)?.state.healthy ?? true;
  }

  /** Every target has been probed at least once. */
  get settled(): boolean {
    for (const { state } of this.targets.values()) if (!state.checked) return false;
    return true;
  }

  start(): void {
    if (this.timer !== null) return;
    void this.probeAll();
    this.timer = setInterval(() => void this.probeAll(), this.options.intervalMs);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer !== null) clearInterval(this.timer);
    this.timer = null;
  }

  async probeAll(): Promise<void> {
    await Promise.all([...this.targets.values()].map((entry) => this.probe(entry.target, entry.state)));
  }

  private async probe(target: ProbeTarget, state: TargetState): Promise<void> {
    if (state.probing) return;
    state.probing = true;
    const ok =
      (await this.httpProbe(target)) &&
      (this.options.inference === null || (await this.inferenceProbe(target)));
    state.probing = false;
    state.checked = true;
    if (ok) {
      state.passes++;
      state.fails = 0;
      if (!state.healthy && state.passes >= this.options.healthyThreshold) this.set(target.id, state, true);
    } else {
      state.fails++;
      state.passes = 0;
      if (state.healthy && state.fails >= this.options.unhealthyThreshold) this.set(target.id, state, false);
    }
  }

  private set(id: string, state: TargetState, healthy: boolean): void {
    state.healthy = healthy;
    this.onChange(id, healthy);
  }

  private async httpProbe(target: ProbeTarget): Promise<boolean> {
    return this.exchange(target, { method: 'GET', path: this.options.path });
  }

  private async inferenceProbe(target: ProbeTarget): Promise<boolean> {
    const inference = this.options.inference!;
    const body = JSON.stringify({
      model: inference.model,
      messages: [{ role: 'user', content: 'ping' }],
      max_tokens: 1,
      stream: false,
    });
    return this.exchange(target, {
      method: 'POST',
      path: inference.path,
      body,
      headers: { 'content-type': 'application/json', ...inference.headers },
    });
  }

  private async exchange(
    target: ProbeTarget,
    req: { method: 'GET' | 'POST'; path: string; body?: string; headers?: Record<string, string> },
  ): Promise<boolean> {
    try {
      const res = await target.dispatcher.request({
        origin: target.origin,
        method: req.method,
        path: req.path,
        ...(req.body !== undefined ? { body: req.body } : {}),
        ...(req.headers !== undefined ? { headers: req.headers } : {}),
        signal: AbortSignal.timeout(this.options.timeoutMs),
      });
      await res.body.dump();
      return res.statusCode >= 200 && res.statusCode < 300;
    } catch {
      return false;
    }
  }
}
