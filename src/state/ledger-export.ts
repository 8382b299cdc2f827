import type { LedgerBackend, UsageFilter, UsageRecord } from '../contracts/governance.ts';
import { scalarText } from './key-rows.ts';
import { LEDGER_COLUMNS } from './ledger-columns.ts';

// Ledger export as JSON lines or CSV (RFC 4180, header row), produced page by page so an export of
// millions of rows never sits in memory. CSV text cells that a spreadsheet would run as a formula
// (starting with = + - @ or a control character) are prefixed with an apostrophe.

const PAGE = 1_000;
const NEEDS_QUOTES = /[",\r\n]/;
const FORMULA = /^[=+\-@\t\r]/;

function csvCell(value: unknown): string {
  if (value === null || value === undefined) return '';
  if (typeof value !== 'string') return scalarText(value);
  const safe = FORMULA.test(value) ? "'" + value : value;
  return NEEDS_QUOTES.test(safe) ? `"${safe.replaceAll('"', '""')}"` : safe;
}

export function csvHeader(): string {
  return LEDGER_COLUMNS.map(([, column]) => column).join(',') + '\r\n';
}

export function csvRow(record: UsageRecord): string {
  return (
    LEDGER_COLUMNS.map(([field, , kind]) => {
      const v = record[field];
      return kind === 'ts' ? new Date(v as number).toISOString() : csvCell(v);
    }).join(',') + '\r\n'
  );
}

export async function* exportLines(
  backend: LedgerBackend,
  filter: UsageFilter,
  format: 'jsonl' | 'csv',
): AsyncGenerator<string> {
  if (format === 'csv') yield csvHeader();
  let after: string | null = null;
  do {
    const page = await backend.page(filter, PAGE, after);
    let chunk = '';
    for (const r of page.records) chunk += format === 'csv' ? csvRow(r) : JSON.stringify(r) + '\n';
    if (chunk !== '') yield chunk;
    after = page.next;
  } while (after !== null);
}
