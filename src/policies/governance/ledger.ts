import { z } from 'zod';
import type { PriceTable, UsageLedger, UsageRecord } from '../../contracts/governance.ts';
import type { Policy, PolicyFactory } from '../../contracts/policy.ts';
import type { RequestContext } from '../../contracts/request.ts';
import { requestCost } from './cost.ts';
import { governanceOf } from './services-of.ts';

// One usage record per request, whatever its outcome (failed, aborted and cached requests included),
// queued in onEnd; the ledger writes batches off the hot path.

export const ledgerParams = z.strictObject({});
export type LedgerParams = z.infer<typeof ledgerParams>;

export function usageRecordOf(ctx: RequestContext, costUsd: number | null): UsageRecord {
  const id = ctx.identity;
  return {
    ts: ctx.receivedAt,
    requestId: ctx.id,
    keyId: id?.id ?? null,
    identityKind: id?.kind ?? null,
    tenant: id?.tenant ?? null,
    team: id?.team ?? null,
    user: id?.user ?? null,
    api: ctx.api,
    route: ctx.route,
    model: ctx.model,
    upstreamModel: ctx.upstreamModel,
    provider: ctx.provider,
    endpoint: ctx.endpoint,
    stream: ctx.stream,
    inputTokens: ctx.usage.inputTokens,
    outputTokens: ctx.usage.outputTokens,
    cachedInputTokens: ctx.usage.cachedInputTokens,
    cacheWriteTokens: ctx.usage.cacheWriteTokens,
    reasoningTokens: ctx.usage.reasoningTokens,
    costUsd,
    status: ctx.status,
    outcome: ctx.outcome,
    errorCode: ctx.errorCode,
    latencyMs: Math.round(ctx.durationMs),
    ttftMs: ctx.ttftMs === null ? null : Math.round(ctx.ttftMs),
    usageSource: ctx.usageSource,
    attempts: ctx.attempts,
  };
}

class LedgerPolicy implements Policy {
  readonly type = 'ledger';
  readonly name: string;
  readonly #ledger: UsageLedger;
  readonly #prices: PriceTable;

  constructor(name: string, ledger: UsageLedger, prices: PriceTable) {
    this.name = name;
    this.#ledger = ledger;
    this.#prices = prices;
  }

  onEnd(ctx: RequestContext): void {
    this.#ledger.append(usageRecordOf(ctx, requestCost(ctx, this.#prices)));
  }
}

export const ledgerFactory: PolicyFactory<LedgerParams> = {
  type: 'ledger',
  description: 'Writes one usage record per request to the usage ledger (batched, off the hot path).',
  params: ledgerParams,
  create: (name, _params, services) => {
    const { ledger, prices } = governanceOf(services, name);
    if (ledger === null)
      throw new Error(`policy ${name}: the usage ledger is disabled (governance.ledger.store: none)`);
    return new LedgerPolicy(name, ledger, prices);
  },
};
