// Issue 9 items 2 and 11, with smbclient and rpcclient against smbts:
// - `valid users` applies to guest and null sessions too (Samba: they are the guest account),
//   `invalid users`, `read list` and `write list` with Samba semantics;
// - srvsvc NetrShareEnum / NetrShareGetInfo levels 2 and 502 (local paths) only for
//   `admin users`; null sessions and normal users get WERR_ACCESS_DENIED there, levels 0/1 work.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, mkdir, writeFile, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startSmbts, run, impacket, missingTools, HOST, type SmbtsHandle } from './peers.js';

const skip = missingTools(['smbclient', 'rpcclient', 'impacket']);
const USERS: Array<[string, string]> = [['u1', 'pw-u1'], ['u2', 'pw-u2'], ['u3', 'pw-u3'], ['boss', 'pw-boss']];
const pass = (u: string) => USERS.find(([n]) => n === u)?.[1] ?? 'wrong';

/** Who connects: a user of the db, a bad user (mapped to guest) or the null session. */
type Who = 'u1' | 'u2' | 'u3' | 'boss' | 'guest' | 'null';

function cred(who: Who): string[] {
  if (who === 'null') return ['-U%', '-N'];
  if (who === 'guest') return ['-U', 'nosuchuser%whatever'];
  return ['-U', `${who}%${pass(who)}`];
}

