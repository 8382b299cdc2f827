import { crc32 } from 'node:zlib';
import { GatewayError } from '../core/errors.ts';

// The AWS event-stream binary framing (application/vnd.amazon.eventstream) that Bedrock ConverseStream
// answers with. Every message is (integers big-endian):
//
//   total length u32 | headers length u32 | prelude CRC32 u32 | headers | payload | message CRC32 u32
//
// The prelude CRC covers the first 8 bytes, the message CRC everything before it. A header is
// name length u8 | name | type u8 | value, the value by type: 0 true and 1 false (no bytes), 2 byte i8,
// 3 short i16, 4 integer i32, 5 long i64, 6 bytes (u16 length + bytes), 7 string (u16 length + UTF-8),
// 8 timestamp (i64 ms since the epoch), 9 uuid (16 bytes).
//
// The decoder carries an incomplete message across reads (chunks are collected and joined once the
// message is complete, never rescanned) and verifies both checksums; a corrupt message fails the stream,
// since the framing cannot resynchronise after it.

export type HeaderValue =
  | { readonly type: 'boolean'; readonly value: boolean }
  | { readonly type: 'byte' | 'short' | 'integer'; readonly value: number }
  | { readonly type: 'long'; readonly value: bigint }
  | { readonly type: 'binary'; readonly value: Buffer }
  | { readonly type: 'string'; readonly value: string }
  | { readonly type: 'timestamp'; readonly value: Date }
  | { readonly type: 'uuid'; readonly value: string };

export interface EventStreamMessage {
  readonly headers: Readonly<Record<string, HeaderValue>>;
  readonly payload: Buffer;
}

const PRELUDE = 12;
const OVERHEAD = PRELUDE + 4;
/** The service limits: 16 MiB per message, 128 KiB of headers. */
const MAX_MESSAGE = 16 * 1024 * 1024 + OVERHEAD;
const MAX_HEADERS = 128 * 1024;

function corrupt(reason: string): GatewayError {
  return new GatewayError('upstream_stream_error', `Corrupt AWS event-stream message: ${reason}.`);
}

