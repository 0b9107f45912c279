// Interop peers for tests: a private Samba smbd, an in-process smbts server, and wrappers around
// the Samba client tools (smbclient, smbtorture) and impacket scripts.
//
// Everything here binds to 127.0.0.1 on ephemeral ports and runs every child process in its own
// process group with a hard timeout, so a hung peer can never hang the test run.
import { spawn, spawnSync } from 'node:child_process';
import { mkdtemp, mkdir, writeFile, rm, chmod } from 'node:fs/promises';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { createServer, connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';

export const HOST = '127.0.0.1';
export const DEFAULT_USER = 'test';
export const DEFAULT_PASS = 'test';

// ---------------------------------------------------------------------------------------------
// Process helpers

export interface RunResult {
  code: number;
  stdout: string;
  stderr: string;
  timedOut: boolean;
}

export interface RunOptions {
  cwd?: string;
  timeoutMs?: number;
  input?: string;
  env?: NodeJS.ProcessEnv;
}

/** Run a command in its own process group; kill the whole group on timeout. Never rejects
 *  except when the binary cannot be spawned at all. */
export function run(cmd: string, args: string[], opts: RunOptions = {}): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, {
      cwd: opts.cwd,
      env: opts.env ?? process.env,
      detached: true,
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    let timedOut = false;
    child.stdout.on('data', (b: Buffer) => out.push(b));
    child.stderr.on('data', (b: Buffer) => err.push(b));
    child.stdin.on('error', () => {});
    if (opts.input !== undefined) child.stdin.end(opts.input);
    else child.stdin.end();
    const timer = setTimeout(() => {
      timedOut = true;
      killGroup(child.pid, 'SIGKILL');
    }, opts.timeoutMs ?? 60_000);
    child.on('error', (e) => {
      clearTimeout(timer);
      reject(e);
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({
        code: code ?? (signal ? 128 + 9 : -1),
        stdout: Buffer.concat(out).toString('utf8'),
        stderr: Buffer.concat(err).toString('utf8'),
        timedOut,
      });
    });
  });
}

/** Signal a process group (a child spawned detached), or the single process if that fails. */
export function killGroup(pid: number | undefined, sig: NodeJS.Signals): void {
  if (!pid) return;
  try {
    process.kill(-pid, sig);
  } catch {
    try {
      process.kill(pid, sig);
    } catch {
      /* already gone */
    }
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** A free TCP port on loopback (bind 0, read, close). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, HOST, () => {
      const addr = s.address();
      const port = typeof addr === 'object' && addr ? addr.port : 0;
      s.close(() => resolve(port));
    });
  });
}

