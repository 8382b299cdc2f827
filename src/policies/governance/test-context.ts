import assert from 'node:assert/strict';
import type { IncomingHttpHeaders, IncomingMessage } from 'node:http';
import type { GovernancePolicyServices, GovernanceServices } from '../../contracts/governance.ts';
import type { Policy, PolicyFactory, PolicyServices } from '../../contracts/policy.ts';
import type { Identity, JsonObject, RequestContext } from '../../contracts/request.ts';
import { GatewayError, type ErrorCode } from '../../core/errors.ts';
import { newRequestId } from '../../core/ids.ts';
import { createContext } from '../../server/context.ts';
import { emptyUsage } from '../../core/usage.ts';
import { CalendarWindows } from '../../state/calendar.ts';
import { CachedKeyDirectory } from '../../state/key-directory.ts';
import { MemoryKeyStore } from '../../state/key-store-memory.ts';
import { MemoryQuotaStore } from '../../state/quota-memory.ts';
import { PriceBook } from './prices.ts';

// Test support only: a RequestContext as the server builds it (createContext), routed to `model`.

export interface ContextInit {
  readonly headers?: IncomingHttpHeaders;
  readonly body?: JsonObject;
  readonly model?: string;
  readonly route?: string;
}

export function testContext(init: ContextInit = {}): RequestContext {
  const model = init.model ?? 'gpt-4o';
  const ctx = createContext({
    id: newRequestId(),
    api: 'chat',
    req: { headers: init.headers ?? {} } as IncomingMessage,
    body: init.body ?? { model, messages: [{ role: 'user', content: 'Hello there, how are you?' }] },
    startedAt: performance.now(),
    signal: new AbortController().signal,
    debug: false,
  });
  ctx.model = model;
  ctx.route = init.route ?? 'default';
  return ctx;
}

/** An API-key identity `id` (no tenant, team or user unless given). */
export function keyIdentity(id: string, fields: Partial<Omit<Identity, 'id' | 'kind'>> = {}): Identity {
  return {
    id,
    kind: 'api-key',
    tenant: null,
    team: null,
    user: null,
    allowedModels: null,
    priority: null,
    metadata: {},
    ...fields,
  };
}

/** Runs the policy's onRequest, which must refuse with `code` (429); returns the error. */
export async function refusal(p: Policy, ctx: RequestContext, code: ErrorCode): Promise<GatewayError> {
  try {
    await p.onRequest?.(ctx);
  } catch (err) {
    assert.ok(err instanceof GatewayError);
    assert.equal(err.code, code);
    assert.equal(err.status, 429);
    return err;
  }
  assert.fail(`expected ${code}`);
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