function formatUuid(hex: string): string {
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

/** Read one header value of `type` at `pos`; returns the value and the offset after it. */
function readValue(buf: Buffer, type: number, pos: number): [HeaderValue, number] {
  switch (type) {
    case 0:
      return [{ type: 'boolean', value: true }, pos];
    case 1:
      return [{ type: 'boolean', value: false }, pos];
    case 2:
      return [{ type: 'byte', value: buf.readInt8(pos) }, pos + 1];
    case 3:
      return [{ type: 'short', value: buf.readInt16BE(pos) }, pos + 2];
    case 4:
      return [{ type: 'integer', value: buf.readInt32BE(pos) }, pos + 4];
    case 5:
      return [{ type: 'long', value: buf.readBigInt64BE(pos) }, pos + 8];
    case 6:
    case 7: {
      const end = pos + 2 + buf.readUInt16BE(pos);
      if (end > buf.length) throw corrupt('header value overruns the headers');
      const bytes = buf.subarray(pos + 2, end);
      return [
        type === 6
          ? { type: 'binary', value: Buffer.from(bytes) }
          : { type: 'string', value: bytes.toString('utf8') },
        end,
      ];
    }
    case 8:
      return [{ type: 'timestamp', value: new Date(Number(buf.readBigInt64BE(pos))) }, pos + 8];
    case 9:
      if (pos + 16 > buf.length) throw corrupt('header value overruns the headers');
      return [{ type: 'uuid', value: formatUuid(buf.toString('hex', pos, pos + 16)) }, pos + 16];
    default:
      throw corrupt(`unknown header type ${type}`);
  }
}

function readHeaders(buf: Buffer): Record<string, HeaderValue> {
  const headers: Record<string, HeaderValue> = {};
  let pos = 0;
  try {
    while (pos < buf.length) {
      const nameEnd = pos + 1 + buf.readUInt8(pos);
      if (nameEnd >= buf.length) throw corrupt('header name overruns the headers');
      const name = buf.toString('utf8', pos + 1, nameEnd);
      const [value, next] = readValue(buf, buf.readUInt8(nameEnd), nameEnd + 1);
      headers[name] = value;
      pos = next;
    }
  } catch (err) {
    if (err instanceof GatewayError) throw err;
    throw corrupt('header value overruns the headers'); // a RangeError from a Buffer read
  }
  return headers;
}

/** Check the prelude at `start`; returns the message's total length. */
function checkPrelude(buf: Buffer, start: number): number {
  const total = buf.readUInt32BE(start);
  const headersLength = buf.readUInt32BE(start + 4);
  if (crc32(buf.subarray(start, start + 8)) !== buf.readUInt32BE(start + 8))
    throw corrupt('prelude CRC mismatch');
  if (total < OVERHEAD || total > MAX_MESSAGE) throw corrupt(`impossible message length ${total}`);
  if (headersLength > MAX_HEADERS || headersLength > total - OVERHEAD) {
    throw corrupt(`impossible headers length ${headersLength}`);
  }
  return total;
}

function decodeMessage(buf: Buffer, start: number, total: number): EventStreamMessage {
  const end = start + total;
  if (crc32(buf.subarray(start, end - 4)) !== buf.readUInt32BE(end - 4))
    throw corrupt('message CRC mismatch');
  const headersEnd = start + PRELUDE + buf.readUInt32BE(start + 4);
  return {
    headers: readHeaders(buf.subarray(start + PRELUDE, headersEnd)),
    payload: buf.subarray(headersEnd, end - 4),
  };
}

/**
 * Incremental decoder: feed it chunks as they arrive, get back the messages they complete. A corrupt
 * message sets `error` (a GatewayError naming the fault); the messages before it are still returned, and
 * every later push returns nothing.
 */
export class EventStreamDecoder {
  error: GatewayError | null = null;
  private parts: Buffer[] = [];
  private buffered = 0;
  /** Bytes needed before decoding can make progress (a prelude, or the current message's total). */
  private needed = PRELUDE;

  push(chunk: Buffer): EventStreamMessage[] {
    if (this.error !== null) return [];
    this.parts.push(chunk);
    this.buffered += chunk.length;
    if (this.buffered < this.needed) return [];
    const buf = this.parts.length === 1 ? chunk : Buffer.concat(this.parts, this.buffered);
    const messages: EventStreamMessage[] = [];
    let offset = 0;
    this.needed = PRELUDE;
    try {
      while (buf.length - offset >= PRELUDE) {
        const total = checkPrelude(buf, offset);
        if (buf.length - offset < total) {
          this.needed = total;
          break;
        }
        messages.push(decodeMessage(buf, offset, total));
        offset += total;
      }
    } catch (err) {
      this.error = err instanceof GatewayError ? err : corrupt('unreadable message');
      this.parts = [];
      this.buffered = 0;
      return messages;
    }
    // Copy the remainder so the decoded messages' backing buffer is not kept alive by the tail.
    const rest = offset === buf.length ? null : Buffer.from(buf.subarray(offset));
    this.parts = rest === null ? [] : [rest];
    this.buffered = rest === null ? 0 : rest.length;
    return messages;
  }

  /** Bytes of an incomplete message still held (non-zero at end of stream means it was cut). */
  get pending(): number {
    return this.buffered;
  }
}

const TYPE_CODE = {
  boolean: 0,
  byte: 2,
  short: 3,
  integer: 4,
  long: 5,
  binary: 6,
  string: 7,
  timestamp: 8,
  uuid: 9,
} as const satisfies Record<HeaderValue['type'], number>;

function encodeHeader(name: string, header: HeaderValue): Buffer {
  const nameBytes = Buffer.from(name, 'utf8');
  let value: Buffer;
  switch (header.type) {
    case 'boolean':
      value = Buffer.alloc(0);
      break;
    case 'byte':
      value = Buffer.alloc(1);
      value.writeInt8(header.value);
      break;
    case 'short':
      value = Buffer.alloc(2);
      value.writeInt16BE(header.value);
      break;
    case 'integer':
      value = Buffer.alloc(4);
      value.writeInt32BE(header.value);
      break;
    case 'long':
    case 'timestamp':
      value = Buffer.alloc(8);
      value.writeBigInt64BE(header.type === 'long' ? header.value : BigInt(header.value.getTime()));
      break;
    case 'binary':
    case 'string': {
      const bytes = header.type === 'binary' ? header.value : Buffer.from(header.value, 'utf8');
      value = Buffer.alloc(2 + bytes.length);
      value.writeUInt16BE(bytes.length);
      bytes.copy(value, 2);
      break;
    }
    case 'uuid':
      value = Buffer.from(header.value.replaceAll('-', ''), 'hex');
      break;
  }
  const type = header.type === 'boolean' && !header.value ? 1 : TYPE_CODE[header.type];
  return Buffer.concat([Buffer.from([nameBytes.length]), nameBytes, Buffer.from([type]), value]);
}

/** Encode one message (for tests and fake upstreams). */
export function encodeEventStreamMessage(message: {
  readonly headers: Readonly<Record<string, HeaderValue>>;
  readonly payload: Buffer | string;
}): Buffer {
  const headers = Buffer.concat(
    Object.entries(message.headers).map(([name, value]) => encodeHeader(name, value)),
  );
  const payload =
    typeof message.payload === 'string' ? Buffer.from(message.payload, 'utf8') : message.payload;
  const total = OVERHEAD + headers.length + payload.length;
  const out = Buffer.alloc(total);
  out.writeUInt32BE(total, 0);
  out.writeUInt32BE(headers.length, 4);
  out.writeUInt32BE(crc32(out.subarray(0, 8)), 8);
  headers.copy(out, PRELUDE);
  payload.copy(out, PRELUDE + headers.length);
  out.writeUInt32BE(crc32(out.subarray(0, total - 4)), total - 4);
  return out;
}

const str = (value: string): HeaderValue => ({ type: 'string', value });

/** An event message as AWS services send them (`:message-type` event, JSON payload). */
export function encodeEvent(eventType: string, payload: unknown): Buffer {
  return encodeEventStreamMessage({
    headers: {
      ':event-type': str(eventType),
      ':content-type': str('application/json'),
      ':message-type': str('event'),
    },
    payload: JSON.stringify(payload),
  });
}

/** A modelled exception message (`:message-type` exception), e.g. throttlingException. */
export function encodeException(exceptionType: string, message: string): Buffer {
  return encodeEventStreamMessage({
    headers: {
      ':exception-type': str(exceptionType),
      ':content-type': str('application/json'),
      ':message-type': str('exception'),
    },
    payload: JSON.stringify({ message }),
  });
}

/** A header's value when it is a string, else undefined. */
export function stringHeader(message: EventStreamMessage, name: string): string | undefined {
  const header = message.headers[name];
  return header?.type === 'string' ? header.value : undefined;
}
