// LocalVfs keeps DOS attributes and creation times in Samba's user.DOSATTRIB xattr (dosstore.ts).
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs/promises';
import * as os from 'node:os';
import * as path from 'node:path';
import { LocalVfs } from './local.js';
import { FileAttribute, VfsError } from './types.js';
import { NtStatus } from './status.js';
import { DOSATTRIB_XATTR, decodeDosAttrib, encodeDosAttrib } from './dosattrib.js';
import { xattrBinding, type XattrBinding } from './xattr.js';
import { xattrSkipReason } from './xattr-testutil.js';

const RW = { read: true, write: true } as const;
const { READONLY, HIDDEN, SYSTEM, ARCHIVE, DIRECTORY } = FileAttribute;
const CT = 0x01d9_0000_1234_5678n; // some FILETIME in 2022

function enotsup(): never {
  throw Object.assign(new Error('Operation not supported'), { code: 'EOPNOTSUPP' });
}

describe('LocalVfs: DOS attributes in user.DOSATTRIB', () => {
  let base: string;
  let skip: string | undefined;
  let x: XattrBinding;
  let n = 0;
  const fresh = async (): Promise<{ root: string; depot: string }> => {
    const root = path.join(base, `share${++n}`);
    await fs.mkdir(root);
    return { root, depot: path.join(base, `depot${n}`) };
  };
  const raw = (p: string) => {
    const v = x.lgetxattr(p, DOSATTRIB_XATTR);
    return v && decodeDosAttrib(v);
  };

  before(async () => {
    base = await fs.mkdtemp(path.join(os.tmpdir(), 'smbts-dosattr-'));
    skip = xattrSkipReason(base);
    if (!skip) x = xattrBinding()!;
  });
  after(async () => fs.rm(base, { recursive: true, force: true }));

  test('attributes and creation time survive a new instance (restart), in Samba format', async (t) => {
    if (skip) return t.skip(skip);
    const { root, depot } = await fresh();
    const v1 = new LocalVfs(root, { streamsDir: depot });
    assert.deepEqual(await v1.dosAttributeStorage(), { storage: 'xattr' });
    const { handle } = await v1.open('a.txt', { create: 'create', ...RW, attributes: HIDDEN });
    // every new object gets a blob, like smbd
    assert.deepEqual([raw(path.join(root, 'a.txt'))?.version, raw(path.join(root, 'a.txt'))?.attributes], [5, HIDDEN | ARCHIVE]);
    await handle.setAttributes(HIDDEN | SYSTEM | ARCHIVE);
    await handle.setTimes({ creationTime: CT });
    await handle.close();
    const { handle: d } = await v1.open('dir', { create: 'create', directory: true, read: true, write: false, attributes: HIDDEN });
    await d.close();
    const blob = raw(path.join(root, 'a.txt'))!;
    assert.deepEqual([blob.attributes, blob.creationTime], [HIDDEN | SYSTEM | ARCHIVE, CT]);
    assert.equal(raw(path.join(root, 'dir'))?.attributes, DIRECTORY | HIDDEN);

    const v2 = new LocalVfs(root, { streamsDir: depot });
    const st = await v2.stat('a.txt');
    assert.equal(st.attributes, HIDDEN | SYSTEM | ARCHIVE);
    assert.equal(st.creationTime, CT);
    assert.equal((await v2.stat('dir')).attributes, DIRECTORY | HIDDEN);
    const list = await v2.readdir('');
    assert.equal(list.find((e) => e.name === 'a.txt')?.stat.attributes, HIDDEN | SYSTEM | ARCHIVE);
    assert.equal(list.find((e) => e.name === 'a.txt')?.stat.creationTime, CT);
    assert.equal(list.find((e) => e.name === 'dir')?.stat.attributes, DIRECTORY | HIDDEN);
    const h = (await v2.open('a.txt', { create: 'open', read: true, write: false })).handle;
    assert.equal((await h.stat()).attributes, HIDDEN | SYSTEM | ARCHIVE);
    await h.close();
  });

  test('READONLY: stored in the blob (and the mode); the blob is authoritative, as in Samba', async (t) => {
    if (skip) return t.skip(skip);
    const { root, depot } = await fresh();
    const v1 = new LocalVfs(root, { streamsDir: depot });
    const { handle } = await v1.open('r.txt', { create: 'create', ...RW });
    await handle.setAttributes(READONLY);
    await handle.close();
    const abs = path.join(root, 'r.txt');
    assert.equal(raw(abs)?.attributes, READONLY);
    assert.equal((await fs.stat(abs)).mode & 0o222, 0);
    const v2 = new LocalVfs(root, { streamsDir: depot });
    assert.equal((await v2.stat('r.txt')).attributes, READONLY);
    await assert.rejects(v2.open('r.txt', { create: 'open', ...RW }), (e: unknown) => e instanceof VfsError && e.status === NtStatus.ACCESS_DENIED);
    // Samba clears READONLY (it rewrites the blob, it does not chmod): no longer read-only here either
    x.lsetxattr(abs, DOSATTRIB_XATTR, encodeDosAttrib({ attributes: ARCHIVE, creationTime: CT }));
    assert.equal((await v2.stat('r.txt')).attributes, ARCHIVE);
    // and Samba setting it on a writable file is seen too
    const { handle: w } = await v2.open('w.txt', { create: 'create', ...RW });
    await w.close();
    x.lsetxattr(path.join(root, 'w.txt'), DOSATTRIB_XATTR, encodeDosAttrib({ attributes: READONLY | ARCHIVE }));
    assert.equal((await v2.stat('w.txt')).attributes, READONLY | ARCHIVE);
    await assert.rejects(v2.unlink('w.txt'), (e: unknown) => e instanceof VfsError && e.status === NtStatus.CANNOT_DELETE);
  });

  test('cached per inode, re-read when another process changes it (ctime)', async (t) => {
    if (skip) return t.skip(skip);
    const { root, depot } = await fresh();
    let gets = 0;
    const counting: XattrBinding = {
      ...x,
      fgetxattr: (fd, name) => (gets++, x.fgetxattr(fd, name)),
      lgetxattr: (p, name) => (gets++, x.lgetxattr(p, name)),
      lgetxattrBatch: (ps, name) => ((gets += ps.length), x.lgetxattrBatch(ps, name)),
    };
    const v = new LocalVfs(root, { streamsDir: depot, xattrBinding: counting });
    const { handle } = await v.open('c.txt', { create: 'create', ...RW });
    await handle.close();
    await v.stat('c.txt');
    const after1 = gets;
    await v.stat('c.txt');
    await v.readdir('');
    assert.equal(gets, after1, 'unchanged file: served from the cache');
    x.lsetxattr(path.join(root, 'c.txt'), DOSATTRIB_XATTR, encodeDosAttrib({ attributes: SYSTEM, creationTime: CT }));
    const st = await v.stat('c.txt');
    assert.equal(st.attributes, SYSTEM);
    assert.equal(st.creationTime, CT);
    assert.equal(gets, after1 + 1);
  });

  test('a client-set change time sticks across the xattr writes', async (t) => {
    if (skip) return t.skip(skip);
    const { root, depot } = await fresh();
    const v = new LocalVfs(root, { streamsDir: depot });
    const { handle } = await v.open('t.txt', { create: 'create', ...RW });
    const C = 0x01d8_0000_0000_0000n;
    await handle.setTimes({ changeTime: C });
    await handle.setAttributes(HIDDEN);
    await handle.setTimes({ creationTime: CT });
    await handle.setSparse(true);
    const st = await handle.stat();
    assert.equal(st.changeTime, C);
    assert.equal(st.creationTime, CT);
    assert.equal(st.attributes, HIDDEN | FileAttribute.SPARSE_FILE);
    await handle.close();
    assert.equal(raw(path.join(root, 't.txt'))?.attributes, HIDDEN | FileAttribute.SPARSE_FILE);
  });

  test('overwrite keeps HIDDEN/SYSTEM and the creation time', async (t) => {
    if (skip) return t.skip(skip);
    const { root, depot } = await fresh();
    const v = new LocalVfs(root, { streamsDir: depot });
    const { handle } = await v.open('o.txt', { create: 'create', ...RW, attributes: HIDDEN | SYSTEM });
    await handle.setTimes({ creationTime: CT });
    await handle.close();
    const v2 = new LocalVfs(root, { streamsDir: depot });
    const r = await v2.open('o.txt', { create: 'overwrite-if', ...RW, attributes: FileAttribute.NORMAL });
    assert.equal(r.action, 'overwritten');
    const st = await r.handle.stat();
    await r.handle.close();
    assert.equal(st.attributes, HIDDEN | SYSTEM | ARCHIVE);
    assert.equal(st.creationTime, CT);
  });

  test('filesystem without user xattrs (ENOTSUP at first use): memory, as before', async (t) => {
    if (skip) return t.skip(skip);
    const { root, depot } = await fresh();
    const none: XattrBinding = { ...x, fgetxattr: enotsup, lgetxattr: enotsup, fsetxattr: enotsup, lsetxattr: enotsup, lgetxattrBatch: async () => enotsup() };
    const v = new LocalVfs(root, { streamsDir: depot, xattrBinding: none });
    const s = await v.dosAttributeStorage();
    assert.equal(s.storage, 'memory');
    assert.match((s as { reason: string }).reason, /does not support user xattrs \(EOPNOTSUPP\)/);
    const { handle } = await v.open('m.txt', { create: 'create', ...RW });
    await handle.setAttributes(HIDDEN);
    await handle.setTimes({ creationTime: CT });
    await handle.close();
    assert.equal((await v.stat('m.txt')).attributes, HIDDEN);
    assert.equal((await v.stat('m.txt')).creationTime, CT);
    assert.equal(x.lgetxattr(path.join(root, 'm.txt'), DOSATTRIB_XATTR), undefined);
    // dosAttributes: 'memory' never touches xattrs either
    const mem = new LocalVfs(root, { streamsDir: depot, dosAttributes: 'memory' });
    assert.equal((await mem.dosAttributeStorage()).storage, 'memory');
    const { handle: h2 } = await mem.open('n.txt', { create: 'create', ...RW, attributes: HIDDEN });
    await h2.close();
    assert.equal(x.lgetxattr(path.join(root, 'n.txt'), DOSATTRIB_XATTR), undefined);
    assert.equal((await mem.stat('n.txt')).attributes, HIDDEN | ARCHIVE);
  });

  test('a file that refuses the xattr (EPERM) keeps its attributes in memory', async (t) => {
    if (skip) return t.skip(skip);
    const { root, depot } = await fresh();
    const eperm = (): never => { throw Object.assign(new Error('Operation not permitted'), { code: 'EPERM' }); };
    const v = new LocalVfs(root, { streamsDir: depot, xattrBinding: { ...x, fsetxattr: eperm, lsetxattr: eperm } });
    const { handle } = await v.open('p.txt', { create: 'create', ...RW });
    await handle.setAttributes(HIDDEN | SYSTEM);
    await handle.setTimes({ creationTime: CT });
    const st = await handle.stat();
    await handle.close();
    assert.equal(st.attributes, HIDDEN | SYSTEM);
    assert.equal(st.creationTime, CT);
    assert.equal(x.lgetxattr(path.join(root, 'p.txt'), DOSATTRIB_XATTR), undefined);
  });

  test('a blob we cannot decode is ignored (as if absent)', async (t) => {
    if (skip) return t.skip(skip);
    const { root, depot } = await fresh();
    await fs.writeFile(path.join(root, 'junk.txt'), '');
    x.lsetxattr(path.join(root, 'junk.txt'), DOSATTRIB_XATTR, Buffer.from('garbage without NUL'));
    const v = new LocalVfs(root, { streamsDir: depot });
    assert.equal((await v.stat('junk.txt')).attributes, ARCHIVE);
    assert.equal((await v.readdir('')).find((e) => e.name === 'junk.txt')?.stat.attributes, ARCHIVE);
  });
});
