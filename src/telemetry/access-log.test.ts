import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createLogger, isoTime } from './access-log.ts';
import { FLUSH_MS, LineDestination } from './log-destination.ts';

// The log destination buffers lines and writes them in blocks; a quiet gateway's lines must still reach
// the file (or stdout) promptly, not wait for the buffer to fill.

describe('log destination', () => {
  it('writes a lone line within the flush interval', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'sy-log-'));
    const file = join(dir, 'gateway.log');
    const dest = new LineDestination(file);
    try {
      const logger = createLogger('info', dest);
      logger.info({ id: 'r1' }, 'one quiet line');
      const deadline = Date.now() + FLUSH_MS * 4;
      let text = '';
      while (Date.now() < deadline && !text.includes('one quiet line')) {
        await new Promise((r) => setTimeout(r, 20));
        text = readFileSync(file, 'utf8');
      }
      assert.match(text, /"msg":"one quiet line"/);
      assert.equal(text.split('\n').filter((l) => l !== '').length, 1);
    } finally {
      dest.end();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('access-log time', () => {
  it('is the ISO form of the time, across milliseconds, seconds and days', () => {
    const base = Date.UTC(2026, 10, 23, 23, 59, 58, 0);
    for (const ms of [0, 1, 9, 10, 99, 100, 999, 1000, 1001, 1999, 2000, 2005, 86_400_000 + 7]) {
      assert.equal(isoTime(base + ms), new Date(base + ms).toISOString());
    }
    assert.equal(isoTime(base), new Date(base).toISOString(), 'back to an earlier second');
  });
});
