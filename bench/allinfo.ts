// Yardstick for per-request metadata cost (issue 17): smbts beside a private Samba in the same
// run, both exporting their own directory on tmpfs, driven alternately so box load hits both.
//
//   node dist/bench/allinfo.js            200 `allinfo` in one smbclient session (SMB3_11), 5 rounds
//   ALLINFO_OPS=all node dist/bench/allinfo.js   also the metadata rows (smbclient put/del/ls,
//                                               smbts client create/stat/delete/list)
//
// Knobs: ALLINFO_ALT (node flags and NAME=VALUE environment for a second smbts server 'alt', same build), ALLINFO_ROUNDS (5), ALLINFO_N (200 commands per session), ALLINFO_FILES (2000 files in
// the directory), ALLINFO_PROF=1 (server under node --cpu-prof, profile dir printed),
// ALLINFO_FLOOR=1 (also 'floor': bench/replay-responder.ts in front of the smbts server, answering
// every file request after the warm-up from memory: what a Node.js server costs when it does no
// work at all; the allinfo and smbts-client stat rows only).
// Prints per round: wall ms (connect-only session subtracted for smbclient) and server CPU us/op
// (/proc utime+stime of the server tree: smbd master + children, or the node process), then
// medians and smbts/Samba ratios (above 1 = smbts better).
import { chmodSync, mkdtempSync, rmSync, writeFileSync, mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { tmpdir } from 'node:os';
import { startSamba } from './lib/samba.js';
import { startSmbts } from './lib/smbts.js';
import { treeCpu } from './lib/proc.js';
import { median, run, envInt } from './lib/util.js';
import { SmbtsClientDriver, metaNames, type Target, type MetaOp } from './lib/clients.js';

const ROUNDS = envInt('ALLINFO_ROUNDS', 5);
const N = envInt('ALLINFO_N', 200);
const FILES = envInt('ALLINFO_FILES', 2000);
const ALL = process.env.ALLINFO_OPS === 'all';
const PROF = process.env.ALLINFO_PROF === '1';
const FLOOR = process.env.ALLINFO_FLOOR === '1';
/** ALLINFO_SUBDIR=1: the files live in a subdirectory `d` (as in bench/run.ts's metadata pass), smbclient cds there */
const SUBDIR = process.env.ALLINFO_SUBDIR === '1';

const base = mkdtempSync(join('/dev/shm', 'smbts-allinfo-'));
const profDir = PROF ? mkdtempSync(join(tmpdir(), 'smbts-prof-')) : undefined;
const empty = join(base, 'empty');
chmodSync(base, 0o755);
writeFileSync(empty, '');

interface Srv { name: string; port: number; pid: number; dir: string; stop(): Promise<void> }
const servers: Srv[] = [];

function smbArgs(s: Srv): string[] {
  return [`//127.0.0.1/share`, '-p', String(s.port), '-U', 'test%test', '-m', 'SMB3_11', '--use-kerberos=disabled'];
}

async function session(s: Srv, cmds: string[]): Promise<{ ms: number; cpu: number }> {
  const c0 = treeCpu(s.pid);
  const r = await run('smbclient', smbArgs(s), { timeoutMs: 300_000, input: [...(SUBDIR ? ['cd d'] : []), ...cmds, 'exit', ''].join('\n'), maxOutput: 64 << 20 });
  const cpu = treeCpu(s.pid) - c0;
  const out = (r.stdout + r.stderr).replace(/Error in dskattr: NT_STATUS_\w+/g, '');
  const err = /NT_STATUS_\w+/.exec(out);
  if (r.code !== 0 || err) throw new Error(`smbclient on ${s.name}: ${err?.[0] ?? `exit ${r.code}`}: ${out.slice(-400)}`);
  return { ms: r.ms, cpu };
}

/** bench/replay-responder.ts in a child process, in front of the server on `upstream` */
async function startResponder(upstream: number): Promise<{ port: number; pid: number; replay(): void; stop(): Promise<void> }> {
  const script = join(dirname(fileURLToPath(import.meta.url)), 'replay-responder.js');
  const child = spawn(process.execPath, [script, String(upstream)], { stdio: ['pipe', 'pipe', 'inherit'] });
  const { port, pid } = await new Promise<{ port: number; pid: number }>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('replay responder did not start in 10 s')), 10_000);
    child.stdout.once('data', (d: Buffer) => { clearTimeout(timer); resolve(JSON.parse(String(d)) as { port: number; pid: number }); });
    child.once('exit', (code) => { clearTimeout(timer); reject(new Error(`replay responder exited ${code}`)); });
  });
  return {
    port, pid,
    replay: () => { child.stdin.write('replay\n'); },
    stop: async () => { child.stdin.end(); child.kill(); },
  };
}

