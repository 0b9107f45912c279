// DOS attributes and creation times shared with Samba through user.DOSATTRIB: a real smbd serves
// the same directory as an smbts LocalVfs; what one sets, the other reports (smbclient allinfo).
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs/promises';
import * as os from 'node:os';
import * as path from 'node:path';
import { startSamba, smbclient, missingTools, type SambaHandle } from './peers.js';
import { LocalVfs } from '../../src/vfs/local.js';
import { FileAttribute, FILETIME_EPOCH_OFFSET } from '../../src/vfs/types.js';
import { xattrSkipReason } from '../../src/vfs/xattr-testutil.js';

// smbclient prints and parses times in the local zone: make that UTC for this process' children.
process.env.TZ = 'UTC';

const { READONLY, HIDDEN, SYSTEM, ARCHIVE, DIRECTORY } = FileAttribute;
const RW = { read: true, write: true } as const;

const ft = (iso: string, extra100ns = 0n): bigint => BigInt(Date.parse(iso)) * 10_000n + FILETIME_EPOCH_OFFSET + extra100ns;

interface AllInfo { attributes: number; create: string }
function parseAllinfo(out: string): AllInfo {
  const a = /^attributes:.*\((\w+)\)\s*$/m.exec(out);
  const c = /^create_time:\s+(.+?)\s*$/m.exec(out);
  if (!a || !c) throw new Error(`unexpected allinfo output:\n${out}`);
  return { attributes: parseInt(a[1]!, 16), create: c[1]! };
}
/** "Thu Mar  4 05:06:07 2021 UTC" -> ISO seconds */
function allinfoIso(s: string): string {
  const m = /^\w{3} (\w{3})\s+(\d+) (\d\d:\d\d:\d\d) (\d{4}) UTC$/.exec(s);
  if (!m) throw new Error(`unexpected time ${s}`);
  const mon = 'JanFebMarAprMayJunJulAugSepOctNovDec'.indexOf(m[1]!) / 3 + 1;
  return `${m[4]}-${String(mon).padStart(2, '0')}-${m[2]!.padStart(2, '0')}T${m[3]}Z`;
}

const skipTools = missingTools(['smbd', 'smbpasswd', 'smbclient']);

describe('DOS attributes + creation time shared with Samba (user.DOSATTRIB)', { skip: skipTools }, () => {
  let samba: SambaHandle;
  let depot: string;
  let skip: string | undefined;

  before(async () => {
    skip = xattrSkipReason(os.tmpdir());
    if (skip) return;
    samba = await startSamba();
    depot = await fs.mkdtemp(path.join(os.tmpdir(), 'smbts-dosattr-depot-'));
  });
  after(async () => {
    await samba?.stop();
    if (depot) await fs.rm(depot, { recursive: true, force: true });
  });

  const allinfo = async (name: string): Promise<AllInfo> => {
    const r = await smbclient(samba.port, ['-c', `allinfo "${name}"`], { timeoutMs: 30_000 });
    assert.equal(r.code, 0, r.stderr || r.stdout);
    return parseAllinfo(r.stdout);
  };

  test('set by smbts, seen by Samba', async (t) => {
    if (skip) return t.skip(skip);
    const vfs = new LocalVfs(samba.shareDir, { streamsDir: depot });
    assert.deepEqual(await vfs.dosAttributeStorage(), { storage: 'xattr' });
    const ct = ft('2021-03-04T05:06:07Z', 1234567n);
    const { handle } = await vfs.open('from-smbts.txt', { create: 'create', ...RW, attributes: HIDDEN });
    await handle.write(Buffer.from('hello'), 0n);
    await handle.setAttributes(READONLY | HIDDEN | SYSTEM | ARCHIVE);
    await handle.setTimes({ creationTime: ct });
    await handle.close();
    const d = await vfs.open('smbts-dir', { create: 'create', directory: true, read: true, write: false, attributes: HIDDEN });
    await d.handle.close();

    const f = await allinfo('from-smbts.txt');
    assert.equal(f.attributes, READONLY | HIDDEN | SYSTEM | ARCHIVE);
    assert.equal(allinfoIso(f.create), '2021-03-04T05:06:07Z');
    const dir = await allinfo('smbts-dir');
    assert.equal(dir.attributes, DIRECTORY | HIDDEN);
  });

  test('set by Samba, seen by smbts (a fresh instance: nothing in memory)', async (t) => {
    if (skip) return t.skip(skip);
    const local = path.join(depot, 'upload.txt');
    await fs.writeFile(local, 'from samba\n');
    const r = await smbclient(samba.port, ['-c', [
      `put "${local}" from-samba.txt`,
      'setmode from-samba.txt +hs',
      'utimes from-samba.txt 2019:08:07-06:05:04 -1 -1 -1',
      `put "${local}" ro.txt`,
      'setmode ro.txt +r',
      'mkdir samba-dir',
      'setmode samba-dir +hs',
    ].join('; ')], { timeoutMs: 30_000 });
    assert.equal(r.code, 0, r.stderr || r.stdout);
    const seen = await allinfo('from-samba.txt');
    assert.equal(allinfoIso(seen.create), '2019-08-07T06:05:04Z');

    const vfs = new LocalVfs(samba.shareDir, { streamsDir: depot });
    const st = await vfs.stat('from-samba.txt');
    assert.equal(st.attributes, seen.attributes);
    assert.equal(st.attributes, HIDDEN | SYSTEM | ARCHIVE);
    assert.equal(st.creationTime, ft('2019-08-07T06:05:04Z'));
    assert.equal((await vfs.stat('ro.txt')).attributes, (await allinfo('ro.txt')).attributes);
    assert.equal((await vfs.stat('ro.txt')).attributes, READONLY | ARCHIVE);
    const list = await vfs.readdir('');
    const byName = new Map(list.map((e) => [e.name, e.stat]));
    assert.equal(byName.get('from-samba.txt')?.attributes, HIDDEN | SYSTEM | ARCHIVE);
    assert.equal(byName.get('from-samba.txt')?.creationTime, ft('2019-08-07T06:05:04Z'));
    assert.equal(byName.get('samba-dir')?.attributes, DIRECTORY | HIDDEN | SYSTEM);
    assert.equal(byName.get('samba-dir')?.attributes, (await allinfo('samba-dir')).attributes);

    // and back: smbts clears HIDDEN on Samba's file, Samba sees it and keeps the creation time
    const h = (await vfs.open('from-samba.txt', { create: 'open', read: true, write: false })).handle;
    await h.setAttributes(SYSTEM | ARCHIVE);
    await h.close();
    const again = await allinfo('from-samba.txt');
    assert.equal(again.attributes, SYSTEM | ARCHIVE);
    assert.equal(allinfoIso(again.create), '2019-08-07T06:05:04Z');
  });
});
