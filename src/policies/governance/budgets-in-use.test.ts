import assert from 'node:assert/strict';
import { test } from 'node:test';
import { budgetFactory } from './budget.ts';
import { BudgetsInUse } from './budgets-in-use.ts';
import { finish, keyIdentity, policyServices, testContext, testServices } from './test-context.ts';

test('admits subjects first come, first served, up to the cap, and none after', () => {
  const inUse = new BudgetsInUse(2);
  const a = inUse.note('bg:team:a:tokens:day', 'team', 'a');
  assert.equal(inUse.note('bg:team:a:usd:day', 'team', 'a'), a, 'a second counter of one subject');
  assert.notEqual(inUse.note('bg:team:b:tokens:day', 'team', 'b'), null);
  assert.equal(inUse.note('bg:team:c:tokens:day', 'team', 'c'), null, 'beyond the cap');
  assert.equal(inUse.note('bg:team:a:tokens:day', 'team', 'a'), a, 'known counters still found');
  assert.deepEqual(
    [...inUse.subjects()].map((s) => s.id),
    ['a', 'b'],
  );
});

test('the budget policy reports what it charged, capped, and rejects when the store fails', async () => {
  const services = testServices();
  const policy = budgetFactory.create(
    'budget',
    budgetFactory.params.parse({ budgets: [{ scope: 'team', tokens: 1_000, window: 'day' }] }),
    { ...policyServices(services), maxLabelValues: 1 },
  ) as ReturnType<typeof budgetFactory.create> & { budgetsInUse(): Promise<readonly unknown[]> };
  for (const team of ['red', 'blue']) {
    const ctx = testContext();
    ctx.identity = keyIdentity(`key-${team}`, { team });
    await policy.onRequest?.(ctx);
    finish(ctx, 100, 20);
    policy.onEnd?.(ctx);
  }
  const rows = await policy.budgetsInUse();
  assert.deepEqual(
    rows.map((r) => ({ ...(r as Record<string, unknown>), resetAt: 0 })),
    [
      {
        scope: 'team',
        id: 'red',
        metric: 'tokens',
        window: { kind: 'calendar', unit: 'day' },
        limit: 1_000,
        used: 120,
        remaining: 880,
        resetAt: 0,
      },
    ],
  );
  services.quotas.peek = () => Promise.reject(new Error('redis down'));
  await assert.rejects(policy.budgetsInUse(), /redis down/);
});