describe('share user lists and srvsvc path levels', { skip, timeout: 120_000 }, () => {
  let root: string;
  let srv: SmbtsHandle;
  let conf: string;
  const smb = (who: Who, share: string, cmd: string) =>
    run('smbclient', [`//${HOST}/${share}`, '-s', conf, '-p', String(srv.port), ...cred(who), '-c', cmd], { cwd: root, timeoutMs: 30_000 });
  const rpc = (who: Who, cmd: string) =>
    run('rpcclient', [HOST, '-s', conf, '-p', String(srv.port), ...cred(who), '-c', cmd], { timeoutMs: 30_000 });

  before(async () => {
    root = await mkdtemp(join(tmpdir(), 'smbts-users-'));
    for (const d of ['guarded', 'open', 'ro', 'acl']) {
      await mkdir(join(root, d));
      await writeFile(join(root, d, 'f.txt'), `${d} data\n`);
    }
    await writeFile(join(root, 'up.txt'), 'uploaded\n');
    conf = join(root, 'client.conf');
    await writeFile(conf, '[global]\n  workgroup = WORKGROUP\n  client min protocol = SMB2_02\n');
    srv = await startSmbts({
      users: USERS,
      configText: [
        '[global]', '  map to guest = bad user', '  admin users = boss',
        '[guarded]', `  path = ${join(root, 'guarded')}`, '  guest ok = yes', '  read only = no', '  valid users = u1',
        '[open]', `  path = ${join(root, 'open')}`, '  guest ok = yes', '  read only = no', '  invalid users = u2', '  read list = u3, nobody',
        '[ro]', `  path = ${join(root, 'ro')}`, '  read only = yes', '  write list = u1 u3', '  read list = u3',
        '[acl]', `  path = ${join(root, 'acl')}`, '  read only = no', '  admin users = boss',
        '',
      ].join('\n'),
    });
  });
  after(async () => {
    await srv?.stop();
    if (root) await rm(root, { recursive: true, force: true });
  });

  it('valid users = u1: the null session, a bad-user guest and u2 are refused at TREE_CONNECT; u1 gets in', async () => {
    for (const who of ['null', 'guest', 'u2', 'boss'] as const) {
      const r = await smb(who, 'guarded', 'get f.txt got-guarded');
      assert.match(r.stdout + r.stderr, /tree connect failed: NT_STATUS_ACCESS_DENIED|NT_STATUS_ACCESS_DENIED/, `${who}: ${r.stdout}${r.stderr}`);
      await assert.rejects(readFile(join(root, 'got-guarded')), `${who} read the file`);
      const w = await smb(who, 'guarded', 'put up.txt put-by-guest.txt');
      assert.notEqual(w.code, 0, who);
    }
    const ok = await smb('u1', 'guarded', 'get f.txt got-guarded');
    assert.equal(ok.code, 0, ok.stdout + ok.stderr);
    assert.equal(await readFile(join(root, 'got-guarded'), 'utf8'), 'guarded data\n');
  });

  it('invalid users refuses u2; read list (here also the guest account) makes the share read-only for them', async () => {
    const r = await smb('u2', 'open', 'ls');
    assert.match(r.stdout + r.stderr, /NT_STATUS_ACCESS_DENIED/);
    for (const who of ['u3', 'guest', 'null'] as const) {
      const ls = await smb(who, 'open', 'ls');
      assert.equal(ls.code, 0, `${who}: ${ls.stdout}${ls.stderr}`);
      const w = await smb(who, 'open', `put up.txt by-${who}.txt`);
      assert.match(w.stdout + w.stderr, /NT_STATUS_ACCESS_DENIED/, who);
      await assert.rejects(readFile(join(root, 'open', `by-${who}.txt`)));
    }
    const w = await smb('u1', 'open', 'put up.txt by-u1.txt');
    assert.equal(w.code, 0, w.stdout + w.stderr);
    assert.equal(await readFile(join(root, 'open', 'by-u1.txt'), 'utf8'), 'uploaded\n');
  });

  it('write list makes a read-only share writable (and wins over read list); others stay read-only', async () => {
    for (const who of ['u1', 'u3'] as const) {
      const w = await smb(who, 'ro', `put up.txt by-${who}.txt`);
      assert.equal(w.code, 0, `${who}: ${w.stdout}${w.stderr}`);
      assert.equal(await readFile(join(root, 'ro', `by-${who}.txt`), 'utf8'), 'uploaded\n');
    }
    const w = await smb('u2', 'ro', 'put up.txt by-u2.txt');
    assert.match(w.stdout + w.stderr, /NT_STATUS_ACCESS_DENIED/);
  });

  it('admin users of a share are not limited by per-file ACLs (Samba: root); others are', async () => {
    const set = await impacket('deny-all.py', [HOST, String(srv.port), 'u1', pass('u1'), 'acl', 'f.txt'], { timeoutMs: 30_000 });
    assert.equal(set.stdout.trim(), 'ok', set.stdout + set.stderr);
    for (const who of ['u1', 'u2'] as const) {
      const r = await smb(who, 'acl', `get f.txt got-acl-${who}`);
      assert.match(r.stdout + r.stderr, /NT_STATUS_ACCESS_DENIED/, who);
    }
    const r = await smb('boss', 'acl', 'get f.txt got-acl-boss');
    assert.equal(r.code, 0, r.stdout + r.stderr);
    assert.equal(await readFile(join(root, 'got-acl-boss'), 'utf8'), 'acl data\n');
  });

  it('srvsvc levels 2/502 (paths): WERR_ACCESS_DENIED for null sessions and normal users, served to admin users', async () => {
    for (const who of ['null', 'u1'] as const) {
      const r = await rpc(who, 'netshareenumall 2; netshareenumall 502; netsharegetinfo open 2; netsharegetinfo open 502');
      const out = r.stdout + r.stderr;
      assert.equal(out.match(/WERR_ACCESS_DENIED/g)?.length, 4, `${who}: ${out}`);
      assert.ok(!out.includes(root), `${who} saw a path: ${out}`);
      const ok = await rpc(who, 'netshareenumall 1; netsharegetinfo open 1; netshareenumall 0');
      assert.doesNotMatch(ok.stdout + ok.stderr, /WERR_/, who);
      assert.match(ok.stdout, /netname: guarded/);
      assert.match(ok.stdout, /netname: open/);
    }
    const admin = await rpc('boss', 'netshareenumall 502; netsharegetinfo open 2');
    assert.doesNotMatch(admin.stdout, /WERR_/);
    assert.ok(admin.stdout.includes(join(root, 'open').replace(/\//g, '\\')), admin.stdout);
    // smbclient -L (level 1) still lists shares anonymously.
    const l = await run('smbclient', ['-L', HOST, '-s', conf, '-p', String(srv.port), '-U%', '-N'], { timeoutMs: 30_000 });
    assert.match(l.stdout, /guarded/);
  });
});
