import { z } from 'zod';
import type { PriceTable } from '../../contracts/governance.ts';
import type { Policy, PolicyFactory } from '../../contracts/policy.ts';
import type { RequestContext } from '../../contracts/request.ts';
import { governanceOf } from './services-of.ts';

// Cost of a request in USD from its final usage and the price table. Computed once (ctx.costUsd) and
// shared by the budget and ledger policies, whichever runs first.

/** The request's cost (memoised on ctx.costUsd), or null when usage or a price is unknown. */
export function requestCost(ctx: RequestContext, prices: PriceTable): number | null {
  if (ctx.costUsd !== null) return ctx.costUsd;
  if (ctx.usageSource === 'none') return null;
  const cost =
    (ctx.upstreamModel === null ? null : prices.cost(ctx.usage, ctx.provider, ctx.upstreamModel)) ??
    prices.cost(ctx.usage, ctx.provider, ctx.model);
  ctx.costUsd = cost;
  return cost;
}

export const costParams = z.strictObject({
  /**
   * Send x-switchyard-cost on responses whose usage is known before headers are written (non-streamed
   * responses, when the server runs onResponseStart after reading the upstream body).
   */
  header: z.boolean().default(false),
});

export type CostParams = z.infer<typeof costParams>;

const HEADER = 'x-switchyard-cost';

class CostPolicy implements Policy {
  readonly type = 'cost';
  readonly name: string;
  protected readonly prices: PriceTable;

  constructor(name: string, prices: PriceTable) {
    this.name = name;
    this.prices = prices;
  }

  onEnd(ctx: RequestContext): void {
    requestCost(ctx, this.prices);
  }
}

/** Adds the header when usage is already known as the response starts (a separate class: no empty hook). */
class CostHeaderPolicy extends CostPolicy {
  onResponseStart(ctx: RequestContext): void {
    const cost = requestCost(ctx, this.prices);
    if (cost !== null) ctx.responseHeaders[HEADER] = cost.toFixed(8);
  }
}

export const costFactory: PolicyFactory<CostParams> = {
  type: 'cost',
  description: 'Computes each request’s cost in USD from its usage and the price table (ctx.costUsd).',
  params: costParams,
  create: (name, params, services) => {
    const { prices } = governanceOf(services, name);
    return params.header ? new CostHeaderPolicy(name, prices) : new CostPolicy(name, prices);
  },
};
