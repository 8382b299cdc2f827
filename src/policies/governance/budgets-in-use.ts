import type { KeyRecord, LimitScope } from '../../contracts/governance.ts';

// The budgets a budget policy has charged since it was built, for the gateway_budget_remaining gauge:
// a bounded set of subjects (scope value: a key, a team, …), filled on the request path and read when
// Prometheus scrapes. Which rules apply to a subject, and their limits, are worked out at scrape time,
// so a changed key budget shows without new traffic.
//
// Request-path cost: one Map lookup per counter a request is charged to (keyed by the counter key the
// policy has already built, so nothing is allocated); an insert only when a counter is new. Past `max`
// subjects no new ones are added (first come, first served): a remaining amount cannot be summed into an
// "other" series, so the rest are simply not reported.
//
// A reload rebuilds the policies but not the quota store: the set of a policy (by name) is kept with its
// store, so the gauge does not lose its series until those subjects spend again.

export interface BudgetSubject {
  readonly scope: LimitScope;
  readonly id: string;
  /** For key subjects: the caller's latest key record (its own budgets), or null. */
  record: KeyRecord | null;
}

export class BudgetsInUse {
  readonly #max: number;
  /** Counter key → its subject: the request path's only lookup. */
  readonly #byCounter = new Map<string, BudgetSubject>();
  readonly #subjects = new Map<string, BudgetSubject>();
  #full: boolean;

  constructor(max: number) {
    this.#max = max;
    this.#full = max <= 0;
  }

  get max(): number {
    return this.#max;
  }

  /**
   * A request is charged to `counterKey`, the counter of `scope` value `id`. Returns its subject (the
   * caller keeps its key record fresh), or null when the counter is new and the set is full.
   */
  note(counterKey: string, scope: LimitScope, id: string): BudgetSubject | null {
    const known = this.#byCounter.get(counterKey);
    if (known !== undefined) return known;
    if (this.#full) return null;
    const name = `${scope}\u0000${id}`;
    let s = this.#subjects.get(name);
    if (s === undefined) {
      s = { scope, id, record: null };
      this.#subjects.set(name, s);
      if (this.#subjects.size >= this.#max) this.#full = true;
    }
    this.#byCounter.set(counterKey, s);
    return s;
  }

  /** The subjects noted so far, oldest first. */
  subjects(): IterableIterator<BudgetSubject> {
    return this.#subjects.values();
  }

  get size(): number {
    return this.#subjects.size;
  }
}

const kept = new WeakMap<object, Map<string, BudgetsInUse>>();

/** The set of policy `name` on quota store `store`: the one an earlier build of the policy filled, if any. */
export function budgetsInUseOf(store: object, name: string, max: number): BudgetsInUse {
  let byName = kept.get(store);
  if (byName === undefined) {
    byName = new Map();
    kept.set(store, byName);
  }
  const existing = byName.get(name);
  if (existing !== undefined && existing.max === max) return existing;
  const fresh = new BudgetsInUse(max);
  byName.set(name, fresh);
  return fresh;
}