/** Resolve when something accepts TCP connections on HOST:port. */
export async function waitForPort(port: number, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const ok = await new Promise<boolean>((resolve) => {
      const s = connect({ host: HOST, port });
      s.once('connect', () => {
        s.destroy();
        resolve(true);
      });
      s.once('error', () => resolve(false));
    });
    if (ok) return;
    if (Date.now() > deadline) throw new Error(`nothing listening on ${HOST}:${port} after ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** The project root (directory holding package.json), from src or dist. */
export function repoRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 8; i++) {
    if (existsSync(join(dir, 'package.json'))) return dir;
    dir = dirname(dir);
  }
  throw new Error('package.json not found above ' + fileURLToPath(import.meta.url));
}

// ---------------------------------------------------------------------------------------------
// Tool availability

const toolCache = new Map<string, boolean>();

/** Python interpreter that sees the Debian python3-impacket package. */
export function python(): string {
  return existsSync('/usr/bin/python3') ? '/usr/bin/python3' : 'python3';
}

/** Is an external tool available? 'impacket' checks the python module. */
export function haveTool(name: string): boolean {
  const cached = toolCache.get(name);
  if (cached !== undefined) return cached;
  let ok: boolean;
  if (name === 'impacket') {
    ok = spawnSync(python(), ['-c', 'import impacket.smbconnection'], { stdio: 'ignore' }).status === 0;
  } else {
    ok = spawnSync('sh', ['-c', `command -v ${name}`], { stdio: 'ignore' }).status === 0;
  }
  toolCache.set(name, ok);
  return ok;
}

/** For a test needing tools: returns a skip reason outside CI, or throws in CI (where .ci/run
 *  installs every tool, so a missing one is a failure, not a skip). undefined = all present. */
export function missingTools(names: string[]): string | undefined {
  const missing = names.filter((n) => !haveTool(n));
  if (missing.length === 0) return undefined;
  const msg = `missing tools: ${missing.join(', ')}`;
  if (process.env.CI === 'true' || process.env.CI === '1') throw new Error(msg + ' (CI must install them: see .ci/run)');
  return msg;
}

// ---------------------------------------------------------------------------------------------
// Samba reference server

export interface SambaOptions {
  extraGlobal?: string[];
  shareOptions?: string[];
  users?: Array<[string, string]>;
  log?: (line: string) => void;
}

export interface SambaHandle {
  port: number;
  root: string;
  shareDir: string;
  stop(): Promise<void>;
}

function ensureUnixUser(user: string): void {
  if (spawnSync('id', [user], { stdio: 'ignore' }).status === 0) return;
  spawnSync('useradd', ['-M', user], { stdio: 'ignore' });
}

/** A fresh private Samba root under the system temp dir: priv, lock, state, cache, pid, log (and,
 *  with `share`, a world-writable share/ directory). Shared by startSamba, mc-peers.ts and the bench. */
export async function makeSambaRoot(prefix: string, share: boolean): Promise<{ root: string; shareDir: string }> {
  const root = await mkdtemp(join(tmpdir(), prefix));
  for (const d of [...(share ? ['share'] : []), 'priv', 'lock', 'state', 'cache', 'pid', 'log', 'state/ncalrpc']) {
    await mkdir(join(root, d), { recursive: true });
  }
  const shareDir = join(root, 'share');
  if (share) {
    await chmod(root, 0o755);
    await chmod(shareDir, 0o777);
  }
  return { root, shareDir };
}

export interface SambaConfOptions {
  /** Directory made by makeSambaRoot (private dir, lock dir, logs ... live under it). */
  root: string;
  port: number;
  /** The `interfaces` value (bind interfaces only is always on). */
  interfaces: string;
  shareDir: string;
  /** More [global] lines, after the common ones. */
  extraGlobal?: string[];
  /** More [share] lines. */
  shareOptions?: string[];
}

/** smb.conf text for a private standalone smbd with one writable share [share]. */
export function sambaConfText(o: SambaConfOptions): string {
  const { root } = o;
  return [
    '[global]',
    `  smb ports = ${o.port}`,
    `  interfaces = ${o.interfaces}`,
    '  bind interfaces only = yes',
    `  private dir = ${root}/priv`,
    `  lock directory = ${root}/lock`,
    `  state directory = ${root}/state`,
    `  cache directory = ${root}/cache`,
    `  pid directory = ${root}/pid`,
    `  ncalrpc dir = ${root}/state/ncalrpc`,
    `  log file = ${root}/log/log.%m`,
    `  passdb backend = tdbsam:${root}/priv/passdb.tdb`,
    '  server min protocol = SMB2_02',
    '  server role = standalone server',
    '  workgroup = WORKGROUP',
    '  map to guest = never',
    '  disable spoolss = yes',
    '  load printers = no',
    '  printing = bsd',
    '  printcap name = /dev/null',
    '  disable netbios = yes',
    ...(o.extraGlobal ?? []).map((l) => '  ' + l),
    '',
    '[share]',
    `  path = ${o.shareDir}`,
    '  read only = no',
    ...(o.shareOptions ?? []).map((l) => '  ' + l),
    '',
  ].join('\n');
}

/**
 * smbd starts samba-dcerpcd and rpcd_* helpers on demand in a session of their own, so a kill of
 * smbd's process group misses them: find them by our private config path and stop them too.
 */
export function killSambaHelpers(conf: string, sig: NodeJS.Signals = 'SIGTERM'): void {
  for (const e of readdirSync('/proc')) {
    if (!/^\d+$/.test(e)) continue;
    try {
      if (readFileSync(`/proc/${e}/cmdline`, 'latin1').includes(conf)) process.kill(Number(e), sig);
    } catch {
      /* gone */
    }
  }
}

/** Creates each user (unix account if missing, then `smbpasswd -a`) in the passdb of `conf`. */
export async function addSambaUsers(conf: string, users: Array<[string, string]>): Promise<void> {
  for (const [user, pass] of users) {
    ensureUnixUser(user);
    const r = await run('smbpasswd', ['-c', conf, '-s', '-a', user], { input: `${pass}\n${pass}\n`, timeoutMs: 30_000 });
    if (r.code !== 0) throw new Error(`smbpasswd -a ${user} failed: ${r.stderr || r.stdout}`);
  }
}

/** Start a private smbd on an ephemeral loopback port with one writable share [share]. */
export async function startSamba(opts: SambaOptions = {}): Promise<SambaHandle> {
  const users = opts.users ?? [[DEFAULT_USER, DEFAULT_PASS]];
  const { root, shareDir } = await makeSambaRoot('smbts-samba-', true);
  const port = await freePort();
  const conf = join(root, 'smb.conf');
  await writeFile(conf, sambaConfText({
    root, port, interfaces: HOST, shareDir,
    extraGlobal: ['smb encrypt = if_required', ...(opts.extraGlobal ?? [])],
    shareOptions: opts.shareOptions,
  }));
  await addSambaUsers(conf, users);
  const child = spawn('smbd', ['-F', '--no-process-group', '-s', conf, '--debug-stdout', '-d', '1'], {
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const logLines: string[] = [];
  const onData = (b: Buffer) => {
    for (const line of b.toString('utf8').split('\n')) {
      if (!line) continue;
      logLines.push(line);
      if (logLines.length > 200) logLines.shift();
      opts.log?.(line);
    }
  };
  child.stdout.on('data', onData);
  child.stderr.on('data', onData);
  let exited = false;
  child.on('exit', () => (exited = true));
  try {
    await Promise.race([
      waitForPort(port, 20_000),
      new Promise<never>((_, reject) =>
        child.once('exit', (code) => reject(new Error(`smbd exited early (code ${code}): ${logLines.slice(-20).join('\n')}`))),
      ),
    ]);
  } catch (e) {
    killGroup(child.pid, 'SIGKILL');
    throw e;
  }
  const pid = child.pid!;
  return {
    port,
    root,
    shareDir,
    async stop() {
      killGroup(pid, 'SIGTERM');
      const deadline = Date.now() + 5_000;
      while (!exited && alive(pid) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
      killGroup(pid, 'SIGKILL');
      killSambaHelpers(conf, 'SIGKILL');
      await rm(root, { recursive: true, force: true }).catch(() => {});
    },
  };
}

// ---------------------------------------------------------------------------------------------
// smbts in-process server

export interface SmbtsOptions {
  /** Full config file text (parseConfig). Default: defaultConfig(shareDir). */
  configText?: string;
  shareDir?: string;
  users?: Array<[string, string]>;
  log?: (line: string) => void;
}

export interface SmbtsHandle {
  port: number;
  shareDir: string;
  stop(): Promise<void>;
}

// The server's API as agreed (src/server/index.ts, src/config/config.ts, src/auth/userdb.ts).
// Loaded dynamically so this harness compiles even while those modules are being written.
interface ServerModule {
  startServer(opts: {
    config: unknown;
    users: unknown;
    host?: string;
    port?: number;
    log?: (line: string) => void;
  }): Promise<{ port: number; address: string; close(): Promise<void> }>;
}
interface ConfigModule {
  defaultConfig(dir: string): unknown;
  parseConfig(text: string): unknown;
}
interface UserDbModule {
  UserDb: { empty(): { add(user: string, password: string): unknown } };
}

async function load<T>(rel: string): Promise<T> {
  // peers.{ts,js} lives in <root>/test/interop or <root>/dist/test/interop; src sits two up.
  const url = new URL(rel, import.meta.url);
  return (await import(url.href)) as T;
}

export async function startSmbts(opts: SmbtsOptions = {}): Promise<SmbtsHandle> {
  const [server, config, userdb] = await Promise.all([
    load<ServerModule>('../../src/server/index.js'),
    load<ConfigModule>('../../src/config/config.js'),
    load<UserDbModule>('../../src/auth/userdb.js'),
  ]);
  let ownDir: string | undefined;
  let shareDir = opts.shareDir;
  if (!shareDir) {
    ownDir = await mkdtemp(join(tmpdir(), 'smbts-share-'));
    shareDir = ownDir;
  }
  const cfg = opts.configText !== undefined ? config.parseConfig(opts.configText) : config.defaultConfig(shareDir);
  let db = userdb.UserDb.empty();
  for (const [u, p] of opts.users ?? [[DEFAULT_USER, DEFAULT_PASS]]) {
    const r = db.add(u, p);
    // add() may be fluent or mutate in place
    if (r && typeof r === 'object' && 'add' in (r as object)) db = r as typeof db;
  }
  const srv = await server.startServer({
    config: cfg,
    users: db,
    host: HOST,
    port: 0,
    log: opts.log ?? (process.env.SMBTS_LOG ? (l) => process.stderr.write(l + '\n') : undefined),
  });
  return {
    port: srv.port,
    shareDir,
    async stop() {
      await srv.close();
      if (ownDir) await rm(ownDir, { recursive: true, force: true }).catch(() => {});
    },
  };
}

// ---------------------------------------------------------------------------------------------
// smbclient

export interface SmbclientOptions {
  user?: string;
  pass?: string;
  /** Share name; null = no service argument (for -L HOST). Default 'share'. */
  share?: string | null;
  cwd?: string;
  timeoutMs?: number;
}

let clientConfPath: string | undefined;
async function clientConf(): Promise<string> {
  if (clientConfPath && existsSync(clientConfPath)) return clientConfPath;
  const dir = await mkdtemp(join(tmpdir(), 'smbts-client-'));
  const p = join(dir, 'smb.conf');
  // A private client config: the machine's /etc/samba/smb.conf must not change test results.
  await writeFile(p, ['[global]', '  workgroup = WORKGROUP', '  client min protocol = SMB2_02', '  disable netbios = yes', ''].join('\n'));
  clientConfPath = p;
  return p;
}

async function authFile(user: string, pass: string): Promise<{ path: string; done(): Promise<void> }> {
  const dir = await mkdtemp(join(tmpdir(), 'smbts-auth-'));
  const p = join(dir, 'auth');
  await writeFile(p, `username = ${user}\npassword = ${pass}\ndomain = WORKGROUP\n`, { mode: 0o600 });
  return { path: p, done: () => rm(dir, { recursive: true, force: true }) };
}

/** Run smbclient against //127.0.0.1/SHARE on PORT. Credentials go through an auth file. */
export async function smbclient(port: number, args: string[], opts: SmbclientOptions = {}): Promise<RunResult> {
  const share = opts.share === undefined ? 'share' : opts.share;
  const auth = await authFile(opts.user ?? DEFAULT_USER, opts.pass ?? DEFAULT_PASS);
  try {
    const argv = [
      ...(share !== null ? [`//${HOST}/${share}`] : []),
      '-s', await clientConf(),
      '-p', String(port),
      '-A', auth.path,
      ...args,
    ];
    return await run('smbclient', argv, { cwd: opts.cwd, timeoutMs: opts.timeoutMs ?? 60_000 });
  } finally {
    await auth.done().catch(() => {});
  }
}

