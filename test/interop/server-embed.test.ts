// The embeddable server (docs/server-api.md): startServer with a user map and share backends
// given as `vfs` (MemoryVfs, or the host's own Vfs), and a missing share directory reported by
// startServer itself instead of an unhandled rejection at the first client request.
import { describe, it, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect, SmbError, type SmbClient } from '../../src/client/index.js';
import {
  startServer, defaultConfig, parseConfig, MemoryVfs, type Vfs, type OpenOptions, type FileStat, type DirEntry,
} from '../../src/server/public.js';

/** A host's own backend: delegates to a MemoryVfs and records which paths were opened. */
class AuditVfs implements Vfs {
  readonly opened: string[] = [];
  private readonly inner = new MemoryVfs();
  get caseSensitive(): boolean { return this.inner.caseSensitive; }
  open(path: string, opts: OpenOptions): ReturnType<Vfs['open']> { this.opened.push(path); return this.inner.open(path, opts); }
  stat(path: string): Promise<FileStat> { return this.inner.stat(path); }
  readdir(path: string): Promise<DirEntry[]> { return this.inner.readdir(path); }
  unlink(path: string): Promise<void> { return this.inner.unlink(path); }
  rmdir(path: string): Promise<void> { return this.inner.rmdir(path); }
  rename(from: string, to: string, replace: boolean): Promise<void> { return this.inner.rename(from, to, replace); }
  statfs(): ReturnType<Vfs['statfs']> { return this.inner.statfs(); }
}

describe('embedded server', () => {
  const dirs: string[] = [];
  after(async () => { for (const d of dirs) await rm(d, { recursive: true, force: true }); });

  it('a share whose directory is missing (or a file) is an error at start', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'smbts-embed-'));
    dirs.push(dir);
    await assert.rejects(startServer({ config: defaultConfig(join(dir, 'nope')), users: { u: 'p' }, port: 0, host: '127.0.0.1' }),
      /share \[share\]: cannot serve path ".*nope" \(ENOENT\)/);
    await writeFile(join(dir, 'file'), 'x');
    await assert.rejects(startServer({ config: parseConfig(`[f]\npath = ${join(dir, 'file')}\n`), users: { u: 'p' }, port: 0, host: '127.0.0.1' }),
      /share \[f\]: path ".*file" is not a directory/);
    await assert.rejects(startServer({ users: { u: 'p' }, vfs: { 'a/b': new MemoryVfs() }, port: 0, host: '127.0.0.1' }), /not a valid share name/);
  });

  it('serves a MemoryVfs and a host Vfs beside a disk share, users as a map', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'smbts-embed-'));
    dirs.push(dir);
    const audit = new AuditVfs();
    const server = await startServer({
      config: defaultConfig(dir), users: { alice: 'secret' }, vfs: { mem: new MemoryVfs(), audit }, host: '127.0.0.1', port: 0,
    });
    try {
      for (const share of ['share', 'mem', 'audit']) {
        const c = await connect({ host: '127.0.0.1', port: server.port, share, username: 'alice', password: 'secret' });
        await c.writeFile('hello.txt', `to ${share}`);
        assert.equal((await c.readFile('hello.txt')).toString(), `to ${share}`);
        await c.close();
      }
      assert.ok(audit.opened.includes('/hello.txt') || audit.opened.some((p) => p.endsWith('hello.txt')), audit.opened.join(','));
      await assert.rejects(connect({ host: '127.0.0.1', port: server.port, share: 'mem', username: 'alice', password: 'wrong' }), SmbError);
    } finally {
      await server.close();
    }
  });

  it('a share directory removed while serving: the request fails, the host lives on', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'smbts-embed-'));
    const escaped: unknown[] = [];
    const onEscape = (e: unknown): void => { escaped.push(e); };
    process.on('unhandledRejection', onEscape);
    process.on('uncaughtException', onEscape);
    const server = await startServer({ config: defaultConfig(dir), users: { u: 'p' }, host: '127.0.0.1', port: 0 });
    try {
      await rm(dir, { recursive: true, force: true });
      const c: SmbClient | Error = await connect(`smb://u@127.0.0.1:${server.port}/share`, { password: 'p' }).catch((e: Error) => e);
      if (!(c instanceof Error)) {
        await assert.rejects(c.writeFile('x.txt', 'data'), SmbError);
        await c.close();
      }
      await new Promise((r) => setTimeout(r, 100));
      assert.deepEqual(escaped.map(String), []);
    } finally {
      process.off('unhandledRejection', onEscape);
      process.off('uncaughtException', onEscape);
      await server.close();
    }
  });
});
