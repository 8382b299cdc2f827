import type { IncomingHttpHeaders } from 'node:http';
import type { GovernancePolicyServices, GovernanceServices } from '../../contracts/governance.ts';
import type { Policy, PolicyFactory, PolicyServices } from '../../contracts/policy.ts';
import type { JsonObject, RequestContext } from '../../contracts/request.ts';
import { newRequestId } from '../../core/ids.ts';
import { emptyUsage } from '../../core/usage.ts';
import { CalendarWindows } from '../../state/calendar.ts';
import { CachedKeyDirectory } from '../../state/key-directory.ts';
import { MemoryKeyStore } from '../../state/key-store-memory.ts';
import { MemoryQuotaStore } from '../../state/quota-memory.ts';
import { PriceBook } from './prices.ts';

// Test support only: a RequestContext with every field initialised, as the server builds it.

export interface ContextInit {
  readonly headers?: IncomingHttpHeaders;
  readonly body?: JsonObject;
  readonly model?: string;
  readonly route?: string;
  readonly stream?: boolean;
  readonly receivedAt?: number;
}

export function testContext(init: ContextInit = {}): RequestContext {
  const model = init.model ?? 'gpt-4o';
  return {
    id: newRequestId(),
    api: 'chat',
    startedAt: performance.now(),
    receivedAt: init.receivedAt ?? Date.now(),
    clientHeaders: init.headers ?? {},
    body: init.body ?? { model, messages: [{ role: 'user', content: 'Hello there, how are you?' }] },
    stream: init.stream ?? false,
    clientWantsUsage: false,
    requestedModel: model,
    model,
    route: init.route ?? 'default',
    target: null,
    provider: null,
    upstreamModel: null,
    endpoint: null,
    attempts: 0,
    status: 0,
    errorCode: null,
    outcome: 'ok',
    usage: emptyUsage(),
    usageSource: 'none',
    ttftMs: null,
    durationMs: 0,
    upstreamMs: 0,
    responseHeaders: {},
    upstreamHeaders: {},
    signal: new AbortController().signal,
    identity: null,
    priority: 'standard',
    costUsd: null,
    debug: false,
    explainWanted: false,
    explain: null,
    trace: null,
    capture: null,
  };
}

/** Marks the request finished with upstream usage, as the server does before onEnd. */
export function finish(ctx: RequestContext, input: number, output: number, provider = 'openai'): void {
  ctx.status = 200;
  ctx.provider = provider;
  ctx.upstreamModel = ctx.model;
  ctx.usage = { ...emptyUsage(), inputTokens: input, outputTokens: output };
  ctx.usageSource = 'upstream';
  ctx.ttftMs = 5;
  ctx.durationMs = 20;
  ctx.attempts = 1;
}

/** Governance services with in-memory defaults, for tests; pass fields to replace. */
export function testServices(overrides: Partial<GovernanceServices> = {}): GovernanceServices {
  return {
    keys: new CachedKeyDirectory({ store: new MemoryKeyStore() }),
    quotas: new MemoryQuotaStore(),
    prices: new PriceBook(),
    ledger: null,
    calendar: new CalendarWindows({ timeZone: 'UTC' }),
    estimation: { defaultMaxTokens: 100, maxTokenizeChars: 10_000 },
    peerCertificate: null,
    clock: Date.now,
    onStateEvent: () => {},
    onBudgetEvent: () => {},
    ...overrides,
  };
}

/** PolicyServices as the gateway passes them to factories, carrying the governance services. */
export function policyServices(governance: GovernanceServices): PolicyServices & GovernancePolicyServices {
  return { log: () => {}, governance };
}

/** Builds a policy from a factory with config-style params. */
export function build<P>(factory: PolicyFactory<P>, params: unknown, governance: GovernanceServices): Policy {
  return factory.create(factory.type, factory.params.parse(params), policyServices(governance));
}
