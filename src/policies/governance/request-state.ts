import type { CounterState, GovernanceState, KeyRecord } from '../../contracts/governance.ts';
import type { Identity, PriorityClass, RequestContext } from '../../contracts/request.ts';
import type { Planned } from './counters.ts';

// Governance data per request. Policies are stateless singletons, so what one request needs between
// onRequest and onEnd (its key record, token estimate, held reservations) lives on the request's context
// (`ctx.governance`), created by the first governance policy that runs. Only this module creates it, so
// the field always holds a RequestGovernance.

/** What a counter policy's plan depends on (see admission.ts). */
export interface Inputs {
  readonly identity: Identity | null;
  readonly priority: PriorityClass;
  readonly model: string;
  readonly route: string;
  readonly key: KeyRecord | null;
}

/** A counter policy's share of an acquisition the lead made for it. */
export interface Prepared {
  readonly policy: object;
  readonly planned: readonly Planned<unknown>[];
  /** The acquisition's states; the policy's start at `at`. */
  readonly states: readonly CounterState[];
  readonly at: number;
  readonly degraded: boolean;
  readonly inputs: Inputs;
}

export interface RequestGovernance extends GovernanceState {
  /** The first counter policy that ran for the request (it acquires for the ones after it). */
  lead: object | null;
  /** Results the lead acquired for later counter policies. */
  prepared: Prepared[] | null;
}

export function governanceState(ctx: RequestContext): RequestGovernance {
  let state = ctx.governance as RequestGovernance | null;
  if (state === null) {
    state = { key: null, estimate: null, holds: new Map(), lead: null, prepared: null };
    ctx.governance = state;
  }
  return state;
}

/** The state if any governance policy touched this request, without creating one. */
export function existingGovernanceState(ctx: RequestContext): RequestGovernance | null {
  return ctx.governance as RequestGovernance | null;
}
