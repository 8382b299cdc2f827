import { createHash, createHmac } from 'node:crypto';
import type { OutgoingRequest } from '../contracts/upstream.ts';

// AWS Signature Version 4 (header-based), written from the published algorithm:
//   1. canonical request = method \n canonical URI \n canonical query \n canonical headers \n
//      signed headers \n hex(sha256(payload))
//   2. string to sign = "AWS4-HMAC-SHA256" \n amz-date \n scope \n hex(sha256(canonical request)),
//      scope = date/region/service/aws4_request
//   3. signing key = HMAC chain "AWS4"+secret → date → region → service → "aws4_request"
//   4. Authorization: AWS4-HMAC-SHA256 Credential=key-id/scope, SignedHeaders=…, Signature=hex(HMAC(key, sts))
// URI encoding follows AWS's UriEncode: every byte but A-Z a-z 0-9 - _ . ~ is percent-encoded (uppercase
// hex). Services other than S3 normalise the path (no empty, "." or ".." segments) and encode each
// segment of the path *as sent*, so an already-encoded path is encoded twice: Bedrock's
// /model/a%3Ab/converse is signed as /model/a%253Ab/converse. S3 signs the path as sent.

export interface AwsCredentials {
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
  readonly sessionToken?: string | undefined;
}

export interface SigV4Options {
  readonly credentials: AwsCredentials;
  readonly region: string;
  /** Signing name of the service, e.g. "bedrock". */
  readonly service: string;
  /** The clock, in ms since the epoch (injectable for tests). */
  readonly now?: () => number;
  /** Also send and sign x-amz-content-sha256 (S3 requires it; other services accept it). */
  readonly contentSha256Header?: boolean;
  /** S3 only: sign the path as sent, without normalising or encoding it again. */
  readonly s3?: boolean;
}

export interface SignableRequest {
  readonly method: string;
  /** The Host header the HTTP client will send (hostname, plus :port when not the default). */
  readonly host: string;
  /** Path and query string as sent on the wire. */
  readonly path: string;
  readonly headers: Readonly<Record<string, string>>;
  readonly body: string | Buffer;
}

export interface SigV4Signature {
  /** Headers to add to the request: authorization, x-amz-date and, when used, the token and hash. */
  readonly headers: Record<string, string>;
  readonly canonicalRequest: string;
  readonly stringToSign: string;
}

/** Headers proxies and clients may add or rewrite; signing them would break the signature. */
const UNSIGNED = new Set([
  'authorization',
  'connection',
  'content-length',
  'expect',
  'keep-alive',
  'proxy-authorization',
  'te',
  'trailer',
  'transfer-encoding',
  'upgrade',
  'user-agent',
  'x-amzn-trace-id',
]);

