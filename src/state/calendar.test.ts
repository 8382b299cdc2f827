import assert from 'node:assert/strict';
import { test } from 'node:test';
import { CalendarWindows, calendarWindow, type CalendarUnit } from './calendar.ts';

const iso = (t: number): string => new Date(t).toISOString();

function check(
  tz: string,
  at: string,
  unit: CalendarUnit,
  start: string,
  end: string,
  weekStart?: number,
): void {
  const w = calendarWindow(
    unit,
    Date.parse(at),
    weekStart === undefined ? { timeZone: tz } : { timeZone: tz, weekStart },
  );
  assert.deepEqual([iso(w.start), iso(w.end)], [start, end], `${tz} ${unit} at ${at}`);
}

test('days across DST: 23 h in spring, 25 h in autumn (America/New_York, Europe/Berlin)', () => {
  check(
    'America/New_York',
    '2025-03-09T12:00:00Z',
    'day',
    '2025-03-09T05:00:00.000Z',
    '2025-03-10T04:00:00.000Z',
  );
  check(
    'America/New_York',
    '2025-11-02T12:00:00Z',
    'day',
    '2025-11-02T04:00:00.000Z',
    '2025-11-03T05:00:00.000Z',
  );
  check(
    'Europe/Berlin',
    '2025-03-30T01:30:00Z',
    'day',
    '2025-03-29T23:00:00.000Z',
    '2025-03-30T22:00:00.000Z',
  );
  check(
    'Europe/Berlin',
    '2025-10-26T23:30:00Z',
    'day',
    '2025-10-26T23:00:00.000Z',
    '2025-10-27T23:00:00.000Z',
  );
});

test('a zone whose midnight does not exist starts the day after the gap (America/Santiago)', () => {
  // 2024-09-07 24:00 → 2024-09-08 01:00 local.
  check(
    'America/Santiago',
    '2024-09-08T12:00:00Z',
    'day',
    '2024-09-08T04:00:00.000Z',
    '2024-09-09T03:00:00.000Z',
  );
  check(
    'America/Santiago',
    '2024-09-07T12:00:00Z',
    'day',
    '2024-09-07T04:00:00.000Z',
    '2024-09-08T04:00:00.000Z',
  );
});

test('month ends, leap years and year ends', () => {
  check(
    'Europe/Berlin',
    '2024-02-29T22:59:59Z',
    'month',
    '2024-01-31T23:00:00.000Z',
    '2024-02-29T23:00:00.000Z',
  );
  check(
    'Europe/Berlin',
    '2024-02-29T23:00:00Z',
    'month',
    '2024-02-29T23:00:00.000Z',
    '2024-03-31T22:00:00.000Z',
  );
  check(
    'Europe/Berlin',
    '2025-12-31T23:30:00Z',
    'month',
    '2025-12-31T23:00:00.000Z',
    '2026-01-31T23:00:00.000Z',
  );
  check('UTC', '2025-01-31T23:59:59.999Z', 'month', '2025-01-01T00:00:00.000Z', '2025-02-01T00:00:00.000Z');
  check(
    'America/Los_Angeles',
    '2025-03-01T07:59:00Z',
    'month',
    '2025-02-01T08:00:00.000Z',
    '2025-03-01T08:00:00.000Z',
  );
});

test('weeks start on Monday by default, or on a configured day, across DST and months', () => {
  check(
    'Europe/Berlin',
    '2025-03-30T12:00:00Z',
    'week',
    '2025-03-23T23:00:00.000Z',
    '2025-03-30T22:00:00.000Z',
  );
  check(
    'Europe/Berlin',
    '2025-03-31T12:00:00Z',
    'week',
    '2025-03-30T22:00:00.000Z',
    '2025-04-06T22:00:00.000Z',
  );
  check(
    'America/New_York',
    '2025-03-05T12:00:00Z',
    'week',
    '2025-03-02T05:00:00.000Z',
    '2025-03-09T05:00:00.000Z',
    0,
  );
  check('UTC', '2025-01-01T00:00:00Z', 'week', '2024-12-30T00:00:00.000Z', '2025-01-06T00:00:00.000Z');
});

test('fractional offsets and half-hour DST (Asia/Kolkata, Australia/Lord_Howe)', () => {
  check(
    'Asia/Kolkata',
    '2025-01-01T00:00:00Z',
    'day',
    '2024-12-31T18:30:00.000Z',
    '2025-01-01T18:30:00.000Z',
  );
  // Lord Howe moves 30 min: +10:30 → +11 on 2024-10-06 at 02:00 local.
  check(
    'Australia/Lord_Howe',
    '2024-10-06T06:00:00Z',
    'day',
    '2024-10-05T13:30:00.000Z',
    '2024-10-06T13:00:00.000Z',
  );
});

test('the start instant belongs to its window; the end belongs to the next', () => {
  const tz = { timeZone: 'America/New_York' };
  const w = calendarWindow('day', Date.parse('2025-03-10T04:00:00Z'), tz);
  assert.equal(iso(w.start), '2025-03-10T04:00:00.000Z');
  const before = calendarWindow('day', w.start - 1, tz);
  assert.equal(before.end, w.start);
});

test('CalendarWindows reuses the current window and rejects unknown zones', () => {
  const windows = new CalendarWindows({ timeZone: 'Europe/Berlin' });
  const t = Date.parse('2025-06-15T10:00:00Z');
  assert.equal(windows.window('month', t), windows.window('month', t + 3_600_000));
  assert.notEqual(windows.window('day', t), windows.window('day', t + 86_400_000));
  assert.throws(() => new CalendarWindows({ timeZone: 'Mars/Olympus' }), RangeError);
});
