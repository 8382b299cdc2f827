import { GatewayError } from '../core/errors.ts';
import type { UpstreamTimeouts } from '../contracts/upstream.ts';

// The clocks of one upstream exchange: time to first byte, idle gap between body chunks, and total. Each
// fires by aborting the exchange's signal with an upstream_timeout error, within a timer tick of its
// setting (undici's own timers are coarse, about a second, so they only back these up). The client's
// abort signal is folded in, so one signal stops the exchange for any reason.

export class ExchangeDeadline {
  readonly signal: AbortSignal;
  private readonly controller = new AbortController();
  private readonly client: AbortSignal;
  private readonly onClientAbort = (): void => {
    this.clear();
    this.controller.abort(this.client.reason);
  };
  private readonly timeouts: UpstreamTimeouts;
  private firstByte: NodeJS.Timeout | null = null;
  private idle: NodeJS.Timeout | null = null;
  private total: NodeJS.Timeout | null = null;

  constructor(client: AbortSignal, timeouts: UpstreamTimeouts) {
    this.timeouts = timeouts;
    // Linked by hand: AbortSignal.any costs a composite signal tracked by the GC for every attempt.
    this.signal = this.controller.signal;
    this.client = client;
    if (client.aborted) this.controller.abort(client.reason);
    else client.addEventListener('abort', this.onClientAbort);
    if (timeouts.firstByteMs > 0) {
      this.firstByte = setTimeout(
        () => this.fire('The upstream provider did not answer in time (first byte timeout).'),
        timeouts.firstByteMs,
      );
    }
    if (timeouts.totalMs > 0) {
      this.total = setTimeout(
        () => this.fire('The upstream exchange took longer than its total timeout.'),
        timeouts.totalMs,
      );
    }
  }

  /** Response headers arrived: the first-byte clock stops and the idle clock starts. */
  headers(): void {
    if (this.firstByte !== null) clearTimeout(this.firstByte);
    this.firstByte = null;
    if (this.timeouts.idleMs > 0) {
      this.idle = setTimeout(
        () => this.fire('The upstream provider stopped sending data (idle timeout).'),
        this.timeouts.idleMs,
      );
    }
  }

  /** A body chunk arrived. */
  chunk(): void {
    this.idle?.refresh();
  }

  clear(): void {
    this.client.removeEventListener('abort', this.onClientAbort);
    if (this.firstByte !== null) clearTimeout(this.firstByte);
    if (this.idle !== null) clearTimeout(this.idle);
    if (this.total !== null) clearTimeout(this.total);
    this.firstByte = this.idle = this.total = null;
  }

  private fire(message: string): void {
    this.clear();
    this.controller.abort(new GatewayError('upstream_timeout', message));
  }
}
