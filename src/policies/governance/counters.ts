import type {
  CounterRequest,
  KeyRecord,
  CounterWindow,
  HeldCounter,
  LimitScope,
  PriorityFactors,
  PriceTable,
  QuotaStore,
  Settlement,
} from '../../contracts/governance.ts';
import type { PriorityClass, RequestContext } from '../../contracts/request.ts';
import { requestCost } from './cost.ts';
import { existingGovernanceState } from './request-state.ts';

// Shared by the rate-limit and budget policies: which counters a request touches, priority caps, merging
// duplicates, and settling a hold from the request's final usage.

/**
 * `compile` over the rules a key record carries (`rulesOf`), memoised per record: records are cached,
 * so each key's rules compile once.
 */
export function perKeyRecord<R, C>(
  rulesOf: (record: KeyRecord) => readonly R[],
  compile: (rule: R) => C,
): (record: KeyRecord) => readonly C[] {
  const compiled = new WeakMap<KeyRecord, readonly C[]>();
  return (record) => {
    let rules = compiled.get(record);
    if (rules === undefined) {
      rules = rulesOf(record).map(compile);
      compiled.set(record, rules);
    }
    return rules;
  };
}

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

/** The caps of a limit for each priority class, computed once per rule. */
export type Caps = Readonly<Record<PriorityClass, number>>;

export function capsFor(limit: number, factors: PriorityFactors | null): Caps {
  return {
    critical: capFor(limit, factors, 'critical'),
    standard: capFor(limit, factors, 'standard'),
    sheddable: capFor(limit, factors, 'sheddable'),
  };
}

export function counterKey(kind: string, scope: LimitScope, value: string, metric: string): string {
  return `${kind}:${scope}:${encodeURIComponent(value)}:${metric}`;
}

/** The counter keys of one rule and metric by scope value (counterKey), remembered per value. */
export class CounterKeys {
  readonly #head: string;
  readonly #tail: string;
  readonly #byValue = new Map<string, string>();

  constructor(kind: string, scope: LimitScope, metric: string) {
    this.#head = `${kind}:${scope}:`;
    this.#tail = `:${metric}`;
  }

  key(value: string): string {
    let key = this.#byValue.get(value);
    if (key === undefined) {
      if (this.#byValue.size >= 1_024) this.#byValue.clear();
      key = this.#head + encodeURIComponent(value) + this.#tail;
      this.#byValue.set(value, key);
    }
    return key;
  }
}

/** A sliding window of about 60 buckets (1 s buckets for a minute). */
export function slidingWindow(ms: number): CounterWindow {
  return { kind: 'sliding', ms, bucketMs: Math.max(100, Math.ceil(ms / 60)) };
}

/** A counter a policy plans to charge a request to: the store's request plus what the policy needs. */
export interface Planned<M> extends CounterRequest {
  /** How to settle it, or null when committed at once. */
  readonly settle: HeldCounter['settle'];
  /** The policy's description of the counter (shared by every request). */
  readonly meta: M;
  /** The request's value for the rule's scope. */
  readonly value: string;
}

/**
 * One entry per counter key (two rules on the same counter must not add twice): the lowest cap wins, in
 * the place of the key's first entry. Edits `planned` in place.
 */
export function mergeCounters<M>(planned: Planned<M>[]): Planned<M>[] {
  if (planned.length < 2) return planned;
  let out = 0;
  for (let i = 0; i < planned.length; i++) {
    const p = planned[i]!;
    let j = 0;
    while (j < out && planned[j]!.key !== p.key) j++;
    if (j === out) planned[out++] = p;
    else if (p.cap < planned[j]!.cap) planned[j] = p;
  }
  planned.length = out;
  return planned;
}

/** Whether any of the counters is held (to settle when the request ends). */
export function holdsAny(planned: readonly HeldCounter[]): boolean {
  for (let i = 0; i < planned.length; i++) if (planned[i]!.settle !== null) return true;
  return false;
}

/** The amount a held counter settles with once the request is over. */
function actualAmount(held: HeldCounter, ctx: RequestContext, prices: PriceTable): number {
  if (held.settle === 'release') return 0;
  if (ctx.usageSource === 'none') {
    // Usage unknown: if the upstream produced output, charge what was reserved; if the request never got
    // that far, nothing was spent.
    return ctx.ttftMs === null ? 0 : held.amount;
  }
  if (held.settle === 'tokens') return ctx.usage.inputTokens + ctx.usage.outputTokens;
  const cost = requestCost(ctx, prices);
  return cost === null ? 0 : Math.round(cost * 1e9);
}

/**
 * Settles what `owner` held for this request (fire and forget: onEnd must not throw or wait), together
 * with what other policies hold from the same acquisition (admission.ts): one store operation per
 * request. `release` gives the owner's holds back without charging anything.
 */
export function settleHold(
  ctx: RequestContext,
  owner: object,
  { quotas, prices }: { readonly quotas: QuotaStore; readonly prices: PriceTable },
  release = false,
): void {
  const state = existingGovernanceState(ctx);
  const hold = state?.holds.get(owner);
  if (state === null || hold === undefined) return;
  state.holds.delete(owner);
  const settlements: Settlement[] = [];
  for (const c of hold.counters) {
    if (c.settle === null) continue;
    settlements.push({ key: c.key, window: c.window, actual: release ? 0 : actualAmount(c, ctx, prices) });
  }
  if (!release && state.holds.size > 0) {
    for (const other of state.holds.keys()) {
      const h = state.holds.get(other)!;
      if (h.id !== hold.id) continue;
      state.holds.delete(other);
      for (const c of h.counters) {
        if (c.settle === null) continue;
        settlements.push({ key: c.key, window: c.window, actual: actualAmount(c, ctx, prices) });
      }
    }
  }
  if (quotas.settleNow !== undefined) {
    quotas.settleNow(hold.id, settlements);
    return;
  }
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