type Row = { name: string; unit: 'ops/s' | 'ms'; by: Map<string, { v: number[]; cpu: number[] }> };
const rows = new Map<string, Row>();
function record(name: string, unit: Row['unit'], s: Srv, value: number, cpuUsPerOp: number): void {
  let r = rows.get(name);
  if (!r) rows.set(name, (r = { name, unit, by: new Map() }));
  let c = r.by.get(s.name);
  if (!c) r.by.set(s.name, (c = { v: [], cpu: [] }));
  c.v.push(value);
  c.cpu.push(cpuUsPerOp);
  console.log(`  ${name.padEnd(22)} ${s.name.padEnd(6)} ${unit === 'ms' ? `${value.toFixed(1)} ms` : `${value.toFixed(0)} ops/s`}  server CPU ${cpuUsPerOp.toFixed(0)} us/op`);
}

try {
  // ALLINFO_BASE=DIR: also an older built tree (e.g. a `git archive` of the commit before a change)
  // ALLINFO_ALT="NODE ARGS / NAME=VALUE": also this build under other node flags or environment (server 'alt')
  const altArgs = (process.env.ALLINFO_ALT ?? '').split(' ').filter(Boolean);
  const names = ['samba', 'smbts', ...(process.env.ALLINFO_BASE ? ['base'] : []), ...(process.env.ALLINFO_ALT ? ['alt'] : [])];
  for (const name of names) {
    const dir = join(base, name);
    mkdirSync(dir);
    chmodSync(dir, 0o777); // smbd runs the session as unix user test
    const fdir = SUBDIR ? join(dir, 'd') : dir;
    if (SUBDIR) { mkdirSync(fdir); chmodSync(fdir, 0o777); }
    for (const n of metaNames(FILES)) writeFileSync(join(fdir, n), '', { mode: 0o666 });
    const h = name === 'samba'
      ? await startSamba(dir)
      : name === 'base'
        ? await ((await import(join(process.env.ALLINFO_BASE!, 'dist/bench/lib/smbts.js'))) as { startSmbts: typeof startSmbts }).startSmbts(dir)
        : name === 'alt'
          ? await startSmbts(dir, altArgs.filter((a) => !/^\w+=/.test(a)), Object.fromEntries(altArgs.filter((a) => /^\w+=/.test(a)).map((a) => a.split('=', 2) as [string, string])))
          : await startSmbts(dir, profDir ? ['--cpu-prof', `--cpu-prof-dir=${profDir}`] : []);
    servers.push({ name, port: h.port, pid: h.pid, dir, stop: () => h.stop() });
  }
  const fileNames = metaNames(FILES);
  const driver = new SmbtsClientDriver();
  const smbtsSrv = servers.find((s) => s.name === 'smbts');
  const floor = FLOOR && smbtsSrv ? await startResponder(smbtsSrv.port) : undefined;
  if (floor) servers.push({ name: 'floor', port: floor.port, pid: floor.pid, dir: smbtsSrv!.dir, stop: floor.stop });
  // warm-up (JIT): one unrecorded session per server (the floor responder records in it)
  for (const s of servers) await session(s, fileNames.slice(0, N).map((n) => `allinfo ${n}`));
  if (floor && ALL) await driver.meta({ server: 'floor', port: floor.port, share: 'share' }, 'plain', 'stat', '', fileNames.slice(0, N), 60_000);
  floor?.replay();
  for (let round = 0; round < ROUNDS; round++) {
    console.log(`round ${round + 1}/${ROUNDS}`);
    // alternate which server goes first
    const order = round % 2 ? [...servers].reverse() : servers;
    for (const s of order) {
      const conn = await session(s, []);
      const picks = Array.from({ length: N }, (_, i) => fileNames[(i * 7 + round * 13) % FILES] as string);
      const r = await session(s, picks.map((n) => `allinfo ${n}`));
      record(`allinfo x${N} (smbclient)`, 'ms', s, Math.max(0.1, r.ms - conn.ms), ((r.cpu - conn.cpu) / N) * 1e6);
      if (!ALL) continue;
      if (s.name === 'floor') {
        // the smbts client's stat (one CREATE+CLOSE compound) answered from memory
        const c0 = treeCpu(s.pid);
        const res = await driver.meta({ server: s.name, port: s.port, share: 'share' }, 'plain', 'stat', '', fileNames, 60_000);
        record('stat (smbts client)', 'ops/s', s, res.done / (res.ms / 1000), ((treeCpu(s.pid) - c0) / res.done) * 1e6);
        continue;
      }
      const fresh = Array.from({ length: N }, (_, i) => `n${round}_${i}`);
      const c = await session(s, fresh.map((n) => `put ${empty} ${n}`));
      record('create (smbclient)', 'ops/s', s, N / (Math.max(0.1, c.ms - conn.ms) / 1000), ((c.cpu - conn.cpu) / N) * 1e6);
      const d = await session(s, fresh.map((n) => `del ${n}`));
      record('delete (smbclient)', 'ops/s', s, N / (Math.max(0.1, d.ms - conn.ms) / 1000), ((d.cpu - conn.cpu) / N) * 1e6);
      const l = await session(s, ['ls', 'ls', 'ls']);
      record('list (smbclient)', 'ms', s, Math.max(0.1, l.ms - conn.ms) / 3, ((l.cpu - conn.cpu) / 3) * 1e6);
      const t: Target = { server: s.name, port: s.port, share: 'share' };
      for (const op of ['create', 'stat', 'delete', 'list'] as MetaOp[]) {
        // the smbts client works in a directory of its own (create then delete the same names)
        if (op === 'create') await session(s, [`mkdir c${round}`]);
        const c0 = treeCpu(s.pid);
        const res = await driver.meta(t, 'plain', op, op === 'list' || op === 'stat' ? '' : `c${round}`, op === 'list' || op === 'stat' ? fileNames : fileNames.slice(0, N), 60_000);
        const cpu = treeCpu(s.pid) - c0; // includes the worker's connect: small against the pass
        if (op === 'list') record('list (smbts client)', 'ms', s, res.ms, (cpu / res.done) * 1e6);
        else record(`${op} (smbts client)`, 'ops/s', s, res.done / (res.ms / 1000), (cpu / res.done) * 1e6);
      }
    }
  }
  console.log('\nmedians (ratio above 1 = smbts better):');
  for (const r of rows.values()) {
    const fmt = (v: number): string => (r.unit === 'ms' ? `${v.toFixed(1)} ms` : `${v.toFixed(0)} ops/s`);
    const sam = r.by.get('samba');
    const b = median(sam?.v ?? []);
    const cb = median(sam?.cpu ?? []);
    for (const [who, c] of r.by) {
      if (who === 'samba') continue;
      const a = median(c.v);
      const ca = median(c.cpu);
      const ratio = r.unit === 'ms' ? b / a : a / b;
      console.log(`${r.name.padEnd(24)} ${who.padEnd(5)} ${fmt(a).padStart(11)}  Samba ${fmt(b).padStart(11)}  ${ratio.toFixed(2)}x   CPU us/op ${ca.toFixed(0)} vs ${cb.toFixed(0)} = ${(cb / ca).toFixed(2)}x`);
    }
  }
} finally {
  for (const s of servers) await s.stop().catch(() => undefined);
  rmSync(base, { recursive: true, force: true });
  if (profDir) console.log(`profiles: ${profDir}`);
}
