import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { PeerCertificate } from 'node:tls';
import { after, before, describe, test } from 'node:test';
import { exportJWK, generateKeyPair, SignJWT, type CryptoKey, type JWK } from 'jose';
import type { Policy } from '../../contracts/policy.ts';
import type { RequestContext } from '../../contracts/request.ts';
import { GatewayError, openAIErrorBody } from '../../core/errors.ts';
import { CachedKeyDirectory } from '../../state/key-directory.ts';
import { MemoryKeyStore } from '../../state/key-store-memory.ts';
import { authFactory } from './auth.ts';
import { identityFromCertificate } from './mtls.ts';
import { governanceState } from './request-state.ts';
import { build, testContext, testServices } from './test-context.ts';

let now = Date.now();
const keys = new CachedKeyDirectory({ store: new MemoryKeyStore(), clock: () => now });
const services = testServices({
  keys,
  peerCertificate: (ctx) => (ctx.clientHeaders['x-test-cert'] === 'yes' ? CERT : null),
  clock: () => now,
});

function policy(params: unknown): Policy {
  return build(authFactory, params, services);
}

async function rejects(
  p: Policy,
  ctx: RequestContext,
  status: number,
  message?: RegExp,
): Promise<GatewayError> {
  let caught: unknown;
  try {
    await p.onRequest?.(ctx);
  } catch (err) {
    caught = err;
  }
  assert.ok(caught instanceof GatewayError, 'expected a GatewayError');
  assert.equal(caught.status, status);
  if (message !== undefined) assert.match(caught.message, message);
  return caught;
}

const CERT = {
  subject: { CN: 'billing-svc', O: 'Acme', OU: 'payments' },
  subjectaltname: 'DNS:billing.internal, URI:spiffe://acme/billing',
  fingerprint256: 'AB:CD:EF:01',
} as unknown as PeerCertificate;

describe('auth: virtual keys', () => {
  const plain = policy({});

  test('a key in Authorization: Bearer or x-api-key sets the identity and priority', async () => {
    const { record, secret } = await keys.create({
      tenant: 't',
      team: 'red',
      user: 'ann',
      priority: 'sheddable',
    });
    for (const headers of [{ authorization: `Bearer ${secret}` }, { 'x-api-key': secret }]) {
      const ctx = testContext({ headers });
      await plain.onRequest?.(ctx);
      assert.equal(ctx.identity?.id, record.id);
      assert.equal(ctx.identity?.kind, 'api-key');
      assert.equal(ctx.identity?.team, 'red');
      assert.equal(ctx.priority, 'sheddable');
      assert.equal(governanceState(ctx).key?.id, record.id);
    }
  });

  test('missing, unknown, revoked and expired keys are 401, OpenAI-shaped', async () => {
    const err = await rejects(plain, testContext(), 401, /Missing credentials/);
    assert.deepEqual(JSON.parse(openAIErrorBody(err)), {
      error: { message: err.message, type: 'authentication_error', param: null, code: 'unauthorized' },
    });
    await rejects(
      plain,
      testContext({ headers: { authorization: 'Bearer sy-nope' } }),
      401,
      /Incorrect API key/,
    );
    await rejects(plain, testContext({ headers: { authorization: 'Basic abc' } }), 401, /Missing/);
    const revoked = await keys.create({});
    await keys.revoke(revoked.record.id);
    await rejects(plain, testContext({ headers: { 'x-api-key': revoked.secret } }), 401, /revoked/);
    const expiring = await keys.create({ expiresAt: now + 1_000 });
    await plain.onRequest?.(testContext({ headers: { 'x-api-key': expiring.secret } }));
    now += 1_000;
    await rejects(plain, testContext({ headers: { 'x-api-key': expiring.secret } }), 401, /expired/);
  });

  test('models and routes outside the allow-lists are 403', async () => {
    const { secret } = await keys.create({ allowedModels: ['gpt-4o-mini'], allowedRoutes: ['default'] });
    const headers = { authorization: `Bearer ${secret}` };
    await plain.onRequest?.(testContext({ headers, model: 'gpt-4o-mini' }));
    const err = await rejects(
      plain,
      testContext({ headers, model: 'gpt-4o' }),
      403,
      /may not use model "gpt-4o"/,
    );
    assert.equal(err.code, 'forbidden');
    assert.equal(err.param, 'model');
    await rejects(
      plain,
      testContext({ headers, model: 'gpt-4o-mini', route: 'batch' }),
      403,
      /route "batch"/,
    );
  });

  test('a failing key store is 503 state_unavailable', async () => {
    const failing = { ...keys, authenticate: () => Promise.reject(new Error('db down')) };
    const p = build(authFactory, {}, { ...services, keys: failing as unknown as CachedKeyDirectory });
    const err = await rejects(p, testContext({ headers: { 'x-api-key': 'sy-x' } }), 503);
    assert.equal(err.code, 'state_unavailable');
  });

  test('anonymous access when enabled', async () => {
    const ctx = testContext();
    await policy({ anonymous: true }).onRequest?.(ctx);
    assert.equal(ctx.identity?.kind, 'anonymous');
  });
});

