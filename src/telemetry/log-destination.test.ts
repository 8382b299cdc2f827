import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LineDestination } from './log-destination.ts';

// Lines are encoded into blocks and written asynchronously: every line must arrive whole, once, in order,
// whatever its length or characters, and nothing buffered may be lost at end or exit.

function withFile(run: (file: string) => Promise<void> | void): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'sy-dest-'));
  return Promise.resolve(run(join(dir, 'out.log'))).finally(() =>
    rmSync(dir, { recursive: true, force: true }),
  );
}

describe('LineDestination', () => {
  it('writes every line in order across blocks, long lines and multi-byte text included', () =>
    withFile(async (file) => {
      const dest = new LineDestination(file);
      const expected: string[] = [];
      for (let i = 0; i < 3_000; i++) {
        // Mostly short lines; some multi-byte; every 500th longer than a whole block.
        const text =
          i % 500 === 499 ? `long ${i} ${'x'.repeat(40_000)}` : i % 7 === 0 ? `é ✓ 🦊 ${i}` : `line ${i}`;
        expected.push(text);
        if (i % 2 === 0) dest.writeLine(text);
        else dest.write(`${text}\n`);
      }
      dest.end();
      await once(dest, 'close');
      assert.deepEqual(readFileSync(file, 'utf8').split('\n').slice(0, -1), expected);
    }));

  it('calls flush callbacks once what was written before them is out', () =>
    withFile(async (file) => {
      const dest = new LineDestination(file);
      dest.writeLine('first');
      await new Promise<void>((resolve) => dest.flush(resolve));
      assert.equal(readFileSync(file, 'utf8'), 'first\n');
      dest.end();
      await once(dest, 'close');
    }));

  it('flushSync writes buffered lines before returning', () =>
    withFile(async (file) => {
      const dest = new LineDestination(file);
      dest.writeLine('a');
      dest.write('b\n');
      dest.flushSync();
      assert.equal(readFileSync(file, 'utf8'), 'a\nb\n');
      dest.end();
      await once(dest, 'close');
    }));
});