let protectionStyle: 'new' | 'old' | undefined;
/** smbclient flags for 'sign' / 'encrypt' on the installed version (4.15+ has --client-protection). */
export function protectionArgs(kind: 'off' | 'sign' | 'encrypt'): string[] {
  if (!protectionStyle) {
    const h = spawnSync('smbclient', ['--help'], { encoding: 'utf8' });
    protectionStyle = /--client-protection/.test((h.stdout ?? '') + (h.stderr ?? '')) ? 'new' : 'old';
  }
  if (kind === 'off') return [];
  if (protectionStyle === 'new') return [`--client-protection=${kind}`];
  return kind === 'sign' ? ['--option=clientsigning=required'] : ['-e', '--option=clientsigning=required'];
}

// ---------------------------------------------------------------------------------------------
// smbtorture

export type TortureResult = 'success' | 'failure' | 'error' | 'skip';
export interface TortureCase {
  /** Subtest name as printed by smbtorture (e.g. "smb2.read.eof" with --fullname). */
  name: string;
  result: TortureResult;
  message?: string;
}

export interface TortureOptions {
  user?: string;
  pass?: string;
  share?: string;
  /** Per smbtorture invocation (one per entry in tests). Default 300 s. */
  timeoutMs?: number;
  extraArgs?: string[];
  /** Called with each test's raw output (for debugging). */
  onOutput?: (test: string, out: string) => void;
}

