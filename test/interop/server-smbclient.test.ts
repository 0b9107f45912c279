// smbclient (Samba 4.x) against smbts: for each dialect (SMB2_10, SMB3_00, SMB3_11) and each
// protection (plain, signing required, encrypted): ls, mkdir, put, get (sha256 of a random
// 1 MiB + 1 byte file), allinfo, rename, del, rmdir; plus `smbclient -L` and a bad password.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes, createHash } from 'node:crypto';
import { mkdtemp, writeFile, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startTarget, smbclient, protectionArgs, missingTools, HOST, type SmbtsHandle, type RunResult } from './peers.js';

const skip = missingTools(['smbclient']);
const T = { timeout: 60_000 };

function sha256(b: Buffer): string {
  return createHash('sha256').update(b).digest('hex');
}

/** smbclient reports most failures as "NT_STATUS_..." on stdout with exit 0 or 1. */
function assertOk(r: RunResult, what: string): void {
  const all = r.stdout + r.stderr;
  assert.ok(!r.timedOut, `${what}: smbclient timed out\n${all}`);
  assert.equal(r.code, 0, `${what}: exit ${r.code}\n${all}`);
  assert.doesNotMatch(all, /NT_STATUS_\w+/, `${what}: error reported\n${all}`);
}

describe('smbclient -> smbts', { skip, timeout: 600_000 }, () => {
  let srv: SmbtsHandle;
  let local: string;
  let data: Buffer;
  before(async () => {
    srv = await startTarget();
    local = await mkdtemp(join(tmpdir(), 'smbts-sc-'));
    data = randomBytes(1024 * 1024 + 1);
    await writeFile(join(local, 'src.bin'), data);
  });
  after(async () => {
    await srv?.stop();
    if (local) await rm(local, { recursive: true, force: true });
  });

  it('smbclient -L lists the share and IPC$', T, async () => {
    const r = await smbclient(srv.port, ['-L', HOST], { share: null });
    assert.ok(!r.timedOut, 'timed out');
    assert.match(r.stdout, /^\s*share\s+Disk/m, r.stdout + r.stderr);
    assert.match(r.stdout, /^\s*IPC\$\s+IPC/m, r.stdout + r.stderr);
  });

  it('a wrong password is refused with NT_STATUS_LOGON_FAILURE', T, async () => {
    const r = await smbclient(srv.port, ['-c', 'ls'], { pass: 'wrong-password' });
    assert.notEqual(r.code, 0);
    assert.match(r.stdout + r.stderr, /NT_STATUS_LOGON_FAILURE/);
  });

  for (const dialect of ['SMB2_10', 'SMB3_00', 'SMB3_11'] as const) {
    for (const prot of ['off', 'sign', 'encrypt'] as const) {
      const name = `${dialect} ${prot === 'off' ? 'plain' : prot}`;
      if (dialect === 'SMB2_10' && prot === 'encrypt') {
        it(`${name}: the client refuses (no SMB3 encryption in 2.1)`, T, async () => {
          const r = await smbclient(srv.port, ['-m', dialect, ...protectionArgs(prot), '-c', 'ls']);
          assert.ok(!r.timedOut, 'timed out');
          assert.notEqual(r.code, 0, r.stdout + r.stderr);
        });
        continue;
      }
      describe(name, { timeout: 240_000 }, () => {
        const dir = `d_${dialect}_${prot}`;
        const sc = (cmd: string) =>
          smbclient(srv.port, ['-m', dialect, ...protectionArgs(prot), '-c', cmd], { cwd: local, timeoutMs: 50_000 });

        it('ls', T, async () => {
          const r = await sc('ls');
          assertOk(r, 'ls');
          assert.match(r.stdout, /^\s+\.\s+D/m, r.stdout);
        });
        it('mkdir', T, async () => {
          assertOk(await sc(`mkdir ${dir}`), 'mkdir');
          const r = await sc('ls');
          assert.match(r.stdout, new RegExp(`^\\s+${dir}\\s+D`, 'm'), r.stdout);
        });
        it('put 1 MiB + 1', T, async () => {
          assertOk(await sc(`put src.bin ${dir}\\f.bin`), 'put');
          const r = await sc(`ls ${dir}\\f.bin`);
          assertOk(r, 'ls after put');
          assert.match(r.stdout, new RegExp(`f\\.bin\\s+A?\\s*${data.length}\\s`), r.stdout);
        });
        it('get is byte-identical', T, async () => {
          const out = `got_${dialect}_${prot}.bin`;
          assertOk(await sc(`get ${dir}\\f.bin ${out}`), 'get');
          const got = await readFile(join(local, out));
          assert.equal(got.length, data.length);
          assert.equal(sha256(got), sha256(data));
        });
        it('allinfo', T, async () => {
          const r = await sc(`allinfo ${dir}\\f.bin`);
          assertOk(r, 'allinfo');
          assert.match(r.stdout, /create_time:/, r.stdout);
          assert.match(r.stdout, /write_time:/, r.stdout);
          assert.match(r.stdout, /attributes:\s+\S*A/, r.stdout);
        });
        it('rename', T, async () => {
          assertOk(await sc(`rename ${dir}\\f.bin ${dir}\\g.bin`), 'rename');
          const r = await sc(`ls ${dir}\\*`);
          assert.match(r.stdout, /g\.bin/, r.stdout);
          assert.doesNotMatch(r.stdout, /f\.bin/, r.stdout);
        });
        it('del', T, async () => {
          assertOk(await sc(`del ${dir}\\g.bin`), 'del');
          const r = await sc(`ls ${dir}\\*`);
          assert.doesNotMatch(r.stdout, /g\.bin/, r.stdout);
        });
        it('rmdir', T, async () => {
          assertOk(await sc(`rmdir ${dir}`), 'rmdir');
          const r = await sc('ls');
          assert.doesNotMatch(r.stdout, new RegExp(`^\\s+${dir}\\s`, 'm'), r.stdout);
        });
      });
    }
  }
});
