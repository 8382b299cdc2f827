import assert from 'node:assert/strict';
import { after, describe, test } from 'node:test';
import type { Policy } from '../../contracts/policy.ts';
import type { RequestContext } from '../../contracts/request.ts';
import type { QuotaStore } from '../../contracts/governance.ts';
import type { GatewayError } from '../../core/errors.ts';
import { MemoryQuotaStore } from '../../state/quota-memory.ts';
import { RedisQuotaStore } from '../../state/quota-redis.ts';
import { RedisState } from '../../state/redis-state.ts';
import { dropRedisPrefix, REDIS_URL, TEST_COMMAND_TIMEOUT_MS, uniqueName } from '../../state/test-env.ts';
import { rateLimitFactory } from './rate-limit.ts';
import { governanceState } from './request-state.ts';
import { build, finish, keyIdentity, testContext, testServices, refusal } from './test-context.ts';
import { promptTokens } from './token-estimate.ts';

const prefix = uniqueName('rl') + ':';
const states: RedisState[] = [];
after(async () => {
  await Promise.all(states.map((s) => s.close()));
  await dropRedisPrefix(prefix);
});

async function redisStore(): Promise<QuotaStore> {
  const state = new RedisState({ url: REDIS_URL, prefix, commandTimeoutMs: TEST_COMMAND_TIMEOUT_MS });
  states.push(state);
  assert.equal(await state.ready(), true);
  return new RedisQuotaStore({ state });
}

let n = 0;
function policyOn(quotas: QuotaStore, params: unknown): Policy {
  return build(rateLimitFactory, params, testServices({ quotas }));
}

function ctxFor(user: string, extra: { team?: string; body?: Record<string, unknown> } = {}): RequestContext {
  const ctx = testContext(extra.body === undefined ? {} : { body: extra.body });
  ctx.identity = keyIdentity(`key-${user}`, { tenant: 'acme', team: extra.team ?? 'red', user });
  return ctx;
}

const refused = (p: Policy, ctx: RequestContext): Promise<GatewayError> => refusal(p, ctx, 'rate_limited');

