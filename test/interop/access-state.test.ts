// Issue 9 item 3: the server's own state is never reachable through a share, whatever the share
// path. `smbts serve HOME` (the CLI, as a user would run it) with SMBTS_HOME=HOME/.smbts: the
// user database, the admin socket and the stream depot live inside the share; smbclient can
// neither list, get, overwrite nor rename into them, by any spelling, nor through a symlink.
// A second server keeps its user database as a file in the share root (--users).
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, mkdir, writeFile, readFile, readdir, rm, symlink } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort, waitForPort, killGroup, smbclient, missingTools, repoRoot } from './peers.js';

const skip = missingTools(['smbclient']);
const PASS = 'Secret-123';

interface Served { port: number; child: ChildProcess; out: string[] }

async function serve(args: string[], home: string): Promise<Served> {
  const port = await freePort();
  const main = join(repoRoot(), 'dist', 'src', 'cli', 'main.js');
  const child = spawn(process.execPath, [main, 'serve', ...args, '--port', String(port), '--host', '127.0.0.1'], {
    env: { ...process.env, SMBTS_HOME: home, SMBTS_PASSWORD: PASS }, detached: true, stdio: ['ignore', 'pipe', 'pipe'],
  });
  const out: string[] = [];
  child.stdout!.on('data', (b: Buffer) => out.push(b.toString()));
  child.stderr!.on('data', (b: Buffer) => out.push(b.toString()));
  await waitForPort(port, 20_000);
  return { port, child, out };
}

const cli = (s: Served, cmd: string, cwd?: string) =>
  smbclient(s.port, ['-c', cmd], { user: 'smbts', pass: PASS, cwd, timeoutMs: 30_000 });

describe('server state is not reachable through a share', { skip, timeout: 120_000 }, () => {
  let home: string;
  let local: string;
  let a: Served | undefined;
  let b: Served | undefined;
  let db: string;

  before(async () => {
    home = await mkdtemp(join(tmpdir(), 'smbts-home-'));
    local = await mkdtemp(join(tmpdir(), 'smbts-local-'));
    await writeFile(join(home, 'notes.txt'), 'hello\n');
    await writeFile(join(local, 'evil'), 'smbts:0:XXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXX:00000000000000000000000000000000:[U          ]:LCT-00000000:\n');
    a = await serve([home], join(home, '.smbts'));
    db = await readFile(join(home, '.smbts', 'smbpasswd'), 'utf8');
    // A symlink in the share to the state directory, and another spelling of it via a symlink.
    await symlink('.smbts', join(home, 'link'));
    await symlink(join(home, '.smbts', 'smbpasswd'), join(home, 'pw-link'));
  });
  after(async () => {
    for (const s of [a, b]) if (s) killGroup(s.child.pid, 'SIGKILL');
    await rm(home, { recursive: true, force: true });
    await rm(local, { recursive: true, force: true });
  });

  it('the share works, and lists neither the state directory nor links to it', async () => {
    const r = await cli(a!, 'ls');
    assert.equal(r.code, 0, r.stdout + r.stderr + a!.out.join(''));
    assert.match(r.stdout, /notes\.txt/);
    assert.doesNotMatch(r.stdout, /\.smbts|smbpasswd|pw-link|\blink\b/i);
    const st = await cli(a!, 'ls .smbts\\*; ls .SMBTS\\*; ls link\\*');
    assert.doesNotMatch(st.stdout, /smbpasswd|streams|\.sock/);
  });

  it('no spelling or link gets the user database', async () => {
    for (const name of ['.smbts\\smbpasswd', '.SMBTS\\SMBPASSWD', '.Smbts\\smbpasswd', 'link\\smbpasswd', 'pw-link', '.smbts\\..\\.smbts\\smbpasswd']) {
      const r = await cli(a!, `get "${name}" got`, local);
      assert.match(r.stdout + r.stderr, /NT_STATUS_(OBJECT_NAME_NOT_FOUND|OBJECT_PATH_NOT_FOUND|ACCESS_DENIED|OBJECT_NAME_INVALID)/, `${name}: ${r.stdout}${r.stderr}`);
      await assert.rejects(readFile(join(local, 'got')), `${name} was downloaded`);
    }
  });

  it('the user database cannot be overwritten, created in, renamed into or deleted', async () => {
    const cmds = [
      'put evil .smbts\\smbpasswd', 'put evil .SMBTS\\smbpasswd', 'put evil link\\smbpasswd', 'put evil pw-link',
      'put evil .smbts\\new', 'mkdir .smbts\\dir', 'rename notes.txt .smbts\\notes.txt', 'rename .smbts\\smbpasswd stolen',
      'del .smbts\\smbpasswd', 'rmdir .smbts', 'put evil .smbts\\smbpasswd:stream',
    ];
    for (const c of cmds) {
      const r = await cli(a!, c, local);
      assert.match(r.stdout + r.stderr, /NT_STATUS_/, `${c} succeeded: ${r.stdout}${r.stderr}`);
    }
    assert.equal(await readFile(join(home, '.smbts', 'smbpasswd'), 'utf8'), db);
    assert.equal(await readFile(join(home, 'notes.txt'), 'utf8'), 'hello\n');
    assert.ok(!(await readdir(join(home, '.smbts'))).some((n) => n === 'new' || n === 'dir' || n === 'notes.txt'));
    assert.ok(!(await readdir(home)).includes('stolen'));
  });

  it('a user database kept as a file in the share root is hidden, the rest is served', async () => {
    b = await serve([home, '--users', join(home, 'users.db')], join(local, 'state'));
    const ls = await cli(b, 'ls');
    assert.equal(ls.code, 0, ls.stdout + ls.stderr);
    assert.match(ls.stdout, /notes\.txt/);
    assert.doesNotMatch(ls.stdout, /users\.db|smbts-\d+\.sock/i);
    for (const name of ['users.db', 'USERS.DB', `smbts-${b.port}.sock`]) {
      const r = await cli(b, `get "${name}" got2`, local);
      assert.match(r.stdout + r.stderr, /NT_STATUS_/, name);
    }
    await assert.rejects(readFile(join(local, 'got2')));
    const put = await cli(b, 'put evil users.db', local);
    assert.match(put.stdout + put.stderr, /NT_STATUS_/);
    const r = await cli(b, 'get notes.txt got3', local);
    assert.equal(r.code, 0, r.stdout + r.stderr);
  });

  it('a share inside the state directory serves nothing', async () => {
    await mkdir(join(home, '.smbts', 'streams'), { recursive: true });
    const s = await serve([join(home, '.smbts', 'streams')], join(home, '.smbts'));
    try {
      const r = await cli(s, 'ls');
      assert.match(r.stdout + r.stderr, /NT_STATUS_ACCESS_DENIED/);
    } finally {
      killGroup(s.child.pid, 'SIGKILL');
    }
  });
});
