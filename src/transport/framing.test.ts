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

test('DirectFrameReader: a large frame gets its full buffer only after 1 MiB of it arrived', async () => {
  const { DirectFrameReader } = await import('./framing.js');
  const sizes: number[] = [];
  const partial: number[] = [];
  const pool = { get: (n: number) => { sizes.push(n); return Buffer.alloc(n); } };
  const r = new DirectFrameReader(pool, undefined, (_f, filled) => partial.push(filled));
  const body = Buffer.alloc(8 * 1024 * 1024);
  for (let i = 0; i < body.length; i += 4096) body[i] = (i >> 12) & 0xff;
  const stream = Buffer.concat([frameHeader(body.length), body]);
  let pos = 0;
  const got: Buffer[] = [];
  // A header claiming 8 MiB and 100 KiB of data: no more than 1 MiB is held.
  while (pos < 4 + 100 * 1024) {
    const dst = r.next();
    const n = Math.min(dst.length, 4 + 100 * 1024 - pos);
    stream.copy(dst, 0, pos, pos + n);
    pos += n;
    got.push(...r.commit(n));
  }
  assert.equal(r.pendingFrame, body.length);
  assert.ok(Math.max(...sizes) <= 1024 * 1024, `allocated ${Math.max(...sizes)}`);
  assert.deepEqual(partial, []); // the staging buffer is never reported (early-write needs the real one)
  while (pos < stream.length) {
    const dst = r.next();
    const n = Math.min(dst.length, 256 * 1024, stream.length - pos);
    stream.copy(dst, 0, pos, pos + n);
    pos += n;
    got.push(...r.commit(n));
  }
  assert.equal(got.length, 1);
  assert.ok(got[0]!.equals(body));
  assert.ok(sizes.includes(body.length));
  assert.ok(partial.length > 0 && partial[0]! >= 1024 * 1024);
  assert.equal(r.pendingFrame, 0);
});

test('frame limits may change per frame (lower before authentication)', () => {
  let limit = 1000;
  const r = new FrameReader(() => limit);
  assert.throws(() => r.push(frameHeader(5000)), WireError);
  limit = 10_000;
  const r2 = new FrameReader(() => limit);
  assert.deepEqual(r2.push(frameHeader(5000)), []);
  assert.equal(r2.pendingFrame, 5000);
});
