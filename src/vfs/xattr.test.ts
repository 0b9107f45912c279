import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs/promises';
import * as os from 'node:os';
import * as path from 'node:path';
import { errnoCode, loadXattr, probeXattr, type XattrBinding } from './xattr.js';
import { xattrSkipReason } from './xattr-testutil.js';

describe('native xattr addon (native/xattr)', () => {
  let dir: string;
  let x: XattrBinding;
  let skip: string | undefined;
  before(async () => {
    dir = await fs.mkdtemp(path.join(os.tmpdir(), 'smbts-xattr-'));
    skip = xattrSkipReason(dir);
    if (!skip) x = loadXattr().binding!;
  });
  after(async () => fs.rm(dir, { recursive: true, force: true }));

  test('fd and path variants: get / set / remove', async (t) => {
    if (skip) return t.skip(skip);
    const file = path.join(dir, 'f');
    await fs.writeFile(file, 'x');
    const fh = await fs.open(file, 'r'); // a read-only fd is enough for f*xattr
    try {
      assert.equal(x.fgetxattr(fh.fd, 'user.DOSATTRIB'), undefined);
      x.fsetxattr(fh.fd, 'user.a', Buffer.from('hello'));
      assert.deepEqual(x.fgetxattr(fh.fd, 'user.a'), Buffer.from('hello'));
      assert.deepEqual(x.lgetxattr(file, 'user.a'), Buffer.from('hello'));
      x.lsetxattr(file, 'user.a', Buffer.alloc(0));
      assert.deepEqual(x.fgetxattr(fh.fd, 'user.a'), Buffer.alloc(0));
      // larger than the addon's stack buffer
      const big = Buffer.alloc(3000, 7);
      x.fsetxattr(fh.fd, 'user.big', big);
      assert.deepEqual(x.lgetxattr(file, 'user.big'), big);
      assert.equal(x.fremovexattr(fh.fd, 'user.big'), true);
      assert.equal(x.fremovexattr(fh.fd, 'user.big'), false);
      assert.equal(x.lremovexattr(file, 'user.a'), true);
      assert.equal(x.lgetxattr(file, 'user.a'), undefined);
      // XATTR_CREATE on an existing name
      x.fsetxattr(fh.fd, 'user.c', Buffer.from('1'));
      assert.throws(() => x.fsetxattr(fh.fd, 'user.c', Buffer.from('2'), 1), (e: unknown) => errnoCode(e) === 'EEXIST');
    } finally {
      await fh.close();
    }
  });

  test('errors carry errno codes; bad arguments throw TypeError', async (t) => {
    if (skip) return t.skip(skip);
    assert.throws(() => x.lgetxattr(path.join(dir, 'missing'), 'user.a'), (e: unknown) => errnoCode(e) === 'ENOENT');
    assert.throws(() => x.fgetxattr(1 << 30, 'user.a'), (e: unknown) => errnoCode(e) === 'EBADF');
    assert.throws(() => x.lsetxattr(dir, 'nosuchnamespace.a', Buffer.from('1')), (e: unknown) => errnoCode(e) === 'ENOTSUP');
    assert.throws(() => x.lgetxattr(dir, 'user.' + 'n'.repeat(300)), (e: unknown) => errnoCode(e) === 'ERANGE');
    assert.throws(() => (x.fgetxattr as (a: unknown, b: unknown) => unknown)('1', 'user.a'), TypeError);
    assert.throws(() => (x.fsetxattr as (a: unknown, b: unknown, c: unknown) => unknown)(0, 'user.a', 'str'), TypeError);
    assert.throws(() => (x.lgetxattr as (a: unknown, b: unknown) => unknown)(dir, 'user.a\0b'), TypeError);
  });

  test('l* variants do not follow a final symlink', async (t) => {
    if (skip) return t.skip(skip);
    const target = path.join(dir, 't');
    await fs.writeFile(target, '');
    x.lsetxattr(target, 'user.t', Buffer.from('v'));
    await fs.symlink('t', path.join(dir, 'link'));
    assert.equal(x.lgetxattr(path.join(dir, 'link'), 'user.t'), undefined);
  });

  test('batch read on the pool: values, absent, errors', async (t) => {
    if (skip) return t.skip(skip);
    const a = path.join(dir, 'ba');
    const b = path.join(dir, 'bb');
    await fs.writeFile(a, '');
    await fs.writeFile(b, '');
    x.lsetxattr(a, 'user.DOSATTRIB', Buffer.from('val'));
    x.lsetxattr(b, 'user.DOSATTRIB', Buffer.alloc(1000, 2));
    const r = await x.lgetxattrBatch([a, path.join(dir, 'f'), path.join(dir, 'nope'), b], 'user.DOSATTRIB');
    assert.deepEqual(r, [Buffer.from('val'), null, 'ENOENT', Buffer.alloc(1000, 2)]);
    assert.deepEqual(await x.lgetxattrBatch([], 'user.DOSATTRIB'), []);
    await assert.rejects(async () => x.lgetxattrBatch([a, 1 as unknown as string], 'user.DOSATTRIB'), TypeError);
    // many paths, a value larger than the stack buffer among them, the packed answer parsed back
    const many = Array.from({ length: 100 }, (_, i) => (i % 3 === 0 ? a : i % 3 === 1 ? b : path.join(dir, `missing${i}`)));
    const got = await x.lgetxattrBatch(many, 'user.DOSATTRIB');
    assert.deepEqual(got, many.map((_, i) => (i % 3 === 0 ? Buffer.from('val') : i % 3 === 1 ? Buffer.alloc(1000, 2) : 'ENOENT')));
  });

  test('probe: a directory on this filesystem reports support', async (t) => {
    if (skip) return t.skip(skip);
    assert.deepEqual(probeXattr(dir, x), { ok: true });
    // a binding that says ENOTSUP (tmpfs without user xattrs) is reported as unsupported
    const fake = { ...x, lgetxattr: () => { throw Object.assign(new Error('nope'), { code: 'EOPNOTSUPP' }); } };
    const r = probeXattr(dir, fake);
    assert.equal(r.ok, false);
    assert.match((r as { reason: string }).reason, /does not support user xattrs \(EOPNOTSUPP\)/);
  });

  test('a get costs microseconds', async (t) => {
    if (skip) return t.skip(skip);
    const file = path.join(dir, 'perf');
    await fs.writeFile(file, '');
    x.lsetxattr(file, 'user.DOSATTRIB', Buffer.alloc(24));
    const n = 20000;
    const t0 = process.hrtime.bigint();
    for (let i = 0; i < n; i++) x.lgetxattr(file, 'user.DOSATTRIB');
    const us = Number(process.hrtime.bigint() - t0) / 1000 / n;
    t.diagnostic(`lgetxattr: ${us.toFixed(2)} us per call`);
    assert.ok(us < 200, `${us} us`);
  });
});
