import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { execFileSync } from 'node:child_process';
import { closeSync, constants, mkdtempSync, openSync, readFileSync, readSync, rmSync } from 'node:fs';
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

  it('waits out a full pipe (EAGAIN) and loses nothing', () =>
    withFile(async (file) => {
      // A FIFO opened non-blocking on both ends, as stdout is when it is a pipe: 200 KB of lines overflow
      // its 64 KB buffer while nobody reads.
      const fifo = `${file}.fifo`;
      execFileSync('mkfifo', [fifo]);
      const reader = openSync(fifo, constants.O_RDONLY | constants.O_NONBLOCK);
      const writer = openSync(fifo, constants.O_WRONLY | constants.O_NONBLOCK);
      const dest = new LineDestination(writer);
      const expected: string[] = [];
      for (let i = 0; i < 2_000; i++) {
        const line = `line ${i} ${'y'.repeat(90)}`;
        expected.push(line);
        dest.writeLine(line);
      }
      dest.flush(() => {});
      await new Promise((resolve) => setTimeout(resolve, 100)); // the writer is now held up by EAGAIN
      const chunks: Buffer[] = [];
      const buf = Buffer.alloc(65_536);
      const deadline = Date.now() + 10_000;
      let text = '';
      while (Date.now() < deadline && text.split('\n').length <= expected.length) {
        try {
          const n = readSync(reader, buf, 0, buf.length, null);
          chunks.push(Buffer.from(buf.subarray(0, n)));
          text = Buffer.concat(chunks).toString();
        } catch (err) {
          if ((err as NodeJS.ErrnoException).code !== 'EAGAIN') throw err;
          await new Promise((resolve) => setTimeout(resolve, 5));
        }
      }
      assert.deepEqual(text.split('\n').slice(0, -1), expected);
      dest.end();
      await once(dest, 'close');
      closeSync(writer);
      closeSync(reader);
    }));
});
