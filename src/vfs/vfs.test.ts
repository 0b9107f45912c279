import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs/promises';
import * as os from 'node:os';
import * as path from 'node:path';
import { LocalVfs } from './local.js';
import { MemoryVfs } from './memory.js';
import { FileAttribute, VfsError, eaListSize, type Vfs } from './types.js';
import { NtStatus } from './status.js';
import { normalizeSmbPath, parseSmbPath } from './path.js';

async function rejectsStatus(p: Promise<unknown>, status: number): Promise<void> {
  await assert.rejects(p, (e: unknown) => {
    assert.ok(e instanceof VfsError, `expected VfsError, got ${String(e)}`);
    assert.equal(e.status, status, `status 0x${e.status.toString(16)} != 0x${status.toString(16)}`);
    return true;
  });
}

const RW = { read: true, write: true } as const;

function conformance(label: string, make: () => Promise<{ vfs: Vfs; cleanup: () => Promise<void> }>): void {
  describe(`Vfs conformance: ${label}`, () => {
    let vfs: Vfs;
    let cleanup: () => Promise<void>;
    before(async () => ({ vfs, cleanup } = await make()));
    after(async () => cleanup());

    test('create, write, read, stat, close', async () => {
      const { handle, action } = await vfs.open('a.txt', { create: 'create', ...RW });
      assert.equal(action, 'created');
      assert.equal(handle.isDirectory, false);
      assert.equal(await handle.write(Buffer.from('hello world'), 0n), 11);
      const buf = Buffer.alloc(32, 0xff);
      assert.equal(await handle.read(buf, 4, 5, 6n), 5);
      assert.equal(buf.subarray(4, 9).toString(), 'world');
      assert.equal(buf[3], 0xff);
      assert.equal(await handle.read(buf, 0, 10, 100n), 0);
      const st = await handle.stat();
      assert.equal(st.size, 11n);
      assert.equal(st.isDirectory, false);
      assert.ok(st.attributes & FileAttribute.ARCHIVE);
      assert.ok(st.lastWriteTime > 116444736000000000n);
      await handle.flush();
      await handle.close();
      const st2 = await vfs.stat('a.txt');
      assert.equal(st2.fileId, st.fileId);
    });

    test('dispositions', async () => {
      await rejectsStatus(vfs.open('a.txt', { create: 'create', ...RW }), NtStatus.OBJECT_NAME_COLLISION);
      await rejectsStatus(vfs.open('missing', { create: 'open', ...RW }), NtStatus.OBJECT_NAME_NOT_FOUND);
      await rejectsStatus(vfs.open('missing', { create: 'overwrite', ...RW }), NtStatus.OBJECT_NAME_NOT_FOUND);
      await rejectsStatus(vfs.open('nodir/x', { create: 'create', ...RW }), NtStatus.OBJECT_PATH_NOT_FOUND);
      let r = await vfs.open('a.txt', { create: 'open-if', ...RW });
      assert.equal(r.action, 'opened');
      await r.handle.close();
      r = await vfs.open('b.txt', { create: 'open-if', ...RW });
      assert.equal(r.action, 'created');
      await r.handle.write(Buffer.from('xyz'), 0n);
      await r.handle.close();
      r = await vfs.open('b.txt', { create: 'overwrite-if', ...RW });
      assert.equal(r.action, 'overwritten');
      assert.equal((await r.handle.stat()).size, 0n);
      await r.handle.close();
      r = await vfs.open('b.txt', { create: 'supersede', ...RW });
      assert.equal(r.action, 'superseded');
      await r.handle.close();
      r = await vfs.open('c.txt', { create: 'overwrite-if', ...RW });
      assert.equal(r.action, 'created');
      await r.handle.close();
    });

    test('directories', async () => {
      const { handle, action } = await vfs.open('dir', { create: 'create', directory: true, read: true, write: false });
      assert.equal(action, 'created');
      assert.equal(handle.isDirectory, true);
      assert.ok((await handle.stat()).attributes & FileAttribute.DIRECTORY);
      await rejectsStatus(handle.read(Buffer.alloc(1), 0, 1, 0n), NtStatus.INVALID_DEVICE_REQUEST);
      await handle.close();
      await rejectsStatus(vfs.open('dir', { create: 'open', nonDirectory: true, ...RW }), NtStatus.FILE_IS_A_DIRECTORY);
      await rejectsStatus(vfs.open('a.txt', { create: 'open', directory: true, read: true, write: false }), NtStatus.NOT_A_DIRECTORY);
      await rejectsStatus(vfs.open('a.txt/x', { create: 'open', ...RW }), NtStatus.OBJECT_PATH_NOT_FOUND);
      const f = await vfs.open('dir/inner.bin', { create: 'create', ...RW });
      await f.handle.close();
      const ents = await vfs.readdir('dir');
      assert.deepEqual(ents.map((e) => e.name), ['inner.bin']);
      const root = await vfs.readdir('');
      assert.ok(root.some((e) => e.name === 'dir' && e.stat.isDirectory));
      await rejectsStatus(vfs.rmdir('dir'), NtStatus.DIRECTORY_NOT_EMPTY);
      await rejectsStatus(vfs.unlink('dir'), NtStatus.FILE_IS_A_DIRECTORY);
      await rejectsStatus(vfs.rmdir('a.txt'), NtStatus.NOT_A_DIRECTORY);
      await vfs.unlink('dir/inner.bin');
      await vfs.rmdir('dir');
      await rejectsStatus(vfs.stat('dir'), NtStatus.OBJECT_NAME_NOT_FOUND);
      const rootH = await vfs.open('', { create: 'open', read: true, write: false });
      assert.equal(rootH.handle.isDirectory, true);
      assert.equal(rootH.handle.path, '');
      await rootH.handle.close();
    });

    test('case-insensitive lookup', async () => {
      assert.equal(vfs.caseSensitive, false);
      const r = await vfs.open('A.TXT', { create: 'open', ...RW });
      assert.equal(r.handle.path, 'a.txt');
      await r.handle.close();
      assert.equal(await vfs.resolveCase!('A.Txt'), 'a.txt');
      assert.equal(await vfs.resolveCase!('nope'), undefined);
      await rejectsStatus(vfs.open('A.txt', { create: 'create', ...RW }), NtStatus.OBJECT_NAME_COLLISION);
    });

    test('rename', async () => {
      const { handle } = await vfs.open('r1', { create: 'create', ...RW });
      await vfs.rename('r1', 'r2', false);
      assert.equal(handle.path, 'r2');
      await handle.close();
      await rejectsStatus(vfs.rename('r2', 'a.txt', false), NtStatus.OBJECT_NAME_COLLISION);
      await vfs.rename('r2', 'c.txt', true);
      await rejectsStatus(vfs.stat('r2'), NtStatus.OBJECT_NAME_NOT_FOUND);
      await vfs.rename('c.txt', 'C.TXT', false); // case-only rename
      assert.equal(await vfs.resolveCase!('c.txt'), 'C.TXT');
      await rejectsStatus(vfs.rename('missing', 'x', false), NtStatus.OBJECT_NAME_NOT_FOUND);
      const d = await vfs.open('rd', { create: 'create', directory: true, read: true, write: false });
      const inner = await vfs.open('rd/f', { create: 'create', ...RW });
      await vfs.rename('rd', 'rd2', false);
      assert.equal(inner.handle.path, 'rd2/f');
      await inner.handle.close();
      await d.handle.close();
      await rejectsStatus(vfs.rename('C.TXT', 'rd2', true), NtStatus.ACCESS_DENIED);
    });

    test('attributes, times, readonly', async () => {
      const { handle } = await vfs.open('attr', { create: 'create', ...RW, attributes: FileAttribute.HIDDEN });
      let st = await handle.stat();
      assert.ok(st.attributes & FileAttribute.HIDDEN);
      await handle.setAttributes(FileAttribute.SYSTEM | FileAttribute.READONLY);
      st = await handle.stat();
      assert.equal(st.attributes & (FileAttribute.SYSTEM | FileAttribute.READONLY | FileAttribute.HIDDEN), FileAttribute.SYSTEM | FileAttribute.READONLY);
      const t = 132000000000000000n + 1234567n;
      await handle.setTimes({ creationTime: t, lastWriteTime: t + 10n, lastAccessTime: t + 20n });
      st = await handle.stat();
      assert.equal(st.creationTime, t);
      assert.equal(st.lastWriteTime, t + 10n);
      assert.equal(st.lastAccessTime, t + 20n);
      await handle.close();
      await rejectsStatus(vfs.open('attr', { create: 'open', ...RW }), NtStatus.ACCESS_DENIED);
      await rejectsStatus(vfs.unlink('attr'), NtStatus.CANNOT_DELETE);
      const ro = await vfs.open('attr', { create: 'open', read: true, write: false });
      await ro.handle.setAttributes(0);
      assert.equal((await ro.handle.stat()).attributes, FileAttribute.NORMAL);
      await ro.handle.close();
      await vfs.unlink('attr');
    });

    test('truncate, allocation, zero range, sparse, copy', async () => {
      const { handle } = await vfs.open('big', { create: 'create', ...RW });
      await handle.write(Buffer.alloc(10000, 0x41), 0n);
      await handle.truncate(5000n);
      assert.equal((await handle.stat()).size, 5000n);
      await handle.truncate(6000n);
      const b = Buffer.alloc(6000);
      assert.equal(await handle.read(b, 0, 6000, 0n), 6000);
      assert.equal(b[4999], 0x41);
      assert.equal(b[5000], 0);
      await handle.zeroRange(10n, 20n);
      await handle.read(b, 0, 6000, 0n);
      assert.equal(b[9], 0x41);
      assert.equal(b[10], 0);
      assert.equal(b[29], 0);
      assert.equal(b[30], 0x41);
      await handle.zeroRange(4000n, 1n << 40n);
      assert.equal((await handle.stat()).size, 6000n);
      await handle.read(b, 0, 6000, 0n);
      assert.equal(b[3999], 0x41);
      assert.equal(b[4000], 0);
      await handle.setSparse(true);
      assert.ok((await handle.stat()).attributes & FileAttribute.SPARSE_FILE);
      const ranges = await handle.allocatedRanges(0n, 100000n);
      assert.ok(ranges.length >= 1);
      assert.ok(ranges.every(([o, l]) => o >= 0n && o + l <= 6000n));
      assert.deepEqual(await handle.allocatedRanges(7000n, 10n), []);
      await handle.setAllocation(100n);
      assert.equal((await handle.stat()).size, 100n);
      const dst = await vfs.open('big.copy', { create: 'create', ...RW });
      assert.equal(await dst.handle.copyRange(handle, 50n, 10n, 100), 50);
      const c = Buffer.alloc(60);
      assert.equal(await dst.handle.read(c, 0, 60, 0n), 60);
      assert.equal(c[9], 0);
      assert.equal(c[10], 0x41);
      await dst.handle.close();
      await handle.close();
      await rejectsStatus(handle.stat(), NtStatus.FILE_CLOSED);
    });

    test('unlink while open keeps data readable', async () => {
      const { handle } = await vfs.open('tmp', { create: 'create', ...RW });
      await handle.write(Buffer.from('abc'), 0n);
      await vfs.unlink('tmp');
      const b = Buffer.alloc(3);
      assert.equal(await handle.read(b, 0, 3, 0n), 3);
      assert.equal(b.toString(), 'abc');
      await handle.close();
      await rejectsStatus(vfs.stat('tmp'), NtStatus.OBJECT_NAME_NOT_FOUND);
    });

    test('named streams: create, io, list, case, overwrite, delete, rename of the file', async () => {
      // Creating a stream of a missing file creates the file.
      const { handle: s1, action } = await vfs.open('sf.txt:One', { create: 'create', ...RW });
      assert.equal(action, 'created');
      assert.equal(s1.path, 'sf.txt:One');
      assert.equal(s1.isDirectory, false);
      await s1.write(Buffer.from('stream data'), 0n);
      assert.equal((await s1.stat()).size, 11n);
      await s1.close();
      assert.equal((await vfs.stat('sf.txt')).size, 0n);
      assert.equal((await vfs.stat('SF.TXT:one')).size, 11n);
      const { handle: s2, action: a2 } = await vfs.open('sf.txt:ONE', { create: 'open-if', ...RW });
      assert.equal(a2, 'opened');
      assert.equal(s2.path, 'sf.txt:One');
      const b = Buffer.alloc(32);
      assert.equal(await s2.read(b, 0, 32, 0n), 11);
      assert.equal(b.subarray(0, 11).toString(), 'stream data');
      await s2.truncate(3n);
      await s2.close();
      await (await vfs.open('sf.txt:Two', { create: 'create', ...RW })).handle.close();
      const list = (await vfs.listStreams!('sf.txt')).map((x) => `${x.name}=${x.size}`).sort();
      assert.deepEqual(list, ['One=3', 'Two=0']);
      await rejectsStatus(vfs.open('sf.txt:Three', { create: 'open', ...RW }), NtStatus.OBJECT_NAME_NOT_FOUND);
      await rejectsStatus(vfs.open('nofile:x', { create: 'open', ...RW }), NtStatus.OBJECT_NAME_NOT_FOUND);
      await vfs.unlink('sf.txt:two');
      assert.deepEqual((await vfs.listStreams!('sf.txt')).map((x) => x.name), ['One']);
      // Rename keeps the streams.
      await vfs.rename('sf.txt', 'sg.txt', false);
      assert.equal((await vfs.stat('sg.txt:One')).size, 3n);
      // Overwriting the main stream drops them.
      await (await vfs.open('sg.txt', { create: 'overwrite', ...RW })).handle.close();
      assert.deepEqual(await vfs.listStreams!('sg.txt'), []);
      await (await vfs.open('sg.txt:x', { create: 'create', ...RW })).handle.close();
      await vfs.unlink('sg.txt');
      await (await vfs.open('sg.txt', { create: 'create', ...RW })).handle.close();
      assert.deepEqual(await vfs.listStreams!('sg.txt'), []);
      await vfs.unlink('sg.txt');
      // Streams on directories; removing the directory removes them.
      await (await vfs.open('sd', { create: 'create', directory: true, read: true, write: false })).handle.close();
      const { handle: ds } = await vfs.open('sd:meta', { create: 'create', ...RW });
      await ds.write(Buffer.from('x'), 0n);
      await ds.close();
      assert.equal((await vfs.listStreams!('sd')).length, 1);
      assert.ok(!(await vfs.readdir('')).some((e) => e.name.includes('streams')));
      await vfs.rmdir('sd');
      await (await vfs.open('sd', { create: 'create', directory: true, read: true, write: false })).handle.close();
      assert.deepEqual(await vfs.listStreams!('sd'), []);
      await vfs.rmdir('sd');
    });

    test('a client-set change time survives attribute changes', async () => {
      const { handle } = await vfs.open('ctime.txt', { create: 'create', ...RW });
      const ct = 133000000000000000n;
      await handle.setTimes({ changeTime: ct, lastWriteTime: ct - 1000n });
      await handle.setAttributes(FileAttribute.READONLY);
      assert.equal((await handle.stat()).changeTime, ct);
      await handle.setAttributes(FileAttribute.HIDDEN);
      await handle.setTimes({ lastAccessTime: ct - 5n });
      assert.equal((await handle.stat()).changeTime, ct);
      await handle.close();
      await vfs.unlink('ctime.txt');
    });

    test('extended attributes', async () => {
      const { handle } = await vfs.open('ea.txt', { create: 'create', ...RW });
      assert.deepEqual(await handle.getEas!(), []);
      await handle.setEas!([{ flags: 0, name: 'EAONE', value: Buffer.from('VALUE1') }, { flags: 0x80, name: 'SecondEA', value: Buffer.from('v2') }]);
      await handle.setEas!([{ flags: 0, name: 'eaone', value: Buffer.from('new') }]);
      const got = (await handle.getEas!()).map((e) => `${e.name}=${e.value.toString()}/${e.flags}`).sort();
      assert.deepEqual(got, ['SecondEA=v2/128', 'eaone=new/0']);
      assert.equal((await handle.stat()).eaSize, eaListSize(await handle.getEas!()));
      assert.ok([37, 39].includes((await handle.stat()).eaSize!));
      await handle.setEas!([{ flags: 0, name: 'SECONDEA', value: Buffer.alloc(0) }]);
      assert.equal((await handle.getEas!()).length, 1);
      assert.equal((await vfs.stat('ea.txt')).eaSize, 8 + 5 + 1 + 3);
      assert.equal((await vfs.readdir('')).find((e) => e.name === 'ea.txt')?.stat.eaSize, 8 + 5 + 1 + 3);
      await handle.close();
      await vfs.unlink('ea.txt');
      const { handle: h2 } = await vfs.open('ea.txt', { create: 'create', ...RW });
      assert.deepEqual(await h2.getEas!(), []);
      await h2.close();
      await vfs.unlink('ea.txt');
    });

    test('allocation grows and is reported', async () => {
      const { handle } = await vfs.open('alloc.bin', { create: 'create', ...RW });
      await handle.write(Buffer.from('abc'), 0n);
      await handle.setAllocation(1000000n);
      const st = await handle.stat();
      assert.equal(st.size, 3n);
      assert.ok(st.allocationSize >= 1000000n, String(st.allocationSize));
      await handle.setAllocation(1n);
      assert.equal((await handle.stat()).size, 1n);
      await handle.close();
      await vfs.unlink('alloc.bin');
    });

    test('statfs and invalid share paths', async () => {
      const s = await vfs.statfs();
      assert.equal(s.fsName, 'NTFS');
      assert.ok(s.totalBytes > 0n && s.freeBytes <= s.totalBytes);
      await rejectsStatus(vfs.stat('../x'), NtStatus.OBJECT_PATH_SYNTAX_BAD);
      await rejectsStatus(vfs.stat('/etc/passwd'), NtStatus.OBJECT_PATH_SYNTAX_BAD);
      await rejectsStatus(vfs.stat('a/../../x'), NtStatus.OBJECT_PATH_SYNTAX_BAD);
      await rejectsStatus(vfs.open('a\\b', { create: 'create', ...RW }), NtStatus.OBJECT_NAME_INVALID);
    });
  });
}

