// The interop harness itself: the private Samba starts and stops, smbclient and smbtorture reach
// it, and smbtorture's subunit output parses.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { startSamba, smbclient, smbtorture, parseTorture, missingTools, type SambaHandle } from './peers.js';

describe('parseTorture', () => {
  it('reads success/failure/skip lines and bracketed messages', () => {
    const out = [
      'test: smb2.read.eof',
      'success: smb2.read.eof',
      'failure: smb2.read.dir [',
      '../../source4/torture/smb2/read.c:123: status was X',
      ']',
      'skip: smb2.read.bug14607 [',
      "server doesn't support it",
      ']',
      'error: smb2.read.access [ connection lost ]',
      'success: smb2.read',
      'failure: smb2.delete-on-close-perms.OVERWRITE_IF Existing [',
      'x',
      ']',
    ].join('\n');
    const r = parseTorture(out);
    assert.deepEqual(
      r.map((c) => [c.name, c.result]),
      [
        ['smb2.read.eof', 'success'],
        ['smb2.read.dir', 'failure'],
        ['smb2.read.bug14607', 'skip'],
        ['smb2.read.access', 'error'],
        ['smb2.read', 'success'],
        ['smb2.delete-on-close-perms.OVERWRITE_IF Existing', 'failure'],
      ],
    );
    assert.match(r[1]!.message ?? '', /status was X/);
    assert.equal(r[3]!.message, 'connection lost');
  });
});

const skip = missingTools(['smbd', 'smbclient', 'smbtorture']);

describe('startSamba', { skip, timeout: 120_000 }, () => {
  let s: SambaHandle;
  before(async () => {
    s = await startSamba();
  });
  after(async () => {
    await s?.stop();
  });
  it('smbclient ls works', { timeout: 30_000 }, async () => {
    const r = await smbclient(s.port, ['-c', 'ls']);
    assert.equal(r.code, 0, r.stdout + r.stderr);
    assert.match(r.stdout, /blocks available/);
  });
  it('smbtorture smb2.connect passes', { timeout: 60_000 }, async () => {
    const r = await smbtorture(s.port, ['smb2.connect'], { timeoutMs: 50_000 });
    assert.deepEqual(r.map((c) => c.result), ['success'], JSON.stringify(r));
  });
  it('stop() removes the private directory', { timeout: 30_000 }, async () => {
    const root = s.root;
    await s.stop();
    assert.equal(existsSync(root), false);
  });
});
