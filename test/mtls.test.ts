import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Agent, request } from 'undici';
import { startFakeUpstream, type FakeUpstream } from './fake-upstream.ts';
import { startGateway, type TestGateway } from './harness.ts';

// HTTPS with client certificates: a verified certificate maps to an identity by the auth policy's mTLS
// rules; a request without one is refused with 401.

const dir = mkdtempSync(join(tmpdir(), 'switchyard-mtls-'));
const ssl = (...args: string[]): void => void execFileSync('openssl', args, { cwd: dir, stdio: 'ignore' });
const file = (name: string): string => join(dir, name);

describe('mTLS identities', () => {
  let upstream: FakeUpstream;
  let gw: TestGateway;

  before(async () => {
    ssl(
      'req',
      '-x509',
      '-newkey',
      'rsa:2048',
      '-nodes',
      '-keyout',
      'ca.key',
      '-out',
      'ca.pem',
      '-days',
      '2',
      '-subj',
      '/CN=Test CA',
    );
    for (const [name, cn, san] of [
      ['server', 'localhost', 'IP:127.0.0.1'],
      ['client', 'billing-service', 'URI:spiffe://acme/billing'],
    ] as const) {
      ssl(
        'req',
        '-newkey',
        'rsa:2048',
        '-nodes',
        '-keyout',
        `${name}.key`,
        '-out',
        `${name}.csr`,
        '-subj',
        `/CN=${cn}/OU=payments`,
      );
      execFileSync('sh', ['-c', `printf 'subjectAltName=${san}\\n' > ${name}.ext`], { cwd: dir });
      ssl(
        'x509',
        '-req',
        '-in',
        `${name}.csr`,
        '-CA',
        'ca.pem',
        '-CAkey',
        'ca.key',
        '-CAcreateserial',
        '-out',
        `${name}.pem`,
        '-days',
        '2',
        '-extfile',
        `${name}.ext`,
      );
    }
    upstream = await startFakeUpstream();
    gw = await startGateway(`
metrics: { process: false }
server:
  tls: { cert: "${file('server.pem')}", key: "${file('server.key')}", ca: "${file('ca.pem')}", client_auth: optional }
policies:
  - type: auth
    params:
      api_keys: false
      mtls:
        - match: { san: "spiffe://acme/billing" }
          tenant: acme
          team: "{ou}"
providers:
  - { name: fake, type: openai, base_url: "${upstream.url}", retry: { attempts: 0 } }
models:
  - name: m
    targets: [{ provider: fake }]
`);
  });
  after(async () => {
    await gw.close();
    await upstream.close();
  });

  const body = JSON.stringify({ model: 'm', messages: [{ role: 'user', content: 'hi' }] });

  it('maps a verified client certificate to an identity', async () => {
    const agent = new Agent({
      connect: {
        ca: readFileSync(file('ca.pem')),
        cert: readFileSync(file('client.pem')),
        key: readFileSync(file('client.key')),
      },
    });
    const res = await request(`${gw.url}/v1/chat/completions`, {
      method: 'POST',
      body,
      headers: { 'content-type': 'application/json' },
      dispatcher: agent,
    });
    assert.equal(res.statusCode, 200);
    await res.body.text();
    const line = gw.accessLogs().at(-1);
    assert.ok(line.identity, 'the access log names the identity');
    await agent.close();
  });

  it('refuses a request without a client certificate with 401', async () => {
    const agent = new Agent({ connect: { ca: readFileSync(file('ca.pem')) } });
    const res = await request(`${gw.url}/v1/chat/completions`, {
      method: 'POST',
      body,
      headers: { 'content-type': 'application/json' },
      dispatcher: agent,
    });
    assert.equal(res.statusCode, 401);
    assert.equal(((await res.body.json()) as any).error.code, 'unauthorized');
    await agent.close();
  });
});
