// Settings of durable handles (server/durable.ts): config keys, timeouts, where persistent state lives.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { parseConfig } from '../config/config.js';
import {
  continuouslyAvailable, durableAllowed, persistentDir, v1TimeoutMs, v2TimeoutMs,
  DEFAULT_V1_TIMEOUT_MS, DEFAULT_V2_TIMEOUT_MS, DEFAULT_V2_MAX_TIMEOUT_MS,
} from './durable.js';

const conf = (g: string, share: string): ReturnType<typeof parseConfig> =>
  parseConfig(`[global]\n${g}\n[s]\n path = /tmp\n${share}\n`);

describe('durable handle settings', () => {
  it('defaults: durable on, not CA, v1 16 min, v2 60 s for 0 and capped at 300 s', () => {
    const c = conf('', '');
    const s = c.shares[0]!;
    assert.equal(durableAllowed(s), true);
    assert.equal(continuouslyAvailable(s), false);
    assert.equal(v1TimeoutMs(c), DEFAULT_V1_TIMEOUT_MS);
    assert.equal(DEFAULT_V1_TIMEOUT_MS, 960_000);
    assert.equal(v2TimeoutMs(c, 0), DEFAULT_V2_TIMEOUT_MS);
    assert.equal(v2TimeoutMs(c, 0xffffffff), DEFAULT_V2_MAX_TIMEOUT_MS);
    assert.equal(v2TimeoutMs(c, 5000), 5000);
    assert.deepEqual(c.warnings, []);
  });

  it('keys: continuous availability, durable handles = no, timeouts', () => {
    const c = conf(' durable handle timeout = 30\n durable v2 max timeout = 2', ' continuous availability = yes');
    assert.deepEqual(c.warnings, [], 'the keys are known');
    assert.equal(continuouslyAvailable(c.shares[0]!), true);
    assert.equal(v1TimeoutMs(c), 30_000);
    assert.equal(v2TimeoutMs(c, 0), 2000, 'the cap applies to the default too');
    assert.equal(v2TimeoutMs(c, 60_000), 2000);
    const off = conf('', ' continuous availability = yes\n durable handles = no');
    assert.equal(durableAllowed(off.shares[0]!), false);
    assert.equal(continuouslyAvailable(off.shares[0]!), false, 'no persistent handles without durable handles');
    assert.equal(continuouslyAvailable(conf('', ' smb3 persistent handles = yes').shares[0]!), true);
    assert.equal(continuouslyAvailable(parseConfig('[x]\n path = /tmp\n').shares.find((s) => s.ipc)!), false);
  });

  it('persistent state lives under SMBTS_HOME, outside the share', () => {
    const prev = process.env.SMBTS_HOME;
    process.env.SMBTS_HOME = '/var/lib/smbts-test-home';
    try {
      const d = persistentDir(conf('', '').shares[0]!);
      assert.match(d, /^\/var\/lib\/smbts-test-home\/state\/[0-9a-f]{16}\/opens$/);
    } finally {
      if (prev === undefined) delete process.env.SMBTS_HOME;
      else process.env.SMBTS_HOME = prev;
    }
  });
});
