import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { UsageRecord } from '../contracts/governance.ts';
import { LEDGER_COLUMNS } from './ledger-columns.ts';
import { encodeRows, rowValues } from './ledger-rows.ts';
import { usageRecord } from './test-records.ts';

test('records flattened for the ledger thread come back as the same column values', () => {
  // Null text and number columns, both booleans, a cost with many digits.
  const records: UsageRecord[] = [
    usageRecord(1, { tenant: null, costUsd: 0.000_123_456_789, ttftMs: null }),
    usageRecord(2, { stream: false, team: null, costUsd: null, ttftMs: 40, errorCode: 'x' }),
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
