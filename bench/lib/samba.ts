// A private Samba smbd for the bench: own smb.conf in a temp dir, loopback only,
// a free port, user test/test, share [share] at the given directory.
import { writeFileSync, rmSync } from 'node:fs';
import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { addSambaUsers, killSambaHelpers, makeSambaRoot, sambaConfText } from '../../test/interop/peers.js';
import { freePort, run, sleep, waitForPort } from './util.js';

export interface SambaServer {
  name: 'samba';
  port: number;
  pid: number;
  root: string;
  stop(): Promise<void>;
}

export async function startSamba(shareDir: string, extraGlobal: string[] = []): Promise<SambaServer> {
  const { root } = await makeSambaRoot('smbts-bench-samba-', false);
  const conf = join(root, 'smb.conf');
  const write = (port: number): void => writeFileSync(conf, sambaConfText({
    root, port, interfaces: '127.0.0.1', shareDir,
    extraGlobal: ['log level = 0', ...extraGlobal],
  }));
  write(445);
  await addSambaUsers(conf, [['test', 'test']]);

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
      killSambaHelpers(conf);
      rmSync(root, { recursive: true, force: true });
    };
    return { name: 'samba', port, pid, root, stop };
  }
  rmSync(root, { recursive: true, force: true });
  throw new Error(`smbd did not start: ${String(lastErr)}`);
}

export async function sambaVersion(): Promise<string> {
  try {
    const r = await run('smbd', ['--version']);
    return r.stdout.trim();
  } catch {
    return 'unknown';
  }
}
