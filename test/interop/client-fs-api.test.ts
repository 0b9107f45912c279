// The client's fs/promises shape (docs/client.md) against an in-process smbts on a temp directory:
// encodings, Dirent/Stats objects, recursive readdir, opendir, the calls fs/promises users expect
// (appendFile, unlink, rmdir, truncate, utimes, access, copyFile server-side, watch), errno codes
// on errors, AbortSignal, the object form of connect with its validation, and that an idle
// client does not keep the process alive.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { constants } from 'node:fs';
import { mkdtemp, readFile, rm, stat as fsStat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect, Dirent, SmbError, Stats, type SmbClient } from '../../src/client/index.js';
import { startServer, defaultConfig, type SmbServer } from '../../src/server/public.js';
import { freePort } from './peers.js';

describe('client fs/promises API', () => {
  let server: SmbServer;
  let dir: string;
  let c: SmbClient;
  const target = (): { host: string; port: number; share: string; username: string; password: string } =>
    ({ host: '127.0.0.1', port: server.port, share: 'share', username: 'u', password: 'p' });

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'smbts-fsapi-'));
    server = await startServer({ config: defaultConfig(dir), users: { u: 'p' }, host: '127.0.0.1', port: 0 });
    c = await connect(target());
  });
  after(async () => {
    await c?.close();
    await server?.close();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('readFile/writeFile with encodings, appendFile, truncate', async () => {
    await c.writeFile('t.txt', 'héllo', 'utf8');
    assert.equal(await c.readFile('t.txt', 'utf8'), 'héllo');
    assert.equal(await c.readFile('t.txt', { encoding: 'latin1' }), Buffer.from('héllo').toString('latin1'));
    assert.ok(Buffer.isBuffer(await c.readFile('t.txt')));
    await c.writeFile('t.txt', '68656c6c6f', { encoding: 'hex' });
    assert.equal(await c.readFile('t.txt', 'utf8'), 'hello');
    await c.appendFile('t.txt', ' world');
    await c.appendFile('t.txt', Buffer.from('!'));
    assert.equal(await readFile(join(dir, 't.txt'), 'utf8'), 'hello world!');
    await c.truncate('t.txt', 5);
    assert.equal(await readFile(join(dir, 't.txt'), 'utf8'), 'hello');
    await c.truncate('t.txt');
    assert.equal((await fsStat(join(dir, 't.txt'))).size, 0);
    await assert.rejects(c.writeFile('t.txt', 'x', { flag: 'wx' }), { code: 'EEXIST', statusName: 'OBJECT_NAME_COLLISION' });
  });

  it('stat: Stats with methods, *Ms times and base names; readdir withFileTypes, withStats, recursive; opendir', async () => {
    await c.mkdir('d/e/f', { recursive: true });
    await c.writeFile('d/a.txt', 'aa');
    await c.writeFile('d/e/b.txt', 'bbb');
    const st = await c.stat('d/a.txt');
    assert.ok(st instanceof Stats);
    assert.equal(st.isFile(), true);
    assert.equal(st.isDirectory(), false);
    assert.equal(st.name, 'a.txt');
    assert.equal(st.path, '/d/a.txt');
    assert.equal(st.size, 2);
    assert.equal(typeof st.mtimeMs, 'number');
    assert.equal(st.mtime.getTime(), Math.floor(st.mtimeMs));
    assert.ok(Math.abs(st.mtimeMs - (await fsStat(join(dir, 'd', 'a.txt'))).mtimeMs) < 2000);
    assert.equal((await c.stat('d')).isDirectory(), true);
    assert.equal((await c.stat('/')).path, '/');

    assert.deepEqual((await c.readdir('d')).sort(), ['a.txt', 'e']);
    const dirents = await c.readdir('d', { withFileTypes: true });
    assert.ok(dirents.every((d) => d instanceof Dirent && d.parentPath === '/d'));
    assert.deepEqual(dirents.map((d) => [d.name, d.isDirectory()]).sort(), [['a.txt', false], ['e', true]]);
    const withStats = await c.readdir('d', { withStats: true });
    assert.equal(withStats.find((s) => s.name === 'a.txt')?.size, 2);
    assert.deepEqual((await c.readdir('d', { recursive: true })).sort(), ['a.txt', 'e', 'e/b.txt', 'e/f']);
    const deep = await c.readdir('d', { recursive: true, withFileTypes: true });
    assert.equal(deep.find((d) => d.name === 'b.txt')?.parentPath, '/d/e');

    const names: string[] = [];
    for await (const e of await c.opendir('d')) names.push(e.name);
    assert.deepEqual(names.sort(), ['a.txt', 'e']);
    const d = await c.opendir('d/e');
    assert.ok(await d.read());
    assert.ok(await d.read());
    assert.equal(await d.read(), null);
    await d.close();
  });

  it('unlink, rmdir, utimes, access, copyFile (server-side), errno codes', async () => {
    await c.mkdir('r');
    await c.writeFile('r/f.txt', 'x');
    await assert.rejects(c.rmdir('r'), { code: 'ENOTEMPTY', statusName: 'DIRECTORY_NOT_EMPTY' });
    await assert.rejects(c.unlink('r'), { code: 'EISDIR' });
    await assert.rejects(c.rmdir('r/f.txt'), { code: 'ENOTDIR' });
    await c.unlink('r/f.txt');
    await assert.rejects(c.unlink('r/f.txt'), (e: unknown) => e instanceof SmbError && e.code === 'ENOENT' && e.statusName === 'OBJECT_NAME_NOT_FOUND' && e.status === 0xc0000034);
    await c.rmdir('r');
    await assert.rejects(c.stat('r'), { code: 'ENOENT' });

    await c.writeFile('u.txt', 'u');
    const when = new Date('2001-02-03T04:05:06Z');
    await c.utimes('u.txt', when, when);
    assert.equal((await c.stat('u.txt')).mtimeMs, when.getTime());
    assert.equal((await fsStat(join(dir, 'u.txt'))).mtimeMs, when.getTime());

    await c.access('u.txt');
    await c.access('u.txt', constants.R_OK | constants.W_OK);
    await assert.rejects(c.access('nope'), { code: 'ENOENT' });

    const big = Buffer.alloc(3 * 1024 * 1024 + 17);
    for (let i = 0; i < big.length; i += 4096) big[i] = i & 0xff;
    await writeFile(join(dir, 'src.bin'), big);
    const before = c.channels()[0]!.bytesSent;
    await c.copyFile('src.bin', 'dst.bin');
    assert.ok((await readFile(join(dir, 'dst.bin'))).equals(big));
    assert.ok(c.channels()[0]!.bytesSent - before < 64 * 1024, 'the data did not cross the network');
    await assert.rejects(c.copyFile('src.bin', 'dst.bin', constants.COPYFILE_EXCL), { code: 'EEXIST' });
    await c.copyFile('u.txt', 'dst.bin');
    assert.equal(await readFile(join(dir, 'dst.bin'), 'utf8'), 'u');
  });

  it('watch reports changes and ends on abort', async () => {
    await c.mkdir('w');
    const ac = new AbortController();
    const seen: Array<{ eventType: string; filename: string | null }> = [];
    const done = (async () => {
      for await (const ev of c.watch('w', { signal: ac.signal })) {
        seen.push(ev);
        if (seen.some((e) => e.filename === 'new.txt')) ac.abort();
      }
    })();
    done.catch(() => undefined); // checked below; it may settle before assert.rejects is attached
    // The watch is registered on the first next(); give it a moment before the change.
    await new Promise((r) => setTimeout(r, 200));
    const other = await connect(target());
    await other.writeFile('w/new.txt', 'n');
    await other.close();
    await assert.rejects(done, { name: 'AbortError' });
    assert.ok(seen.some((e) => e.eventType === 'rename' && e.filename === 'new.txt'), JSON.stringify(seen));
    // Leaving the loop ends it too, and the directory handle is closed (rmdir works).
    const it2 = c.watch('w', { recursive: true })[Symbol.asyncIterator]();
    const first = it2.next();
    await new Promise((r) => setTimeout(r, 100));
    await c.writeFile('w/again.txt', 'a');
    assert.equal((await first).done, false);
    await it2.return!();
    await c.unlink('w/new.txt');
    await c.unlink('w/again.txt');
    await c.rmdir('w');
  });

  it('AbortSignal: already aborted -> AbortError, nothing done', async () => {
    const ac = new AbortController();
    ac.abort();
    await assert.rejects(c.readFile('u.txt', { signal: ac.signal }), { name: 'AbortError', code: 'ABORT_ERR' });
    await assert.rejects(c.writeFile('abort.txt', 'x', { signal: ac.signal }), { name: 'AbortError' });
    await assert.rejects(connect({ ...target(), signal: ac.signal }), { name: 'AbortError' });
    await assert.rejects(c.download('u.txt', join(dir, 'never'), { signal: ac.signal }), { name: 'AbortError' });
    assert.equal(await c.exists('abort.txt'), false);
    // Aborted mid-transfer.
    const ac2 = new AbortController();
    const p = c.readFile('src.bin', { signal: ac2.signal, chunkSize: 64 * 1024, depth: 1 });
    ac2.abort();
    await assert.rejects(p, { name: 'AbortError' });
  });

  it('connect: object form, option validation, no user given', async () => {
    const url = `smb://u@127.0.0.1:${server.port}/share`;
    await assert.rejects(connect(url, { password: 'p', pasword: 'typo' } as never), /unknown option "pasword"/);
    await assert.rejects(connect({ ...target(), timeout: 5 } as never), /unknown option "timeout"/);
    await assert.rejects(connect(url, { timeoutMs: '5' } as never), /"timeoutMs" must be a number/);
    await assert.rejects(connect(`smb://127.0.0.1:${server.port}/share`, { password: 'p' }), /no user given/);
    await assert.rejects(connect({ host: '127.0.0.1', port: server.port, share: 'share', password: 'p' }), /no user given/);
    await assert.rejects(connect({ host: '127.0.0.1', share: '' } as never), /no share given/);
    await assert.rejects(connect(url, { password: 'wrong' }), { code: 'EACCES', statusName: 'LOGON_FAILURE' });
    const closed = await freePort();
    await assert.rejects(connect({ ...target(), port: closed }), { code: 'ECONNREFUSED', statusName: 'CONNECTION_REFUSED' });
    await using d = await connect({ ...target(), path: 'd' });
    assert.equal(await d.readFile('a.txt', 'utf8'), 'aa');
  });

  it('an idle client does not keep the process alive', async () => {
    const entry = new URL('../../src/client/index.js', import.meta.url).href;
    const script = `const { connect } = await import(${JSON.stringify(entry)});
      const c = await connect('smb://u@127.0.0.1:${server.port}/share', { password: 'p' });
      await c.stat('u.txt');
      console.log('idle');`;
    const code = await new Promise<number | null>((resolve) => {
      const child = spawn(process.execPath, ['--input-type=module', '-e', script], { stdio: ['ignore', 'pipe', 'inherit'] });
      const t = setTimeout(() => child.kill('SIGKILL'), 15_000);
      child.on('exit', (code) => { clearTimeout(t); resolve(code); });
    });
    assert.equal(code, 0, 'exited by itself while the client was still connected');
  });
});