describe('auth: mTLS', () => {
  test('certificate fields map to an identity by the first matching rule', () => {
    const rules = [
      { cn: 'other' },
      {
        san: 'spiffe://acme/billing',
        tenant: 'acme',
        team: '{ou}',
        user: '{cn}',
        priority: 'critical' as const,
      },
    ];
    const identity = identityFromCertificate(CERT, rules);
    assert.equal(identity?.id, 'billing-svc');
    assert.equal(identity?.kind, 'mtls');
    assert.equal(identity?.team, 'payments');
    assert.equal(identity?.priority, 'critical');
    assert.equal(identityFromCertificate(CERT, [{ fingerprint256: 'abcdef01', id: 'fp' }])?.id, 'fp');
    assert.equal(identityFromCertificate(CERT, [{ cn: 'nobody' }]), null);
  });

  test('the auth policy uses the verified peer certificate when no credential is sent', async () => {
    const p = policy({ mtls: [{ match: { cn: '*' }, tenant: '{o}' }] });
    const ctx = testContext({ headers: { 'x-test-cert': 'yes' } });
    await p.onRequest?.(ctx);
    assert.equal(ctx.identity?.tenant, 'Acme');
    await rejects(
      policy({ mtls: [{ match: { cn: 'x' } }] }),
      testContext({ headers: { 'x-test-cert': 'yes' } }),
      401,
    );
  });
});

describe('auth: JWT against a loopback OIDC issuer', () => {
  let server: Server;
  let issuer = '';
  let privateKey: CryptoKey;
  let jwks: { keys: JWK[] } = { keys: [] };
  let up = true;

  before(async () => {
    const pair = await generateKeyPair('RS256');
    privateKey = pair.privateKey;
    jwks = { keys: [{ ...(await exportJWK(pair.publicKey)), kid: 'k1', alg: 'RS256', use: 'sig' }] };
    server = createServer((req, res) => {
      if (!up) return void res.writeHead(500).end();
      res.setHeader('content-type', 'application/json');
      if (req.url === '/.well-known/openid-configuration') {
        res.end(JSON.stringify({ issuer, jwks_uri: `${issuer}/jwks.json` }));
      } else if (req.url === '/jwks.json') res.end(JSON.stringify(jwks));
      else res.writeHead(404).end();
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    issuer = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  after(() => new Promise((r) => server.close(r)));

  const sign = (
    claims: Record<string, unknown>,
    opts: { aud?: string; iss?: string; exp?: string; kid?: string } = {},
  ) =>
    new SignJWT(claims)
      .setProtectedHeader({ alg: 'RS256', kid: opts.kid ?? 'k1' })
      .setIssuer(opts.iss ?? issuer)
      .setAudience(opts.aud ?? 'switchyard')
      .setSubject('user-42')
      .setIssuedAt()
      .setExpirationTime(opts.exp ?? '5m')
      .sign(privateKey);

  const jwtPolicy = (): Policy =>
    policy({
      jwt: {
        issuer,
        audience: 'switchyard',
        claims: {
          tenant: 'https://acme.example/tenant',
          team: 'org.team',
          models: 'models',
          priority: 'tier',
        },
        metadata_claims: ['email'],
      },
    });

  test('a valid token maps claims to the identity (discovery, namespaced and dotted claims)', async () => {
    const p = jwtPolicy();
    const token = await sign({
      'https://acme.example/tenant': 'acme',
      org: { team: 'data' },
      models: 'gpt-4o gpt-4o-mini',
      tier: 'critical',
      email: 'u@acme.example',
    });
    const ctx = testContext({ headers: { authorization: `Bearer ${token}` } });
    await p.onRequest?.(ctx);
    assert.deepEqual(
      { ...ctx.identity, allowedModels: [...(ctx.identity?.allowedModels ?? [])] },
      {
        id: 'user-42',
        kind: 'jwt',
        tenant: 'acme',
        team: 'data',
        user: 'user-42',
        allowedModels: ['gpt-4o', 'gpt-4o-mini'],
        priority: 'critical',
        metadata: { email: 'u@acme.example' },
      },
    );
    assert.equal(ctx.priority, 'critical');
    await rejects(p, testContext({ headers: { authorization: `Bearer ${token}` }, model: 'o3' }), 403);
  });

  test('expired, wrong audience, wrong issuer, unknown key and disallowed algorithm are 401', async () => {
    const p = jwtPolicy();
    const bearer = (t: string): RequestContext => testContext({ headers: { authorization: `Bearer ${t}` } });
    await rejects(p, bearer(await sign({}, { exp: '-1m' })), 401, /expired/);
    await rejects(p, bearer(await sign({}, { aud: 'someone-else' })), 401, /"aud"/);
    await rejects(p, bearer(await sign({}, { iss: 'https://evil.example' })), 401, /"iss"/);
    await rejects(p, bearer(await sign({}, { kid: 'k9' })), 401);
    const hs = await new SignJWT({})
      .setProtectedHeader({ alg: 'HS256' })
      .setIssuer(issuer)
      .setAudience('switchyard')
      .setExpirationTime('5m')
      .sign(new TextEncoder().encode('x'.repeat(32)));
    await rejects(p, bearer(hs), 401);
  });

  test('an unreachable issuer is 503, and recovers', async () => {
    const p = jwtPolicy();
    up = false;
    const token = await sign({});
    const err = await rejects(p, testContext({ headers: { authorization: `Bearer ${token}` } }), 503);
    assert.equal(err.code, 'state_unavailable');
    up = true;
    await p.onRequest?.(testContext({ headers: { authorization: `Bearer ${token}` } }));
  });
});
