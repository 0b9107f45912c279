// `npm run bench`: smbts side by side with Samba, driven by the same clients.
//
// Env knobs (defaults in brackets; BENCH_QUICK=1 switches to the smoke defaults in parentheses):
//   BENCH_SIZE   bytes per sequential transfer, k/M/G suffixes ok   [1G]     (64M)
//   BENCH_RUNS   repetitions, the median is reported                [3]      (1)
//   BENCH_FILES  small files for the metadata tests (<= 99999)      [10000]  (500)
//   BENCH_META_RUNS metadata repetitions                            [1]
//   BENCH_META_CAP_S stop a stat/delete pass after this long and report the rate so far
//                (create: 3x as long, then the directory is completed locally) [30] (10)
//   BENCH_MODES  plain,sign-cmac,sign-gmac,enc-gcm,enc-ccm          [all]
//   BENCH_STREAMS concurrent streams per transfer test (1 and/or 4)  [1,4]
//   BENCH_MODES4 modes that also run with 4 streams                  [plain,enc-gcm]
//   BENCH_CLIENTS smbclient,smbts  BENCH_SERVERS smbts,samba         [both]
//   BENCH_BUDGET_MIN stop starting new measurements after this long [20]     (4)
//   BENCH_TESTS  test groups to run              [transfers,metadata,concurrency,cluster]
//                (cluster: bench/cluster.ts, 2 nodes over etcd vs one node; its own table)
//   BENCH_CONC_CLIENTS concurrent clients of the metadata-mix rows    [1,8,32]
//   BENCH_CONC_S seconds per smbts-client mix cell                   [10]     (3)
//   BENCH_CONC_CYCLES mix cycles per smbclient process (5 ops each)   [40]     (10)
//   BENCH_WORKERS also run the concurrency rows on smbts with `smbts:workers = N` for each N
//                listed (e.g. 2); those servers are named smbts-wN      []
//   BENCH_DOCS   1 = write docs/benchmarks.md, 0 = don't            [1]      (0)
//   BENCH_DIR    parent of the shared share directory              [/dev/shm if present]
// `npm run bench -- --profile` instead profiles the smbts server (node --cpu-prof) on the
// read and write paths, driven by smbclient, and prints the hot spots.
import { cpus, totalmem, release, tmpdir, availableParallelism } from 'node:os';
import { existsSync, mkdirSync, mkdtempSync, rmSync, statSync, readdirSync, readFileSync, writeFileSync, chmodSync, unlinkSync, statfsSync } from 'node:fs';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ALL_MODES, MODE_LABEL, parseModes, type Mode } from './lib/modes.js';
import { listReps, SmbclientDriver, SmbtsClientDriver, metaNames, type Driver, type MetaOp, type Target } from './lib/clients.js';
import { startSamba, sambaVersion, type SambaServer } from './lib/samba.js';
import { startSmbts, type SmbtsServer } from './lib/smbts.js';
import { MemSampler, processTree, readMem, treeCpu } from './lib/proc.js';
import { envInt, fmtBytes, makeFile, median, run, sleep } from './lib/util.js';
import { summarize, topInclusive } from './lib/cpuprofile.js';
import { smbclientMix, smbtsMix } from './lib/concurrency.js';
import { spawnSync } from 'node:child_process';

const GiB = 1024 ** 3;
const MiB = 1024 ** 2;
const here = dirname(fileURLToPath(import.meta.url));
const projectRoot = join(here, '..', '..');

const QUICK = process.env.BENCH_QUICK === '1';
const PROFILE = process.argv.includes('--profile');
const SIZE = roundTo(envInt('BENCH_SIZE', QUICK ? 64 * MiB : GiB), 4 * 65536);
const RUNS = Math.min(envInt('BENCH_RUNS', QUICK ? 1 : 3), 50);
const FILES = Math.min(envInt('BENCH_FILES', QUICK ? 500 : 10_000), 99_999);
/** which test groups run: transfers, metadata */
const TESTS = (process.env.BENCH_TESTS ?? 'transfers,metadata,concurrency,cluster').split(',').map((x) => x.trim());
const CONC_CLIENTS = (process.env.BENCH_CONC_CLIENTS ?? '1,8,32').split(',').map(Number).filter((n) => Number.isInteger(n) && n > 0 && n <= 256);
const CONC_MS = envInt('BENCH_CONC_S', QUICK ? 3 : 10) * 1000;
const CONC_CYCLES = Math.min(envInt('BENCH_CONC_CYCLES', QUICK ? 10 : 40), 10_000);
const WORKERS = (process.env.BENCH_WORKERS ?? '').split(',').filter(Boolean).map(Number).filter((n) => Number.isInteger(n) && n >= 1 && n <= 64);
const META_RUNS = Math.min(envInt('BENCH_META_RUNS', 1), 50);
const META_CAP_MS = envInt('BENCH_META_CAP_S', QUICK ? 10 : 30) * 1000;
const MODES = QUICK && !process.env.BENCH_MODES ? ALL_MODES : parseModes(process.env.BENCH_MODES);
// only 1 and 4 streams are supported (the 4-stream files are made at SIZE/4 each)
const STREAMS = (process.env.BENCH_STREAMS ?? '1,4').split(',').map(Number).filter((n) => n === 1 || n === 4);
/** modes that also run with 4 streams (all modes run with 1); the rest only differ in the MAC/cipher */
const MODES4 = parseModes(process.env.BENCH_MODES4 ?? 'plain,enc-gcm');
const streamsFor = (mode: Mode): number[] => STREAMS.filter((st) => st === 1 || MODES4.includes(mode));
const CLIENTS = (process.env.BENCH_CLIENTS ?? 'smbclient,smbts').split(',').map((s) => s.trim());
const SERVERS = (process.env.BENCH_SERVERS ?? 'smbts,samba').split(',').map((s) => s.trim());
const BUDGET_MS = envInt('BENCH_BUDGET_MIN', QUICK ? 4 : 20) * 60_000;
const WRITE_DOCS = (process.env.BENCH_DOCS ?? (QUICK ? '0' : '1')) === '1';

