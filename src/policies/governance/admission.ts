import type {
  AcquireResult,
  CounterState,
  EstimateOptions,
  PriceTable,
  QuotaStore,
} from '../../contracts/governance.ts';
import type { Policy } from '../../contracts/policy.ts';
import type { RequestContext } from '../../contracts/request.ts';
import type { GatewayError } from '../../core/errors.ts';
import { holdsAny, type Planned, settleHold } from './counters.ts';
import { governanceState, type Inputs, type RequestGovernance } from './request-state.ts';
import { prepareEstimate } from './token-estimate.ts';
import { tokenizerThread } from './tokenizer-thread.ts';

// Admission for the counter policies (rate-limit, budget): every counter a request is charged to, in
// every such policy on its route, is checked and applied in one atomic store call, so a request costs
// one store operation at onRequest whatever the number of policies, and a refusal by any of them
// consumes nothing in any of them.
//
// The pipeline runs policies one after the other, and a policy does not see the pipeline. So the first
// counter policy to run for a request (the lead) also plans the counters of the counter policies that
// ran after it on the same route before (learnt per route: a route's pipeline is fixed for the life of
// its policies) and acquires them all at once. Each of those policies then finds its result ready when
// its turn comes. A refusal is raised by the lead as the error of the policy owning the counter that
// refused (the first in pipeline order, as when they ran one after the other). A policy the lead did not
// plan for (on the first request of a route) acquires on its own and teaches the lead.
//
// What a policy counts depends only on the caller, priority, model and route (and the shared token
// estimate). If a policy running in between changed one of those, the later policy gives back what the
// lead held for it (a request counter already committed stays counted, erring high), acquires afresh,
// and is no longer planned ahead on that route.

type AnyCounterPolicy = CounterPolicy<unknown>;

/** A policy's share of one acquisition: its planned counters, whose states are `states[at…]`. */
export interface Share<M> {
  readonly planned: readonly Planned<M>[];
  readonly states: readonly CounterState[];
  readonly at: number;
  readonly degraded: boolean;
}

/** One acquisition by a lead: its own plan, and the followers it acquired for with theirs. */
interface Acquisition<M> {
  readonly holdId: string;
  readonly result: AcquireResult;
  readonly planned: Planned<M>[];
  readonly followers: readonly AnyCounterPolicy[] | null;
  readonly plans: readonly Planned<unknown>[][] | null;
}

const NOTHING: AcquireResult = { ok: true, degraded: false, states: [] };

/** Hold ids only need to be unique within this process (stores keep per-hold state locally). */
let holds = 0;
function nextHoldId(): string {
  return String(++holds);
}

export abstract class CounterPolicy<M> implements Policy {
  abstract readonly type: string;
  readonly name: string;
  readonly quotas: QuotaStore;
  readonly #prices: PriceTable;
  readonly #estimation: EstimateOptions;
  /** Counter policies seen after this one, by route, in pipeline order. */
  readonly #followers = new Map<string, AnyCounterPolicy[]>();

  constructor(
    name: string,
    services: {
      readonly quotas: QuotaStore;
      readonly prices: PriceTable;
      readonly estimation: EstimateOptions;
    },
    /** Whether rules of the policy's own reserve tokens (the tokenizer is then loaded ahead). */
    estimates: boolean,
  ) {
    this.name = name;
    this.quotas = services.quotas;
    this.#prices = services.prices;
    this.#estimation = services.estimation;
    if (estimates) tokenizerThread.warm();
  }

  /** Whether planning the request needs the token estimate (tokens or USD reserved). */
  abstract usesEstimate(state: RequestGovernance): boolean;

  /** The counters this policy charges the request to (one entry per counter), possibly none. */
  abstract plan(ctx: RequestContext, state: RequestGovernance): Planned<M>[];
  /** The counters were admitted: headers, alerts. */
  abstract admitted(ctx: RequestContext, share: Share<M>): void;
  /** The error for a refusal by counter `failed` of this policy's plan (and any report of it). */
  abstract refused(share: Share<M>, failed: number, retryAfterMs: number): GatewayError;

