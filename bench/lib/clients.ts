// The two clients the bench drives: Samba's smbclient and smbts's own client
// (run in a child process, bench/smbts-client.ts, one process per stream like smbclient).
import { fileURLToPath } from 'node:url';
import { dirname, join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { statSync } from 'node:fs';
import { spawn } from 'node:child_process';
import { type Mode, smbclientModeArgs } from './modes.js';
import { median, run } from './util.js';

export interface Target {
  server: string; // 'smbts' | 'samba'
  port: number;
  share: string;
}

/** A timed span in epoch milliseconds (comparable across processes). */
export interface Span {
  start: number;
  end: number;
  /** client CPU seconds (user+system) for this stream, when known */
  cpu?: number;
}

export type MetaOp = 'create' | 'stat' | 'delete' | 'list';

export interface MetaResult {
  ms: number;
  /** names processed (create/stat/delete); listings done for list */
  done: number;
  /** list: entries in one listing */
  entries: number;
}

export interface Driver {
  readonly name: 'smbclient' | 'smbts';
  /** Concurrent streams, one connection (process) each: get remote -> local, or put local -> remote. One span per stream. */
  transfer(t: Target, mode: Mode, op: 'get' | 'put', streams: Array<{ remote: string; local: string }>, timeoutMs: number): Promise<Span[]>;
  /**
   * A metadata pass over names (in order) in remote directory dir, stopping once capMs has passed
   * (so a pathologically slow server cannot stall the bench). Returns the time spent on the
   * operations (connection setup excluded), how many names were done, and for list the entries seen.
   */
  meta(t: Target, mode: Mode, op: MetaOp, dir: string, names: string[], capMs: number): Promise<MetaResult>;
  /** Fixed per-invocation overhead (process start + connect) removed from spans, ms. */
  overhead(t: Target, mode: Mode): Promise<number>;
}

/**
 * The list test lists the directory this many times in one session and reports the mean: enough
 * listings that the total dwarfs the noise of the subtracted connection time.
 */
export function listReps(files: number): number {
  return Math.max(5, Math.min(500, Math.ceil(50_000 / Math.max(1, files))));
}

const now = (): number => performance.timeOrigin + performance.now();

export class SmbclientDriver implements Driver {
  readonly name = 'smbclient' as const;
  private baselines = new Map<string, number>();

  constructor(private readonly emptyFile: string) {}

  private args(t: Target, mode: Mode): string[] {
    return [`//127.0.0.1/${t.share}`, '-p', String(t.port), '-U', 'test%test', '-m', 'SMB3_11',
      '--use-kerberos=disabled', ...smbclientModeArgs(mode)];
  }

  async overhead(t: Target, mode: Mode): Promise<number> {
    const key = `${t.server}/${t.port}/${mode}`;
    const cached = this.baselines.get(key);
    if (cached !== undefined) return cached;
    const times: number[] = [];
    for (let i = 0; i < 3; i++) {
      const r = await run('smbclient', [...this.args(t, mode), '-c', 'exit'], { timeoutMs: 30_000 });
      if (r.code !== 0) throw new Error(`smbclient connect to ${t.server} (${mode}) failed: ${tail(r.stdout + r.stderr)}`);
      times.push(r.ms);
    }
    const m = median(times);
    this.baselines.set(key, m);
    return m;
  }

  transfer(t: Target, mode: Mode, op: 'get' | 'put', streams: Array<{ remote: string; local: string }>, timeoutMs: number): Promise<Span[]> {
    return Promise.all(streams.map((x) => this.one(t, mode, op, x.remote, x.local, timeoutMs)));
  }

  private async one(t: Target, mode: Mode, op: 'get' | 'put', remote: string, local: string, timeoutMs: number): Promise<Span> {
    const cmd = op === 'get' ? `get ${remote} ${local}` : `put ${local} ${remote}`;
    const start = now();
    // through bash so its `times` builtin reports smbclient's CPU (children user/system, last line)
    const r = await run('bash', ['-c', 'smbclient "$@"; rc=$?; times; exit $rc', 'bash', ...this.args(t, mode), '-c', cmd], { timeoutMs });
    const end = now();
    const out = r.stdout + r.stderr;
    let cpu: number | undefined;
    const tm = /(\d+)m([\d.]+)s (\d+)m([\d.]+)s\s*$/.exec(r.stdout.trim());
    if (tm) cpu = Number(tm[1]) * 60 + Number(tm[2]) + Number(tm[3]) * 60 + Number(tm[4]);
    if (r.code !== 0 || /NT_STATUS_/.test(out)) throw new Error(`smbclient ${cmd} on ${t.server} (${mode}): ${r.signal ? `killed ${r.signal} (timeout?)` : `exit ${r.code}`}: ${tail(out)}`);
    // smbclient times open..close itself and prints nread / (1.024 * ms) as "(R KiloBytes/sec)"
    // (get) or "(R kb/s)" (put); recover ms from that so process start and session setup drop out.
    const m = /of size (\d+) as .*?\((\d+(?:\.\d+)?) (?:KiloBytes\/sec|kb\/s)\)/.exec(out) ??
      /putting file .*?\((\d+(?:\.\d+)?) (?:KiloBytes\/sec|kb\/s)\)/.exec(out);
    let ms = NaN;
    if (m && m.length === 3) ms = Number(m[1]) / (1.024 * Number(m[2]));
    else if (m) {
      const bytes = op === 'put' ? statSync(local).size : NaN;
      ms = bytes / (1.024 * Number(m[1]));
    }
    if (!(ms >= 1) || ms > end - start) return { start: start + (await this.overhead(t, mode)), end, cpu }; // too short to trust: wall clock
    return { start: end - ms, end, cpu };
  }

  async meta(t: Target, mode: Mode, op: MetaOp, dir: string, names: string[], capMs: number): Promise<MetaResult> {
    const base = await this.overhead(t, mode);
    if (op === 'list') {
      const reps = listReps(names.length);
      const r = await this.session(t, mode, Array.from({ length: reps }, () => 'ls'), dir, op, Math.max(60_000, capMs));
      const entries = (r.out.match(/^\s+f\d+\s/gm) ?? []).length / reps;
      return { ms: Math.max(0.01, (r.ms - base) / reps), done: reps, entries };
    }
    // chunks of commands, one session each; chunk sizes follow the measured rate so the pass
    // ends near capMs. The connect-only time is subtracted from every chunk.
    const t0 = now();
    let done = 0;
    let ms = 0;
    // start small: on a server where each operation costs O(directory size) a big first chunk
    // alone could run for minutes
    let chunk = Math.min(names.length, 20);
    while (done < names.length) {
      const slice = names.slice(done, done + chunk);
      const cmds = slice.map((n) => (op === 'create' ? `put ${this.emptyFile} ${n}` : op === 'stat' ? `allinfo ${n}` : `del ${n}`));
      const r = await this.session(t, mode, cmds, dir, op, Math.max(120_000, capMs * 2));
      ms += Math.max(0.1, r.ms - base);
      done += slice.length;
      const left = capMs - (now() - t0);
      if (left <= 0) break;
      chunk = Math.max(10, Math.min(5000, chunk * 4, Math.floor((done / ms) * left * 0.8)));
    }
    return { ms, done, entries: 0 };
  }

  /** One smbclient session running cmds in remote dir (commands on stdin: -c is limited to 128 KiB). */
  private async session(t: Target, mode: Mode, cmds: string[], dir: string, op: string, timeoutMs: number): Promise<{ ms: number; out: string }> {
    const r = await run('smbclient', this.args(t, mode), { timeoutMs, input: [`cd ${dir}`, ...cmds, 'exit', ''].join('\n'), maxOutput: 256 << 20 });
    // `ls` ends with a volume-size query (dskattr); a server without it still listed the directory
    const out = (r.stdout + r.stderr).replace(/Error in dskattr: NT_STATUS_\w+/g, '');
    const errors = out.match(/NT_STATUS_\w+/g) ?? [];
    if (r.code === null || errors.length > 0) {
      throw new Error(`smbclient ${op} on ${t.server} (${mode}): ${r.signal ? `killed ${r.signal} (timeout)` : `${errors.length} errors, first ${errors[0] ?? '?'}`}: ${tail(out)}`);
    }
    return { ms: r.ms, out };
  }
}

export class SmbtsClientDriver implements Driver {
  readonly name = 'smbts' as const;
  /** extra node flags for the workers (the profiler uses --cpu-prof) */
  nodeArgs: string[] = [];
  private readonly script = join(dirname(fileURLToPath(import.meta.url)), '..', 'smbts-client.js');

  overhead(): Promise<number> {
    return Promise.resolve(0); // the worker times itself after connecting
  }

  /**
   * Runs one worker per job. Each worker connects, prints "ready", and waits for "go" on stdin;
   * all get "go" together, so node start-up and connection setup stay out of the measured span.
   */
  private calls(jobs: Array<Record<string, unknown>>, timeoutMs: number): Promise<Array<Record<string, number>>> {
    return new Promise((resolve, reject) => {
      const kids = jobs.map((job) => spawn(process.execPath, [...this.nodeArgs, this.script, JSON.stringify({ ...job, barrier: true })], { stdio: ['pipe', 'pipe', 'pipe'] }));
      const outs = kids.map(() => '');
      const errs = kids.map(() => '');
      let ready = 0;
      let closed = 0;
      let failed = false;
      const codes: Array<number | null> = kids.map(() => null);
      const timer = setTimeout(() => {
        failed = true;
        for (const k of kids) k.kill('SIGKILL');
      }, timeoutMs);
      kids.forEach((k, i) => {
        k.stdout.on('data', (d: Buffer) => {
          const before = outs[i] as string;
          outs[i] = before + d.toString();
          if (!before.includes('ready\n') && (outs[i] as string).includes('ready\n') && ++ready === kids.length) {
            for (const kk of kids) kk.stdin.write('go\n');
          }
        });
        k.stdin.on('error', () => undefined); // EPIPE when a worker is already gone
        k.stderr.on('data', (d: Buffer) => { if ((errs[i] as string).length < 65536) errs[i] += d.toString(); });
        k.once('error', (e) => { failed = true; errs[i] += String(e); });
        k.once('close', (code) => {
          codes[i] = code;
          // a worker that dies before "ready" would leave the others waiting: release them
          if (!(outs[i] as string).includes('ready\n')) for (const kk of kids) kk.stdin.end();
          if (++closed < kids.length) return;
          clearTimeout(timer);
          const results: Array<Record<string, number>> = [];
          for (let j = 0; j < kids.length; j++) {
            const line = (outs[j] as string).trim().split('\n').pop() ?? '';
            let res: Record<string, unknown> = {};
            try {
              res = JSON.parse(line) as Record<string, unknown>;
            } catch {
              /* below */
            }
            const job = jobs[j] as Record<string, unknown>;
            if (failed || codes[j] !== 0 || typeof res.error === 'string' || typeof res.start !== 'number') {
              reject(new Error(`smbts client ${String(job.op)} on ${String(job.server)} (${String(job.mode)}): ${failed ? 'timeout' : typeof res.error === 'string' ? res.error : `exit ${codes[j]}`} ${tail(errs[j] as string)}`));
              return;
            }
            results.push(res as Record<string, number>);
          }
          resolve(results);
        });
      });
    });
  }

  async transfer(t: Target, mode: Mode, op: 'get' | 'put', streams: Array<{ remote: string; local: string }>, timeoutMs: number): Promise<Span[]> {
    const res = await this.calls(streams.map((x) => ({ server: t.server, port: t.port, share: t.share, mode, op, remote: x.remote, local: x.local })), timeoutMs);
    return res.map((r) => ({ start: r.start as number, end: r.end as number, cpu: r.cpu }));
  }

  async meta(t: Target, mode: Mode, op: MetaOp, dir: string, names: string[], capMs: number): Promise<MetaResult> {
    const reps = listReps(names.length);
    const [res = {}] = await this.calls([{ server: t.server, port: t.port, share: t.share, mode, op, dir, count: names.length, prefix: 'f', width: 5, reps, capMs }], Math.max(120_000, capMs * 3));
    const ms = (res.end as number) - (res.start as number);
    if (op === 'list') return { ms: Math.max(0.01, ms / reps), done: reps, entries: res.entries ?? 0 };
    return { ms: Math.max(0.1, ms), done: res.done ?? names.length, entries: 0 };
  }
}

function tail(s: string, n = 400): string {
  const t = s.trim().replace(/\s+/g, ' ');
  return t.length > n ? `...${t.slice(-n)}` : t;
}

/** f00000 .. f{count-1}, the names both clients use for the metadata tests. */
export function metaNames(count: number): string[] {
  return Array.from({ length: count }, (_, i) => `f${String(i).padStart(5, '0')}`);
}
