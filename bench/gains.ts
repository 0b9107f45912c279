// `npm run bench:gains`: what each data-path optimisation of the smbts server gains, measured by
// switching it off. Starts Samba and one smbts server per variant over the same tmpfs directory,
// drives them all with smbclient (1 stream, put and get of GAINS_SIZE) in plain, AES-128-GMAC
// signed and AES-128-GCM encrypted mode, alternating servers in every round, and reports the
// median MB/s and server CPU s/GiB per variant, with the ratio to Samba. Rewrites the part of
// docs/benchmarks.md between the gains:begin/gains:end markers (GAINS_DOCS=0: print only).
//
// Env: GAINS_SIZE [512M], GAINS_RUNS [3], GAINS_MODES [plain,sign-gmac,enc-gcm], GAINS_DOCS [1],
//      GAINS_VARIANTS (comma list of variant ids below, default all).
import { existsSync, mkdirSync, mkdtempSync, chmodSync, rmSync, readFileSync, writeFileSync } from 'node:fs';
import { join, dirname } from 'node:path';
import { tmpdir } from 'node:os';
import { fileURLToPath } from 'node:url';
import { SmbclientDriver } from './lib/clients.js';
import { startSamba } from './lib/samba.js';
import { startSmbts } from './lib/smbts.js';
import { treeCpu } from './lib/proc.js';
import { MODE_LABEL, parseModes, type Mode } from './lib/modes.js';
import { envInt, makeFile, median, sleep } from './lib/util.js';

const MiB = 1024 * 1024;
const GiB = 1024 * MiB;
const here = dirname(fileURLToPath(import.meta.url));
const projectRoot = join(here, '..', '..');
const SIZE = Math.max(64 * MiB, Math.round(envInt('GAINS_SIZE', 512 * MiB) / MiB) * MiB);
const RUNS = Math.min(Math.max(1, envInt('GAINS_RUNS', 3)), 20);
const MODES = parseModes(process.env.GAINS_MODES ?? 'plain,sign-gmac,enc-gcm');
const WRITE_DOCS = (process.env.GAINS_DOCS ?? '1') === '1';

interface Variant {
  id: string;
  label: string;
  env: Record<string, string>;
}

/** Each optimisation switched off alone (the switches are read by the server at start-up). */
const ALL_VARIANTS: Variant[] = [
  { id: 'all', label: 'smbts, everything on', env: {} },
  { id: 'no-early-write', label: 'without early WRITEs (SMBTS_EARLY_WRITE=0)', env: { SMBTS_EARLY_WRITE: '0' } },
  { id: 'no-stream-crypto', label: 'without decrypt/verify while arriving (SMBTS_STREAM_CRYPTO=0)', env: { SMBTS_STREAM_CRYPTO: '0' } },
  { id: 'no-async-seal', label: 'large responses sealed on the event loop (SMBTS_ASYNC_SEAL=0)', env: { SMBTS_ASYNC_SEAL: '0' } },
  { id: 'no-native', label: 'node:crypto instead of the native AEAD addon (SMBTS_NO_NATIVE_CRYPTO=1)', env: { SMBTS_NO_NATIVE_CRYPTO: '1' } },
  { id: 'no-direct-read', label: 'socket data events instead of direct reads (SMBTS_DIRECT_READ=0; no early paths either)', env: { SMBTS_DIRECT_READ: '0' } },
];
const wanted = (process.env.GAINS_VARIANTS ?? '').split(',').map((s) => s.trim()).filter(Boolean);
const VARIANTS = wanted.length ? ALL_VARIANTS.filter((v) => wanted.includes(v.id) || v.id === 'all') : ALL_VARIANTS;

interface Server {
  key: string;
  label: string;
  port: number;
  pid: number;
  stop(): Promise<void>;
}

const log = (m: string): void => void process.stderr.write(`${m}\n`);