function roundTo(n: number, q: number): number {
  return Math.max(q, Math.round(n / q) * q);
}

/** smbts, samba, or smbts-wN (smbts with N worker processes; concurrency rows only) */
type ServerName = string;
interface Server {
  name: ServerName;
  port: number;
  pid: number;
  stop(): Promise<void>;
}

interface Cell {
  values: number[];
  cpu: number[];
  /** concurrency cells: share of the machine's cores busy during the cell (lib/proc.ts busyShare) */
  busy: number[];
  /** client CPU s/GiB (all streams together) */
  clientCpu: number[];
  errors: string[];
}

const results = new Map<string, Cell>();
/** servers of the concurrency rows: smbts, smbts-wN (BENCH_WORKERS), samba */
let concurrencyServers: Server[] = [];
const errorsSeen: string[] = [];
const skipped = new Set<string>();
/** client|mode|server -> why that client cannot run that mode */
const notApplicable = new Map<string, string>();
const t0 = Date.now();
let budgetHit = false;

function cell(key: string): Cell {
  let c = results.get(key);
  if (!c) {
    c = { values: [], cpu: [], busy: [], clientCpu: [], errors: [] };
    results.set(key, c);
  }
  return c;
}

function log(msg: string): void {
  const s = ((Date.now() - t0) / 1000).toFixed(0).padStart(5);
  process.stderr.write(`[${s}s] ${msg}\n`);
}

function overBudget(): boolean {
  if (Date.now() - t0 > BUDGET_MS) {
    if (!budgetHit) log(`time budget (${BUDGET_MS / 60_000} min) used up: skipping the remaining measurements`);
    budgetHit = true;
  }
  return budgetHit;
}


function rmQuiet(path: string): void {
  try {
    unlinkSync(path);
  } catch {
    /* absent */
  }
}

/** After clients disconnect: wait (bounded) for smbd's per-connection children to exit and be reaped. */
async function settle(server: Server, before: number): Promise<void> {
  for (let i = 0; i < 40; i++) {
    if (processTree(server.pid).length <= before) break;
    await sleep(50);
  }
  await sleep(20);
}

async function machineFacts(shareDir: string): Promise<Record<string, string>> {
  const c = cpus();
  let fsType = 'unknown';
  try {
    const mounts = readFileSync('/proc/mounts', 'utf8').split('\n').map((l) => l.split(' '));
    let best = '';
    for (const m of mounts) {
      const mp = m[1] ?? '';
      if (shareDir.startsWith(mp) && mp.length > best.length) {
        best = mp;
        fsType = `${m[2] ?? '?'} (${mp})`;
      }
    }
  } catch {
    /* no /proc/mounts */
  }
  const smbclientV = await run('smbclient', ['--version']).then((r) => r.stdout.trim(), () => 'unknown');
  const head = await run('git', ['-C', projectRoot, 'rev-parse', '--short', 'HEAD']).then((r) => r.stdout.trim(), () => '');
  const dirty = await run('git', ['-C', projectRoot, 'status', '--porcelain', '--untracked-files=no', '--', 'src']).then((r) => r.stdout.split('\n').filter(Boolean).length, () => 0);
  return {
    date: new Date().toISOString(),
    nproc: String(c.length) + (availableParallelism() !== c.length ? ` (available ${availableParallelism()})` : ''),
    cpu: c[0]?.model ?? 'unknown',
    memory: fmtBytes(totalmem()),
    kernel: release(),
    node: process.version,
    smbd: await sambaVersion(),
    smbclient: smbclientV,
    'share filesystem': fsType,
    'smbts tree': head ? `${head}${dirty ? ` + ${dirty} uncommitted file(s) under src/ (the working tree as built)` : ''}` : 'unknown',
    'load average at start': readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' '),
  };
}

function commandLine(): string {
  const env = Object.entries(process.env)
    .filter(([k]) => k.startsWith('BENCH_'))
    .map(([k, v]) => `${k}=${v ?? ''}`)
    .sort();
  const extra = process.argv.slice(2);
  return [...env, 'npm run bench', ...(extra.length ? ['--', ...extra] : [])].join(' ');
}

// ---------------------------------------------------------------------------------------------
// measurements

