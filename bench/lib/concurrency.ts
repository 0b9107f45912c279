// The concurrency rows: N clients at once doing a metadata mix (create, stat, open-close, list,
// stat, delete), each client in a directory of its own, ops/s over all clients and server CPU
// per operation. Drivers: the smbts client (independent connections, each with its own
// ClientGUID, up to PER_PROCESS per node process) and N smbclient processes.
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { dirname, join } from 'node:path';
import { chmodSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import { busyShare, machineJiffies, treeCpu } from './proc.js';
import { median, run } from './util.js';

export interface MixResult {
  ops: number;
  ms: number;
  /** server CPU seconds over the measured span (smbclient: includes its session setups) */
  serverCpu: number;
  /** share of the machine's cores busy over the measured span (clients, servers and all else; 1 = all) */
  machineBusy: number;
}

/** smbts client connections per node process: 32 clients = 4 processes, so the client side is not one event loop. */
const PER_PROCESS = 8;
const now = (): number => performance.timeOrigin + performance.now();

function tail(s: string, n = 300): string {
  const t = s.trim().replace(/\s+/g, ' ');
  return t.length > n ? `...${t.slice(-n)}` : t;
}

/** smbts client: clients connections looping the mix for durationMs (after a common start). */
export function smbtsMix(port: number, serverPid: number, clients: number, dir: string, durationMs: number): Promise<MixResult> {
  const script = join(dirname(fileURLToPath(import.meta.url)), '..', 'concurrency-client.js');
  const jobs: Array<{ first: number; clients: number }> = [];
  for (let first = 0; first < clients; first += PER_PROCESS) jobs.push({ first, clients: Math.min(PER_PROCESS, clients - first) });
  return new Promise((resolve, reject) => {
    const kids = jobs.map((j) => spawn(process.execPath, [script, JSON.stringify({ port, share: 'share', dir, durationMs, ...j })], { stdio: ['pipe', 'pipe', 'pipe'] }));
    const outs = kids.map(() => '');
    const errs = kids.map(() => '');
    let ready = 0;
    let closed = 0;
    let cpu0 = 0;
    let cpu1 = 0;
    let box0 = machineJiffies();
    let box1 = box0;
    const timer = setTimeout(() => { for (const k of kids) k.kill('SIGKILL'); }, durationMs + 120_000);
    kids.forEach((k, i) => {
      k.stdout.on('data', (d: Buffer) => {
        const before = outs[i] as string;
        outs[i] = before + d.toString();
        if (!before.includes('ready\n') && (outs[i] as string).includes('ready\n') && ++ready === kids.length) {
          cpu0 = treeCpu(serverPid);
          box0 = machineJiffies();
          for (const kk of kids) kk.stdin.write('go\n');
        }
        // the last result line: the server is done with the measured work
        if (/"ops":/.test(outs[i] as string) && !/"ops":/.test(before)) {
          cpu1 = Math.max(cpu1, treeCpu(serverPid));
          box1 = machineJiffies();
        }
      });
      k.stdin.on('error', () => undefined);
      k.stderr.on('data', (d: Buffer) => { if ((errs[i] as string).length < 65536) errs[i] += d.toString(); });
      k.once('close', () => {
        if (!(outs[i] as string).includes('ready\n')) for (const kk of kids) kk.stdin.end();
        if (++closed < kids.length) return;
        clearTimeout(timer);
        let ops = 0;
        let start = Infinity;
        let end = 0;
        for (let j = 0; j < kids.length; j++) {
          const line = (outs[j] as string).trim().split('\n').pop() ?? '';
          let r: { ops?: number; start?: number; end?: number; error?: string } = {};
          try { r = JSON.parse(line) as typeof r; } catch { /* below */ }
          if (typeof r.ops !== 'number') {
            reject(new Error(`smbts client mix x${clients}: ${r.error ?? 'no result'} ${tail(errs[j] as string)}`));
            return;
          }
          ops += r.ops;
          start = Math.min(start, r.start as number);
          end = Math.max(end, r.end as number);
        }
        resolve({ ops, ms: end - start, serverCpu: cpu1 - cpu0, machineBusy: busyShare(box0, box1) });
      });
    });
  });
}

/**
 * N smbclient processes, each running `cycles` cycles of put / allinfo / ls / allinfo / del (no
 * open-close: smbclient has no command that only opens and closes) in its own directory.
 * Span = first start to last end, less the median connect-only time (session setup).
 */
export async function smbclientMix(port: number, serverPid: number, clients: number, shareDir: string, dir: string, cycles: number, emptyFile: string): Promise<MixResult> {
  const args = [`//127.0.0.1/share`, '-p', String(port), '-U', 'test%test', '-m', 'SMB3_11', '--use-kerberos=disabled', '--client-protection=off'];
  const setup: number[] = [];
  for (let i = 0; i < 3; i++) setup.push((await run('smbclient', [...args, '-c', 'exit'], { timeoutMs: 30_000 })).ms);
  const scripts: string[] = [];
  for (let c = 0; c < clients; c++) {
    const d = join(shareDir, dir, `s${c}`);
    mkdirSync(d, { recursive: true, mode: 0o777 });
    chmodSync(d, 0o777);
    for (let f = 0; f < 16; f++) writeFileSync(join(d, `k${f}`), '', { mode: 0o666 });
    const cmds = [`cd ${dir}/s${c}`];
    for (let n = 0; n < cycles; n++) cmds.push(`put ${emptyFile} t${n}`, `allinfo t${n}`, 'ls', `allinfo k${n % 16}`, `del t${n}`);
    scripts.push([...cmds, 'exit', ''].join('\n'));
  }
  const cpu0 = treeCpu(serverPid);
  const box0 = machineJiffies();
  const t0 = now();
  const rs = await Promise.all(scripts.map((input) => run('smbclient', args, { input, timeoutMs: 300_000, maxOutput: 64 << 20 })));
  const t1 = now();
  const cpu1 = treeCpu(serverPid);
  const box1 = machineJiffies();
  for (const r of rs) {
    const out = (r.stdout + r.stderr).replace(/Error in dskattr: NT_STATUS_\w+/g, '');
    const bad = out.match(/NT_STATUS_\w+/g);
    if (r.code !== 0 || bad) throw new Error(`smbclient mix x${clients}: exit ${r.code}${bad ? `, ${bad.length} errors, first ${bad[0]}` : ''}: ${tail(out)}`);
  }
  rmSync(join(shareDir, dir), { recursive: true, force: true });
  return { ops: clients * cycles * 5, ms: Math.max(1, t1 - t0 - median(setup)), serverCpu: cpu1 - cpu0, machineBusy: busyShare(box0, box1) };
}
