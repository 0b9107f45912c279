import test from 'node:test';
import assert from 'node:assert/strict';
import { parseConfig } from './config.js';
import { DEFAULT_LIMITS } from './limits.js';

test('resource limit keys: defaults, units, bad values', () => {
  assert.deepEqual(parseConfig('').limits, DEFAULT_LIMITS);
  const c = parseConfig([
    '[global]', 'deadtime = 0.5', 'frame timeout = 2', 'auth timeout = 0', 'max smbd processes = 10',
    'max connections per client = 2', 'max pending sessions = 3', 'max sessions per connection = 4',
    'max open files = 5', 'fd reserve = 6', 'max lock elements = 7', 'max locks per file = 8',
    'max unauthenticated frame = 8192', 'max disconnected durable opens = 9',
  ].join('\n'));
  assert.deepEqual(c.warnings, []);
  assert.deepEqual(c.limits, {
    deadtimeMs: 30_000, frameTimeoutMs: 2000, authTimeoutMs: 0, maxConnections: 10, maxConnectionsPerClient: 2,
    maxPendingSessions: 3, maxSessionsPerConnection: 4, maxOpenFiles: 5, fdReserve: 6, maxLockElements: 7,
    maxLocksPerFile: 8, maxUnauthFrame: 8192, maxDisconnectedOpens: 9,
  });
  const bad = parseConfig('[global]\nmax open files = lots\nmax lock elements = 0\nmax pending sessions = 1.5\n');
  assert.equal(bad.warnings.length, 3);
  assert.equal(bad.limits?.maxOpenFiles, DEFAULT_LIMITS.maxOpenFiles);
});