const tmpDirs: string[] = [];
async function mkTmp(): Promise<string> {
  const d = await fs.mkdtemp(path.join(os.tmpdir(), 'smbts-vfs-'));
  tmpDirs.push(d);
  return d;
}

conformance('MemoryVfs', async () => ({ vfs: new MemoryVfs(), cleanup: async () => {} }));
conformance('LocalVfs', async () => {
  const d = await mkTmp();
  await fs.mkdir(path.join(d, 'share'));
  const vfs = new LocalVfs(path.join(d, 'share'), { streamsDir: path.join(d, 'streams') });
  return { vfs, cleanup: () => fs.rm(d, { recursive: true, force: true }) };
});

describe('normalizeSmbPath', () => {
  test('accepts ordinary forms', () => {
    assert.equal(normalizeSmbPath(''), '');
    assert.equal(normalizeSmbPath('\\'), '');
    assert.equal(normalizeSmbPath('a\\b c\\d.txt'), 'a/b c/d.txt');
    assert.equal(normalizeSmbPath('\\a\\b'), 'a/b');
    assert.equal(normalizeSmbPath('dir\\'), 'dir');
    // repeated separators count as one (Samba check_path_syntax; Windows clients send them)
    assert.equal(normalizeSmbPath('a\\\\b'), 'a/b');
    // '/' separates too (Samba)
    assert.equal(normalizeSmbPath('a/b'), 'a/b');
    assert.equal(normalizeSmbPath('/etc/passwd'), 'etc/passwd');
    assert.equal(normalizeSmbPath('a\\\\\\b\\\\c\\\\'), 'a/b/c');
    assert.equal(normalizeSmbPath('file::$DATA'), 'file');
    assert.equal(normalizeSmbPath('d\\file::$data'), 'd/file');
    assert.equal(normalizeSmbPath('ünïcødé ✓'), 'ünïcødé ✓');
    assert.equal(normalizeSmbPath('file:'), 'file');
    assert.equal(normalizeSmbPath('d\\file:Stream One'), 'd/file:Stream One');
    assert.equal(normalizeSmbPath('file:s:$DaTa'), 'file:s');
    assert.equal(normalizeSmbPath('file:?s*\x05'), 'file:?s*\x05');
    assert.deepEqual(parseSmbPath('d\\f::$DATA'), { path: 'd/f', base: 'd/f', stream: undefined, explicitData: true });
  });
  const bad: Array<[string, number]> = [
    ['..\\..\\etc\\passwd', NtStatus.OBJECT_PATH_SYNTAX_BAD],
    ['\\..\\x', NtStatus.OBJECT_PATH_SYNTAX_BAD],
    ['a\\..\\..\\x', NtStatus.OBJECT_PATH_SYNTAX_BAD],
    ['\\\\server\\share\\x', NtStatus.OBJECT_PATH_SYNTAX_BAD],
    ['C:\\Windows', NtStatus.OBJECT_PATH_SYNTAX_BAD],
    ['c:x', NtStatus.OBJECT_PATH_SYNTAX_BAD],
    ['//server/share/x', NtStatus.OBJECT_PATH_SYNTAX_BAD],
    ['a/../../x', NtStatus.OBJECT_PATH_SYNTAX_BAD],
    ['a\\.\\b', NtStatus.OBJECT_NAME_INVALID],
    ['a\0b', NtStatus.OBJECT_NAME_INVALID],
    ['a\x01b', NtStatus.OBJECT_NAME_INVALID],
    ['*.txt', NtStatus.OBJECT_NAME_INVALID],
    ['a?', NtStatus.OBJECT_NAME_INVALID],
    ['a<b', NtStatus.OBJECT_NAME_INVALID],
    ['a>b', NtStatus.OBJECT_NAME_INVALID],
    ['a|b', NtStatus.OBJECT_NAME_INVALID],
    ['a"b', NtStatus.OBJECT_NAME_INVALID],
    ['file:stream:', NtStatus.OBJECT_NAME_INVALID],
    ['file:stream:$FOO', NtStatus.OBJECT_NAME_INVALID],
    ['file::$INDEX_ALLOCATION', NtStatus.OBJECT_NAME_INVALID],
    ['file:a:b:$DATA', NtStatus.OBJECT_NAME_INVALID],
    ['f*:s', NtStatus.OBJECT_NAME_INVALID],
    ['\\:s', NtStatus.OBJECT_NAME_INVALID],
    ['dir:x\\file', NtStatus.OBJECT_NAME_INVALID],
    ['x'.repeat(256), NtStatus.OBJECT_NAME_INVALID],
  ];
  for (const [p, st] of bad) {
    test(`rejects ${JSON.stringify(p).slice(0, 40)}`, () => {
      assert.throws(() => normalizeSmbPath(p), (e: unknown) => e instanceof VfsError && e.status === st);
    });
  }
});

