// `smbts ls|get|put|cat|mkdir|rm|mv|stat` against Samba, run as a child process the way a user
// runs it: password from SMBTS_PASSWORD or an -A file (never the command line), exit codes
// 0 ok / 1 error / 2 usage / 3 auth / 4 not found.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtemp, mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startSamba, missingTools, type SambaHandle } from './peers.js';

const ENTRY = new URL('../../src/cli/client-commands.js', import.meta.url).href;

interface Result { code: number; stdout: string; stderr: string }

/** Runs the client CLI in a child node (same loader flags as this test, so it works from src and dist). */
function cli(args: string[], env: Record<string, string | undefined> = {}): Promise<Result> {
  const script = `const m = await import(${JSON.stringify(ENTRY)}); const [c, ...a] = JSON.parse(process.env.SMBTS_TEST_ARGV); process.exitCode = await m.runClientCommand(c, a);`;
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [...process.execArgv.filter((a) => !a.startsWith('--test')), '--input-type=module', '-e', script], {
      env: { ...process.env, SMBTS_PASSWORD: undefined, ...env, SMBTS_TEST_ARGV: JSON.stringify(args) },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on('data', (b: Buffer) => out.push(b));
    child.stderr.on('data', (b: Buffer) => err.push(b));
    const t = setTimeout(() => child.kill('SIGKILL'), 30_000);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(t);
      resolve({ code: code ?? -1, stdout: Buffer.concat(out).toString(), stderr: Buffer.concat(err).toString() });
    });
  });
}

describe('smbts client CLI against Samba', { skip: missingTools(['smbd', 'smbpasswd']) }, () => {
  let samba: SambaHandle;
  let local: string;
  let url: string;
  const pw = { SMBTS_PASSWORD: 'test' };
  before(async () => {
    samba = await startSamba();
    url = `smb://test@127.0.0.1:${samba.port}/share`;
    local = await mkdtemp(join(tmpdir(), 'smbts-cli-'));
  });
  after(async () => {
    await samba?.stop();
    if (local) await rm(local, { recursive: true, force: true });
  });

  it('put, ls, get, cat, stat, mv, mkdir, rm', async () => {
    const data = randomBytes(2 * 1024 * 1024 + 3);
    await writeFile(join(local, 'data.bin'), data);
    let r = await cli(['put', join(local, 'data.bin'), `${url}/`], pw);
    assert.equal(r.code, 0, r.stderr);
    assert.ok((await readFile(join(samba.shareDir, 'data.bin'))).equals(data));

    r = await cli(['ls', '-l', `${url}/`], pw);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /2097155 .* data\.bin/);

    r = await cli(['get', '-q', `${url}/data.bin`, join(local, 'back.bin')], pw);
    assert.equal(r.code, 0, r.stderr);
    assert.ok((await readFile(join(local, 'back.bin'))).equals(data));

    await writeFile(join(samba.shareDir, 'hello.txt'), 'hello\n');
    r = await cli(['cat', `${url}/hello.txt`], pw);
    assert.equal(r.stdout, 'hello\n');

    r = await cli(['stat', `${url}/hello.txt`], pw);
    assert.match(r.stdout, /size: +6/);

    r = await cli(['mv', `${url}/hello.txt`, 'bye.txt'], pw);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(await readFile(join(samba.shareDir, 'bye.txt'), 'utf8'), 'hello\n');

    r = await cli(['mkdir', '-p', `${url}/a/b/c`], pw);
    assert.equal(r.code, 0, r.stderr);
    r = await cli(['rm', `${url}/a`], pw);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /directory not empty/);
    r = await cli(['rm', '-r', `${url}/a`], pw);
    assert.equal(r.code, 0, r.stderr);
  });

  it('recursive put and get', async () => {
    const src = join(local, 'tree');
    await mkdir(join(src, 'sub', 'deeper'), { recursive: true });
    await writeFile(join(src, 'one.txt'), '1');
    await writeFile(join(src, 'sub', 'two.txt'), '22');
    await writeFile(join(src, 'sub', 'deeper', 'three.txt'), '333');
    let r = await cli(['put', '-r', src, `${url}/`], pw);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(await readFile(join(samba.shareDir, 'tree', 'sub', 'deeper', 'three.txt'), 'utf8'), '333');
    r = await cli(['get', '-r', `${url}/tree`, join(local, 'copy')], pw);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(await readFile(join(local, 'copy', 'sub', 'two.txt'), 'utf8'), '22');
  });

  it('authentication file, exit codes', async () => {
    const auth = join(local, 'auth.txt');
    await writeFile(auth, 'username = test\npassword = test\ndomain = WORKGROUP\n');
    let r = await cli(['ls', '-A', auth, `smb://127.0.0.1:${samba.port}/share`]);
    assert.equal(r.code, 0, r.stderr);

    r = await cli(['ls', `${url}/`], { SMBTS_PASSWORD: 'wrong' });
    assert.equal(r.code, 3);
    assert.match(r.stderr, /wrong user name or password/);

    r = await cli(['stat', `${url}/no/such/file`], pw);
    assert.equal(r.code, 4);

    r = await cli(['ls'], pw);
    assert.equal(r.code, 2);

    r = await cli(['ls', `${url}/`]); // no password, no terminal
    assert.equal(r.code, 2);
    assert.match(r.stderr, /no password/);
  });
});
