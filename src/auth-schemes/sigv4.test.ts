import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { OutgoingRequest } from '../contracts/upstream.ts';
import { SigV4Signer, uriEncode } from './sigv4.ts';

// The AWS Signature Version 4 test suite (docs.aws.amazon.com/general/latest/gr/signature-v4-test-suite.html):
// credentials AKIDEXAMPLE, region us-east-1, service "service", time 2015-08-30T12:36:00Z, host
// example.amazonaws.com. Expected signatures are the suite's published `.authz` values.

const SECRET = 'wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY';
const TOKEN =
  'AQoDYXdzEPT//////////wEXAMPLEtc764bNrC9SAPBSM22wDOk4x4HIZ8j4FZTwdQWLWsKWHGBuFqwAeMicRXmxfpSPfIeoIYRqTflfKD8YUuwthAx7mSEI/qkPpKPi/kMcGdQrmGdeehM4IC1NtBmUpp2wUE8phUZampKsburEDy0KPkyQDYwT7WZ0wq5VSXDvp75YU9HFvlRd8Tx6q6fE8YQcHNVXAkiY9q6d+xo0rKwT38xVqr7ZD0u0iPPkUL64lIZbqBAz+scqKmlzm8FDrypNC9Yjc8fPOLn9FX9KSYvKTr4rvx3iSIlTJabIQwj2ICCR/oLxBA==';
const NOW = Date.parse('2015-08-30T12:36:00Z');
const HOST = 'example.amazonaws.com';

function signer(sessionToken?: string): SigV4Signer {
  const credentials = { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: SECRET, sessionToken };
  return new SigV4Signer({ credentials, region: 'us-east-1', service: 'service', now: () => NOW });
}

interface Vector {
  readonly name: string;
  readonly method?: string;
  readonly path?: string;
  readonly headers?: Record<string, string>;
  readonly body?: string;
  readonly signedHeaders?: string;
  readonly signature: string;
}

const nonUnreserved = `/?${uriEncode('@#$%^')}=&${uriEncode('+')}=${uriEncode('/,?><`";:\\|][{}')}`;

