// A private Samba smbd for the bench: own smb.conf in a temp dir, loopback only,
// a free port, user test/test, share [share] at the given directory.
import { mkdtempSync, mkdirSync, writeFileSync, rmSync, readdirSync, readFileSync } from 'node:fs';
import { spawn, type ChildProcess } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort, run, sleep, waitForPort } from './util.js';

export interface SambaServer {
  name: 'samba';
  port: number;
  pid: number;
  root: string;
  stop(): Promise<void>;
}

export async function startSamba(shareDir: string, extraGlobal: string[] = []): Promise<SambaServer> {
  const root = mkdtempSync(join(tmpdir(), 'smbts-bench-samba-'));
  for (const d of ['priv', 'lock', 'state', 'cache', 'pid', 'log']) mkdirSync(join(root, d), { recursive: true });
  const conf = join(root, 'smb.conf');
  const write = (port: number): void => writeFileSync(conf, [
    '[global]',
    `  smb ports = ${port}`,
    '  interfaces = 127.0.0.1',
    '  bind interfaces only = yes',
    `  private dir = ${root}/priv`,
    `  lock directory = ${root}/lock`,
    `  state directory = ${root}/state`,
    `  cache directory = ${root}/cache`,
    `  pid directory = ${root}/pid`,
    `  ncalrpc dir = ${root}/state/ncalrpc`,
    `  log file = ${root}/log/log.%m`,
    '  log level = 0',
    `  passdb backend = tdbsam:${root}/priv/passdb.tdb`,
    '  server role = standalone server',
    '  map to guest = never',
    '  disable spoolss = yes',
    '  load printers = no',
    '  printcap name = /dev/null',
    '  disable netbios = yes',
    ...extraGlobal.map((l) => `  ${l}`),
    '[share]',
    `  path = ${shareDir}`,
    '  read only = no',
    '',
  ].join('\n'));
  write(445);
  // the unix account must exist for smbpasswd -a
  const id = await run('id', ['test']);
  if (id.code !== 0) await run('useradd', ['-M', 'test']);
  const pw = await run('smbpasswd', ['-c', conf, '-s', '-a', 'test'], { input: 'test\ntest\n' });
  if (pw.code !== 0) throw new Error(`smbpasswd failed: ${pw.stderr || pw.stdout}`);

  let lastErr: unknown;
  for (let attempt = 0; attempt < 3; attempt++) {
    const port = await freePort();
    write(port);
    // detached: smbd signals its whole process group when it shuts down; keep the bench out of it
    const child: ChildProcess = spawn('smbd', ['-s', conf, '--foreground', '--no-process-group'], {
      stdio: ['ignore', 'ignore', 'ignore'],
      detached: true,
    });
    const pid = child.pid;
    if (pid === undefined) throw new Error('could not spawn smbd');
    let exited = false;
    child.once('exit', () => { exited = true; });
    try {
      await waitForPort(port, 10_000);
      if (exited) throw new Error('smbd exited');
    } catch (e) {
      lastErr = e;
      child.kill('SIGKILL');
      continue;
    }
    // last resort if the bench dies without running its cleanup (exit handlers are synchronous)
    const onExit = (): void => {
      if (!exited) try { process.kill(pid, 'SIGKILL'); } catch { /* gone */ }
    };
    process.once('exit', onExit);
    const stop = async (): Promise<void> => {
      process.removeListener('exit', onExit);
      if (!exited) {
        child.kill('SIGTERM');
        for (let i = 0; i < 50 && !exited; i++) await sleep(100);
        if (!exited) child.kill('SIGKILL');
      }
      killHelpers(conf);
      rmSync(root, { recursive: true, force: true });
    };
    return { name: 'samba', port, pid, root, stop };
  }
  rmSync(root, { recursive: true, force: true });
  throw new Error(`smbd did not start: ${String(lastErr)}`);
}

/** samba-dcerpcd and rpcd_* helpers started on demand by our smbd (matched by our config path). */
function killHelpers(conf: string): void {
  for (const e of readdirSync('/proc')) {
    if (!/^\d+$/.test(e)) continue;
    try {
      const cmd = readFileSync(`/proc/${e}/cmdline`, 'latin1');
      if (cmd.includes(conf)) process.kill(Number(e), 'SIGTERM');
    } catch {
      /* gone */
    }
  }
}

export async function sambaVersion(): Promise<string> {
  try {
    const r = await run('smbd', ['--version']);
    return r.stdout.trim();
  } catch {
    return 'unknown';
  }
}
