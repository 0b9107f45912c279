// smbts as an npm package, used the way a new user uses it: `npm pack`, install the tarball into an
// empty project offline, import 'smbts' and 'smbts/server', typecheck a .ts file against the
// shipped .d.ts under moduleResolution nodenext, run a round trip against an embedded server, and
// run `npx smbts serve` plus a client command from the installed package.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtemp, mkdir, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { killGroup, repoRoot, run } from './peers.js';

const ROOT = repoRoot();

const PROBE = `import { connect, SmbError, type Stats } from 'smbts';
import { startServer, MemoryVfs, type SmbServer } from 'smbts/server';

const server: SmbServer = await startServer({ users: { alice: 'pw' }, vfs: { mem: new MemoryVfs() }, host: '127.0.0.1', port: 0 });
try {
  const client = await connect({ host: '127.0.0.1', port: server.port, share: 'mem', username: 'alice', password: 'pw' });
  await client.writeFile('hello.txt', 'hello from the package');
  const back: string = await client.readFile('hello.txt', 'utf8');
  const st: Stats = await client.stat('hello.txt');
  let missing = '';
  try { await client.readFile('nope'); } catch (e) { if (e instanceof SmbError) missing = e.statusName; }
  await client.close();
  console.log(JSON.stringify({ text: back, size: st.size, file: st.isFile(), missing }));
} finally {
  await server.close();
}
`;

describe('npm package', () => {
  let tmp: string;
  let tgz: string;
  let proj: string;
  let files: string[] = [];
  before(async () => {
    tmp = await mkdtemp(join(tmpdir(), 'smbts-pkg-'));
  });
  after(async () => {
    if (tmp) await rm(tmp, { recursive: true, force: true });
  });

  it('npm pack: valid --json output, only what users need', async () => {
    const r = await run('npm', ['pack', '--json', '--pack-destination', tmp, '--cache', join(tmp, 'cache'), '--offline'], { cwd: ROOT, timeoutMs: 120_000 });
    assert.equal(r.code, 0, r.stderr);
    const info = JSON.parse(r.stdout) as Array<{ filename: string; files: Array<{ path: string }> }>;
    assert.equal(info.length, 1);
    tgz = join(tmp, info[0]!.filename);
    assert.ok(existsSync(tgz));
    files = info[0]!.files.map((f) => f.path);
    for (const must of ['LICENSE', 'README.md', 'package.json', 'bin/smbts.js', 'dist/src/client/index.js', 'dist/src/client/index.d.ts',
      'dist/src/server/public.js', 'dist/src/server/public.d.ts', 'dist/src/cli/main.js', 'scripts/build-native.mjs',
      'native/xattr/binding.gyp', 'native/xattr/xattr.c', 'native/aead/aead.c', 'docs/client.md', 'docs/server-api.md']) {
      assert.ok(files.includes(must), `${must} is in the tarball`);
    }
    const unwanted = files.filter((f) => /\.test\.|testutil|fixture|\.map$|(^|\/)build\/|^dist\/(test|bench)\/|^(test|bench|\.ci|src)\/|tsconfig|perf-log/.test(f));
    assert.deepEqual(unwanted, []);
  });

  it('installs offline into an empty project, typechecks under nodenext and runs a round trip', async () => {
    assert.ok(tgz, 'packed');
    proj = join(tmp, 'proj');
    await mkdir(proj);
    await writeFile(join(proj, 'package.json'), JSON.stringify({ name: 'probe', version: '1.0.0', private: true, type: 'module' }));
    const env = { ...process.env, SMBTS_SKIP_NATIVE: '1', npm_config_update_notifier: 'false' };
    const r = await run('npm', ['install', '--offline', '--no-audit', '--no-fund', '--foreground-scripts', '--cache', join(tmp, 'cache'), tgz], { cwd: proj, env, timeoutMs: 120_000 });
    assert.equal(r.code, 0, r.stderr + r.stdout);
    const installed = join(proj, 'node_modules', 'smbts');
    assert.ok(existsSync(join(installed, 'dist', 'src', 'client', 'index.js')));
    // The install script ran for a tarball install (SMBTS_SKIP_NATIVE keeps this test short; a
    // build takes ~10 s per addon, and without them the code falls back to node:crypto and memory).
    assert.match(r.stdout + r.stderr, /smbts: native xattr addon skipped/);
    // @types/node from the repo: the probe project has no registry to fetch it from.
    await mkdir(join(proj, 'node_modules', '@types'), { recursive: true });
    await symlink(join(ROOT, 'node_modules', '@types', 'node'), join(proj, 'node_modules', '@types', 'node'), 'dir');
    await writeFile(join(proj, 'probe.ts'), PROBE);
    await writeFile(join(proj, 'tsconfig.json'), JSON.stringify({
      compilerOptions: { target: 'ES2022', module: 'nodenext', moduleResolution: 'nodenext', strict: true, outDir: 'out', types: ['node'] },
      files: ['probe.ts'],
    }));
    const tsc = await run(process.execPath, [join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', proj], { cwd: proj, timeoutMs: 60_000 });
    assert.equal(tsc.code, 0, tsc.stdout + tsc.stderr);
    const out = await run(process.execPath, [join(proj, 'out', 'probe.js')], { cwd: proj, timeoutMs: 30_000 });
    assert.equal(out.code, 0, out.stderr);
    assert.deepEqual(JSON.parse(out.stdout.trim()), { text: 'hello from the package', size: 22, file: true, missing: 'OBJECT_NAME_NOT_FOUND' });
    // A type error in user code is reported against the shipped declarations.
    await writeFile(join(proj, 'probe.ts'), `import { connect } from 'smbts';\nconst n: number = await connect('smb://a@b/c');\n`);
    const bad = await run(process.execPath, [join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', proj, '--noEmit'], { cwd: proj, timeoutMs: 60_000 });
    assert.notEqual(bad.code, 0);
    assert.match(bad.stdout, /SmbClient.*number|TS2322/);
  });

  it('npx smbts serve and a client command from the installed package', async () => {
    assert.ok(proj, 'installed');
    const home = join(tmp, 'home');
    const share = join(tmp, 'served');
    const env = { ...process.env, SMBTS_HOME: home, SMBTS_PASSWORD: 'pkgtest', npm_config_update_notifier: 'false' };
    const child = spawn('npx', ['--offline', 'smbts', 'serve', share, '--port', '0', '--host', '127.0.0.1'], { cwd: proj, env, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
    try {
      const port = await new Promise<number>((resolve, reject) => {
        let text = '';
        const t = setTimeout(() => reject(new Error(`serve did not start: ${text}`)), 30_000);
        child.stdout.on('data', (b: Buffer) => {
          text += b.toString();
          const m = /listening on [^\s]+:(\d+)/.exec(text);
          if (m) { clearTimeout(t); resolve(Number(m[1])); }
        });
        child.stderr.on('data', (b: Buffer) => { text += b.toString(); });
        child.on('exit', (code) => { clearTimeout(t); reject(new Error(`serve exited ${code}: ${text}`)); });
      });
      await writeFile(join(share, 'a.txt'), 'served');
      const r = await run('npx', ['--offline', 'smbts', 'cat', `smb://smbts@127.0.0.1:${port}/share/a.txt`], { cwd: proj, env, timeoutMs: 30_000 });
      assert.equal(r.code, 0, r.stderr);
      assert.equal(r.stdout, 'served');
      assert.equal(await readFile(join(share, 'a.txt'), 'utf8'), 'served');
    } finally {
      killGroup(child.pid, 'SIGKILL');
    }
  });
});
