import { createHash, createHmac } from 'node:crypto';
import type { RecordedRequest } from './fake-upstream.ts';

// Wire-format helpers for the end-to-end tests: upstream byte streams cut at awkward places, Gemini SSE,
// and an independent SigV4 check (written from the published algorithm, not from src/auth-schemes) that
// a fake Bedrock runs over what it actually received.

/** Cut a byte stream every `size` bytes (so frames, JSON strings and UTF-8 sequences split across reads). */
export function splitEvery(data: string | Buffer, size: number): Buffer[] {
  const bytes = typeof data === 'string' ? Buffer.from(data, 'utf8') : data;
  const out: Buffer[] = [];
  for (let at = 0; at < bytes.length; at += size) out.push(bytes.subarray(at, at + size));
  return out;
}

/** Gemini's streamGenerateContent?alt=sse: each event a whole GenerateContentResponse, CRLF-separated. */
export function geminiSse(responses: readonly unknown[]): string {
  return responses.map((r) => `data: ${JSON.stringify(r)}\r\n\r\n`).join('');
}

const sha256 = (data: string | Buffer): string => createHash('sha256').update(data).digest('hex');
const hmac = (key: string | Buffer, data: string): Buffer => createHmac('sha256', key).update(data).digest();

/** RFC 3986 encoding as AWS's UriEncode: everything but A-Z a-z 0-9 - _ . ~ as %XX (upper-case hex). */
function awsEncode(value: string): string {
  return [...Buffer.from(value, 'utf8')]
    .map((b) => {
      const c = String.fromCharCode(b);
      return /[A-Za-z0-9\-_.~]/.test(c) ? c : `%${b.toString(16).toUpperCase().padStart(2, '0')}`;
    })
    .join('');
}

export interface SigV4Check {
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
  readonly region: string;
  readonly service: string;
}

/**
 * Recompute the SigV4 signature of a request the fake upstream received and return what it should be,
 * plus the parsed Authorization header. The payload is re-serialised from the recorded JSON body (the
 * gateway sends JSON.stringify output, which a parse/stringify round trip reproduces exactly).
 */
export function expectedSigV4(
  rec: RecordedRequest,
  check: SigV4Check,
): { credential: string; signedHeaders: string[]; signature: string; expected: string } {
  const auth = String(rec.headers.authorization ?? '');
  const m = /^AWS4-HMAC-SHA256 Credential=([^,]+), SignedHeaders=([^,]+), Signature=([0-9a-f]{64})$/.exec(
    auth,
  );
  if (m === null) throw new Error(`not a SigV4 Authorization header: ${auth}`);
  const [, credential, signed, signature] = m as unknown as [string, string, string, string];
  const signedHeaders = signed.split(';');
  const date = String(rec.headers['x-amz-date']);
  const day = date.slice(0, 8);
  const [rawPath, query = ''] = rec.path.split('?') as [string, string?];
  // Non-S3 services sign each path segment URI-encoded once more than it was sent.
  const canonicalPath = rawPath
    .split('/')
    .map((segment) => awsEncode(segment))
    .join('/');
  const canonicalQuery = query
    .split('&')
    .filter((p) => p !== '')
    .map((p) =>
      p
        .split('=')
        .map((s) => awsEncode(decodeURIComponent(s)))
        .join('='),
    )
    .sort()
    .join('&');
  const headerBlock = signedHeaders
    .map(
      (name) =>
        `${name}:${String(rec.headers[name] ?? '')
          .trim()
          .replace(/\s+/g, ' ')}\n`,
    )
    .join('');
  const payload = rec.body === undefined ? '' : JSON.stringify(rec.body);
  const canonical = ['POST', canonicalPath, canonicalQuery, headerBlock, signed, sha256(payload)].join('\n');
  const scope = `${day}/${check.region}/${check.service}/aws4_request`;
  const toSign = ['AWS4-HMAC-SHA256', date, scope, sha256(canonical)].join('\n');
  let key = hmac(`AWS4${check.secretAccessKey}`, day);
  for (const part of [check.region, check.service, 'aws4_request']) key = hmac(key, part);
  return {
    credential,
    signedHeaders,
    signature,
    expected: createHmac('sha256', key).update(toSign).digest('hex'),
  };
}