describe('LocalVfs stream depot', () => {
  test('lives outside the share; a depot inside the share is hidden and unreachable', async () => {
    const base = await mkTmp();
    const root = path.join(base, 'share');
    await fs.mkdir(root);
    const inside = new LocalVfs(root, { streamsDir: path.join(root, '.streams') });
    const { handle } = await inside.open('f.txt:s', { create: 'create', ...RW });
    await handle.write(Buffer.from('secret stream'), 0n);
    await handle.close();
    assert.deepEqual((await inside.readdir('')).map((e) => e.name), ['f.txt']);
    await rejectsStatus(inside.stat('.streams'), NtStatus.OBJECT_NAME_NOT_FOUND);
    await rejectsStatus(inside.open('.STREAMS', { create: 'open', read: true, write: false }), NtStatus.OBJECT_NAME_NOT_FOUND);
    assert.equal((await inside.stat('f.txt:S')).size, 13n);
    // Default depot: under SMBTS_HOME, never inside the share.
    const prev = process.env.SMBTS_HOME;
    process.env.SMBTS_HOME = path.join(base, 'home');
    try {
      const def = new LocalVfs(root);
      await (await def.open('g.txt:x', { create: 'create', ...RW })).handle.close();
      const depots = await fs.readdir(path.join(base, 'home', 'streams'));
      assert.equal(depots.length, 1);
      assert.ok(!(await def.readdir('')).some((e) => e.name === 'home'));
    } finally {
      if (prev === undefined) delete process.env.SMBTS_HOME;
      else process.env.SMBTS_HOME = prev;
    }
  });

  test('an inode reused behind our back does not inherit old streams', async () => {
    const base = await mkTmp();
    const root = path.join(base, 'share');
    await fs.mkdir(root);
    const vfs = new LocalVfs(root, { streamsDir: path.join(base, 'depot') });
    await (await vfs.open('a.txt:old', { create: 'create', ...RW })).handle.close();
    const ino = (await fs.stat(path.join(root, 'a.txt'))).ino;
    // Forge a stale birth stamp, as if the file had been deleted outside smbts and the inode reused.
    const dev = (await fs.stat(path.join(root, 'a.txt'), { bigint: true })).dev;
    await fs.writeFile(path.join(base, 'depot', `${dev}-${ino}`, '.birth'), 'stale');
    await new Promise((r) => setTimeout(r, 5));
    await fs.chmod(path.join(root, 'a.txt'), 0o644); // ctime moves away from btime
    const st = await fs.stat(path.join(root, 'a.txt'), { bigint: true });
    if (st.birthtimeNs === 0n || st.birthtimeNs === st.ctimeNs) return; // no trustworthy btime here: no check
    assert.deepEqual(await vfs.listStreams('a.txt'), []);
  });
});

