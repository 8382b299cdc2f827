import { EventEmitter } from 'node:events';
import { closeSync, openSync, write, writeSync } from 'node:fs';

// Where log lines go (a file descriptor or a path). Lines are UTF-8 encoded as they arrive straight into
// a block buffer, and blocks of about BLOCK_BYTES are written asynchronously (each write is a round trip
// through libuv's thread pool, so fewer is cheaper under load); a line never waits longer than
// FLUSH_MS for traffic to fill its block.
//
// Why not pino.destination (SonicBoom): it appends each line to a string and measures the whole
// string's UTF-8 length at every write, which copies the block built so far (a concatenated string is
// flattened to be measured): at 12 KB blocks that is several KB copied per line.

/** Lines wait in memory at most this long. */
export const FLUSH_MS = 500;
/** A block is written once it holds this many bytes. */
const BLOCK_BYTES = 12 * 1024;
/** Room per block: a line of up to (CAPACITY - BLOCK_BYTES) / 3 characters always fits after a flush point. */
const CAPACITY = 16 * 1024;
/** A pipe or terminal that is full (EAGAIN) is tried again after this long. */
const RETRY_MS = 10;

const open = new Set<LineDestination>();

function callAll(fns: readonly (() => void)[]): void {
  for (const fn of fns) fn();
}
let exitHook = false;

export class LineDestination extends EventEmitter {
  readonly #fd: number;
  readonly #owned: boolean;
  /** Full blocks waiting to be written, oldest first. */
  readonly #queue: Buffer[] = [];
  #block: Buffer = Buffer.allocUnsafe(CAPACITY);
  #used = 0;
  #spare: Buffer | null = null;
  #writing = false;
  #flushed: (() => void)[] = [];
  readonly #timer: NodeJS.Timeout;
  destroyed = false;

  constructor(dest: number | string) {
    super();
    this.#owned = typeof dest === 'string';
    this.#fd = typeof dest === 'string' ? openSync(dest, 'a') : dest;
    this.#timer = setInterval(() => this.#writeNext(), FLUSH_MS);
    this.#timer.unref();
    open.add(this);
    if (!exitHook) {
      exitHook = true;
      process.once('exit', () => {
        for (const d of open) d.flushSync();
      });
    }
  }

  /** A whole line, newline included (pino's lines). */
  write(text: string): boolean {
    if (this.destroyed) return false;
    this.#append(text);
    if (this.#used >= BLOCK_BYTES) this.#writeNext();
    return true;
  }

  /** A line given without its newline: encoded as is, so no joined copy of the line is made. */
  writeLine(text: string): void {
    if (this.destroyed) return;
    this.#append(text);
    if (this.#used === CAPACITY) this.#seal();
    this.#block[this.#used++] = 0x0a;
    if (this.#used >= BLOCK_BYTES) this.#writeNext();
  }

  #append(text: string): void {
    // At most 3 bytes per UTF-16 unit; a line too long for any block is a block of its own.
    if (text.length * 3 > CAPACITY - this.#used) {
      this.#seal();
      if (text.length * 3 > CAPACITY) {
        this.#queue.push(Buffer.from(text));
        return;
      }
    }
    this.#used += this.#block.write(text, this.#used);
  }

  /** Queues the current block (if it holds anything) and starts another. */
  #seal(): void {
    if (this.#used === 0) return;
    this.#queue.push(this.#block.subarray(0, this.#used));
    this.#block = this.#spare ?? Buffer.allocUnsafe(CAPACITY);
    this.#spare = null;
    this.#used = 0;
  }

  #writeNext(): void {
    if (this.#writing) return;
    if (this.#queue.length === 0) this.#seal();
    const next = this.#queue.shift();
    if (next === undefined) {
      // Never synchronously: a caller attaches its listeners after asking.
      if (this.#flushed.length > 0) process.nextTick(callAll, this.#flushed.splice(0));
      return;
    }
    this.#writing = true;
    this.#send(next, 0);
  }

  #send(data: Buffer, offset: number): void {
    write(this.#fd, data, offset, data.length - offset, null, (err, written) => {
      if (err !== null && err.code === 'EAGAIN') {
        setTimeout(() => this.#send(data, offset), RETRY_MS).unref();
        return;
      }
      if (err === null && offset + written < data.length) {
        this.#send(data, offset + written);
        return;
      }
      // A log that cannot be written is dropped (the gateway must not fail or stall for its log).
      if (data.buffer.byteLength === CAPACITY && this.#spare === null) this.#spare = Buffer.from(data.buffer);
      this.#writing = false;
      if (this.#queue.length > 0 || this.#used >= BLOCK_BYTES || this.#flushed.length > 0) this.#writeNext();
    });
  }

  /** Writes everything buffered; `done` is called once it is out. */
  flush(done: () => void = () => {}): void {
    this.#flushed.push(done);
    this.#writeNext();
  }

  /** Writes what is buffered (not a block already being written) before returning: at exit. */
  flushSync(): void {
    this.#seal();
    for (const data of this.#queue.splice(0)) {
      let offset = 0;
      for (let tries = 0; offset < data.length && tries < 1_000;) {
        try {
          offset += writeSync(this.#fd, data, offset, data.length - offset);
        } catch (err) {
          if ((err as NodeJS.ErrnoException).code !== 'EAGAIN') break;
          tries++;
          Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 1);
        }
      }
    }
  }

  /** Flushes, closes a file this destination opened, and emits 'close'. */
  end(): void {
    if (this.destroyed) return;
    this.flush(() => {
      this.destroyed = true;
      clearInterval(this.#timer);
      open.delete(this);
      if (this.#owned) closeSync(this.#fd);
      this.emit('close');
    });
  }
}
