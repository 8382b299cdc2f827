import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Registry } from 'prom-client';
import type { BudgetRemaining } from '../contracts/governance.ts';
import type { Policy } from '../contracts/policy.ts';
import { budgetsOf, registerBudgetGauge, windowLabel } from './budget-metrics.ts';

const day = { kind: 'calendar', unit: 'day' } as const;

function reporter(rows: BudgetRemaining[] | Error): Policy & { budgetsInUse(): Promise<BudgetRemaining[]> } {
  return {
    type: 'budget',
    name: 'budget',
    budgetsInUse: () => (rows instanceof Error ? Promise.reject(rows) : Promise.resolve(rows)),
  };
}

test('window labels: calendar units and rolling lengths', () => {
  assert.equal(windowLabel(day), 'day');
  assert.equal(windowLabel({ kind: 'rolling', ms: 7 * 86_400_000 }), '7d');
  assert.equal(windowLabel({ kind: 'rolling', ms: 3_600_000 }), '1h');
  assert.equal(windowLabel({ kind: 'rolling', ms: 90_000 }), '90s');
  assert.equal(windowLabel({ kind: 'rolling', ms: 1_500 }), '1500ms');
});

test('a failing policy is left out; shared counters show the smallest remaining amount', async () => {
  const registry = new Registry();
  const ok = reporter([
    { scope: 'key', id: 'k', metric: 'tokens', window: day, remaining: 500 },
    { scope: 'key', id: 'k', metric: 'tokens', window: day, remaining: 200 },
    { scope: 'key', id: 'k', metric: 'usd', window: { kind: 'rolling', ms: 3_600_000 }, remaining: 1.5 },
  ]);
  const down = reporter(new Error('redis down'));
  const other: Policy = { type: 'cost', name: 'cost' };
  registerBudgetGauge({ registers: [registry], budgets: () => budgetsOf([ok, down, other]) });
  const text = await registry.metrics();
  const samples = text.split('\n').filter((l) => l.startsWith('gateway_budget_remaining{'));
  assert.deepEqual(samples, [
    'gateway_budget_remaining{scope="key",id="k",metric="tokens",window="day"} 200',
    'gateway_budget_remaining{scope="key",id="k",metric="usd",window="1h"} 1.5',
  ]);
});