describe('LocalVfs containment', () => {
  let root: string;
  let outside: string;
  let vfs: LocalVfs;
  before(async () => {
    const base = await mkTmp();
    root = path.join(base, 'share');
    outside = path.join(base, 'outside');
    await fs.mkdir(root);
    await fs.mkdir(outside);
    await fs.writeFile(path.join(outside, 'secret'), 'secret');
    await fs.mkdir(path.join(root, 'Sub'));
    await fs.writeFile(path.join(root, 'Sub', 'Inner.TXT'), 'inner');
    await fs.symlink('/etc', path.join(root, 'etc'));
    await fs.symlink(outside, path.join(root, 'out'));
    await fs.symlink(path.join(outside, 'secret'), path.join(root, 'secretlink'));
    await fs.symlink('Sub', path.join(root, 'sublink'));
    await fs.symlink('Sub/Inner.TXT', path.join(root, 'innerlink'));
    await fs.symlink('../../outside/secret', path.join(root, 'Sub', 'relescape'));
    await fs.symlink('nothing-here', path.join(root, 'dangling'));
    vfs = new LocalVfs(root);
  });
  after(async () => {
    for (const d of tmpDirs) await fs.rm(d, { recursive: true, force: true });
  });

  test('SMB escape paths never reach the VFS', () => {
    for (const p of ['..\\..\\etc\\passwd', '\\..\\x', '\\\\host\\c$\\x', 'C:\\x']) {
      assert.throws(() => normalizeSmbPath(p), VfsError);
    }
  });

  test('direct escape attempts on the share-path API', async () => {
    await rejectsStatus(vfs.stat('../outside/secret'), NtStatus.OBJECT_PATH_SYNTAX_BAD);
    await rejectsStatus(vfs.open('/etc/passwd', { create: 'open', read: true, write: false }), NtStatus.OBJECT_PATH_SYNTAX_BAD);
    await rejectsStatus(vfs.open('Sub/../../outside/secret', { create: 'open', read: true, write: false }), NtStatus.OBJECT_PATH_SYNTAX_BAD);
  });

  test('symlink to /etc is refused', async () => {
    await rejectsStatus(vfs.open('etc/passwd', { create: 'open', read: true, write: false }), NtStatus.ACCESS_DENIED);
    await rejectsStatus(vfs.stat('etc'), NtStatus.ACCESS_DENIED);
    await rejectsStatus(vfs.readdir('etc'), NtStatus.ACCESS_DENIED);
    await rejectsStatus(vfs.open('ETC/passwd', { create: 'open', read: true, write: false }), NtStatus.ACCESS_DENIED);
  });

  test('symlink to a directory outside is refused, also for create', async () => {
    await rejectsStatus(vfs.open('out/secret', { create: 'open', read: true, write: false }), NtStatus.ACCESS_DENIED);
    await rejectsStatus(vfs.open('out/new', { create: 'create', read: true, write: true }), NtStatus.ACCESS_DENIED);
    await rejectsStatus(vfs.open('secretlink', { create: 'open', read: true, write: false }), NtStatus.ACCESS_DENIED);
    await rejectsStatus(vfs.open('secretlink', { create: 'overwrite-if', read: true, write: true }), NtStatus.ACCESS_DENIED);
    await rejectsStatus(vfs.open('Sub/relescape', { create: 'open', read: true, write: false }), NtStatus.ACCESS_DENIED);
    await rejectsStatus(vfs.rename('Sub/Inner.TXT', 'out/stolen', false), NtStatus.ACCESS_DENIED);
    assert.deepEqual(await fs.readdir(outside), ['secret']);
    assert.equal(await fs.readFile(path.join(outside, 'secret'), 'utf8'), 'secret');
  });

  test('dangling symlink cannot be used to create a file', async () => {
    await rejectsStatus(vfs.open('dangling', { create: 'open', read: true, write: false }), NtStatus.OBJECT_NAME_NOT_FOUND);
    await assert.rejects(vfs.open('dangling', { create: 'open-if', read: true, write: true }), VfsError);
    await assert.rejects(fs.lstat(path.join(root, 'nothing-here')));
  });

  test('symlinks inside the share are followed', async () => {
    const { handle } = await vfs.open('sublink/inner.txt', { create: 'open', read: true, write: false });
    const b = Buffer.alloc(5);
    await handle.read(b, 0, 5, 0n);
    assert.equal(b.toString(), 'inner');
    assert.equal(handle.path, 'sublink/Inner.TXT');
    await handle.close();
    assert.equal((await vfs.stat('innerlink')).size, 5n);
  });

  test("followSymlinks: 'never'", async () => {
    const strict = new LocalVfs(root, { followSymlinks: 'never' });
    await rejectsStatus(strict.stat('sublink/Inner.TXT'), NtStatus.ACCESS_DENIED);
    await rejectsStatus(strict.stat('innerlink'), NtStatus.ACCESS_DENIED);
    assert.equal((await strict.stat('Sub/Inner.TXT')).size, 5n);
  });

  test('case-insensitive open and case-sensitive mode', async () => {
    const r = await vfs.open('sub/INNER.txt', { create: 'open', read: true, write: false });
    assert.equal(r.handle.path, 'Sub/Inner.TXT');
    await r.handle.close();
    const cs = new LocalVfs(root, { caseSensitive: true });
    await rejectsStatus(cs.stat('sub/Inner.TXT'), NtStatus.OBJECT_PATH_NOT_FOUND);
    await rejectsStatus(cs.stat('Sub/inner.txt'), NtStatus.OBJECT_NAME_NOT_FOUND);
  });

  test('readdir lists links without following escapes', async () => {
    const ents = await vfs.readdir('');
    const byName = new Map(ents.map((e) => [e.name, e.stat]));
    assert.equal(byName.get('etc')?.isSymlink, true);
    assert.equal(byName.get('sublink')?.isDirectory, true);
    assert.equal(byName.get('Sub')?.isDirectory, true);
  });

  test('unlinking a symlink removes the link, not the target', async () => {
    await vfs.unlink('secretlink');
    assert.equal(await fs.readFile(path.join(outside, 'secret'), 'utf8'), 'secret');
  });
});

