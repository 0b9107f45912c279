// The smbts command line (bin/smbts.js in a child process, as a user runs it) against smbts
// servers: mv refuses to cross servers, a relative NEWPATH is a path from the share root and
// errors name the path at fault, every `smbts CMD --help` prints that command's help and exits
// 0, and `status` copes with a stale admin socket and prints one JSON array for many servers.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { killGroup, repoRoot, run, startSmbts, type SmbtsHandle } from './peers.js';

const BIN = join(repoRoot(), 'bin', 'smbts.js');

function smbts(args: string[], env: Record<string, string> = {}): ReturnType<typeof run> {
  return run(process.execPath, [BIN, ...args], { env: { ...process.env, SMBTS_PASSWORD: 'test', ...env }, timeoutMs: 30_000 });
}

describe('smbts CLI against smbts servers', () => {
  let a: SmbtsHandle;
  let b: SmbtsHandle;
  before(async () => {
    [a, b] = await Promise.all([startSmbts(), startSmbts()]);
  });
  after(async () => {
    await a?.stop();
    await b?.stop();
  });

  it('mv across two servers (same host, other port) or shares is refused, nothing renamed', async () => {
    await writeFile(join(a.shareDir, 'x.txt'), 'x');
    const r = await smbts(['mv', `smb://test@127.0.0.1:${a.port}/share/x.txt`, `smb://test@127.0.0.1:${b.port}/share/y.txt`]);
    assert.equal(r.code, 1, r.stderr);
    assert.match(r.stderr, /cannot move between servers or shares/);
    assert.ok(existsSync(join(a.shareDir, 'x.txt')));
    assert.ok(!existsSync(join(a.shareDir, 'y.txt')) && !existsSync(join(b.shareDir, 'y.txt')));
    const r2 = await smbts(['mv', `smb://test@127.0.0.1:${a.port}/share/x.txt`, `smb://test@127.0.0.1:${a.port}/other/y.txt`]);
    assert.equal(r2.code, 1);
    assert.ok(existsSync(join(a.shareDir, 'x.txt')));
  });

  it('mv: relative NEWPATH from the share root; a missing target folder is named in the error', async () => {
    await mkdir(join(a.shareDir, 'sub'), { recursive: true });
    await writeFile(join(a.shareDir, 'sub', 'f.txt'), 'f');
    let r = await smbts(['mv', `smb://test@127.0.0.1:${a.port}/share/sub/f.txt`, 'g.txt']);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(await readFile(join(a.shareDir, 'g.txt'), 'utf8'), 'f');
    r = await smbts(['mv', `smb://test@127.0.0.1:${a.port}/share/g.txt`, 'sub']);
    assert.equal(r.code, 0, r.stderr);
    assert.ok(existsSync(join(a.shareDir, 'sub', 'g.txt')), 'into an existing directory under its own name');
    r = await smbts(['mv', `smb://test@127.0.0.1:${a.port}/share/sub/g.txt`, 'nodir/h.txt']);
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /\/nodir\/h\.txt: /);
    assert.doesNotMatch(r.stderr, /g\.txt: /);
  });

  it('CMD --help prints that command\'s help and exits 0', async () => {
    for (const [cmd, want] of [['ls', /smbts ls \[-l\] URL/], ['mv', /smbts mv URL NEWPATH/], ['get', /smbts get/], ['stat', /smbts stat URL/],
      ['serve', /smbts serve \[DIR\]/], ['status', /smbts status \[--users FILE\]/], ['user', /smbts user add NAME/]] as const) {
      const r = await smbts([cmd, '--help']);
      assert.equal(r.code, 0, `${cmd}: ${r.stderr}`);
      assert.match(r.stdout, want, cmd);
    }
    const ls = await smbts(['ls', '--help']);
    assert.doesNotMatch(ls.stdout, /smbts put /, 'not the generic page');
  });

  it('status: a stale socket is cleaned up, --json with two servers is one array', async () => {
    const home = await mkdtemp(join(tmpdir(), 'smbts-status-'));
    const env = { SMBTS_HOME: home, SMBTS_PASSWORD: 'test' };
    const servers: ChildProcess[] = [];
    try {
      // A stale socket: a process that listened on it and was killed.
      const stale = join(home, 'smbts-1.sock');
      await mkdir(home, { recursive: true });
      const k = await run(process.execPath, ['-e', `require('net').createServer().listen(${JSON.stringify(stale)}, () => process.kill(process.pid, 'SIGKILL'))`], { timeoutMs: 10_000 });
      assert.notEqual(k.code, 0);
      assert.ok(existsSync(stale));
      for (let i = 0; i < 2; i++) {
        const share = join(home, `share${i}`);
        const child = spawn(process.execPath, [BIN, 'serve', share, '--port', '0', '--host', '127.0.0.1', '--quiet'], { env: { ...process.env, ...env }, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
        servers.push(child);
        await new Promise<void>((resolve, reject) => {
          let text = '';
          const t = setTimeout(() => reject(new Error(`serve did not start: ${text}`)), 20_000);
          child.stdout!.on('data', (d: Buffer) => { text += d.toString(); if (/^status: /m.test(text)) { clearTimeout(t); resolve(); } });
          child.on('exit', (c) => { clearTimeout(t); reject(new Error(`serve exited ${c}: ${text}`)); });
        });
      }
      let r = await smbts(['status'], env);
      assert.equal(r.code, 0, r.stderr);
      assert.equal(r.stdout.match(/^server /gm)?.length, 2, r.stdout);
      assert.ok(!existsSync(stale), 'the stale socket was removed');
      await writeFile(stale, ''); // and a plain leftover file is ignored too
      r = await smbts(['status', '--json'], env);
      assert.equal(r.code, 0, r.stderr);
      const all = JSON.parse(r.stdout) as Array<{ port: number; sessions: unknown[] }>;
      assert.ok(Array.isArray(all));
      assert.equal(all.length, 2);
      assert.ok(all.every((s) => typeof s.port === 'number' && Array.isArray(s.sessions)));
    } finally {
      for (const s of servers) killGroup(s.pid, 'SIGTERM');
      await new Promise((r) => setTimeout(r, 300));
      for (const s of servers) killGroup(s.pid, 'SIGKILL');
      await rm(home, { recursive: true, force: true });
    }
  });
});
