import assert from 'node:assert/strict';
import { after, describe, test } from 'node:test';
import type { BudgetEvent, QuotaStore } from '../../contracts/governance.ts';
import type { Policy } from '../../contracts/policy.ts';
import type { RequestContext } from '../../contracts/request.ts';
import type { GatewayError } from '../../core/errors.ts';
import { CalendarWindows } from '../../state/calendar.ts';
import { MemoryQuotaStore } from '../../state/quota-memory.ts';
import { RedisQuotaStore } from '../../state/quota-redis.ts';
import { RedisState } from '../../state/redis-state.ts';
import { dropRedisPrefix, REDIS_URL, TEST_COMMAND_TIMEOUT_MS, uniqueName } from '../../state/test-env.ts';
import type { GovernanceServices } from '../../contracts/governance.ts';
import { budgetFactory } from './budget.ts';
import { budgetStatus } from './budget-status.ts';
import { budgetRule } from './params.ts';
import { PriceBook } from './prices.ts';
import { build, finish, keyIdentity, testContext, testServices, refusal } from './test-context.ts';
import { promptTokens } from './token-estimate.ts';

const prefix = uniqueName('budget') + ':';
const redisStates: RedisState[] = [];
after(async () => {
  await Promise.all(redisStates.map((s) => s.close()));
  await dropRedisPrefix(prefix);
});

const BODY = {
  model: 'gpt-4o',
  max_tokens: 100,
  messages: [{ role: 'user', content: 'Summarise the news' }],
};
const ESTIMATE = promptTokens(BODY, 10_000) + 100;

interface Setup {
  readonly services: GovernanceServices;
  readonly events: BudgetEvent[];
  readonly policy: (params: unknown) => Policy;
  now: number;
}

function setup(quotas: QuotaStore, start: number, timeZone = 'America/New_York'): Setup {
  const events: BudgetEvent[] = [];
  const s: Setup = {
    now: start,
    events,
    services: testServices({
      quotas,
      prices: new PriceBook({ 'gpt-4o': { input: 1_000, output: 1_000 } }),
      calendar: new CalendarWindows({ timeZone }),
      clock: () => s.now,
      onBudgetEvent: (e) => events.push(e),
    }),
    policy: (params) => build(budgetFactory, params, s.services),
  };
  return s;
}

function ctxFor(team: string, user = 'ann', body: Record<string, unknown> = BODY): RequestContext {
  const ctx = testContext({ body });
  ctx.identity = keyIdentity(`key-${user}`, { tenant: 'acme', team, user });
  return ctx;
}

const refused = (p: Policy, ctx: RequestContext): Promise<GatewayError> => refusal(p, ctx, 'budget_exceeded');

const settle = async (p: Policy, ctx: RequestContext, input: number, output: number): Promise<void> => {
  finish(ctx, input, output);
  p.onEnd?.(ctx);
  await new Promise((r) => setTimeout(r, 2));
};