async function transferOnce(srv: Server, drv: Driver, mode: Mode, op: 'read' | 'write', streams: number, shareDir: string): Promise<void> {
  const key = `xfer|${drv.name}|${mode}|${op}|${streams}|${srv.name}`;
  const combo = `${drv.name}|${mode}|${srv.name}`;
  const c = cell(key);
  if (skipped.has(combo) || skipped.has(`${combo}|${op}`) || overBudget()) return;
  const t: Target = { server: srv.name, port: srv.port, share: 'share' };
  const per = SIZE / streams;
  const locals: string[] = [];
  const remotes: string[] = [];
  for (let i = 0; i < streams; i++) {
    const src = streams === 1 ? 'big.bin' : `q${i}.bin`;
    if (op === 'read') {
      remotes.push(src);
      locals.push('/dev/null');
    } else {
      locals.push(join(shareDir, src));
      remotes.push(`w_${srv.name}_${drv.name}_${i}.bin`);
      rmQuiet(join(shareDir, remotes[i] as string));
    }
  }
  const timeoutMs = Math.max(60_000, (SIZE / (5 * MiB)) * 1000); // slower than 5 MiB/s counts as failed
  try {
    const before = processTree(srv.pid).length;
    const cpu0 = treeCpu(srv.pid);
    const spans = await drv.transfer(t, mode, op === 'read' ? 'get' : 'put', remotes.map((r, i) => ({ remote: r, local: locals[i] as string })), timeoutMs);
    await settle(srv, before);
    const cpu1 = treeCpu(srv.pid);
    const ms = Math.max(...spans.map((s) => s.end)) - Math.min(...spans.map((s) => s.start));
    if (op === 'write') {
      for (const r of remotes) {
        const got = statSync(join(shareDir, r)).size;
        if (got !== per) throw new Error(`${r} has ${got} bytes after the upload, expected ${per}`);
      }
    }
    const mbps = SIZE / 1e6 / (Math.max(ms, 1) / 1000);
    c.values.push(mbps);
    c.cpu.push((cpu1 - cpu0) / (SIZE / GiB));
    if (spans.every((x) => typeof x.cpu === 'number')) c.clientCpu.push(spans.reduce((n, x) => n + (x.cpu ?? 0), 0) / (SIZE / GiB));
    log(`${srv.name.padEnd(5)} ${drv.name.padEnd(9)} ${mode.padEnd(9)} ${op.padEnd(5)} x${streams}: ${mbps.toFixed(0)} MB/s, server CPU ${(cpu1 - cpu0).toFixed(2)} s`);
  } catch (e) {
    const msg = (e as Error).message;
    if (/: n\/a: /.test(msg)) {
      // the client cannot run this mode at all: not an error, the cell shows n/a
      const why = msg.slice(msg.indexOf('n/a: ') + 5).replace(/\s+$/, '');
      notApplicable.set(combo, why);
      skipped.add(combo);
      log(`n/a ${srv.name} ${drv.name} ${mode}: ${why}`);
      return;
    }
    c.errors.push(msg);
    errorsSeen.push(`${srv.name} / ${drv.name} / ${mode} / ${op} x${streams}: ${msg}`);
    log(`ERROR ${srv.name} ${drv.name} ${mode} ${op} x${streams}: ${msg}`);
    // two failures of one client/mode/server: stop trying that combination
    const fails = [...results.entries()].filter(([k, v]) => k.startsWith(`xfer|${drv.name}|${mode}|${op}|`) && k.endsWith(`|${srv.name}`))
      .reduce((n, [, v]) => n + v.errors.length, 0);
    if (fails >= 2) skipped.add(`${combo}|${op}`);
    if (/ECONNREFUSED|not a function|Cannot find module/.test(msg)) skipped.add(combo);
  } finally {
    if (op === 'write') for (const r of remotes) rmQuiet(join(shareDir, r));
  }
}

const META_OPS: MetaOp[] = ['create', 'stat', 'list', 'delete'];

