import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { startGovernedExample, type TestGateway } from './harness.ts';

// examples/governed.yaml end to end: keys, 401/403, rate limits with headers, the admin API (keys,
// revocation, usage totals, budgets). Limits held across replicas: test/replicas.test.ts.

const SECRET = 'sy-demo-secret-for-tests';
const ADMIN = 'admin-token-for-tests';

async function chat(url: string, key: string | null, model = 'mock-model') {
  const headers: Record<string, string> = { 'content-type': 'application/json' };
  if (key !== null) headers.authorization = `Bearer ${key}`;
  const res = await fetch(`${url}/v1/chat/completions`, {
    method: 'POST',
    headers,
    body: JSON.stringify({ model, max_tokens: 10, messages: [{ role: 'user', content: 'hi' }] }),
  });
  return { res, body: (await res.json()) as any };
}

function admin(url: string, path: string, init: RequestInit = {}, token = ADMIN) {
  return fetch(`${url}/admin${path}`, {
    ...init,
    headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
  });
}

describe('governed example', () => {
  let gw: TestGateway;

  let close: () => Promise<void>;

  before(async () => {
    ({ gw, close } = await startGovernedExample(SECRET, { SWITCHYARD_ADMIN_TOKEN: ADMIN }));
  });
  after(() => close());

  it('needs a key (401), allows only its models (403), and reports limits in headers', async () => {
    const none = await chat(gw.url, null);
    assert.equal(none.res.status, 401);
    assert.equal(none.body.error.code, 'unauthorized');
    const wrong = await chat(gw.url, 'sy-not-a-key-at-all');
    assert.equal(wrong.res.status, 401);
    const ok = await chat(gw.url, SECRET);
    assert.equal(ok.res.status, 200);
    assert.equal(ok.res.headers.get('x-ratelimit-limit-requests'), '100');
    assert.ok(Number(ok.res.headers.get('x-ratelimit-remaining-requests')) <= 99);
    assert.match(ok.res.headers.get('x-switchyard-cost') ?? '', /^\d/);
  });

  it('refuses the 101st request of a minute with 429 and Retry-After', async () => {
    let refused: Response | null = null;
    let admitted = 1; // the previous test used one
    for (let i = 0; i < 110 && refused === null; i++) {
      const { res } = await chat(gw.url, SECRET);
      if (res.status === 200) admitted++;
      else refused = res;
    }
    assert.equal(admitted, 100);
    assert.equal(refused?.status, 429);
    assert.ok(Number(refused?.headers.get('retry-after')) >= 1);
  });

  it('admin API: disabled without its token, keys, revocation, usage totals and budgets', async () => {
    assert.equal((await admin(gw.url, '/keys', {}, 'wrong')).status, 401);
    const created = await admin(gw.url, '/keys', {
      method: 'POST',
      body: JSON.stringify({
        tenant: 't1',
        team: 'red',
        models: ['mock-model'],
        budgets: [{ tokens: 1000, window: 'day' }],
      }),
    });
    assert.equal(created.status, 201);
    const { key, secret } = (await created.json()) as any;
    assert.match(secret, /^sy-/);
    assert.equal(key.hash, undefined);
    for (let i = 0; i < 3; i++) assert.equal((await chat(gw.url, secret)).res.status, 200);
    const totals = (await (await admin(gw.url, `/usage?key=${key.id}`)).json()) as any;
    assert.equal(totals.data[0].requests, 3);
    assert.equal(totals.data[0].inputTokens, 3 * 11); // the fake upstream reports 11 prompt tokens
    assert.equal(totals.data[0].outputTokens, 3 * 7);
    const budgets = (await (await admin(gw.url, `/budgets?scope=key&id=${key.id}`)).json()) as any;
    assert.equal(budgets.data[0].remaining, 1000 - 3 * 18);
    const revoked = await admin(gw.url, `/keys/${key.id}/revoke`, { method: 'POST' });
    assert.equal(revoked.status, 200);
    assert.equal((await chat(gw.url, secret)).res.status, 401);
  });
});

describe('admin API off by default', () => {
  it('answers 404 when no admin token is configured', async () => {
    const { gw, close } = await startGovernedExample(SECRET, { SWITCHYARD_ADMIN_TOKEN: '' });
    try {
      assert.equal((await admin(gw.url, '/keys')).status, 404);
    } finally {
      await close();
    }
  });
});
