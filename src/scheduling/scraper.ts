import { Agent, type Dispatcher } from 'undici';
import type { EndpointState } from '../contracts/scheduling.ts';
import type { EndpointSet } from './endpoint-set.ts';
import { readTelemetry, type EngineHints } from './engine-metrics.ts';

// Polls every endpoint's Prometheus page at a fixed interval and writes the telemetry into its state.
// One loop per endpoint: the next scrape is scheduled only when the previous one has finished, so
// scrapes of one endpoint never overlap, and a slow endpoint never delays the others. Each scrape has
// its own timeout. A failed scrape leaves the old figures in place; the EndpointSet's stale-after age
// then marks them stale (and so saturated), and repeated failures mark the endpoint unhealthy.

export interface ScraperOptions {
  readonly intervalMs: number;
  readonly timeoutMs: number;
  /** Consecutive failures after which the endpoint is marked unhealthy. */
  readonly unhealthyAfter?: number;
  readonly hints?: EngineHints;
  /** A dispatcher to use instead of the scraper's own Agent (tests, proxies). */
  readonly dispatcher?: Dispatcher;
}

interface Loop {
  readonly state: EndpointState;
  readonly origin: string;
  readonly path: string;
  timer: NodeJS.Timeout | null;
  running: Promise<void> | null;
  stopped: boolean;
}

export class Scraper {
  private readonly set: EndpointSet;
  private readonly options: ScraperOptions;
  private readonly dispatcher: Dispatcher;
  private readonly ownAgent: Agent | null;
  private readonly loops = new Map<EndpointState, Loop>();
  private started = false;

  constructor(set: EndpointSet, options: ScraperOptions) {
    this.set = set;
    this.options = options;
    // Scrapes of one endpoint never overlap, so one keep-alive connection per origin is enough.
    this.ownAgent =
      options.dispatcher === undefined
        ? new Agent({
            connections: 1,
            pipelining: 1,
            keepAliveTimeout: 30_000,
            connect: { timeout: options.timeoutMs },
          })
        : null;
    this.dispatcher = options.dispatcher ?? (this.ownAgent as Agent);
    set.onMembership((state, joined) => {
      if (!this.started) return;
      if (joined) this.begin(state);
      else void this.end(state);
    });
  }

  start(): void {
    if (this.started) return;
    this.started = true;
    for (const state of this.set.all()) this.begin(state);
  }

  /** Stop every loop and wait for scrapes in progress; closes the scraper's own Agent. */
  async stop(): Promise<void> {
    this.started = false;
    const pending: Promise<void>[] = [];
    for (const state of [...this.loops.keys()]) {
      const running = this.end(state);
      if (running !== null) pending.push(running);
    }
    await Promise.allSettled(pending);
    if (this.ownAgent !== null) await this.ownAgent.close();
  }

  /** Scrape one endpoint now (tests and the first scrape at start-up). */
  async scrapeOnce(state: EndpointState): Promise<boolean> {
    const url = new URL(state.metricsUrl);
    return this.scrape(state, url.origin, url.pathname + url.search);
  }

  private begin(state: EndpointState): void {
    if (this.loops.has(state)) return;
    const url = new URL(state.metricsUrl);
    const loop: Loop = {
      state,
      origin: url.origin,
      path: url.pathname + url.search,
      timer: null,
      running: null,
      stopped: false,
    };
    this.loops.set(state, loop);
    this.tick(loop);
  }

  private end(state: EndpointState): Promise<void> | null {
    const loop = this.loops.get(state);
    if (loop === undefined) return null;
    this.loops.delete(state);
    loop.stopped = true;
    if (loop.timer !== null) clearTimeout(loop.timer);
    return loop.running;
  }

  private tick(loop: Loop): void {
    loop.timer = null;
    if (loop.stopped) return;
    const startedAt = performance.now();
    loop.running = this.scrape(loop.state, loop.origin, loop.path).then(() => {
      loop.running = null;
      if (loop.stopped) return;
      const wait = Math.max(0, this.options.intervalMs - (performance.now() - startedAt));
      loop.timer = setTimeout(() => this.tick(loop), wait);
      loop.timer.unref();
    });
  }

  private async scrape(state: EndpointState, origin: string, path: string): Promise<boolean> {
    let ok = false;
    try {
      const res = await this.dispatcher.request({
        origin,
        path,
        method: 'GET',
        headers: { accept: 'text/plain' },
        signal: AbortSignal.timeout(this.options.timeoutMs),
      });
      if (res.statusCode !== 200) {
        await res.body.dump();
      } else {
        ok = readTelemetry(state.engine, await res.body.text(), state, this.options.hints);
      }
    } catch {
      ok = false;
    }
    if (ok) {
      state.scrapedAt = performance.now();
      state.stale = false;
      state.dispatchedSinceScrape = 0;
      state.consecutiveFailures = 0;
      state.health = 'healthy';
    } else {
      state.consecutiveFailures++;
      if (state.consecutiveFailures >= (this.options.unhealthyAfter ?? 3)) state.health = 'unhealthy';
    }
    this.set.refreshStaleness(performance.now());
    this.set.changed();
    return ok;
  }
}