export function uriEncode(value: string): string {
  return encodeURIComponent(value).replace(
    /[!'()*]/g,
    (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`,
  );
}

function decode(value: string): string {
  try {
    return decodeURIComponent(value);
  } catch {
    return value;
  }
}

function canonicalPath(path: string, s3: boolean): string {
  if (path === '') return '/';
  if (s3) return path;
  const segments: string[] = [];
  for (const segment of path.split('/')) {
    if (segment === '' || segment === '.') continue;
    if (segment === '..') segments.pop();
    else segments.push(uriEncode(segment));
  }
  const trailing = segments.length > 0 && path.endsWith('/') ? '/' : '';
  return `/${segments.join('/')}${trailing}`;
}

function canonicalQuery(query: string): string {
  if (query === '') return '';
  const pairs = query
    .split('&')
    .filter((pair) => pair !== '')
    .map((pair): [string, string] => {
      const eq = pair.indexOf('=');
      const key = eq === -1 ? pair : pair.slice(0, eq);
      return [uriEncode(decode(key)), eq === -1 ? '' : uriEncode(decode(pair.slice(eq + 1)))];
    });
  pairs.sort(([ka, va], [kb, vb]) => (ka < kb ? -1 : ka > kb ? 1 : va < vb ? -1 : va > vb ? 1 : 0));
  return pairs.map(([key, value]) => `${key}=${value}`).join('&');
}

/** Lower-cased, sorted, values trimmed with inner runs of spaces collapsed; repeated names joined by ",". */
function canonicalHeaders(headers: Readonly<Record<string, string>>): [canonical: string, signed: string] {
  const byName = new Map<string, string>();
  for (const [rawName, rawValue] of Object.entries(headers)) {
    const name = rawName.toLowerCase();
    if (UNSIGNED.has(name)) continue;
    const value = rawValue.trim().replace(/\s+/g, ' ');
    const prior = byName.get(name);
    byName.set(name, prior === undefined ? value : `${prior},${value}`);
  }
  const names = [...byName.keys()].sort();
  return [names.map((name) => `${name}:${byName.get(name) ?? ''}\n`).join(''), names.join(';')];
}

const sha256 = (data: string | Buffer): string => createHash('sha256').update(data).digest('hex');
const hmac = (key: string | Buffer, data: string): Buffer => createHmac('sha256', key).update(data).digest();

/** "20150830T123600Z" for a time in ms. */
export function amzDate(ms: number): string {
  return new Date(ms).toISOString().replace(/[-:]|\.\d{3}/g, '');
}

/**
 * Signs requests for one set of credentials, region and service. Built once per provider; the derived
 * signing key is cached for the current UTC day.
 */
export class SigV4Signer {
  private readonly options: SigV4Options;
  private cachedDay = '';
  private cachedKey: Buffer = Buffer.alloc(0);

  constructor(options: SigV4Options) {
    this.options = options;
  }

  signingKey(day: string): Buffer {
    if (day !== this.cachedDay) {
      const { secretAccessKey } = this.options.credentials;
      const dayKey = hmac(`AWS4${secretAccessKey}`, day);
      this.cachedKey = hmac(hmac(hmac(dayKey, this.options.region), this.options.service), 'aws4_request');
      this.cachedDay = day;
    }
    return this.cachedKey;
  }

  sign(req: SignableRequest): SigV4Signature {
    const { credentials, region, service } = this.options;
    const date = amzDate((this.options.now ?? Date.now)());
    const day = date.slice(0, 8);
    const payloadHash = sha256(req.body);
    const added: Record<string, string> = { 'x-amz-date': date };
    if (credentials.sessionToken !== undefined) added['x-amz-security-token'] = credentials.sessionToken;
    if (this.options.contentSha256Header === true) added['x-amz-content-sha256'] = payloadHash;
    const signable: Record<string, string> = {};
    for (const [name, value] of Object.entries(req.headers)) {
      const lower = name.toLowerCase();
      if (lower !== 'host' && !Object.hasOwn(added, lower)) signable[name] = value;
    }
    const [headerBlock, signedHeaders] = canonicalHeaders({ ...signable, host: req.host, ...added });
    const query = req.path.indexOf('?');
    const path = query === -1 ? req.path : req.path.slice(0, query);
    const canonicalRequest = [
      req.method.toUpperCase(),
      canonicalPath(path, this.options.s3 === true),
      canonicalQuery(query === -1 ? '' : req.path.slice(query + 1)),
      headerBlock,
      signedHeaders,
      payloadHash,
    ].join('\n');
    const scope = `${day}/${region}/${service}/aws4_request`;
    const stringToSign = ['AWS4-HMAC-SHA256', date, scope, sha256(canonicalRequest)].join('\n');
    const signature = createHmac('sha256', this.signingKey(day)).update(stringToSign).digest('hex');
    const authorization = `AWS4-HMAC-SHA256 Credential=${credentials.accessKeyId}/${scope}, SignedHeaders=${signedHeaders}, Signature=${signature}`;
    return { headers: { authorization, ...added }, canonicalRequest, stringToSign };
  }

  /** Sign an outgoing request in place (call it last: headers added afterwards are not signed). */
  authorize(req: OutgoingRequest, target: { readonly method: string; readonly host: string }): void {
    const { headers } = this.sign({
      method: target.method,
      host: target.host,
      path: req.path,
      headers: req.headers,
      body: req.body,
    });
    Object.assign(req.headers, headers);
  }
}