async function metadataOnce(srv: Server, drv: Driver, shareDir: string): Promise<void> {
  const combo = `meta|${drv.name}|${srv.name}`;
  if (skipped.has(combo) || overBudget()) return;
  const t: Target = { server: srv.name, port: srv.port, share: 'share' };
  const dirName = `m_${drv.name}_${srv.name}`;
  const dir = join(shareDir, dirName);
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { mode: 0o777 });
  chmodSync(dir, 0o777);
  const names = metaNames(FILES);
  try {
    for (const op of META_OPS) {
      if (overBudget()) break;
      try {
        // create must make every file (the other tests need the full directory): a longer cap
        const cap = op === 'create' ? META_CAP_MS * 3 : META_CAP_MS;
        const r = await drv.meta(t, 'plain', op, dirName, names, cap);
        const onDisk = readdirSync(dir).length;
        let note = '';
        if (op === 'create' && onDisk !== r.done) throw new Error(`create: ${onDisk} files on disk after creating ${r.done}`);
        if (op === 'create' && r.done < FILES) {
          // capped: finish the directory locally so list/stat/delete see FILES entries
          for (const n of names.slice(r.done)) writeFileSync(join(dir, n), '', { mode: 0o666 });
          note = ` (capped after ${r.done}; rest made locally)`;
        }
        if (op === 'list' && r.entries < FILES) throw new Error(`list: saw ${r.entries} entries, expected ${FILES}`);
        if (op === 'delete' && onDisk !== FILES - r.done) throw new Error(`delete: ${onDisk} files left after deleting ${r.done} of ${FILES}`);
        if ((op === 'stat' || op === 'delete') && r.done < FILES) note = ` (capped after ${r.done} of ${FILES})`;
        if (note) cell(`meta|${drv.name}|${op}|${srv.name}`).errors.push(`capped${note}`);
        // list: milliseconds for the whole directory; others: operations per second
        const v = op === 'list' ? r.ms : r.done / (r.ms / 1000);
        cell(`meta|${drv.name}|${op}|${srv.name}`).values.push(v);
        log(`${srv.name.padEnd(5)} ${drv.name.padEnd(9)} ${op.padEnd(6)} ${FILES} files: ${op === 'list' ? `${v.toFixed(0)} ms` : `${v.toFixed(0)} ops/s`}${note}`);
      } catch (e) {
        const msg = (e as Error).message;
        cell(`meta|${drv.name}|${op}|${srv.name}`).errors.push(msg);
        errorsSeen.push(`${srv.name} / ${drv.name} / metadata ${op}: ${msg}`);
        log(`ERROR ${srv.name} ${drv.name} metadata ${op}: ${msg}`);
        if (op === 'create') {
          skipped.add(combo);
          break;
        }
      }
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** One concurrency cell: clients at once doing the metadata mix; ops/s and server CPU µs per op. */
async function concurrencyOnce(srv: Server, driver: string, clients: number, shareDir: string, emptyFile: string): Promise<void> {
  const key = `conc|${driver}|${clients}|${srv.name}`;
  if (skipped.has(`conc|${driver}|${srv.name}`) || overBudget()) return;
  const dir = `x_${driver}_${srv.name}_${clients}`;
  rmSync(join(shareDir, dir), { recursive: true, force: true });
  mkdirSync(join(shareDir, dir), { mode: 0o777 });
  chmodSync(join(shareDir, dir), 0o777);
  try {
    const r = driver === 'smbts'
      ? await smbtsMix(srv.port, srv.pid, clients, dir, CONC_MS)
      : await smbclientMix(srv.port, srv.pid, clients, shareDir, dir, CONC_CYCLES, emptyFile);
    const rate = r.ops / (r.ms / 1000);
    const c = cell(key);
    c.values.push(rate);
    c.cpu.push((r.serverCpu * 1e6) / Math.max(1, r.ops));
    c.busy.push(r.machineBusy);
    log(`${srv.name.padEnd(8)} ${driver.padEnd(9)} mix x${String(clients).padEnd(3)}: ${rate.toFixed(0)} ops/s, server CPU ${((r.serverCpu * 1e6) / Math.max(1, r.ops)).toFixed(0)} µs/op (${r.ops} ops), machine ${(r.machineBusy * 100).toFixed(0)}% busy`);
  } catch (e) {
    const msg = (e as Error).message;
    cell(key).errors.push(msg);
    errorsSeen.push(`${srv.name} / ${driver} / mix x${clients}: ${msg}`);
    log(`ERROR ${srv.name} ${driver} mix x${clients}: ${msg}`);
    if (/ECONNREFUSED|Cannot find module/.test(msg)) skipped.add(`conc|${driver}|${srv.name}`);
  } finally {
    rmSync(join(shareDir, dir), { recursive: true, force: true });
  }
}

// ---------------------------------------------------------------------------------------------
// report

const fmt = (v: number, digits = 0): string => (Number.isFinite(v) ? v.toFixed(digits) : '—');
const ratioStr = (r: number): string => (Number.isFinite(r) ? `${r.toFixed(2)}x` : '—');

function med(key: string): number {
  const c = results.get(key);
  return c ? median(c.values) : NaN;
}
function medCpu(key: string): number {
  const c = results.get(key);
  return c ? median(c.cpu) : NaN;
}

/** median share of the machine busy during a concurrency cell, as "93%" */
function medBusy(key: string): string {
  const c = results.get(key);
  const v = c && c.busy.length ? median(c.busy) : NaN;
  return Number.isFinite(v) ? `${(v * 100).toFixed(0)}%` : '—';
}
function errMark(key: string): string {
  const p = key.split('|');
  if (p[0] === 'xfer' && notApplicable.has(`${p[1]}|${p[2]}|${p[5]}`)) return 'n/a';
  const c = results.get(key);
  return c && c.errors.length > 0 && c.values.length === 0 ? 'error' : '—';
}
/** Median, with (n=k) when fewer samples than planned (time budget, errors) and † when a pass was capped. */
function show(key: string, digits = 0): string {
  const v = med(key);
  if (!Number.isFinite(v)) return errMark(key);
  const c = results.get(key) as Cell;
  const planned = key.startsWith('meta|') || key.startsWith('conc|') ? META_RUNS : RUNS;
  const n = c.values.length < planned ? ` (n=${c.values.length})` : '';
  const capped = c.errors.some((e) => e.startsWith('capped')) ? '†' : '';
  return `${fmt(v, digits)}${capped}${n}`;
}

interface Verdict { target: string; ok: boolean | undefined; detail: string }

function report(facts: Record<string, string>, peaks: Record<string, number>, totalCpu: Record<string, number>): { text: string; verdicts: Verdict[] } {
  const L: string[] = [];
  const verdicts: Verdict[] = [];
  const gauge = (target: string, value: number, min: number, detail: string): void => {
    verdicts.push({ target, ok: Number.isFinite(value) ? value >= min : undefined, detail });
  };
  const sizeStr = fmtBytes(SIZE);
  L.push(`Sequential transfers move ${sizeStr} per test (split evenly over the streams: with 4 streams each stream moves a quarter, to its own file), median of ${RUNS} run(s). MB/s = 10^6 bytes/s. ` +
    `Ratios are smbts/Samba for throughput and Samba/smbts for CPU, so **a ratio above 1 always means smbts is better**. ` +
    `CPU = user+system seconds of the server process tree per GiB moved (for Samba the master smbd plus its per-connection children).`);
  L.push('');
  for (const client of TESTS.includes('transfers') ? CLIENTS : []) {
    L.push(`### Server throughput, client = ${client === 'smbts' ? 'smbts client' : 'smbclient'}`);
    L.push('');
    L.push('| Test | smbts MB/s | Samba MB/s | smbts/Samba | smbts CPU s/GiB | Samba CPU s/GiB | CPU Samba/smbts |');
    L.push('|---|---:|---:|---:|---:|---:|---:|');
    for (const mode of MODES) {
      for (const op of ['write', 'read'] as const) {
        for (const st of streamsFor(mode)) {
          const k = (s: string): string => `xfer|${client}|${mode}|${op}|${st}|${s}`;
          const a = med(k('smbts'));
          const b = med(k('samba'));
          const ca = medCpu(k('smbts'));
          const cb = medCpu(k('samba'));
          L.push(`| ${op} ${MODE_LABEL[mode]}, ${st} stream${st > 1 ? 's' : ''} | ${show(k('smbts'))} | ${show(k('samba'))} | ${ratioStr(a / b)} | ${fmt(ca, 2)} | ${fmt(cb, 2)} | ${ratioStr(cb / ca)} |`);
          if (mode === 'plain' || mode.startsWith('enc-')) gauge(`server ${op} ${MODE_LABEL[mode]} x${st} (${client}) smbts/Samba >= 1.0`, a / b, 1.0, ratioStr(a / b));
          if (mode === 'plain') gauge(`server ${op} plain x${st} (${client}) >= 1 GB/s`, a, 1000, `${fmt(a)} MB/s`);
        }
      }
    }
    L.push('');
  }
  if (TESTS.includes('transfers') && CLIENTS.includes('smbts') && CLIENTS.includes('smbclient') && SERVERS.includes('samba')) {
    L.push('### Client throughput against Samba: smbts client vs smbclient');
    L.push('');
    L.push('Client CPU = user+system seconds of the client process(es) per GiB (smbclient: whole process incl. start-up, via bash `times`; smbts client: from the common start signal to the end, connection setup excluded).');
    L.push('');
    L.push('| Test | smbts client MB/s | smbclient MB/s | smbts/smbclient | smbts client CPU s/GiB | smbclient CPU s/GiB |');
    L.push('|---|---:|---:|---:|---:|---:|');
    for (const mode of MODES) {
      for (const op of ['write', 'read'] as const) {
        for (const st of streamsFor(mode)) {
          const k = (c: string): string => `xfer|${c}|${mode}|${op}|${st}|samba`;
          const a = med(k('smbts'));
          const b = med(k('smbclient'));
          const cc = (c: string): number => median(results.get(k(c))?.clientCpu ?? []);
          L.push(`| ${op === 'write' ? 'upload' : 'download'} ${MODE_LABEL[mode]}, ${st} stream${st > 1 ? 's' : ''} | ${show(k('smbts'))} | ${show(k('smbclient'))} | ${ratioStr(a / b)} | ${fmt(cc('smbts'), 2)} | ${fmt(cc('smbclient'), 2)} |`);
          gauge(`client ${op} ${MODE_LABEL[mode]} x${st} smbts client/smbclient >= 1.0`, a / b, 1.0, ratioStr(a / b));
        }
      }
    }
    L.push('');
  }
  if (TESTS.includes('metadata')) {
  L.push(`### Metadata, ${FILES} files in one directory (plain), median of ${META_RUNS} run(s)`);
  L.push('');
  L.push(`† = the pass hit its time cap (BENCH_META_CAP_S=${META_CAP_MS / 1000} s; create 3x that) and the rate is over the operations done by then, in name order. A capped create is completed locally so that stat, list and delete still see ${FILES} entries.`);
  L.push('');
  L.push('create = create+close of an empty file (smbclient `put` of an empty file; smbts `writeFile`), stat = smbclient `allinfo` / smbts `stat`, ' +
    'delete = smbclient `del` / smbts `rm`, list = time to list the whole directory (smbclient `ls`, smbts `readdir`; mean of ' + String(listReps(FILES)) + ' listings in one session). One connection per pass, operations strictly sequential; connection setup excluded (smbclient: the median time of a connect-only session is subtracted).');
  L.push('');
  L.push('| Test | client | smbts | Samba | smbts/Samba |');
  L.push('|---|---|---:|---:|---:|');
  for (const client of CLIENTS) {
    for (const op of META_OPS) {
      const k = (s: string): string => `meta|${client}|${op}|${s}`;
      const a = med(k('smbts'));
      const b = med(k('samba'));
      const r = op === 'list' ? b / a : a / b;
      const unit = op === 'list' ? 'ms' : 'ops/s';
      L.push(`| ${op} (${unit}) | ${client} | ${show(k('smbts'), op === 'list' ? 1 : 0)} | ${show(k('samba'), op === 'list' ? 1 : 0)} | ${ratioStr(r)} |`);
      gauge(`metadata ${op} (${client}) smbts/Samba >= 0.8`, r, 0.8, ratioStr(r));
    }
  }
  L.push('');
  }
  if (TESTS.includes('concurrency')) {
    const names = concurrencyServers.map((x) => x.name);
    const label = (n: string): string => (n === 'samba' ? 'Samba' : n);
    L.push(`### Concurrency: metadata mix with 1 to ${Math.max(...CONC_CLIENTS)} clients at once (plain), median of ${META_RUNS} run(s)`);
    L.push('');
    L.push(`Each client works in a directory of its own holding 16 files. smbts client: one connection per client (its own ClientGUID; ${8} connections per node process), each looping create (writeFile of 0 bytes), stat of it, open-close of an existing file, list (readdir, 17 entries), stat of an existing file, delete, for ${CONC_MS / 1000} s after a common start. smbclient: one process per client running ${CONC_CYCLES} cycles of put / allinfo / ls / allinfo / del; span = first start to last end less one connect-only session. ops/s over all clients; CPU = server process tree user+system µs per operation (smbts-wN: primary + workers; Samba: master + per-connection children; for smbclient it includes the session setups). smbts-wN = \`smbts:workers = N\` (docs/ARCHITECTURE.md, process model). Machine busy = share of all ${availableParallelism()} cores in use during the cell (/proc/stat: clients, server and everything else; 100% = no idle core left for another server process).`);
    L.push('');
    L.push(`| clients | client | ${names.map((n) => `${label(n)} ops/s`).join(' | ')} | ${names.filter((n) => n !== 'samba').map((n) => `${n}/Samba`).join(' | ')} | ${names.map((n) => `${label(n)} CPU µs/op`).join(' | ')} | ${names.map((n) => `machine busy (${label(n)})`).join(' | ')} |`);
    L.push(`|---:|---|${names.map(() => '---:').join('|')}|${names.filter((n) => n !== 'samba').map(() => '---:').join('|')}|${names.map(() => '---:').join('|')}|${names.map(() => '---:').join('|')}|`);
    for (const client of CLIENTS) {
      for (const n of CONC_CLIENTS) {
        const k = (s: string): string => `conc|${client}|${n}|${s}`;
        const ratios = names.filter((x) => x !== 'samba').map((x) => ratioStr(med(k(x)) / med(k('samba'))));
        L.push(`| ${n} | ${client} | ${names.map((x) => show(k(x))).join(' | ')} | ${ratios.join(' | ')} | ${names.map((x) => fmt(medCpu(k(x)))).join(' | ')} | ${names.map((x) => medBusy(k(x))).join(' | ')} |`);
        gauge(`concurrency x${n} (${client}) smbts/Samba >= 1.0`, med(k('smbts')) / med(k('samba')), 1.0, ratioStr(med(k('smbts')) / med(k('samba'))));
      }
    }
    L.push('');
  }
  L.push('### Server resources over the whole run');
  L.push('');
  L.push('| | smbts | Samba | Samba/smbts |');
  L.push('|---|---:|---:|---:|');
  L.push(`| peak RSS (MiB) | ${fmt((peaks.smbts ?? NaN) / MiB, 1)} | ${fmt((peaks.samba ?? NaN) / MiB, 1)} | ${ratioStr((peaks.samba ?? NaN) / (peaks.smbts ?? NaN))} |`);
  L.push(`| total server CPU (s) | ${fmt(totalCpu.smbts ?? NaN, 1)} | ${fmt(totalCpu.samba ?? NaN, 1)} | ${ratioStr((totalCpu.samba ?? NaN) / (totalCpu.smbts ?? NaN))} |`);
  L.push('');
  L.push('Peak RSS: smbts = VmHWM of its single process; Samba = the largest sum, over processes alive at one sample (every 150 ms), of each smbd process\'s VmHWM (master, helpers and per-connection children; shared library pages are counted once per process).');
  L.push('');
  L.push('### Targets');
  L.push('');
  const pass = verdicts.filter((v) => v.ok === true).length;
  const fail = verdicts.filter((v) => v.ok === false);
  const na = verdicts.filter((v) => v.ok === undefined).length;
  L.push(`${pass} met, ${fail.length} missed, ${na} not measured.`);
  L.push('');
  if (fail.length > 0) {
    L.push('Missed:');
    L.push('');
    for (const v of fail) L.push(`- ${v.target}: ${v.detail}`);
    L.push('');
  }
  if (errorsSeen.length > 0 || budgetHit) {
    L.push('### Errors and skips');
    L.push('');
    if (budgetHit) L.push(`- the time budget (BENCH_BUDGET_MIN=${BUDGET_MS / 60_000}) ran out; cells without a value were not measured`);
    for (const e of errorsSeen.slice(0, 40)) L.push(`- ${e.replace(/\|/g, '\\|').slice(0, 600)}`);
    if (errorsSeen.length > 40) L.push(`- ... ${errorsSeen.length - 40} more`);
    L.push('');
  }
  if (notApplicable.size > 0) {
    L.push('### Not applicable (n/a)');
    L.push('');
    const seen = new Set<string>();
    for (const [combo, why] of notApplicable) {
      const [client, mode] = combo.split('|');
      const k = `${client}|${mode}`;
      if (seen.has(k)) continue;
      seen.add(k);
      L.push(`- ${client} client, ${MODE_LABEL[mode as Mode]}: ${why}`);
    }
    L.push('');
  }
  L.push('### Machine');
  L.push('');
  L.push('| | |');
  L.push('|---|---|');
  for (const [k, v] of Object.entries(facts)) L.push(`| ${k} | ${v.replace(/\n/g, ' ')} |`);
  L.push(`| command | \`${commandLine()}\` |`);
  L.push(`| wall time | ${((Date.now() - t0) / 60_000).toFixed(1)} min |`);
  L.push('');
  return { text: L.join('\n'), verdicts };
}

const BEGIN = '<!-- bench:begin (generated by npm run bench; edit outside these markers) -->';
const END = '<!-- bench:end -->';

function writeDocs(text: string): void {
  const path = join(projectRoot, 'docs', 'benchmarks.md');
  const block = `${BEGIN}\n\n${text}\n${END}`;
  let doc: string;
  if (existsSync(path)) {
    const old = readFileSync(path, 'utf8');
    const a = old.indexOf(BEGIN);
    const b = old.indexOf(END);
    doc = a >= 0 && b > a ? old.slice(0, a) + block + old.slice(b + END.length) : `${old.trimEnd()}\n\n${block}\n`;
  } else {
    doc = [
      '# Benchmarks: smbts vs Samba',
      '',
      'Produced by `npm run bench` (bench/run.ts). Both servers export the same directory (tmpfs when available) on loopback and are driven by the same clients (Samba\'s smbclient and the smbts client).',
      'Quick smoke run: `BENCH_QUICK=1 npm run bench`. Profile of the smbts server: `npm run bench -- --profile`.',
      '',
      '## Results',
      '',
      block,
      '',
      '## Where the time goes',
      '',
      '(see `npm run bench -- --profile`)',
      '',
    ].join('\n');
  }
  writeFileSync(path, doc);
  log(`wrote ${path}`);
}

// ---------------------------------------------------------------------------------------------
// profile mode

async function profile(shareDir: string): Promise<void> {
  const profDir = mkdtempSync(join(tmpdir(), 'smbts-bench-prof-'));
  // driven by the first of BENCH_CLIENTS (smbclient by default)
  const drv: Driver = CLIENTS[0] === 'smbts' ? new SmbtsClientDriver() : new SmbclientDriver(join(shareDir, '..', 'empty'));
  const modes = (process.env.BENCH_MODES ? MODES : ['plain', 'sign-cmac', 'sign-gmac', 'enc-gcm', 'enc-ccm']) as Mode[];
  const out: string[] = [`Profiles of the smbts server${drv.name === 'smbts' ? ' and client' : ''}, ${fmtBytes(SIZE)} per transfer, client ${drv.name}. Percentages are of non-idle samples; node start-up (module compilation) is included and is a fixed few hundred ms.`, ''];
  for (const mode of modes) {
    for (const op of ['read', 'write'] as const) {
      const name = `${op}-${mode}`;
      const srv = await startSmbts(shareDir, ['--cpu-prof', `--cpu-prof-dir=${profDir}`, `--cpu-prof-name=${name}.cpuprofile`]);
      // the smbts client is profiled too (one worker per transfer)
      if (drv instanceof SmbtsClientDriver) drv.nodeArgs = ['--cpu-prof', `--cpu-prof-dir=${profDir}`, `--cpu-prof-name=client-${name}.cpuprofile`];
      const t: Target = { server: 'smbts', port: srv.port, share: 'share' };
      let line = '';
      try {
        const cpu0 = treeCpu(srv.pid);
        const [span = { start: 0, end: 0 }] = await drv.transfer(t, mode, op === 'read' ? 'get' : 'put', [{ remote: op === 'read' ? 'big.bin' : 'w_prof.bin', local: op === 'read' ? '/dev/null' : join(shareDir, 'big.bin') }], 600_000);
        const cpu1 = treeCpu(srv.pid);
        const mbps = SIZE / 1e6 / ((span.end - span.start) / 1000);
        line = `${name}: ${mbps.toFixed(0)} MB/s under the profiler, server CPU ${((cpu1 - cpu0) / (SIZE / GiB)).toFixed(2)} s/GiB, peak RSS ${fmtBytes(readMem(srv.pid).hwm)}`;
      } catch (e) {
        line = `${name}: ERROR ${(e as Error).message}`;
      } finally {
        await srv.stop();
        rmQuiet(join(shareDir, 'w_prof.bin'));
      }
      log(line);
      out.push(`#### ${name}`, '', line, '');
      for (const [who, file] of [['server', join(profDir, `${name}.cpuprofile`)], ['client', join(profDir, `client-${name}.cpuprofile`)]] as const) {
        if (!existsSync(file)) {
          if (who === 'server') out.push('(no server profile written)', '');
          continue;
        }
        const s = summarize(file, 15);
        out.push(`${who}: busy ${s.busyMs.toFixed(0)} ms, idle ${s.idleMs.toFixed(0)} ms (${file})`, '');
        out.push('| self % | self ms | total % | function | where |', '|---:|---:|---:|---|---|');
        for (const h of s.spots) out.push(`| ${h.selfPct.toFixed(1)} | ${h.selfMs.toFixed(0)} | ${h.totalPct.toFixed(1)} | ${h.fn} | ${h.where} |`);
        out.push('', `Inclusive time in project code (${who}):`, '', '| total % | function | where |', '|---:|---|---|');
        for (const h of topInclusive(file, 12)) out.push(`| ${h.totalPct.toFixed(1)} | ${h.fn} | ${h.where} |`);
        out.push('');
      }
    }
  }
  const text = out.join('\n');
  writeFileSync(join(profDir, 'summary.md'), text);
  process.stdout.write(`${text}\n`);
  log(`profiles and summary.md in ${profDir}`);
}

// ---------------------------------------------------------------------------------------------
// main

async function main(): Promise<number> {
  const base = process.env.BENCH_DIR ?? (existsSync('/dev/shm') ? '/dev/shm' : tmpdir());
  const need = SIZE * 3 + 256 * MiB;
  try {
    const fs = statfsSync(base);
    if (fs.bavail * fs.bsize < need) throw new Error(`${base} has ${fmtBytes(fs.bavail * fs.bsize)} free; the bench needs about ${fmtBytes(need)} (set BENCH_SIZE or BENCH_DIR)`);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === undefined) throw e;
  }
  const work = mkdtempSync(join(base, 'smbts-bench-'));
  chmodSync(work, 0o755);
  const shareDir = join(work, 'share');
  mkdirSync(shareDir, { mode: 0o777 });
  chmodSync(shareDir, 0o777);
  writeFileSync(join(work, 'empty'), '');
  const servers: Server[] = [];
  const samplers = new Map<string, MemSampler>();
  const onSignal = (): void => {
    log('interrupted: stopping servers');
    void Promise.all(servers.map((s) => s.stop())).finally(() => {
      rmSync(work, { recursive: true, force: true });
      process.exit(130);
    });
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  try {
    log(`share directory ${shareDir}; size ${fmtBytes(SIZE)}, runs ${RUNS}, files ${FILES}, modes ${MODES.join(',')}, streams ${STREAMS.join(',')} (4 streams for ${MODES4.join(',')})`);
    makeFile(join(shareDir, 'big.bin'), SIZE);
    if (PROFILE) {
      await profile(shareDir);
      return 0;
    }
    if (STREAMS.includes(4)) for (let i = 0; i < 4; i++) makeFile(join(shareDir, `q${i}.bin`), SIZE / 4);
    const facts = await machineFacts(shareDir);
    for (const name of SERVERS) {
      try {
        const s: SmbtsServer | SambaServer = name === 'samba' ? await startSamba(shareDir) : await startSmbts(shareDir);
        servers.push(s);
        samplers.set(s.name, new MemSampler(s.pid).start());
        log(`${name} listening on 127.0.0.1:${s.port} (pid ${s.pid})`);
      } catch (e) {
        errorsSeen.push(`${name}: could not start: ${(e as Error).message}`);
        log(`ERROR ${name} did not start: ${(e as Error).message}`);
      }
    }
    // smbts with worker processes: concurrency rows only (BENCH_WORKERS)
    const workerServers: Server[] = [];
    if (TESTS.includes('concurrency') && SERVERS.includes('smbts')) {
      for (const w of WORKERS) {
        try {
          const s = await startSmbts(shareDir, [], { SMBTS_BENCH_WORKERS: String(w) });
          const named: Server = { name: `smbts-w${w}`, port: s.port, pid: s.pid, stop: s.stop };
          workerServers.push(named);
          servers.push(named);
          log(`smbts-w${w} listening on 127.0.0.1:${s.port} (pid ${s.pid})`);
        } catch (e) {
          errorsSeen.push(`smbts-w${w}: could not start: ${(e as Error).message}`);
          log(`ERROR smbts-w${w} did not start: ${(e as Error).message}`);
        }
      }
    }
    const mainServers = servers.filter((s) => !workerServers.includes(s));
    concurrencyServers = [...mainServers.filter((s) => s.name === 'smbts'), ...workerServers, ...mainServers.filter((s) => s.name !== 'smbts')];
    const drivers: Driver[] = [];
    if (CLIENTS.includes('smbclient')) drivers.push(new SmbclientDriver(join(work, 'empty')));
    if (CLIENTS.includes('smbts')) drivers.push(new SmbtsClientDriver());
    // sanity: smbclient can list each server
    for (const s of servers) {
      const r = await run('smbclient', [`//127.0.0.1/share`, '-p', String(s.port), '-U', 'test%test', '-m', 'SMB3_11', '--use-kerberos=disabled', '-c', 'ls'], { timeoutMs: 30_000 });
      if (!r.stdout.includes('big.bin')) {
        errorsSeen.push(`${s.name}: smbclient ls failed: ${(r.stdout + r.stderr).trim().slice(-300)}`);
        log(`WARNING smbclient ls against ${s.name} failed: ${(r.stdout + r.stderr).trim().slice(-300)}`);
      }
    }
    // A node server starts cold (no JIT yet): worker processes always, the single process when the
    // concurrency rows run without the transfer and metadata passes before them. A short unmeasured
    // mix against every concurrency server (Samba too, alike) measures steady state, as the
    // metadata passes do after their first session.
    // smbclient's requests take other paths (WRITE, SET_INFO delete, its QUERY_INFO classes and
    // directory levels): 8 unmeasured smbclient processes of 40 cycles too (1,600 requests), so
    // that every worker process of an smbts-wN server (connections spread by ClientGuid) has run
    // them hot before its first row, as the single process has after the metadata passes.
    if (TESTS.includes('concurrency') && (CLIENTS.includes('smbts') || CLIENTS.includes('smbclient'))) {
      for (const s of concurrencyServers) {
        const dir = `warm_${s.name}`;
        mkdirSync(join(shareDir, dir), { mode: 0o777 });
        chmodSync(join(shareDir, dir), 0o777);
        try {
          if (CLIENTS.includes('smbts')) await smbtsMix(s.port, s.pid, 8, dir, 3000);
          if (CLIENTS.includes('smbclient')) await smbclientMix(s.port, s.pid, 8, shareDir, dir, 40, join(work, 'empty'));
          log(`${s.name}: warmed up (${CLIENTS.includes('smbts') ? '3 s of the smbts-client mix' : ''}${CLIENTS.length > 1 ? ' and ' : ''}${CLIENTS.includes('smbclient') ? '8 smbclient mix processes of 40 cycles' : ''}, not measured)`);
        } catch (e) {
          log(`WARNING ${s.name} warm-up failed: ${(e as Error).message}`);
        } finally {
          rmSync(join(shareDir, dir), { recursive: true, force: true });
        }
      }
    }
    const cpuStart = new Map(servers.map((s) => [s.name, treeCpu(s.pid)]));

    // run-major order: a run covers the whole matrix, so if the time budget runs out the later
    // runs are the ones missing (fewer samples per cell), not whole rows
    const rounds = Math.max(TESTS.includes('transfers') ? RUNS : 0, META_RUNS);
    for (let r = 0; r < rounds; r++) {
      const order = r % 2 === 0 ? mainServers : [...mainServers].reverse(); // alternate who goes first
      if (r < RUNS && TESTS.includes('transfers')) {
        log(`run ${r + 1}/${RUNS}: transfers`);
        for (const mode of MODES) {
          for (const op of ['write', 'read'] as const) {
            for (const st of streamsFor(mode)) {
              for (const drv of drivers) {
                for (const srv of order) await transferOnce(srv, drv, mode, op, st, shareDir);
              }
            }
          }
        }
      }
      if (r < META_RUNS && TESTS.includes('metadata')) {
        log(`run ${r + 1}/${META_RUNS}: metadata`);
        for (const drv of drivers) {
          for (const srv of order) await metadataOnce(srv, drv, shareDir);
        }
      }
      if (r < META_RUNS && TESTS.includes('concurrency')) {
        log(`run ${r + 1}/${META_RUNS}: concurrency`);
        const corder = r % 2 === 0 ? concurrencyServers : [...concurrencyServers].reverse();
        for (const n of CONC_CLIENTS) {
          for (const drv of CLIENTS) {
            for (const srv of corder) await concurrencyOnce(srv, drv, n, shareDir, join(work, 'empty'));
          }
        }
      }
    }

    const peaks: Record<string, number> = {};
    const totalCpu: Record<string, number> = {};
    for (const s of servers) {
      const sampler = samplers.get(s.name);
      peaks[s.name] = Math.max(sampler ? sampler.stop() : 0, s.name === 'smbts' ? readMem(s.pid).hwm : 0);
      totalCpu[s.name] = treeCpu(s.pid) - (cpuStart.get(s.name) ?? 0);
    }
    const { text, verdicts } = report(facts, peaks, totalCpu);
    process.stdout.write(`\n${text}\n`);
    if (WRITE_DOCS) writeDocs(text);
    // Cluster mode vs one node (bench/cluster.ts starts its own etcd and servers).
    if (TESTS.includes('cluster')) spawnSync(process.execPath, [join(here, 'cluster.js')], { stdio: 'inherit' });
    const failed = verdicts.filter((v) => v.ok === false).length;
    log(`done in ${((Date.now() - t0) / 60_000).toFixed(1)} min; ${failed} target(s) missed; ${errorsSeen.length} error(s)`);
    return 0;
  } finally {
    for (const s of samplers.values()) s.stop();
    await Promise.all(servers.map((s) => s.stop().catch(() => undefined)));
    rmSync(work, { recursive: true, force: true });
  }
}

main().then(
  (code) => process.exit(code),
  (e: unknown) => {
    process.stderr.write(`bench failed: ${e instanceof Error ? e.stack ?? e.message : String(e)}\n`);
    process.exit(1);
  },
);