/** Parse smbtorture subunit-style lines: "success: NAME", "failure: NAME [" ... "]",
 *  "error: NAME [ msg ]". Test names may contain spaces ("...perms.OVERWRITE_IF Existing"). */
export function parseTorture(out: string): TortureCase[] {
  const cases: TortureCase[] = [];
  const lines = out.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const m = /^(success|failure|error|skip|xfail|uxsuccess): (.+)$/.exec(lines[i]!.trimEnd());
    if (!m) continue;
    const kind = m[1]!;
    const result: TortureResult =
      kind === 'xfail' ? 'failure' : kind === 'uxsuccess' ? 'success' : (kind as TortureResult);
    let rest = m[2]!;
    let message: string | undefined;
    const inline = /^(.*?) \[ ?(.*?) ?\]$/.exec(rest);
    if (rest.endsWith(' [')) {
      // multi-line message until a line that is just "]"
      rest = rest.slice(0, -2);
      const msg: string[] = [];
      while (++i < lines.length && lines[i]!.trim() !== ']') msg.push(lines[i]!);
      message = msg.join('\n').trim();
    } else if (inline) {
      rest = inline[1]!;
      message = inline[2]!.trim();
    }
    cases.push({ name: rest.trim(), result, ...(message ? { message } : {}) });
  }
  return cases;
}

