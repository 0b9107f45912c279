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

test('DirectFrameReader: small frames copied out, large frames read into their own pooled buffer', async () => {
  const { DirectFrameReader } = await import('./framing.js');
  const { BufferPool } = await import('./bufpool.js');
  const pool = new BufferPool();
  const small = Buffer.alloc(100, 1);
  const big = Buffer.alloc(300 * 1024);
  for (let i = 0; i < big.length; i++) big[i] = i & 0xff;
  const tail = Buffer.alloc(7, 3);
  const stream = Buffer.concat([frameHeader(small.length), small, Buffer.from([0x85, 0, 0, 0]),
    frameHeader(big.length), big, frameHeader(tail.length), tail]);
  for (const step of [1, 4093, 65536, 1 << 20]) {
    const r = new DirectFrameReader(pool);
    const got: Buffer[] = [];
    let pos = 0;
    while (pos < stream.length) {
      const dst = r.next();
      const n = Math.min(step, dst.length, stream.length - pos);
      assert.ok(n > 0);
      stream.copy(dst, 0, pos, pos + n);
      pos += n;
      got.push(...r.commit(n));
    }
    assert.deepEqual(got, [small, big, tail], `step ${step}`);
    assert.equal(pool.owns(got[1]!), true);
  }
  const bad = new DirectFrameReader(pool, 1000);
  frameHeader(5000).copy(bad.next());
  assert.throws(() => bad.commit(4), WireError);
});
