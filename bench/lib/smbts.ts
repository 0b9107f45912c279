// Starts the smbts server in a child process (bench/smbts-server.ts) so its CPU time and
// RSS can be read from /proc/PID.
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { dirname, join } from 'node:path';
import { sleep, waitForPort } from './util.js';

export interface SmbtsServer {
  name: 'smbts';
  port: number;
  pid: number;
  stop(): Promise<void>;
}

/** `env`: extra environment for the server process (e.g. SMBTS_EARLY_WRITE=0 in bench/gains.ts). */
export async function startSmbts(shareDir: string, nodeArgs: string[] = [], env: Record<string, string> = {}): Promise<SmbtsServer> {
  const script = join(dirname(fileURLToPath(import.meta.url)), '..', 'smbts-server.js');
  const child = spawn(process.execPath, [...nodeArgs, script, shareDir, '0'], { stdio: ['pipe', 'pipe', 'pipe'], env: { ...process.env, ...env } });
  let exited = false;
  let stderr = '';
  child.once('exit', () => { exited = true; });
  child.stderr.on('data', (d: Buffer) => { if (stderr.length < 65536) stderr += d.toString(); });
  const stop = async (): Promise<void> => {
    if (exited) return;
    child.kill('SIGTERM');
    for (let i = 0; i < 100 && !exited; i++) await sleep(100); // profiles can take a while to write
    if (!exited) child.kill('SIGKILL');
  };
  const port = await new Promise<number>((resolve, reject) => {
    let buf = '';
    const timer = setTimeout(() => reject(new Error(`smbts server did not report a port in 20 s: ${stderr.trim()}`)), 20_000);
    child.stdout.on('data', (d: Buffer) => {
      buf += d.toString();
      const nl = buf.indexOf('\n');
      if (nl < 0) return;
      clearTimeout(timer);
      try {
        resolve(Number((JSON.parse(buf.slice(0, nl)) as { port: number }).port));
      } catch (e) {
        reject(e as Error);
      }
    });
    child.once('exit', (code) => { clearTimeout(timer); reject(new Error(`smbts server exited (${code}): ${stderr.trim().slice(-2000)}`)); });
  }).catch(async (e: unknown) => { await stop(); throw e; });
  child.stdout.resume();
  if (!(port > 0)) { await stop(); throw new Error('smbts server reported no port'); }
  await waitForPort(port, 10_000);
  if (child.pid === undefined) throw new Error('no pid');
  return { name: 'smbts', port, pid: child.pid, stop };
}
