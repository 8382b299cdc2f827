import type { GovernanceState } from '../../contracts/governance.ts';
import type { RequestContext } from '../../contracts/request.ts';

// Governance data per request. Policies are stateless singletons, so what one request needs between
// onRequest and onEnd (its key record, token estimate, held reservations) lives here, keyed by the
// request's context. Proposed as a RequestContext field (`governance: GovernanceState | null`) so this
// WeakMap can go.

const states = new WeakMap<RequestContext, GovernanceState>();

export function governanceState(ctx: RequestContext): GovernanceState {
  let state = states.get(ctx);
  if (state === undefined) {
    state = { key: null, estimate: null, holds: new Map() };
    states.set(ctx, state);
  }
  return state;
}

/** The state if any governance policy touched this request, without creating one. */
export function existingGovernanceState(ctx: RequestContext): GovernanceState | undefined {
  return states.get(ctx);
}
