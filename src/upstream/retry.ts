import type { GatewayError } from '../core/errors.ts';
import type { RetrySettings } from '../contracts/upstream.ts';

// Retry decisions: which failures are worth another attempt, how long to wait (exponential backoff with
// full jitter, or the upstream's Retry-After / retry-after-ms up to a cap), and a retry budget that caps
// concurrent retries at a share of live requests so a failing upstream is not hammered (after Envoy's
// retry_budget: budget_percent of active requests, with a floor of min_retry_concurrency).

export type RetryPolicy = RetrySettings;

/** Failures another target (or a later attempt) may not repeat. Client errors (4xx but 408/429) never qualify. */
const RETRYABLE: ReadonlySet<string> = new Set([
  'upstream_unreachable',
  'upstream_timeout',
  'upstream_error',
  'upstream_stream_error',
  'no_healthy_upstream',
  'pool_empty',
  'queue_full',
]);

export function isRetryable(err: GatewayError): boolean {
  if (RETRYABLE.has(err.code)) return true;
  if (err.code === 'rate_limited') return err.status === 429;
  return err.status >= 500 && err.status !== 501;
}

/** Upstream-requested delay in ms from retry-after-ms or Retry-After (seconds or an HTTP date), or null. */
export function retryAfterMs(
  headers: Readonly<Record<string, string | string[] | undefined>> | undefined,
  now = Date.now(),
): number | null {
  if (headers === undefined) return null;
  const ms = headers['retry-after-ms'];
  if (typeof ms === 'string' && ms.trim() !== '' && Number.isFinite(Number(ms)))
    return Math.max(0, Number(ms));
  const after = headers['retry-after'];
  if (typeof after !== 'string' || after.trim() === '') return null;
  const seconds = Number(after);
  if (Number.isFinite(seconds)) return Math.max(0, seconds * 1000);
  const date = Date.parse(after);
  return Number.isNaN(date) ? null : Math.max(0, date - now);
}

/** Delay before retry number `retry` (1-based): full jitter over an exponentially growing window. */
export function backoffMs(policy: RetryPolicy, retry: number, random = Math.random): number {
  const window = Math.min(policy.maxMs, policy.baseMs * 2 ** (retry - 1));
  return Math.floor(random() * window);
}

export class RetryBudget {
  private active = 0;
  private retrying = 0;
  private readonly ratio: number;
  private readonly floor: number;

  constructor(ratio: number, minConcurrency: number) {
    this.ratio = ratio;
    this.floor = minConcurrency;
  }

  requestStarted(): void {
    this.active++;
  }

  requestEnded(): void {
    this.active--;
  }

  /** Take a retry slot if the budget allows; give it back with `retryEnded`. */
  tryRetry(): boolean {
    if (this.retrying >= Math.max(this.floor, Math.floor(this.active * this.ratio))) return false;
    this.retrying++;
    return true;
  }

  retryEnded(): void {
    this.retrying--;
  }

  get snapshot(): { active: number; retrying: number } {
    return { active: this.active, retrying: this.retrying };
  }
}

export function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal.aborted) {
      reject(signal.reason as Error);
      return;
    }
    const onAbort = (): void => {
      clearTimeout(timer);
      reject(signal.reason as Error);
    };
    const timer = setTimeout(() => {
      signal.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal.addEventListener('abort', onAbort, { once: true });
  });
}
