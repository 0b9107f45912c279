import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseConfig } from './config.js';
import { gcThreadsOf } from './gc.js';

test('smbts:gc threads: single by default, parallel on request, a bad value refuses to start', () => {
  const saved = process.env.SMBTS_GC_THREADS;
  delete process.env.SMBTS_GC_THREADS;
  try {
    assert.equal(gcThreadsOf(parseConfig('[global]\n[s]\npath = /tmp\n')), 'single');
    const cfg = parseConfig('[global]\nsmbts:gc threads = Parallel\n[s]\npath = /tmp\n');
    assert.equal(gcThreadsOf(cfg), 'parallel');
    assert.ok(!cfg.warnings?.some((w) => /gc/.test(w)), `no "unknown parameter" warning: ${cfg.warnings?.join('; ')}`);
    assert.throws(() => gcThreadsOf(parseConfig('[global]\nsmbts:gc threads = some\n[s]\npath = /tmp\n')), /"single" or "parallel"/);
    process.env.SMBTS_GC_THREADS = 'parallel';
    assert.equal(gcThreadsOf(parseConfig('[global]\n[s]\npath = /tmp\n')), 'parallel');
  } finally {
    if (saved === undefined) delete process.env.SMBTS_GC_THREADS;
    else process.env.SMBTS_GC_THREADS = saved;
  }
});
