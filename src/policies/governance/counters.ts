import type {
  CounterRequest,
  CounterWindow,
  HeldCounter,
  LimitScope,
  PriorityFactors,
  PriceTable,
  QuotaStore,
} from '../../contracts/governance.ts';
import type { PriorityClass, RequestContext } from '../../contracts/request.ts';
import { requestCost } from './cost.ts';
import { existingGovernanceState } from './request-state.ts';

// Shared by the rate-limit and budget policies: which counters a request touches, priority caps, merging
// duplicates, and settling a hold from the request's final usage.

/** The value a request has for a scope, or null when it has none (e.g. no team): the rule is skipped. */
export function scopeValue(scope: LimitScope, ctx: RequestContext): string | null {
  switch (scope) {
    case 'key':
      return ctx.identity?.id ?? null;
    case 'user':
      return ctx.identity?.user ?? null;
    case 'team':
      return ctx.identity?.team ?? null;
    case 'tenant':
      return ctx.identity?.tenant ?? null;
    case 'model':
      return ctx.model;
    case 'route':
      return ctx.route;
    case 'global':
      return '*';
  }
}

/** The scope value when a rule applies to the request, else null. */
export function appliesTo(
  rule: { readonly scope: LimitScope; readonly id: string | null },
  ctx: RequestContext,
) {
  const value = scopeValue(rule.scope, ctx);
  return value !== null && (rule.id === null || rule.id === value) ? value : null;
}

/** Admission cap for a priority class: lower classes may fill only a fraction of a shared limit. */
export function capFor(limit: number, factors: PriorityFactors | null, priority: PriorityClass): number {
  return Math.floor(limit * (factors?.[priority] ?? 1));
}

export function counterKey(kind: string, scope: LimitScope, value: string, metric: string): string {
  return `${kind}:${scope}:${encodeURIComponent(value)}:${metric}`;
}

/** A sliding window of about 60 buckets (1 s buckets for a minute). */
export function slidingWindow(ms: number): CounterWindow {
  return { kind: 'sliding', ms, bucketMs: Math.max(100, Math.ceil(ms / 60)) };
}

export interface Planned<M> {
  readonly request: CounterRequest;
  /** How to settle it, or null when committed at once. */
  readonly settle: HeldCounter['metric'] | null;
  readonly meta: M;
}

/** One entry per counter key (two rules on the same counter must not add twice): the lowest cap wins. */
export function mergeCounters<M>(planned: readonly Planned<M>[]): Planned<M>[] {
  if (planned.length < 2) return [...planned];
  const byKey = new Map<string, Planned<M>>();
  for (const p of planned) {
    const seen = byKey.get(p.request.key);
    if (seen === undefined || p.request.cap < seen.request.cap) byKey.set(p.request.key, p);
  }
  return [...byKey.values()];
}

export function heldCounters<M>(planned: readonly Planned<M>[]): HeldCounter[] {
  const out: HeldCounter[] = [];
  for (const p of planned) {
    if (p.settle !== null) {
      out.push({
        key: p.request.key,
        window: p.request.window,
        metric: p.settle,
        reserved: p.request.amount,
      });
    }
  }
  return out;
}

/** The amount a held counter settles with once the request is over. */
function actualAmount(held: HeldCounter, ctx: RequestContext, prices: PriceTable): number {
  if (held.metric === 'release') return 0;
  if (ctx.usageSource === 'none') {
    // Usage unknown: if the upstream produced output, charge what was reserved; if the request never got
    // that far, nothing was spent.
    return ctx.ttftMs === null ? 0 : held.reserved;
  }
  if (held.metric === 'tokens') return ctx.usage.inputTokens + ctx.usage.outputTokens;
  const cost = requestCost(ctx, prices);
  return cost === null ? 0 : Math.round(cost * 1e9);
}

/** Settles what `owner` held for this request (fire and forget: onEnd must not throw or wait). */
export function settleHold(ctx: RequestContext, owner: object, quotas: QuotaStore, prices: PriceTable): void {
  const state = existingGovernanceState(ctx);
  const hold = state?.holds.get(owner);
  if (state === undefined || hold === undefined) return;
  state.holds.delete(owner);
  const settlements = hold.counters.map((c) => ({
    key: c.key,
    window: c.window,
    actual: actualAmount(c, ctx, prices),
  }));
  quotas.settle(hold.id, settlements).catch(() => {
    // The store reports its own failures; the hold expires by itself.
  });
}

/** "1s", "250ms", "6m0s", "1h2m3s": the duration format of OpenAI's x-ratelimit-reset-* headers. */
export function formatResetDuration(ms: number): string {
  if (ms < 1_000) return `${Math.max(0, Math.ceil(ms))}ms`;
  const totalSeconds = ms / 1_000;
  const h = Math.floor(totalSeconds / 3_600);
  const m = Math.floor((totalSeconds % 3_600) / 60);
  const s = Math.round((totalSeconds % 60) * 1_000) / 1_000;
  if (h > 0) return `${h}h${m}m${Math.floor(s)}s`;
  if (m > 0) return `${m}m${Math.floor(s)}s`;
  return `${s}s`;
}

/** Retry-After (whole seconds, at least 1) and retry-after-ms, which OpenAI's SDKs also read. */
export function retryHeaders(ms: number): Record<string, string> {
  return {
    'retry-after': String(Math.max(1, Math.ceil(ms / 1_000))),
    'retry-after-ms': String(Math.ceil(ms)),
  };
}
