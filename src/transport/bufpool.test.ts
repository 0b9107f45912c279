import { test } from 'node:test';
import assert from 'node:assert/strict';
import { BufferPool } from './bufpool.js';

test('small requests are plain allocations, large ones are pooled and reused', () => {
  const pool = new BufferPool(64 * 1024 * 1024);
  const small = pool.get(1000);
  assert.equal(small.length, 1000);
  assert.equal(pool.owns(small), false);
  const big = pool.get(1024 * 1024 + 16);
  assert.equal(big.length, 1024 * 1024 + 16);
  assert.equal(pool.owns(big.subarray(16)), true);
  pool.release(big.subarray(16, 32));
  pool.release(big); // a second release of the same buffer is ignored
  const again = pool.get(1024 * 1024 + 1);
  assert.equal(again.buffer, big.buffer);
  const other = pool.get(1024 * 1024 + 1);
  assert.notEqual(other.buffer, big.buffer);
});

test('idle bytes are bounded', () => {
  const pool = new BufferPool(2 * 1024 * 1024);
  const a = pool.get(1024 * 1024);
  const b = pool.get(1024 * 1024);
  const c = pool.get(1024 * 1024);
  pool.release(a);
  pool.release(b);
  pool.release(c); // over the bound: dropped
  assert.equal(pool.get(1024 * 1024).buffer, b.buffer);
  assert.equal(pool.get(1024 * 1024).buffer, a.buffer);
  assert.notEqual(pool.get(1024 * 1024).buffer, c.buffer);
});
