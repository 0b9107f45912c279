// ConnectionLimits deadlines with a simulated clock.
import test from 'node:test';
import assert from 'node:assert/strict';
import { ConnectionLimits } from './limits.js';
import { parseConfig } from '../config/config.js';
import type { ServerCore } from './internal.js';

function limits(globals: string): ConnectionLimits {
  const server = { config: parseConfig(`[global]\n${globals}\n`), sessions: new Map() } as unknown as ServerCore;
  return new ConnectionLimits(server, 1);
}

test('frame timeout: one slow frame is dropped, a stream of frames is not', () => {
  const t0 = Date.now();
  const slow = limits('frame timeout = 1\nauth timeout = 0\ndeadtime = 0');
  slow.received(0, 100, t0);
  slow.received(0, 100, t0 + 900);
  assert.equal(slow.overdue(t0 + 900, 0), undefined);
  assert.match(slow.overdue(t0 + 1100, 0) ?? '', /frame timeout/);
  // Frames complete every 500 ms, each leaving the next one pending: never overdue.
  const busy = limits('frame timeout = 1\nauth timeout = 0\ndeadtime = 0');
  for (let t = 0; t <= 10_000; t += 500) {
    busy.received(1, 1000, t0 + t);
    assert.equal(busy.overdue(t0 + t + 400, 0), undefined, `at ${t} ms`);
  }
  // A large frame gets 1 s more per 64 KiB.
  const big = limits('frame timeout = 1\nauth timeout = 0\ndeadtime = 0');
  big.received(0, 10 * 65536, t0);
  assert.equal(big.overdue(t0 + 10_500, 0), undefined);
  assert.match(big.overdue(t0 + 11_100, 0) ?? '', /frame timeout/);
});

test('deadtime counts frames, not keepalives; requests in flight keep a connection', () => {
  const t0 = Date.now();
  const l = limits('deadtime = 0.01\nauth timeout = 0\nframe timeout = 0'); // 600 ms
  l.received(1, 0, t0);
  l.received(0, 0, t0 + 500); // a NetBIOS keepalive: no frame
  assert.equal(l.overdue(t0 + 550, 0), undefined);
  assert.match(l.overdue(t0 + 700, 0) ?? '', /deadtime/);
  assert.equal(l.overdue(t0 + 700, 1), undefined);
});