const VECTORS: readonly Vector[] = [
  { name: 'get-vanilla', signature: '5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31' },
  {
    name: 'get-vanilla-empty-query-key',
    path: '/?Param1=value1',
    signature: 'a67d582fa61cc504c4bae71f336f98b97f1ea3c7a6bfe1b6e45aec72011b9aeb',
  },
  {
    name: 'get-vanilla-query-order-key',
    path: '/?Param1=value2&Param1=Value1',
    signature: 'eedbc4e291e521cf13422ffca22be7d2eb8146eecf653089df300a15b2382bd1',
  },
  {
    name: 'get-vanilla-query-order-key-case',
    path: '/?Param2=value2&Param1=value1',
    signature: 'b97d918cfa904a5beff61c982a1b6f458b799221646efd99d3219ec94cdf2500',
  },
  {
    name: 'get-vanilla-query-order-value',
    path: '/?Param1=value2&Param1=value1',
    signature: '5772eed61e12b33fae39ee5e7012498b51d56abc0abb7c60486157bd471c4694',
  },
  {
    name: 'get-vanilla-query-unreserved',
    path: '/?-._~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz=-._~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz',
    signature: '9c3e54bfcdf0b19771a7f523ee5669cdf59bc7cc0884027167c21bb143a40197',
  },
  {
    name: 'get-vanilla-utf8-query',
    path: '/?ሴ=bar',
    signature: '2cdec8eed098649ff3a119c94853b13c643bcf08f8b0a1d91e12c9027818dd04',
  },
  {
    name: 'get-unreserved',
    path: '/-._~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz',
    signature: '07ef7494c76fa4850883e2b006601f940f8a34d404d0cfa977f52a65bbf5f24f',
  },
  {
    name: 'get-utf8',
    path: '/ሴ',
    signature: '8318018e0b0f223aa2bbf98705b62bb787dc9c0e678f255a891fd03141be5d85',
  },
  {
    name: 'get-header-key-duplicate',
    headers: { 'My-Header1': 'value2,value2,value1' },
    signedHeaders: 'host;my-header1;x-amz-date',
    signature: 'c9d5ea9f3f72853aea855b47ea873832890dbdd183b4468f858259531a5138ea',
  },
  {
    name: 'get-header-value-multiline',
    headers: { 'My-Header1': 'value1,value2,value3' },
    signature: 'ba17b383a53190154eb5fa66a1b836cc297cc0a3d70a5d00705980573d8ff790',
  },
  {
    name: 'get-header-value-order',
    headers: { 'My-Header1': 'value4,value1,value3,value2' },
    signature: '08c7e5a9acfcfeb3ab6b2185e75ce8b1deb5e634ec47601a50643f830c755c01',
  },
  {
    name: 'get-header-value-trim',
    headers: { 'My-Header1': ' value1', 'My-Header2': ' "a   b   c"' },
    signedHeaders: 'host;my-header1;my-header2;x-amz-date',
    signature: 'acc3ed3afb60bb290fc8d2dd0098b9911fcaa05412b367055dee359757a9c736',
  },
  {
    name: 'get-relative',
    path: '/example/..',
    signature: '5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31',
  },
  {
    name: 'get-relative-relative',
    path: '/example1/example2/../..',
    signature: '5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31',
  },
  {
    name: 'get-slash',
    path: '//',
    signature: '5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31',
  },
  {
    name: 'get-slash-dot-slash',
    path: '/./',
    signature: '5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31',
  },
  {
    name: 'get-slash-pointless-dot',
    path: '/./example',
    signature: 'ef75d96142cf21edca26f06005da7988e4f8dc83a165a80865db7089db637ec5',
  },
  {
    name: 'get-slashes',
    path: '//example//',
    signature: '9a624bd73a37c9a373b5312afbebe7a714a789de108f0bdfe846570885f57e84',
  },
  {
    name: 'get-space',
    path: '/example space/',
    signature: '652487583200325589f1fba4c7e578f72c47cb61beeca81406b39ddec1366741',
  },
  {
    name: 'post-vanilla',
    method: 'POST',
    signature: '5da7c1a2acd57cee7505fc6676e4e544621c30862966e37dddb68e92efbe5d6b',
  },
  {
    name: 'post-header-key-sort',
    method: 'POST',
    headers: { 'My-Header1': 'value1' },
    signature: 'c5410059b04c1ee005303aed430f6e6645f61f4dc9e1461ec8f8916fdf18852c',
  },
  {
    name: 'post-header-value-case',
    method: 'POST',
    headers: { 'My-Header1': 'VALUE1' },
    signature: 'cdbc9802e29d2942e5e10b5bccfdd67c5f22c7c4e8ae67b53629efa58b974b7d',
  },
  {
    name: 'post-vanilla-query',
    method: 'POST',
    path: '/?Param1=value1',
    signature: '28038455d6de14eafc1f9222cf5aa6f1a96197d7deb8263271d420d138af7f11',
  },
  {
    name: 'post-vanilla-query-nonunreserved',
    method: 'POST',
    path: nonUnreserved,
    signature: '66c82657c86e26fb25238d0e69f011edc4c6df5ae71119d7cb98ed9b87393c1e',
  },
  {
    name: 'post-vanilla-query-space',
    method: 'POST',
    path: '/?p=',
    signature: 'e71688addb58a26418614085fb730ba3faa623b461c17f48f2fbdb9361b94a9b',
  },
  {
    name: 'post-x-www-form-urlencoded',
    method: 'POST',
    headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
    body: 'Param1=value1',
    signedHeaders: 'content-type;host;x-amz-date',
    signature: 'ff11897932ad3f4e8b18135d722051e5ac45fc38421b1da7b9d196a0fe09473a',
  },
  {
    name: 'post-x-www-form-urlencoded-parameters',
    method: 'POST',
    headers: { 'Content-Type': 'application/x-www-form-urlencoded; charset=utf8' },
    body: 'Param1=value1',
    signedHeaders: 'content-type;host;x-amz-date',
    signature: '1a72ec8f64bd914b0e42e42607c7fbce7fb2c7465f63e3092b3b0d39fa77a6fe',
  },
];

