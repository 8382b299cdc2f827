import { randomBytes } from 'node:crypto';

// Request ids: 16 random bytes drawn from a pooled buffer, hex-encoded. A client-supplied x-request-id is
// accepted when it is short and printable, so ids can be correlated across systems.

const POOL_SIZE = 4096;
let pool = randomBytes(POOL_SIZE);
let offset = 0;

export function newRequestId(): string {
  if (offset + 16 > POOL_SIZE) {
    pool = randomBytes(POOL_SIZE);
    offset = 0;
  }
  const id = pool.toString('hex', offset, offset + 16);
  offset += 16;
  return id;
}

const SAFE_ID = /^[\w.:-]{1,128}$/;

/** The client's id when it is safe to echo and log, else a new one. */
export function requestIdFrom(header: string | string[] | undefined): string {
  if (typeof header === 'string' && SAFE_ID.test(header)) return header;
  return newRequestId();
}
