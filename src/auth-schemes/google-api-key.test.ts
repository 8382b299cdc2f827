import assert from 'node:assert/strict';
import { it } from 'node:test';
import type { OutgoingRequest } from '../contracts/upstream.ts';
import { applyGoogleApiKey } from './google-api-key.ts';

it('google-api-key sets x-goog-api-key and leaves the path (no ?key= in URLs)', () => {
  const req: OutgoingRequest = { path: '/v1beta/models/m:generateContent', body: '{}', headers: { a: 'b' } };
  applyGoogleApiKey(req, 'k-123');
  assert.deepEqual(req.headers, { a: 'b', 'x-goog-api-key': 'k-123' });
  assert.equal(req.path, '/v1beta/models/m:generateContent');
});