describe('SigV4: AWS test suite', () => {
  for (const vector of VECTORS) {
    it(vector.name, () => {
      const { headers } = signer().sign({
        method: vector.method ?? 'GET',
        host: HOST,
        path: vector.path ?? '/',
        headers: vector.headers ?? {},
        body: vector.body ?? '',
      });
      const signed =
        vector.signedHeaders ??
        (vector.headers === undefined ? 'host;x-amz-date' : 'host;my-header1;x-amz-date');
      assert.equal(
        headers.authorization,
        `AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, SignedHeaders=${signed}, Signature=${vector.signature}`,
      );
      assert.equal(headers['x-amz-date'], '20150830T123600Z');
    });
  }

  it('post-sts-header-before: the session token is sent and signed', () => {
    const { headers } = signer(TOKEN).sign({ method: 'POST', host: HOST, path: '/', headers: {}, body: '' });
    assert.equal(headers['x-amz-security-token'], TOKEN);
    assert.equal(
      headers.authorization,
      'AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, SignedHeaders=host;x-amz-date;x-amz-security-token, Signature=85d96828115b5dc0cfc3bd16ad9e210dd772bbebba041836c64533a82be05ead',
    );
  });

  it('get-vanilla: canonical request and string to sign match the published .creq and .sts', () => {
    const result = signer().sign({ method: 'GET', host: HOST, path: '/', headers: {}, body: '' });
    assert.equal(
      result.canonicalRequest,
      'GET\n/\n\nhost:example.amazonaws.com\nx-amz-date:20150830T123600Z\n\nhost;x-amz-date\ne3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855',
    );
    assert.equal(
      result.stringToSign,
      'AWS4-HMAC-SHA256\n20150830T123600Z\n20150830/us-east-1/service/aws4_request\nbb579772317eb040ac9ed261061d46c1f17a8133879d6129b6e1c25292927e63',
    );
  });
});

describe('SigV4 for Bedrock', () => {
  const bedrock = (now: number) =>
    new SigV4Signer({
      credentials: { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: SECRET },
      region: 'us-east-1',
      service: 'bedrock',
      now: () => now,
      contentSha256Header: true,
    });

  it('encodes the already-encoded model id once more in the canonical URI', () => {
    const result = bedrock(NOW).sign({
      method: 'POST',
      host: 'bedrock-runtime.us-east-1.amazonaws.com',
      path: '/model/anthropic.claude-3-haiku-20240307-v1%3A0/converse',
      headers: { 'content-type': 'application/json' },
      body: '{}',
    });
    const lines = result.canonicalRequest.split('\n');
    assert.equal(lines[1], '/model/anthropic.claude-3-haiku-20240307-v1%253A0/converse');
    assert.equal(result.headers['x-amz-content-sha256'], lines.at(-1));
    assert.match(
      result.headers.authorization!,
      /SignedHeaders=content-type;host;x-amz-content-sha256;x-amz-date,/,
    );
    assert.match(
      result.headers.authorization!,
      /Credential=AKIDEXAMPLE\/20150830\/us-east-1\/bedrock\/aws4_request/,
    );
  });

  it('authorize() adds the headers in place and ignores headers proxies rewrite', () => {
    const req: OutgoingRequest = {
      path: '/model/m/converse',
      body: '{"a":1}',
      headers: { 'user-agent': 'x' },
    };
    bedrock(NOW).authorize(req, { method: 'POST', host: 'bedrock-runtime.us-east-1.amazonaws.com' });
    assert.equal(req.headers['x-amz-date'], '20150830T123600Z');
    assert.match(req.headers.authorization!, /SignedHeaders=host;x-amz-content-sha256;x-amz-date,/);
  });

  it('re-derives the signing key when the day changes', () => {
    let now = NOW;
    const shared = new SigV4Signer({
      credentials: { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: SECRET },
      region: 'us-east-1',
      service: 'bedrock',
      now: () => now,
    });
    const req = { method: 'POST', host: 'h', path: '/', headers: {}, body: '' };
    shared.sign(req);
    now = NOW + 86_400_000;
    const fresh = new SigV4Signer({
      credentials: { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: SECRET },
      region: 'us-east-1',
      service: 'bedrock',
      now: () => now,
    });
    assert.equal(shared.sign(req).headers.authorization, fresh.sign(req).headers.authorization);
  });
});