for (const [name, make] of [
  ['memory', async () => new MemoryQuotaStore()],
  ['redis', redisStore],
] as const) {
  describe(`rate-limit policy (${name})`, () => {
    test('requests per window: headers on success, 429 with Retry-After and headers after', async () => {
      const user = `u${n++}`;
      const p = policyOn(await make(), { limits: [{ scope: 'user', requests: 2, window: '1m' }] });
      const first = ctxFor(user);
      await p.onRequest?.(first);
      assert.equal(first.responseHeaders['x-ratelimit-limit-requests'], '2');
      assert.equal(first.responseHeaders['x-ratelimit-remaining-requests'], '1');
      // At most the window: seconds, or exactly "1m0s" when the window starts with this request.
      assert.match(first.responseHeaders['x-ratelimit-reset-requests'] ?? '', /^(\d{1,2}(\.\d+)?s|1m0s)$/);
      await p.onRequest?.(ctxFor(user));
      const err = await refused(p, ctxFor(user));
      assert.match(err.message, /user u\d+: 2 requests per 1m0s/);
      assert.ok(Number(err.headers?.['retry-after']) >= 1);
      assert.equal(err.headers?.['x-ratelimit-remaining-requests'], '0');
      await p.onRequest?.(ctxFor(`${user}-other`));
    });

    test('several scopes at once: all must pass, and a refusal consumes nothing', async () => {
      const team = `team${n++}`;
      const p = policyOn(await make(), {
        limits: [
          { scope: 'user', requests: 2 },
          { scope: 'team', requests: 3 },
        ],
      });
      await p.onRequest?.(ctxFor('a', { team }));
      await p.onRequest?.(ctxFor('a', { team }));
      await refused(p, ctxFor('a', { team })); // user limit
      await p.onRequest?.(ctxFor('b', { team })); // the refusal did not use the team's third slot
      await refused(p, ctxFor('c', { team })); // team limit
    });

    test('tokens are reserved from the estimate and reconciled to actual usage', async () => {
      const user = `u${n++}`;
      const p = policyOn(await make(), { limits: [{ scope: 'user', tokens: 1_000 }] });
      const body = { model: 'gpt-4o', max_tokens: 600, messages: [{ role: 'user', content: 'Say hi' }] };
      const estimate = promptTokens(body, 10_000) + 600;
      const a = ctxFor(user, { body });
      await p.onRequest?.(a);
      assert.equal(a.responseHeaders['x-ratelimit-remaining-tokens'], String(1_000 - estimate));
      await refused(p, ctxFor(user, { body })); // the reservation holds the room
      finish(a, 20, 30);
      p.onEnd?.(a);
      await new Promise((r) => setTimeout(r, 5));
      const b = ctxFor(user, { body });
      await p.onRequest?.(b);
      assert.equal(b.responseHeaders['x-ratelimit-remaining-tokens'], String(1_000 - 50 - estimate));
      // A stream cut after output began, with no usage reported: the reservation is charged in full.
      b.ttftMs = 3;
      b.outcome = 'cut';
      p.onEnd?.(b);
      await new Promise((r) => setTimeout(r, 5));
      const c = ctxFor(user, { body: { ...body, max_tokens: 10 } });
      await p.onRequest?.(c);
      const cEstimate = promptTokens(body, 10_000) + 10;
      assert.equal(
        c.responseHeaders['x-ratelimit-remaining-tokens'],
        String(1_000 - 50 - estimate - cEstimate),
      );
    });

    test('concurrent requests: a slot is held until onEnd', async () => {
      const user = `u${n++}`;
      const p = policyOn(await make(), { limits: [{ scope: 'key', concurrent: 1 }] });
      const a = ctxFor(user);
      await p.onRequest?.(a);
      const err = await refused(p, ctxFor(user));
      assert.match(err.message, /concurrent/);
      p.onEnd?.(a);
      await new Promise((r) => setTimeout(r, 5));
      await p.onRequest?.(ctxFor(user));
      assert.equal(governanceState(a).holds.size, 0);
    });

    test('priority: sheddable traffic is refused first on a shared limit', async () => {
      const team = `team${n++}`;
      const p = policyOn(await make(), {
        limits: [{ scope: 'team', requests: 4, priority: { sheddable: 0.5 } }],
      });
      const as = (priority: 'sheddable' | 'standard'): RequestContext => {
        const ctx = ctxFor('x', { team });
        ctx.priority = priority;
        return ctx;
      };
      await p.onRequest?.(as('sheddable'));
      await p.onRequest?.(as('sheddable'));
      await refused(p, as('sheddable'));
      await p.onRequest?.(as('standard'));
      await p.onRequest?.(as('standard'));
      await refused(p, as('standard'));
    });

    test("limits stored on the caller's key apply", async () => {
      const p = policyOn(await make(), {});
      const ctx = (): RequestContext => {
        const c = ctxFor(`k${n}`);
        governanceState(c).key = {
          id: `k${n}`,
          limits: [
            {
              scope: 'key',
              id: null,
              requests: 1,
              tokens: null,
              windowMs: 60_000,
              concurrent: null,
              priority: null,
            },
          ],
          budgets: [],
        } as never;
        return c;
      };
      await p.onRequest?.(ctx());
      await refused(p, ctx());
      n++;
    });
  });
}

test('two gateway replicas sharing Redis: 2 × 200 concurrent requests, limit 100 → exactly 100', async () => {
  const params = {
    limits: [
      { scope: 'tenant', requests: 100 },
      { scope: 'tenant', concurrent: 1_000 },
    ],
  };
  const replicas = [policyOn(await redisStore(), params), policyOn(await redisStore(), params)];
  const ctxs = Array.from({ length: 400 }, () => {
    const ctx = ctxFor('same');
    ctx.identity = { ...ctx.identity!, tenant: `tenant-${n}` };
    return ctx;
  });
  n++;
  const results = await Promise.allSettled(ctxs.map(async (ctx, i) => replicas[i % 2]!.onRequest?.(ctx)));
  assert.equal(results.filter((r) => r.status === 'fulfilled').length, 100);
  for (const [i, ctx] of ctxs.entries()) replicas[i % 2]!.onEnd?.(ctx);
});
