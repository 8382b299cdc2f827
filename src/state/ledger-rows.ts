import type { UsageRecord } from '../contracts/governance.ts';
import { LEDGER_COLUMNS } from './ledger-columns.ts';

// Usage records as the SQLite ledger thread receives them: column values in two typed arrays and one
// table of distinct strings. Copying 500 records as objects to another thread costs about 4-5 µs each
// (every field name and string, every time); this form is mostly a memory copy, and the buffers are
// transferred, not copied.

/** Per column: its record field and kind (flat arrays: no tuple read per value). */
const FIELDS = LEDGER_COLUMNS.map(([field]) => field);
const KINDS = LEDGER_COLUMNS.map(([, , kind]) => kind);
/** Columns whose values are all different (request ids): not worth looking up in the string table. */
const UNIQUE = LEDGER_COLUMNS.map(([field]) => field === 'requestId');
const TEXT_COLUMNS = KINDS.filter((kind) => kind === 'text').length;
const NUMBER_COLUMNS = LEDGER_COLUMNS.length - TEXT_COLUMNS;

export interface RowBatch {
  readonly count: number;
  /** NUMBER_COLUMNS values per row (times, counts, booleans as 0/1, USD); NaN is null. */
  readonly numbers: Float64Array<ArrayBuffer>;
  /** TEXT_COLUMNS indices per row into `strings`; -1 is null. */
  readonly texts: Int32Array<ArrayBuffer>;
  readonly strings: readonly string[];
}

export function encodeRows(records: readonly UsageRecord[]): RowBatch {
  const numbers = new Float64Array(records.length * NUMBER_COLUMNS);
  const texts = new Int32Array(records.length * TEXT_COLUMNS);
  const strings: string[] = [];
  const index = new Map<string, number>();
  let n = 0;
  let t = 0;
  for (const r of records) {
    for (let c = 0; c < FIELDS.length; c++) {
      const v = r[FIELDS[c]!];
      const kind = KINDS[c];
      if (kind === 'text') {
        if (v === null || v === undefined) texts[t++] = -1;
        else if (UNIQUE[c] === true) texts[t++] = strings.push(v as string) - 1;
        else {
          const s = v as string;
          let i = index.get(s);
          if (i === undefined) {
            i = strings.push(s) - 1;
            index.set(s, i);
          }
          texts[t++] = i;
        }
      } else if (kind === 'bool') numbers[n++] = v === true ? 1 : 0;
      else numbers[n++] = v === null || v === undefined ? NaN : (v as number);
    }
  }
  return { count: records.length, numbers, texts, strings };
}

/** Row `row`'s column values, in LEDGER_COLUMNS order, into `out` from `at`. */
export function rowValues(batch: RowBatch, row: number, out: (string | number | null)[], at: number): void {
  let n = row * NUMBER_COLUMNS;
  let t = row * TEXT_COLUMNS;
  for (let c = 0; c < KINDS.length; c++) {
    if (KINDS[c] === 'text') {
      const i = batch.texts[t++]!;
      out[at + c] = i < 0 ? null : batch.strings[i]!;
    } else {
      const v = batch.numbers[n++]!;
      out[at + c] = Number.isNaN(v) ? null : v;
    }
  }
}