describe('LocalVfs open with `known` (the resolution behind the stat just before)', () => {
  test('reused when current; a file changed since is resolved again', async () => {
    const root = await fs.mkdtemp(path.join(os.tmpdir(), 'smbts-known-'));
    try {
      const vfs = new LocalVfs(root);
      await fs.mkdir(path.join(root, 'd'));
      await fs.writeFile(path.join(root, 'd', 'f'), 'abc');
      // current: opens the file that stat saw
      let st = await vfs.stat('d/f');
      let o = await vfs.open('d/f', { create: 'open', read: true, write: false, known: st });
      assert.equal(o.action, 'opened');
      assert.equal((await o.handle.stat()).fileId, st.fileId);
      await o.handle.close();
      // removed between stat and open: not found, as without the hint
      st = await vfs.stat('d/f');
      await fs.rm(path.join(root, 'd', 'f'));
      await rejectsStatus(vfs.open('d/f', { create: 'open', read: true, write: false, known: st }), NtStatus.OBJECT_NAME_NOT_FOUND);
      // replaced by a symlink between stat and open: followed after a second resolve, not refused
      await fs.writeFile(path.join(root, 'g'), 'xyz');
      await fs.writeFile(path.join(root, 'd', 'f'), 'abc');
      st = await vfs.stat('d/f');
      await fs.rm(path.join(root, 'd', 'f'));
      await fs.symlink(path.join(root, 'g'), path.join(root, 'd', 'f'));
      o = await vfs.open('d/f', { create: 'open', read: true, write: false, known: st });
      assert.equal((await o.handle.stat()).size, 3n);
      assert.notEqual((await o.handle.stat()).fileId, st.fileId);
      await o.handle.close();
      await fs.rm(path.join(root, 'd', 'f'));
      // a miss (known: null): created when still missing; created meanwhile -> collision / opened
      await rejectsStatus(vfs.stat('d/n'), NtStatus.OBJECT_NAME_NOT_FOUND);
      o = await vfs.open('d/n', { create: 'create', read: true, write: true, known: null });
      assert.equal(o.action, 'created');
      await o.handle.close();
      await rejectsStatus(vfs.stat('d/m'), NtStatus.OBJECT_NAME_NOT_FOUND);
      await fs.writeFile(path.join(root, 'd', 'm'), '');
      await rejectsStatus(vfs.open('d/m', { create: 'create', read: true, write: true, known: null }), NtStatus.OBJECT_NAME_COLLISION);
      await rejectsStatus(vfs.stat('d/k'), NtStatus.OBJECT_NAME_NOT_FOUND);
      await fs.writeFile(path.join(root, 'd', 'k'), 'k');
      o = await vfs.open('d/k', { create: 'open-if', read: true, write: true, known: null });
      assert.equal(o.action, 'opened');
      await o.handle.close();
      // the parent renamed away between a miss and the create: not created under the old spelling
      await rejectsStatus(vfs.stat('d/z'), NtStatus.OBJECT_NAME_NOT_FOUND);
      await fs.rename(path.join(root, 'd'), path.join(root, 'e'));
      await rejectsStatus(vfs.open('d/z', { create: 'create', read: true, write: true, known: null }), NtStatus.OBJECT_PATH_NOT_FOUND);
      // another path's answer is not taken
      st = await vfs.stat('g');
      await rejectsStatus(vfs.open('e/none', { create: 'open', read: true, write: false, known: st }), NtStatus.OBJECT_NAME_NOT_FOUND);
    } finally {
      await fs.rm(root, { recursive: true, force: true });
    }
  });
});

test('LocalVfs handle.listStreams lists what listStreams(path) lists, after a rename too', async () => {
  const root = await fs.mkdtemp(path.join(os.tmpdir(), 'smbts-hstreams-'));
  const home = await fs.mkdtemp(path.join(os.tmpdir(), 'smbts-hstreams-home-'));
  const prev = process.env.SMBTS_HOME;
  process.env.SMBTS_HOME = home;
  try {
    const vfs = new LocalVfs(root);
    const f = await vfs.open('f', { create: 'create', ...RW });
    const s = await vfs.open('f:alt', { create: 'create', ...RW });
    await s.handle.write(Buffer.from('xyz'), 0n);
    await s.handle.close();
    await f.handle.stat();
    assert.deepEqual((await f.handle.listStreams!()).map((x) => [x.name, x.size]), [['alt', 3n]]);
    await vfs.rename('f', 'g', false);
    assert.deepEqual(await f.handle.listStreams!(), await vfs.listStreams!('g'));
    await f.handle.close();
  } finally {
    if (prev === undefined) delete process.env.SMBTS_HOME;
    else process.env.SMBTS_HOME = prev;
    await fs.rm(root, { recursive: true, force: true });
    await fs.rm(home, { recursive: true, force: true });
  }
});