async function main(): Promise<void> {
  const base = existsSync('/dev/shm') ? '/dev/shm' : tmpdir();
  const work = mkdtempSync(join(base, 'smbts-gains-'));
  chmodSync(work, 0o755); // smbd serves the share as user test
  const shareDir = join(work, 'share');
  const local = join(work, 'local.bin');
  const servers: Server[] = [];
  const stopAll = async (): Promise<void> => {
    for (const s of servers.splice(0)) await s.stop().catch(() => undefined);
    rmSync(work, { recursive: true, force: true });
  };
  process.once('SIGINT', () => void stopAll().then(() => process.exit(130)));
  try {
    mkdirSync(shareDir, { recursive: true });
    chmodSync(shareDir, 0o777);
    makeFile(local, SIZE);
    makeFile(join(shareDir, 'src.bin'), SIZE);
    const samba = await startSamba(shareDir);
    servers.push({ key: 'samba', label: 'Samba smbd', port: samba.port, pid: samba.pid, stop: () => samba.stop() });
    for (const v of VARIANTS) {
      const s = await startSmbts(shareDir, [], v.env);
      servers.push({ key: v.id, label: v.label, port: s.port, pid: s.pid, stop: () => s.stop() });
    }
    writeFileSync(join(work, 'empty'), '');
    const drv = new SmbclientDriver(join(work, 'empty'));
    const mbs = new Map<string, number[]>();
    const cpu = new Map<string, number[]>();
    const push = (m: Map<string, number[]>, k: string, x: number): void => void (m.get(k) ?? m.set(k, []).get(k)!).push(x);
    const timeoutMs = Math.max(60_000, (SIZE / (5 * MiB)) * 1000);
    for (let r = 1; r <= RUNS; r++) {
      for (const mode of MODES) {
        for (const op of ['put', 'get'] as const) {
          // rotate the order every round so no server always goes first
          const order = servers.map((_, i) => servers[(i + r) % servers.length]!);
          for (const s of order) {
            const c0 = treeCpu(s.pid);
            const remote = op === 'put' ? `put-${s.key}.bin` : 'src.bin';
            const [span] = await drv.transfer({ server: s.key, port: s.port, share: 'share' }, mode, op, [{ remote, local: op === 'put' ? local : '/dev/null' }], timeoutMs);
            await sleep(150); // let smbd reap its child so its CPU is counted
            const secs = (span!.end - span!.start) / 1000;
            const k = `${s.key}|${mode}|${op}`;
            push(mbs, k, SIZE / secs / 1e6);
            push(cpu, k, (treeCpu(s.pid) - c0) / (SIZE / GiB));
            log(`run ${r}/${RUNS} ${mode.padEnd(9)} ${op} ${s.key.padEnd(16)} ${(SIZE / secs / 1e6).toFixed(0)} MB/s`);
          }
        }
      }
    }
    const table = render(servers, mbs, cpu);
    process.stdout.write(table + '\n');
    if (WRITE_DOCS) writeDocs(table);
  } finally {
    await stopAll();
  }
}

function render(servers: Server[], mbs: Map<string, number[]>, cpu: Map<string, number[]>): string {
  const cols = MODES.flatMap((m) => (['put', 'get'] as const).map((op) => ({ mode: m, op })));
  const head = `| server | ${cols.map((c) => `${c.op === 'put' ? 'write' : 'read'} ${MODE_LABEL[c.mode]}`).join(' | ')} |`;
  const sep = `|---|${cols.map(() => '---:').join('|')}|`;
  const rows = servers.map((s) => {
    const cells = cols.map((c) => {
      const m = median(mbs.get(`${s.key}|${c.mode}|${c.op}`) ?? []);
      const cp = median(cpu.get(`${s.key}|${c.mode}|${c.op}`) ?? []);
      const sam = median(mbs.get(`samba|${c.mode}|${c.op}`) ?? []);
      const ratio = s.key === 'samba' ? '' : ` (${(m / sam).toFixed(2)}x)`;
      return `${m.toFixed(0)}${ratio}, ${cp.toFixed(2)} s/GiB`;
    });
    return `| ${s.label} | ${cells.join(' | ')} |`;
  });
  const load = readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ');
  return [
    `Each cell: median MB/s of ${RUNS} run(s) (ratio to Samba in brackets), then server CPU s/GiB; smbclient, 1 stream, ${SIZE / MiB} MiB, /dev/shm. Load average at the end: ${load}. Command: \`${commandLine()}\`.`,
    '',
    head,
    sep,
    ...rows,
  ].join('\n');
}

function commandLine(): string {
  const env = Object.entries(process.env).filter(([k]) => k.startsWith('GAINS_')).map(([k, v]) => `${k}=${v ?? ''}`).sort();
  return [...env, 'npm run bench:gains'].join(' ');
}

function writeDocs(table: string): void {
  const file = join(projectRoot, 'docs', 'benchmarks.md');
  const begin = '<!-- gains:begin (generated by npm run bench:gains; edit outside these markers) -->';
  const end = '<!-- gains:end -->';
  const doc = existsSync(file) ? readFileSync(file, 'utf8') : '';
  const i = doc.indexOf(begin);
  const j = doc.indexOf(end);
  const block = `${begin}\n\n${table}\n\n${end}`;
  const next = i >= 0 && j > i ? doc.slice(0, i) + block + doc.slice(j + end.length) : `${doc.trimEnd()}\n\n## What each optimisation gains\n\n${block}\n`;
  writeFileSync(file, next);
  log(`wrote ${file}`);
}

main().catch((e: unknown) => {
  process.stderr.write(`bench:gains failed: ${e instanceof Error ? e.stack ?? e.message : String(e)}\n`);
  process.exit(1);
});