/** Run smbtorture tests (one process per test name, each with its own timeout). */
export async function smbtorture(port: number, tests: string[], opts: TortureOptions = {}): Promise<TortureCase[]> {
  const all: TortureCase[] = [];
  const auth = await authFile(opts.user ?? DEFAULT_USER, opts.pass ?? DEFAULT_PASS);
  try {
    for (const t of tests) {
      const argv = [
        `//${HOST}/${opts.share ?? 'share'}`,
        '-s', await clientConf(),
        '-p', String(port),
        '-A', auth.path,
        '--format=subunit',
        '--fullname',
        ...(opts.extraArgs ?? []),
        t,
      ];
      const r = await run('smbtorture', argv, { timeoutMs: opts.timeoutMs ?? 300_000 });
      const out = r.stdout + r.stderr;
      opts.onOutput?.(t, out);
      const cases = parseTorture(r.stdout);
      // Subunit reports the suite itself too ("success: smb2.read" after its subtests); keep
      // only leaves when the suite has subtests.
      const leaves = cases.filter((c) => !cases.some((o) => o !== c && o.name.startsWith(c.name + '.')));
      all.push(...leaves);
      if (r.timedOut) {
        all.push({ name: t, result: 'error', message: `timeout after ${opts.timeoutMs ?? 300_000} ms` });
      } else if (leaves.length === 0) {
        all.push({ name: t, result: 'error', message: `no results (exit ${r.code}): ${out.slice(-500)}` });
      }
    }
  } finally {
    await auth.done().catch(() => {});
  }
  return all;
}

// ---------------------------------------------------------------------------------------------
// impacket

/** Run test/interop/impacket/SCRIPT with the system python (python3-impacket). */
export function impacket(script: string, args: string[], opts: RunOptions = {}): Promise<RunResult> {
  const path = join(repoRoot(), 'test', 'interop', 'impacket', script);
  return run(python(), [path, ...args], { timeoutMs: 120_000, ...opts });
}


// ---------------------------------------------------------------------------------------------
// Target selection for the server-* interop tests

/** The server under test: smbts, or Samba when INTEROP_TARGET=samba (to validate the tests
 *  themselves against the reference implementation). */
export async function startTarget(opts: SmbtsOptions = {}): Promise<SmbtsHandle> {
  if (process.env.INTEROP_TARGET === 'samba') {
    const s = await startSamba({ users: opts.users, log: opts.log });
    return { port: s.port, shareDir: s.shareDir, stop: () => s.stop() };
  }
  return startSmbts(opts);
}
