import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { UsageRecord } from '../contracts/governance.ts';
import { LEDGER_COLUMNS } from './ledger-columns.ts';
import { encodeRows, rowValues } from './ledger-rows.ts';

const base: UsageRecord = {
  ts: 1_795_444_061_286,
  requestId: 'req-1',
  keyId: 'key_abc',
  identityKind: 'key',
  tenant: null,
  team: 'red',
  user: null,
  api: 'chat',
  route: 'default',
  model: 'gpt-4o',
  upstreamModel: 'gpt-4o-2024-08-06',
  provider: 'openai',
  endpoint: null,
  stream: true,
  inputTokens: 1_200,
  outputTokens: 35,
  cachedInputTokens: 1_024,
  cacheWriteTokens: 0,
  reasoningTokens: 0,
  costUsd: 0.000_123_456_789,
  status: 200,
  outcome: 'ok',
  errorCode: null,
  latencyMs: 812,
  ttftMs: null,
  usageSource: 'upstream',
  attempts: 2,
};

test('records flattened for the ledger thread come back as the same column values', () => {
  const records: UsageRecord[] = [
    base,
    { ...base, requestId: 'req-2', stream: false, team: null, costUsd: null, ttftMs: 40, errorCode: 'x' },
  ];
  const batch = encodeRows(records);
  assert.equal(batch.count, 2);
  // Repeated strings are sent once.
  assert.equal(batch.strings.filter((s) => s === 'gpt-4o').length, 1);
  for (const [i, r] of records.entries()) {
    const out = new Array<string | number | null>(LEDGER_COLUMNS.length);
    rowValues(batch, i, out, 0);
    const expected = LEDGER_COLUMNS.map(([field, , kind]) =>
      kind === 'bool' ? (r[field] === true ? 1 : 0) : r[field],
    );
    assert.deepEqual(out, expected);
  }
});
