import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { crc32 } from 'node:zlib';
import fc from 'fast-check';
import { GatewayError } from '../core/errors.ts';
import {
  encodeEvent,
  encodeEventStreamMessage,
  EventStreamDecoder,
  stringHeader,
  type EventStreamMessage,
} from './aws-event-stream.ts';

// The published event-stream test vectors (awslabs/aws-c-event-stream, also in smithy-typescript's
// eventstream-codec), as hex.
const VECTORS = {
  all_headers:
    '000000cc000000af0fae64ca0a6576656e742d74797065040000a00c0c636f6e74656e742d747970650700106170706c69636174696f6e2f6a736f6e0a626f6f6c2066616c73650109626f6f6c207472756500046279746502cf08627974652062756606001449276d2061206c6974746c6520746561706f74210974696d657374616d70080000000000845fed05696e74313603002a05696e7436340500000000028757b20475756964090102030405060708090a0b0c0d0e0f107b27666f6f273a27626172277daba5f10c',
  empty_message: '000000100000000005c248eb7d98c8ff',
  int32_header: '0000002d0000001041c424b80a6576656e742d74797065040000a00c7b27666f6f273a27626172277d36f480a0',
  payload_no_headers: '0000001d00000000fd528c5a7b27666f6f273a27626172277dc3653936',
  payload_one_str_header:
    '0000003d0000002007fd83960c636f6e74656e742d747970650700106170706c69636174696f6e2f6a736f6e7b27666f6f273a27626172277d8d9c08b1',
};
const hex = (name: keyof typeof VECTORS) => Buffer.from(VECTORS[name], 'hex');
const PAYLOAD = "{'foo':'bar'}";

function decodeAll(bytes: Buffer): { messages: EventStreamMessage[]; decoder: EventStreamDecoder } {
  const decoder = new EventStreamDecoder();
  return { messages: decoder.push(bytes), decoder };
}

/** The published corrupted_* vectors are valid vectors with one byte changed; so are the extra cases. */
function corrupted(bytes: Buffer, at: number, value?: number): Buffer {
  const copy = Buffer.from(bytes);
  copy[at] = value ?? copy[at]! ^ 0xff;
  return copy;
}