describe('budget policy (memory, fake clock)', () => {
  test('a daily token budget resets at local midnight of a 23-hour DST day', async () => {
    // 2025-03-09 03:30 in New York (clocks went 02:00 → 03:00); the day ends at 2025-03-10T04:00Z.
    const s = setup(new MemoryQuotaStore({ clock: () => s.now }), Date.parse('2025-03-09T07:30:00Z'));
    const p = s.policy({ budgets: [{ scope: 'team', tokens: 1_000, window: 'day' }] });
    const a = ctxFor('red');
    await p.onRequest?.(a);
    await settle(p, a, 500, 400);
    const err = await refused(p, ctxFor('red'));
    assert.match(err.message, /team red: 1000 tokens per day/);
    const end = Date.parse('2025-03-10T04:00:00Z');
    assert.equal(err.headers?.['retry-after'], String(Math.ceil((end - s.now) / 1_000)));
    s.now = end - 1;
    await refused(p, ctxFor('red'));
    s.now = end;
    await p.onRequest?.(ctxFor('red'));
  });

  test('a monthly USD budget resets at the month boundary in the zone, after Jan 31', async () => {
    const s = setup(
      new MemoryQuotaStore({ clock: () => s.now }),
      Date.parse('2025-01-31T12:00:00Z'),
      'Europe/Berlin',
    );
    const p = s.policy({ budgets: [{ scope: 'tenant', usd: 1, window: 'month' }] });
    const a = ctxFor('red');
    await p.onRequest?.(a);
    await settle(p, a, 900, 100); // $1.00 at $0.001/token
    assert.equal(a.costUsd, 1);
    await refused(p, ctxFor('red'));
    s.now = Date.parse('2025-01-31T22:59:59.999Z'); // 23:59:59.999 in Berlin
    await refused(p, ctxFor('red'));
    s.now = Date.parse('2025-01-31T23:00:00Z'); // February 1st, 00:00 in Berlin
    await p.onRequest?.(ctxFor('red'));
  });

  test('every applicable budget must hold: a key with room is stopped by its team; both are charged', async () => {
    const s = setup(new MemoryQuotaStore({ clock: () => s.now }), Date.parse('2025-06-10T12:00:00Z'));
    const rules = [
      { scope: 'key', tokens: 10_000, window: 'week' },
      { scope: 'team', id: 'red', tokens: 600, window: 'week' },
    ];
    const p = s.policy({ budgets: rules });
    const a = ctxFor('red');
    await p.onRequest?.(a);
    await settle(p, a, 300, 200);
    const b = ctxFor('red');
    await refused(p, b);
    await p.onRequest?.(ctxFor('blue')); // the team rule names only red
    const parsed = rules.map((r) => budgetRule.parse(r));
    const [key] = await budgetStatus(s.services, parsed, { scope: 'key', id: 'key-ann' });
    const [team] = await budgetStatus(s.services, parsed, { scope: 'team', id: 'red' });
    assert.equal(team?.used, 500);
    assert.equal(team?.remaining, 100);
    // The key was charged 500 for red and holds blue's in-flight reservation.
    assert.equal(key?.used, 500 + ESTIMATE);
    assert.equal(key?.resetAt, Date.parse('2025-06-16T04:00:00Z'));
  });

  test('soft limits alert once on crossing; refusals report hard; priority stops sheddable first', async () => {
    const s = setup(new MemoryQuotaStore({ clock: () => s.now }), Date.parse('2025-06-10T12:00:00Z'));
    const p = s.policy({
      budgets: [
        { scope: 'team', tokens: 4 * ESTIMATE, window: '1h', soft: 0.5, priority: { sheddable: 0.75 } },
      ],
    });
    for (let i = 0; i < 3; i++) await p.onRequest?.(ctxFor('red'));
    assert.deepEqual(
      s.events.map((e) => [e.kind, e.used]),
      [['soft', 2 * ESTIMATE]],
    );
    const low = ctxFor('red');
    low.priority = 'sheddable';
    await refused(p, low);
    assert.equal(s.events.at(-1)?.kind, 'hard');
    await p.onRequest?.(ctxFor('red'));
    await refused(p, ctxFor('red'));
  });

  test('a request that failed before reaching an upstream gives its reservation back', async () => {
    const s = setup(new MemoryQuotaStore({ clock: () => s.now }), Date.parse('2025-06-10T12:00:00Z'));
    const p = s.policy({ budgets: [{ scope: 'user', tokens: ESTIMATE, window: 'day' }] });
    const a = ctxFor('red', 'bob');
    await p.onRequest?.(a);
    await refused(p, ctxFor('red', 'bob'));
    a.status = 502;
    a.outcome = 'error';
    p.onEnd?.(a);
    await p.onRequest?.(ctxFor('red', 'bob'));
  });
});

test('two replicas sharing Redis never overspend a token budget', async () => {
  const replicas = [0, 1].map(() => {
    const state = new RedisState({ url: REDIS_URL, prefix, commandTimeoutMs: TEST_COMMAND_TIMEOUT_MS });
    redisStates.push(state);
    const s = setup(new RedisQuotaStore({ state }), Date.now());
    s.now = Date.now();
    return s.policy({ budgets: [{ scope: 'tenant', tokens: 10 * ESTIMATE, window: 'day' }] });
  });
  await Promise.all(redisStates.map((s) => s.ready()));
  const tenant = uniqueName('t');
  const ctxs = Array.from({ length: 40 }, () => {
    const ctx = ctxFor('red');
    ctx.identity = { ...ctx.identity!, tenant };
    return ctx;
  });
  const results = await Promise.allSettled(ctxs.map(async (ctx, i) => replicas[i % 2]!.onRequest?.(ctx)));
  assert.equal(results.filter((r) => r.status === 'fulfilled').length, 10);
});
