// DFS test peers: smbd and smbts on 127.0.11.x:445. Clients follow referrals to port 445 only, so
// each DFS server gets its own loopback address (all of 127/8 is routed to lo on Linux; binding
// 127.0.11.x needs no `ip addr add`). 127.0.11.0/24 is this suite's range; nothing else uses it.
import { spawn } from 'node:child_process';
import { writeFile, rm, mkdtemp, mkdir, symlink } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createConnection } from 'node:net';
import {
  DEFAULT_PASS, DEFAULT_USER, addSambaUsers, killGroup, killSambaHelpers, makeSambaRoot, run, sambaConfText,
} from './peers.js';

export const DFS_PORT = 445;

export interface DfsPeer {
  host: string;
  /** Directory of each share by name. */
  dirs: Record<string, string>;
  stop(): Promise<void>;
  /** Dies at once (SIGKILL for smbd, sockets destroyed for smbts): a target lost mid-use. */
  kill(): Promise<void>;
}

/** Whether something already accepts connections on host:445 (a leftover server would answer for ours). */
async function inUse(host: string): Promise<boolean> {
  return new Promise<boolean>((resolve) => {
    const s = createConnection({ host, port: DFS_PORT }, () => { s.destroy(); resolve(true); });
    s.on('error', () => resolve(false));
  });
}

async function mustBeFree(host: string): Promise<void> {
  if (await inUse(host)) throw new Error(`${host}:${DFS_PORT} is already in use (a leftover server?)`);
}

/** Waits until host:445 accepts connections. */
async function waitFor(host: string, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const ok = await new Promise<boolean>((resolve) => {
      const s = createConnection({ host, port: DFS_PORT }, () => { s.destroy(); resolve(true); });
      s.on('error', () => resolve(false));
    });
    if (ok) return;
    if (Date.now() > deadline) throw new Error(`${host}:${DFS_PORT} did not come up`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

export interface ShareSpec {
  name: string;
  /** smb.conf lines for the share (besides path / read only). */
  options?: string[];
  /** Symlinks to make in the share: name -> target text (e.g. 'msdfs:127.0.11.3\\share'). */
  links?: Record<string, string>;
  /** Files to create: relative name -> content. */
  files?: Record<string, Buffer | string>;
  /** No path line (msdfs proxy). */
  noPath?: boolean;
}

async function fillShare(dir: string, s: ShareSpec): Promise<void> {
  for (const [name, target] of Object.entries(s.links ?? {})) await symlink(target, join(dir, name));
  for (const [name, data] of Object.entries(s.files ?? {})) {
    const p = join(dir, name);
    await mkdir(join(p, '..'), { recursive: true });
    await writeFile(p, data);
  }
}

/** A private smbd on host:445 with `shares` (the first also gets the default [share] path). */
export async function startSambaDfs(host: string, shares: ShareSpec[], extraGlobal: string[] = []): Promise<DfsPeer> {
  await mustBeFree(host);
  const { root, shareDir } = await makeSambaRoot('smbts-dfs-samba-', true);
  const conf = join(root, 'smb.conf');
  const dirs: Record<string, string> = { share: shareDir };
  const sections: string[] = [];
  for (const s of shares) {
    let dir = shareDir;
    if (s.name !== 'share') {
      dir = join(root, 'shares', s.name);
      await mkdir(dir, { recursive: true, mode: 0o777 });
      sections.push(`[${s.name}]`, ...(s.noPath ? [] : [`  path = ${dir}`]), '  read only = no', ...(s.options ?? []).map((l) => '  ' + l), '');
    }
    dirs[s.name] = dir;
    await fillShare(dir, s);
  }
  const shareOpts = shares.find((s) => s.name === 'share')?.options ?? [];
  const text = sambaConfText({
    // "/8": Samba binds an address it cannot find on an interface only when given its netmask.
    root, port: DFS_PORT, interfaces: `${host}/8`, shareDir,
    extraGlobal: ['smb encrypt = if_required', 'host msdfs = yes', ...extraGlobal], shareOptions: shareOpts,
  }) + '\n' + sections.join('\n');
  await writeFile(conf, text);
  await addSambaUsers(conf, [[DEFAULT_USER, DEFAULT_PASS]]);
  const child = spawn('smbd', ['-F', '--no-process-group', '-s', conf, '--debug-stdout', '-d', '1'], { detached: true, stdio: 'ignore' });
  let exited = false;
  child.on('exit', () => { exited = true; });
  try {
    await waitFor(host);
  } catch (e) {
    killGroup(child.pid, 'SIGKILL');
    killSambaHelpers(conf, 'SIGKILL');
    throw e;
  }
  const pid = child.pid!;
  return {
    host, dirs,
    async kill() {
      killGroup(pid, 'SIGKILL');
      killSambaHelpers(conf, 'SIGKILL');
    },
    async stop() {
      killGroup(pid, 'SIGTERM');
      const deadline = Date.now() + 5_000;
      while (!exited && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
      killGroup(pid, 'SIGKILL');
      killSambaHelpers(conf, 'SIGKILL');
      await rm(root, { recursive: true, force: true }).catch(() => {});
    },
  };
}

/** An in-process smbts on host:445 serving `shares`. */
export async function startSmbtsDfs(host: string, shares: ShareSpec[], extraGlobal: string[] = [], port = DFS_PORT): Promise<DfsPeer & { port: number }> {
  const { startServer } = await import('../../src/server/index.js');
  const { parseConfig } = await import('../../src/config/config.js');
  const { UserDb } = await import('../../src/auth/userdb.js');
  if (port === DFS_PORT) await mustBeFree(host);
  const root = await mkdtemp(join(tmpdir(), 'smbts-dfs-'));
  const dirs: Record<string, string> = {};
  const lines = ['[global]', ...extraGlobal.map((l) => '  ' + l), ''];
  for (const s of shares) {
    const dir = join(root, s.name);
    await mkdir(dir, { recursive: true });
    dirs[s.name] = dir;
    await fillShare(dir, s);
    lines.push(`[${s.name}]`, ...(s.noPath ? [] : [`  path = ${dir}`]), '  read only = no', ...(s.options ?? []).map((l) => '  ' + l), '');
  }
  const db = UserDb.empty();
  db.add(DEFAULT_USER, DEFAULT_PASS);
  const srv = await startServer({ config: parseConfig(lines.join('\n')), users: db, host, port });
  return {
    host, dirs, port: srv.port,
    async kill() { await srv.close(); },
    async stop() {
      await srv.close();
      await rm(root, { recursive: true, force: true }).catch(() => {});
    },
  };
}

/** smbclient against //host/share on port 445 (it follows referrals itself). */
export async function smbclientAt(host: string, share: string, args: string[], timeoutMs = 60_000): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const dir = await mkdtemp(join(tmpdir(), 'smbts-dfs-auth-'));
  try {
    const auth = join(dir, 'auth');
    const conf = join(dir, 'smb.conf');
    await writeFile(auth, `username = ${DEFAULT_USER}\npassword = ${DEFAULT_PASS}\ndomain = WORKGROUP\n`, { mode: 0o600 });
    await writeFile(conf, ['[global]', '  workgroup = WORKGROUP', '  client min protocol = SMB2_02', '  disable netbios = yes', ''].join('\n'));
    return await run('smbclient', [`//${host}/${share}`, '-s', conf, '-A', auth, ...args], { timeoutMs });
  } finally {
    await rm(dir, { recursive: true, force: true }).catch(() => {});
  }
}
