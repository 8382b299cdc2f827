import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import type { GovernanceServices } from '../../contracts/governance.ts';
import type { Policy, PolicyFactory } from '../../contracts/policy.ts';
import type { RequestContext } from '../../contracts/request.ts';
import type { GatewayError } from '../../core/errors.ts';
import { dropRedisPrefix, PG_URL, pgSchema, REDIS_URL, uniqueName } from '../../state/test-env.ts';
import { budgetStatus, createGovernanceServices, governanceFactories, governanceSchema } from './index.ts';
import { budgetRule } from './params.ts';
import { finish, policyServices, testContext } from './test-context.ts';

// The services built from config, with the factories, as the server will run them: the issue's
// contract shape (one declared key, 100 requests/min, 100000 tokens/day) in memory/SQLite mode and in
// shared mode (Redis + PostgreSQL).

const dir = mkdtempSync(join(tmpdir(), 'sy-gov-'));
const cleanups: (() => Promise<void>)[] = [];
after(async () => {
  for (const c of cleanups) await c();
  rmSync(dir, { recursive: true, force: true });
});

const DEMO_KEY = 'demo-key-0123456789';

function pipeline(governance: GovernanceServices, specs: [string, unknown][]): Policy[] {
  return specs.map(([type, params]) => {
    const f = governanceFactories.find((x) => x.type === type) as PolicyFactory<unknown> | undefined;
    assert.ok(f !== undefined, type);
    return f.create(type, f.params.parse(params), policyServices(governance));
  });
}

async function serve(policies: readonly Policy[], ctx: RequestContext): Promise<GatewayError | null> {
  let error: GatewayError | null = null;
  try {
    for (const p of policies) await p.onRequest?.(ctx);
    finish(ctx, 40, 10);
  } catch (err) {
    error = err as GatewayError;
    ctx.status = error.status;
    ctx.errorCode = error.code;
    ctx.outcome = 'error';
  }
  for (const p of policies) p.onEnd?.(ctx);
  return error;
}

const keyConfig = {
  id: 'demo',
  secret: DEMO_KEY,
  tenant: 'acme',
  team: 'red',
  limits: [{ requests: '3', window: '1m' }],
  budgets: [{ tokens: 100_000, window: 'day' }],
};

for (const mode of ['embedded', 'shared'] as const) {
  test(`governance services (${mode}): declared key, limits, budget, cost, ledger; close flushes`, async () => {
    let state = 'memory';
    let keyStore = `sqlite:${join(dir, 'keys.db')}`;
    let ledgerStore = `sqlite:${join(dir, 'usage.db')}`;
    let prefix = '';
    if (mode === 'shared') {
      prefix = uniqueName('svc') + ':';
      const { schema, drop } = await pgSchema('svc');
      cleanups.push(drop, () => dropRedisPrefix(prefix));
      state = REDIS_URL;
      const url = new URL(PG_URL);
      url.searchParams.set('options', `-c search_path=${schema}`);
      keyStore = ledgerStore = url.toString();
    }
    const config = governanceSchema.parse({
      state,
      redis_prefix: prefix || 'sy:',
      key_store: keyStore,
      keys: [keyConfig],
      time_zone: 'Europe/Berlin',
      prices: { 'mock-model': { input: 1, output: 2 } },
      ledger: { store: ledgerStore, flush_interval: '10s' },
    });
    const events: string[] = [];
    const services = await createGovernanceServices(config, { onStateEvent: (e) => events.push(e.kind) });
    const policies = pipeline(services, [
      ['auth', {}],
      ['rate-limit', {}],
      ['budget', {}],
      ['cost', {}],
      ['ledger', {}],
    ]);
    const request = (): RequestContext =>
      testContext({ model: 'mock-model', headers: { authorization: `Bearer ${DEMO_KEY}` } });

    const results = [];
    for (let i = 0; i < 4; i++) results.push(await serve(policies, request()));
    assert.deepEqual(
      results.map((e) => e?.code ?? 'ok'),
      ['ok', 'ok', 'ok', 'rate_limited'],
    );
    const unauth = await serve(policies, testContext({ model: 'mock-model' }));
    assert.equal(unauth?.status, 401);

    const [budget] = await budgetStatus(
      services,
      [budgetRule.parse({ scope: 'key', tokens: 100_000, window: 'day' })],
      {
        scope: 'key',
        id: 'demo',
      },
    );
    assert.equal(budget?.used, 150);

    const { record, secret } = await services.keys.create({ tenant: 'acme' });
    assert.equal(
      await serve(policies, testContext({ model: 'mock-model', headers: { 'x-api-key': secret } })),
      null,
    );
    await services.keys.revoke(record.id);
    const revoked = await serve(
      policies,
      testContext({ model: 'mock-model', headers: { 'x-api-key': secret } }),
    );
    assert.equal(revoked?.status, 401);

    assert.ok(services.ledger !== null);
    await services.close();
    assert.deepEqual(
      events.filter((e) => e !== 'up' && e !== 'down'),
      [],
    );

    // Reopen: the ledger holds one record per request (the 401s included) with tokens and cost.
    const reopened = await createGovernanceServices(config);
    const { records } = await reopened.ledger!.page({}, 100);
    const mine = records.slice(-7);
    assert.deepEqual(
      mine.map((r) => [r.keyId, r.status]),
      [
        ['demo', 200],
        ['demo', 200],
        ['demo', 200],
        ['demo', 429],
        [null, 401],
        [record.id, 200],
        [null, 401],
      ],
    );
    const [totals] = await reopened.ledger!.totals({ keyId: 'demo' });
    assert.equal(totals?.inputTokens, 120);
    assert.equal(totals?.costUsd, (3 * (40 * 1 + 10 * 2)) / 1e6);
    assert.equal((await reopened.keys.get('demo'))?.team, 'red', 'declared key persisted');
    await reopened.close();
  });
}
