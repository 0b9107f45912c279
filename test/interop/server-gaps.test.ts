// Gaps found by other clients and by the full smbtorture registry (issue 12), each checked with a
// real peer against smbts: hard links (SET_INFO FileLinkInformation, smbclient `hardlink`) and a
// double separator inside a path name.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { stat, readFile, writeFile, mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { startTarget, smbclient, missingTools, type SmbtsHandle } from './peers.js';

const skip = missingTools(['smbclient']);
const T = { timeout: 60_000 };

describe('smbts gaps found by other clients', { skip, timeout: 300_000 }, () => {
  let srv: SmbtsHandle;
  before(async () => {
    srv = await startTarget();
    await writeFile(join(srv.shareDir, 'orig.txt'), 'hard link content\n');
    await mkdir(join(srv.shareDir, 'dir'));
    await writeFile(join(srv.shareDir, 'dir', 'inner.txt'), 'inner\n');
  });
  after(async () => {
    await srv?.stop();
  });

  it('smbclient hardlink makes a second name of the same file', T, async () => {
    const r = await smbclient(srv.port, ['-m', 'SMB3_11', '-c', 'hardlink orig.txt linked.txt']);
    assert.doesNotMatch(r.stdout + r.stderr, /NT_STATUS_\w+/, r.stdout + r.stderr);
    const a = await stat(join(srv.shareDir, 'orig.txt'));
    const b = await stat(join(srv.shareDir, 'linked.txt'));
    assert.equal(a.ino, b.ino, 'same inode');
    assert.equal(a.nlink, 2);
    assert.equal(await readFile(join(srv.shareDir, 'linked.txt'), 'utf8'), 'hard link content\n');
  });

  it('a hard link onto an existing name without replace is OBJECT_NAME_COLLISION', T, async () => {
    await writeFile(join(srv.shareDir, 'other.txt'), 'keep me\n');
    const r = await smbclient(srv.port, ['-m', 'SMB3_11', '-c', 'hardlink orig.txt other.txt']);
    assert.match(r.stdout + r.stderr, /NT_STATUS_OBJECT_NAME_COLLISION/, r.stdout + r.stderr);
    assert.equal(await readFile(join(srv.shareDir, 'other.txt'), 'utf8'), 'keep me\n');
  });

  it('a hard link of a directory is refused and creates nothing', T, async () => {
    const r = await smbclient(srv.port, ['-m', 'SMB3_11', '-c', 'hardlink dir dirlink']);
    assert.match(r.stdout + r.stderr, /NT_STATUS_FILE_IS_A_DIRECTORY/, r.stdout + r.stderr);
    await assert.rejects(stat(join(srv.shareDir, 'dirlink')));
  });

  it('a hard link cannot leave the share', T, async () => {
    // smbclient may clean the name itself; whatever reaches the server must stay inside the share.
    await smbclient(srv.port, ['-m', 'SMB3_11', '-c', 'hardlink orig.txt ..\\escaped.txt']);
    await assert.rejects(stat(join(srv.shareDir, '..', 'escaped.txt')));
  });

  it('a double separator inside a path names the same file (as Samba)', T, async () => {
    const r = await smbclient(srv.port, ['-m', 'SMB3_11', '-c', 'allinfo dir\\\\inner.txt']);
    assert.doesNotMatch(r.stdout + r.stderr, /NT_STATUS_\w+/, r.stdout + r.stderr);
    assert.match(r.stdout, /create_time:/);
  });
});
