import test from 'node:test';
import assert from 'node:assert/strict';
import { FrameReader, frameHeader } from './framing.js';
import { WireError } from '../wire/buf.js';

test('frames split across and within chunks come out whole', () => {
  const a = Buffer.alloc(100, 1), b = Buffer.alloc(7, 2);
  const stream = Buffer.concat([frameHeader(a.length), a, frameHeader(b.length), b]);
  const r = new FrameReader();
  const got: Buffer[] = [];
  for (let i = 0; i < stream.length; i += 3) got.push(...r.push(stream.subarray(i, i + 3)));
  assert.deepEqual(got, [a, b]);
  assert.deepEqual(new FrameReader().push(stream), [a, b]);
});

test('oversized and non-session frames are rejected', () => {
  assert.throws(() => new FrameReader(1000).push(frameHeader(5000)), WireError);
  assert.throws(() => new FrameReader().push(Buffer.from([0x81, 0, 0, 0])), WireError);
  assert.deepEqual(new FrameReader().push(Buffer.from([0x85, 0, 0, 0])), []);
});
