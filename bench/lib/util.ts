// Small helpers shared by the bench scripts.
import { spawn, type SpawnOptions } from 'node:child_process';
import { createServer, connect as netConnect } from 'node:net';
import { randomBytes } from 'node:crypto';
import { chmodSync, closeSync, openSync, writeSync } from 'node:fs';

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** A TCP port that was free a moment ago (bind 0, read, close). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      const port = typeof addr === 'object' && addr ? addr.port : 0;
      srv.close(() => resolve(port));
    });
  });
}

/** Polls until something accepts TCP on host:port, bounded by timeoutMs. */
export async function waitForPort(port: number, timeoutMs: number, host = '127.0.0.1'): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const ok = await new Promise<boolean>((resolve) => {
      const s = netConnect({ host, port });
      s.once('connect', () => { s.destroy(); resolve(true); });
      s.once('error', () => resolve(false));
    });
    if (ok) return;
    if (Date.now() > deadline) throw new Error(`nothing listening on ${host}:${port} after ${timeoutMs} ms`);
    await sleep(100);
  }
}

export interface RunResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  ms: number;
}

/**
 * Runs a command to completion with a hard timeout (SIGKILL on expiry).
 * Output is kept up to maxOutput (1 MiB) characters per stream. input, when given, is written to stdin.
 */
export function run(cmd: string, args: string[], opts: SpawnOptions & { timeoutMs?: number; input?: string; maxOutput?: number } = {}): Promise<RunResult> {
  const { timeoutMs = 120_000, input, maxOutput = 1 << 20, ...spawnOpts } = opts;
  return new Promise((resolve, reject) => {
    const t0 = process.hrtime.bigint();
    const child = spawn(cmd, args, { stdio: ['pipe', 'pipe', 'pipe'], ...spawnOpts });
    let stdout = '';
    let stderr = '';
    const cap = maxOutput;
    child.stdout?.on('data', (d: Buffer) => { if (stdout.length < cap) stdout += d.toString(); });
    child.stderr?.on('data', (d: Buffer) => { if (stderr.length < cap) stderr += d.toString(); });
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.once('error', (e) => { clearTimeout(timer); reject(e); });
    child.once('close', (code, signal) => {
      clearTimeout(timer);
      const ms = Number(process.hrtime.bigint() - t0) / 1e6;
      resolve({ code, signal, stdout, stderr, ms });
    });
    if (input !== undefined) child.stdin?.end(input);
    else child.stdin?.end();
  });
}

export function median(xs: number[]): number {
  const v = xs.filter((x) => Number.isFinite(x)).sort((a, b) => a - b);
  if (v.length === 0) return NaN;
  const m = v.length >> 1;
  return v.length % 2 ? (v[m] as number) : ((v[m - 1] as number) + (v[m] as number)) / 2;
}

export function envInt(name: string, dflt: number): number {
  const v = process.env[name];
  if (v === undefined || v === '') return dflt;
  const n = parseSize(v);
  if (!Number.isFinite(n) || n <= 0) throw new Error(`${name}=${v}: not a positive number`);
  return n;
}

/** "1G", "64M", "512k", "1000" -> bytes/number (binary units). */
export function parseSize(v: string): number {
  const m = /^\s*(\d+(?:\.\d+)?)\s*([kKmMgG]?)i?[bB]?\s*$/.exec(v);
  if (!m) return NaN;
  const mult = { '': 1, k: 1024, m: 1024 ** 2, g: 1024 ** 3 }[(m[2] ?? '').toLowerCase()] ?? 1;
  return Math.round(Number(m[1]) * mult);
}

export function fmtBytes(n: number): string {
  if (n >= 1024 ** 3) return `${+(n / 1024 ** 3).toFixed(2)} GiB`;
  if (n >= 1024 ** 2) return `${+(n / 1024 ** 2).toFixed(1)} MiB`;
  if (n >= 1024) return `${+(n / 1024).toFixed(1)} KiB`;
  return `${n} B`;
}

/** Fills path with size bytes of incompressible data (a random 1 MiB block repeated with a counter). */
export function makeFile(path: string, size: number): void {
  const MiB = 1024 * 1024;
  const block = randomBytes(MiB);
  const fd = openSync(path, 'w', 0o666);
  try {
    for (let off = 0, i = 0; off < size; off += MiB, i++) {
      block.writeUInt32LE(i, 0);
      writeSync(fd, block, 0, Math.min(MiB, size - off));
    }
  } finally {
    closeSync(fd);
  }
  chmodSync(path, 0o666);
}
