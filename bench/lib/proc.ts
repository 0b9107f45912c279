// /proc sampling of a server process tree: CPU seconds and resident memory.
// Linux only; every function tolerates processes vanishing between reads.
import { readFileSync, readdirSync } from 'node:fs';

const CLK_TCK = 100; // sysconf(_SC_CLK_TCK) is 100 on every Linux we run on

export interface ProcStat {
  pid: number;
  ppid: number;
  /** utime + stime of the process itself, seconds */
  self: number;
  /** cutime + cstime: reaped children, seconds */
  children: number;
}

export function readStat(pid: number): ProcStat | undefined {
  let text: string;
  try {
    text = readFileSync(`/proc/${pid}/stat`, 'latin1');
  } catch {
    return undefined;
  }
  // comm may hold spaces and parens: fields start after the last ')'
  const rest = text.slice(text.lastIndexOf(')') + 2).split(' ');
  // rest[0] is field 3 (state); utime is field 14 -> rest[11]
  const num = (i: number): number => Number(rest[i] ?? 0);
  return {
    pid,
    ppid: num(1),
    self: (num(11) + num(12)) / CLK_TCK,
    children: (num(13) + num(14)) / CLK_TCK,
  };
}

/** VmHWM and VmRSS in bytes (0 when unreadable). */
export function readMem(pid: number): { hwm: number; rss: number } {
  try {
    const text = readFileSync(`/proc/${pid}/status`, 'latin1');
    const get = (k: string): number => {
      const m = new RegExp(`^${k}:\\s+(\\d+) kB`, 'm').exec(text);
      return m ? Number(m[1]) * 1024 : 0;
    };
    return { hwm: get('VmHWM'), rss: get('VmRSS') };
  } catch {
    return { hwm: 0, rss: 0 };
  }
}

/** All live descendants of root (root included). */
export function processTree(root: number): number[] {
  const byParent = new Map<number, number[]>();
  let entries: string[] = [];
  try {
    entries = readdirSync('/proc');
  } catch {
    return [root];
  }
  for (const e of entries) {
    if (!/^\d+$/.test(e)) continue;
    const st = readStat(Number(e));
    if (!st) continue;
    const list = byParent.get(st.ppid) ?? [];
    list.push(st.pid);
    byParent.set(st.ppid, list);
  }
  const out: number[] = [];
  const queue = [root];
  while (queue.length > 0 && out.length < 10_000) {
    const p = queue.shift() as number;
    out.push(p);
    for (const c of byParent.get(p) ?? []) queue.push(c);
  }
  return out;
}

/**
 * CPU seconds consumed by a process tree so far: root's own + reaped children,
 * plus live descendants' own time. Exited-and-reaped children are counted
 * through the root's cutime/cstime (smbd reaps its per-connection children).
 */
export function treeCpu(root: number): number {
  const pids = processTree(root);
  let total = 0;
  for (const pid of pids) {
    const st = readStat(pid);
    if (!st) continue;
    total += st.self;
    if (pid === root) total += st.children;
  }
  return total;
}

/**
 * Samples the tree's memory every intervalMs while a measurement runs.
 * peak = max over samples of the sum over live processes of each one's VmHWM
 * (so a short-lived smbd child's high-water mark is kept while it lives).
 */
export class MemSampler {
  private timer: NodeJS.Timeout | undefined;
  private hwm = new Map<number, number>();
  peak = 0;

  constructor(private readonly root: number, private readonly intervalMs = 150) {}

  start(): this {
    this.sample();
    this.timer = setInterval(() => this.sample(), this.intervalMs);
    this.timer.unref();
    return this;
  }

  sample(): void {
    let sum = 0;
    for (const pid of processTree(this.root)) {
      const m = readMem(pid);
      const h = Math.max(this.hwm.get(pid) ?? 0, m.hwm, m.rss);
      this.hwm.set(pid, h);
      sum += h;
    }
    if (sum > this.peak) this.peak = sum;
  }

  stop(): number {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    this.sample();
    return this.peak;
  }
}

/**
 * Jiffies of the whole machine from /proc/stat's `cpu` line: busy (user, nice, system, irq,
 * softirq, steal) and total (busy + idle + iowait). busyShare(a, b) = share of all cores busy
 * between two readings (1 = every core busy all the time).
 */
export function machineJiffies(): { busy: number; total: number } {
  try {
    const line = readFileSync('/proc/stat', 'latin1').split('\n', 1)[0] ?? '';
    const f = line.trim().split(/\s+/).slice(1).map(Number);
    const [user = 0, nice = 0, system = 0, idle = 0, iowait = 0, irq = 0, softirq = 0, steal = 0] = f;
    const busy = user + nice + system + irq + softirq + steal;
    return { busy, total: busy + idle + iowait };
  } catch {
    return { busy: 0, total: 0 };
  }
}

export function busyShare(a: { busy: number; total: number }, b: { busy: number; total: number }): number {
  const dt = b.total - a.total;
  return dt > 0 ? (b.busy - a.busy) / dt : NaN;
}