  /** Only a policy on the same store can share the atomic step, so only such followers are learnt. */
  #learn(route: string, follower: AnyCounterPolicy): void {
    if (follower.quotas !== this.quotas) return;
    const list = this.#followers.get(route);
    if (list === undefined) this.#followers.set(route, [follower]);
    else if (!list.includes(follower)) this.#followers.set(route, [...list, follower]);
  }

  #forget(route: string, follower: AnyCounterPolicy): void {
    const list = this.#followers.get(route);
    if (list !== undefined)
      this.#followers.set(
        route,
        list.filter((p) => p !== follower),
      );
  }

  onRequest(ctx: RequestContext): void | Promise<void> {
    const state = governanceState(ctx);
    if (state.estimate === null && this.#needsEstimate(ctx, state)) {
      // Counted off the event loop when not remembered; then the request goes on as if it had been.
      const ready = prepareEstimate(ctx, this.#estimation, state);
      if (ready !== null) return ready.then(() => this.onRequest(ctx));
    }
    if (state.prepared !== null) {
      const i = state.prepared.findIndex((p) => p.policy === this);
      if (i >= 0) {
        const ready = state.prepared[i]!;
        state.prepared.splice(i, 1);
        if (sameInputs(ready.inputs, ctx, state)) {
          this.admitted(ctx, {
            planned: ready.planned as Planned<M>[],
            states: ready.states,
            at: ready.at,
            degraded: ready.degraded,
          });
          return;
        }
        // Planned ahead on inputs that have changed since: give the holds back and plan again.
        settleHold(ctx, this, { quotas: this.quotas, prices: this.#prices }, true);
        if (state.lead instanceof CounterPolicy) state.lead.#forget(ctx.route, this);
      }
    }
    const lead = state.lead;
    if (lead === null) state.lead = this;
    else if (lead !== this && lead instanceof CounterPolicy) lead.#learn(ctx.route, this);

    const planned = this.plan(ctx, state);
    let requests: Planned<unknown>[] = planned;
    let followers: AnyCounterPolicy[] | null = null;
    let plans: Planned<unknown>[][] | null = null;
    if (state.lead === this) {
      const seen = this.#followers.get(ctx.route);
      if (seen !== undefined && seen.length > 0) {
        followers = seen;
        plans = followers.map((f) => f.plan(ctx, state));
        requests = (planned as Planned<unknown>[]).concat(...plans);
      }
    }
    if (requests.length === 0) {
      if (followers !== null)
        this.#done(ctx, state, { holdId: '', result: NOTHING, planned, followers, plans });
      return;
    }
    const holdId = nextHoldId();
    const now = this.quotas.acquireNow?.(holdId, requests);
    if (now !== undefined) {
      this.#done(ctx, state, { holdId, result: now, planned, followers, plans });
      return;
    }
    return this.quotas
      .acquire(holdId, requests)
      .then((result) => this.#done(ctx, state, { holdId, result, planned, followers, plans }));
  }

  /** Whether this policy, or those it will plan for as the lead, needs the token estimate. */
  #needsEstimate(ctx: RequestContext, state: RequestGovernance): boolean {
    if (this.usesEstimate(state)) return true;
    if (state.lead !== null && state.lead !== this) return false;
    const followers = this.#followers.get(ctx.route);
    return followers !== undefined && followers.some((f) => f.usesEstimate(state));
  }

  /** Applies an acquisition's result to this policy and the followers it acquired for. */
  #done(ctx: RequestContext, state: RequestGovernance, acquisition: Acquisition<M>): void {
    const { holdId, result, planned, followers, plans } = acquisition;
    if (!result.ok) {
      const { failed, retryAfterMs, states } = result;
      const own = { planned, states, at: 0, degraded: false };
      if (failed < planned.length) throw this.refused(own, failed, retryAfterMs);
      let at = planned.length;
      for (let i = 0; followers !== null && plans !== null && i < followers.length; i++) {
        const p = plans[i]!;
        if (failed < at + p.length)
          throw followers[i]!.refused({ planned: p, states, at, degraded: false }, failed - at, retryAfterMs);
        at += p.length;
      }
      throw this.refused(own, failed, retryAfterMs); // unreachable: the index is in range
    }
    if (holdsAny(planned)) state.holds.set(this, { id: holdId, counters: planned });
    this.admitted(ctx, { planned, states: result.states, at: 0, degraded: result.degraded });
    if (followers === null || plans === null) return;
    const inputs = inputsOf(ctx, state);
    let at = planned.length;
    for (let i = 0; i < followers.length; i++) {
      const policy = followers[i]!;
      const p = plans[i]!;
      if (holdsAny(p)) state.holds.set(policy, { id: holdId, counters: p });
      (state.prepared ??= []).push({
        policy,
        planned: p,
        states: result.states,
        at,
        degraded: result.degraded,
        inputs,
      });
      at += p.length;
    }
  }

  onEnd(ctx: RequestContext): void {
    settleHold(ctx, this, { quotas: this.quotas, prices: this.#prices });
  }
}

function inputsOf(ctx: RequestContext, state: RequestGovernance): Inputs {
  return {
    identity: ctx.identity,
    priority: ctx.priority,
    model: ctx.model,
    route: ctx.route,
    key: state.key,
  };
}

function sameInputs(a: Inputs, ctx: RequestContext, state: RequestGovernance): boolean {
  return (
    a.identity === ctx.identity &&
    a.priority === ctx.priority &&
    a.model === ctx.model &&
    a.route === ctx.route &&
    a.key === state.key
  );
}