describe('AWS event-stream decoder', () => {
  it('decodes every header type (all_headers vector)', () => {
    const { messages } = decodeAll(hex('all_headers'));
    assert.equal(messages.length, 1);
    const { headers, payload } = messages[0]!;
    assert.deepEqual(headers['event-type'], { type: 'integer', value: 40972 });
    assert.deepEqual(headers['content-type'], { type: 'string', value: 'application/json' });
    assert.deepEqual(headers['bool false'], { type: 'boolean', value: false });
    assert.deepEqual(headers['bool true'], { type: 'boolean', value: true });
    assert.deepEqual(headers.byte, { type: 'byte', value: -49 });
    assert.deepEqual(headers['byte buf'], { type: 'binary', value: Buffer.from("I'm a little teapot!") });
    assert.deepEqual(headers.timestamp, { type: 'timestamp', value: new Date(8675309) });
    assert.deepEqual(headers.int16, { type: 'short', value: 42 });
    assert.deepEqual(headers.int64, { type: 'long', value: 42424242n });
    assert.deepEqual(headers.uuid, { type: 'uuid', value: '01020304-0506-0708-090a-0b0c0d0e0f10' });
    assert.equal(payload.toString(), PAYLOAD);
  });

  it('decodes the other published vectors', () => {
    assert.deepEqual(decodeAll(hex('empty_message')).messages, [{ headers: {}, payload: Buffer.alloc(0) }]);
    assert.equal(decodeAll(hex('payload_no_headers')).messages[0]!.payload.toString(), PAYLOAD);
    const [one] = decodeAll(hex('payload_one_str_header')).messages;
    assert.equal(stringHeader(one!, 'content-type'), 'application/json');
    assert.deepEqual(decodeAll(hex('int32_header')).messages[0]!.headers['event-type'], {
      type: 'integer',
      value: 40972,
    });
  });

  it('re-encodes every vector byte for byte', () => {
    for (const name of Object.keys(VECTORS) as (keyof typeof VECTORS)[]) {
      const [message] = decodeAll(hex(name)).messages;
      assert.deepEqual(encodeEventStreamMessage(message!), hex(name), name);
    }
  });

  const rejects: [string, Buffer, RegExp][] = [
    ['corrupted_length', corrupted(hex('payload_one_str_header'), 3, 62), /prelude CRC mismatch/],
    ['corrupted_header_len', corrupted(hex('payload_one_str_header'), 7, 33), /prelude CRC mismatch/],
    ['corrupted_headers', corrupted(hex('payload_one_str_header'), 45, 97), /message CRC mismatch/],
    ['a flipped header byte', corrupted(hex('payload_one_str_header'), 13), /message CRC mismatch/],
    ['corrupted_payload', corrupted(hex('payload_no_headers'), 12, 91), /message CRC mismatch/],
    ['corrupted message CRC', corrupted(hex('payload_no_headers'), 28), /message CRC mismatch/],
  ];
  for (const [name, bytes, reason] of rejects) {
    it(`rejects ${name} with a clear error`, () => {
      const { messages, decoder } = decodeAll(bytes);
      assert.deepEqual(messages, []);
      assert.ok(decoder.error instanceof GatewayError);
      assert.equal(decoder.error.code, 'upstream_stream_error');
      assert.match(decoder.error.message, reason);
      assert.deepEqual(decoder.push(hex('empty_message')), [], 'a failed decoder stays failed');
    });
  }

  it('keeps the messages before a corrupt one', () => {
    const bytes = Buffer.concat([hex('payload_no_headers'), corrupted(hex('payload_no_headers'), 20)]);
    const { messages, decoder } = decodeAll(bytes);
    assert.equal(messages.length, 1);
    assert.match(decoder.error!.message, /message CRC mismatch/);
  });

  it('rejects a prelude claiming an impossible length before waiting for the bytes', () => {
    const prelude = Buffer.alloc(12);
    prelude.writeUInt32BE(0x7fffffff, 0);
    prelude.writeUInt32BE(crc32(prelude.subarray(0, 8)), 8);
    const decoder = new EventStreamDecoder();
    assert.deepEqual(decoder.push(prelude), []);
    assert.match(decoder.error!.message, /impossible message length/);
  });

  it('carries partial messages across chunks and reports the pending tail', () => {
    const stream = Buffer.concat([encodeEvent('a', { x: 1 }), encodeEvent('b', { y: 'z'.repeat(5000) })]);
    const decoder = new EventStreamDecoder();
    const seen: string[] = [];
    for (let i = 0; i < stream.length; i += 7) {
      for (const m of decoder.push(stream.subarray(i, i + 7))) seen.push(stringHeader(m, ':event-type')!);
    }
    assert.deepEqual(seen, ['a', 'b']);
    assert.equal(decoder.pending, 0);
    decoder.push(stream.subarray(0, 20));
    assert.equal(decoder.pending, 20);
  });

  it('property: any split of the byte stream yields the same messages', () => {
    const stream = Buffer.concat([
      hex('all_headers'),
      hex('empty_message'),
      encodeEvent('x', { n: 1 }),
      hex('int32_header'),
    ]);
    const whole = decodeAll(stream).messages;
    fc.assert(
      fc.property(
        fc.uniqueArray(fc.integer({ min: 1, max: stream.length - 1 }), { maxLength: 30 }),
        (cuts) => {
          const points = [0, ...cuts.sort((a, b) => a - b), stream.length];
          const decoder = new EventStreamDecoder();
          const got: EventStreamMessage[] = [];
          for (let i = 1; i < points.length; i++)
            got.push(...decoder.push(stream.subarray(points[i - 1], points[i])));
          assert.deepEqual(got, whole);
          assert.equal(decoder.pending, 0);
        },
      ),
    );
  });
});
