// Network-namespace topologies for multichannel tests and benchmarks.
//
//   cli netns                              srv netns
//   ---------                              ---------
//   mc<run>c1  10.251.1.2/30  <== veth ==>  mc<run>s1  10.251.1.1/30
//   mc<run>c2  10.251.2.2/30  <== veth ==>  mc<run>s2  10.251.2.1/30
//   ...                                     (smbd or `smbts serve` listens here)
//
// Both ends of every veth pair live in namespaces this helper creates, so the 10.251.X.0/30
// addresses exist only there and the machine's own namespace is never touched (no address, no
// route, no qdisc, no firewall rule). Client programs run inside the "cli" namespace as child
// processes (`ip netns exec`); the test process only orchestrates.
//
// Safety rules:
// - names are unique per run: "smbtsmc-<pid>-<rand>" (namespaces) and "m<rand>c<i>"/"m<rand>s<i>"
//   (devices, <= 15 chars); every loop is bounded (links <= 8, waits have deadlines);
// - destroy() kills every process started in the namespaces, then deletes both namespaces (which
//   deletes the veth pairs with them); it also runs on process exit/SIGINT/SIGTERM, and namespaces
//   left by a dead run (its pid is gone) are swept at the next create.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { killGroup, run, repoRoot, type RunResult, type RunOptions } from './peers.js';

export const NS_PREFIX = 'smbtsmc-';
export const MAX_LINKS = 8;

export interface NetnsLink {
  /** 1-based link number (also the third octet of its addresses). */
  index: number;
  cliDev: string;
  srvDev: string;
  cliAddr: string;
  srvAddr: string;
}

export type Side = 'cli' | 'srv';

function ipOk(args: string[]): { ok: boolean; err: string } {
  const r = spawnSync('ip', args, { encoding: 'utf8', timeout: 10_000 });
  return { ok: r.status === 0, err: (r.stderr ?? '') + (r.error ? String(r.error) : '') };
}

let availability: string | undefined | null = null;
/** undefined when namespaces + veth + tc work here; otherwise a reason (checked once). */
export function netnsUnavailable(): string | undefined {
  if (availability !== null) return availability;
  availability = undefined;
  if (process.getuid?.() !== 0) availability = 'network namespaces need root';
  else if (spawnSync('sh', ['-c', 'command -v ip && command -v tc'], { stdio: 'ignore' }).status !== 0) availability = 'iproute2 (ip, tc) missing';
  else {
    const name = `${NS_PREFIX}probe-${process.pid}-${randomBytes(3).toString('hex')}`;
    const r = ipOk(['netns', 'add', name]);
    if (!r.ok) availability = `cannot create a network namespace: ${r.err.trim()}`;
    else ipOk(['netns', 'del', name]);
  }
  return availability;
}

/** Skip reason outside CI; in CI a missing capability is a failure (throws). */
export function netnsSkipReason(): string | undefined {
  const why = netnsUnavailable();
  if (!why) return undefined;
  if (process.env.CI === 'true' || process.env.CI === '1') throw new Error(`multichannel tests need network namespaces: ${why}`);
  return why;
}

function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Deletes namespaces of earlier runs whose process is gone (bounded by the list length). */
export function sweepStale(): void {
  const r = spawnSync('ip', ['netns', 'list'], { encoding: 'utf8', timeout: 10_000 });
  const names = (r.stdout ?? '').split('\n').map((l) => l.trim().split(/\s+/)[0] ?? '').filter((n) => n.startsWith(NS_PREFIX));
  for (const n of names.slice(0, 256)) {
    const m = /^smbtsmc-(?:probe-)?(\d+)-/.exec(n);
    if (!m) continue;
    const pid = Number(m[1]);
    if (pid === process.pid || pidAlive(pid)) continue;
    killNsProcesses(n);
    ipOk(['netns', 'del', n]);
  }
}

/** SIGKILLs whatever still runs in namespace `ns` (ip netns pids). */
function killNsProcesses(ns: string): void {
  const r = spawnSync('ip', ['netns', 'pids', ns], { encoding: 'utf8', timeout: 10_000 });
  for (const p of (r.stdout ?? '').split('\n').slice(0, 1024)) {
    const pid = Number(p.trim());
    if (Number.isInteger(pid) && pid > 1 && pid !== process.pid) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        /* gone */
      }
    }
  }
}

const live = new Set<Topology>();
let hooksInstalled = false;
function installExitHooks(): void {
  if (hooksInstalled) return;
  hooksInstalled = true;
  process.on('exit', () => {
    for (const t of [...live]) t.destroySync();
  });
  for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    process.once(sig, () => {
      for (const t of [...live]) t.destroySync();
      process.exit(128 + (sig === 'SIGINT' ? 2 : sig === 'SIGTERM' ? 15 : 1));
    });
  }
}

export interface SpawnedProcess {
  child: ChildProcess;
  /** Last lines of stdout+stderr (for error messages). */
  log(): string;
  /** Resolves on exit with the code. */
  exited: Promise<number>;
  kill(): Promise<void>;
}

export interface TopologyOptions {
  links: number;
  /** Shape every link to this rate (Mbit/s) right away (both directions). */
  rateMbit?: number;
}

export class Topology {
  readonly links: NetnsLink[] = [];
  private readonly procs = new Set<SpawnedProcess>();
  private destroyed = false;

  private constructor(
    readonly id: string,
    readonly cliNs: string,
    readonly srvNs: string,
  ) {}

  /** Creates the two namespaces and `links` veth pairs between them (1..MAX_LINKS). */
  static async create(opts: TopologyOptions): Promise<Topology> {
    const n = Math.floor(opts.links);
    if (!(n >= 1 && n <= MAX_LINKS)) throw new Error(`links must be 1..${MAX_LINKS}`);
    const why = netnsUnavailable();
    if (why) throw new Error(why);
    installExitHooks();
    sweepStale();
    const id = randomBytes(3).toString('hex');
    const t = new Topology(id, `${NS_PREFIX}${process.pid}-${id}-cli`, `${NS_PREFIX}${process.pid}-${id}-srv`);
    live.add(t);
    try {
      await t.ip(['netns', 'add', t.cliNs]);
      await t.ip(['netns', 'add', t.srvNs]);
      for (const ns of [t.cliNs, t.srvNs]) await t.ip(['-n', ns, 'link', 'set', 'lo', 'up']);
      for (let i = 1; i <= n; i++) {
        const link: NetnsLink = {
          index: i,
          cliDev: `m${id}c${i}`,
          srvDev: `m${id}s${i}`,
          cliAddr: `10.251.${i}.2`,
          srvAddr: `10.251.${i}.1`,
        };
        // Created directly inside the namespaces: the root namespace never sees these devices.
        await t.ip(['link', 'add', 'name', link.cliDev, 'netns', t.cliNs, 'type', 'veth', 'peer', 'name', link.srvDev, 'netns', t.srvNs]);
        await t.ip(['-n', t.cliNs, 'addr', 'add', `${link.cliAddr}/30`, 'dev', link.cliDev]);
        await t.ip(['-n', t.srvNs, 'addr', 'add', `${link.srvAddr}/30`, 'dev', link.srvDev]);
        await t.ip(['-n', t.cliNs, 'link', 'set', link.cliDev, 'up']);
        await t.ip(['-n', t.srvNs, 'link', 'set', link.srvDev, 'up']);
        t.links.push(link);
      }
      if (opts.rateMbit) for (const l of t.links) await t.shape(l.index, opts.rateMbit);
    } catch (e) {
      await t.destroy();
      throw e;
    }
    return t;
  }

  private nsOf(side: Side): string {
    return side === 'cli' ? this.cliNs : this.srvNs;
  }

  link(i: number): NetnsLink {
    const l = this.links[i - 1];
    if (!l) throw new Error(`no link ${i}`);
    return l;
  }

  private async ip(args: string[]): Promise<void> {
    const r = await run('ip', args, { timeoutMs: 15_000 });
    if (r.code !== 0) throw new Error(`ip ${args.join(' ')}: ${(r.stderr || r.stdout).trim()}`);
  }

  /** Runs a command inside a namespace (bounded by opts.timeoutMs, default 60 s). */
  exec(side: Side, cmd: string, args: string[], opts: RunOptions = {}): Promise<RunResult> {
    return run('ip', ['netns', 'exec', this.nsOf(side), cmd, ...args], opts);
  }

  /** Starts a long-running process inside a namespace; destroy() kills it. */
  spawn(side: Side, cmd: string, args: string[], opts: { env?: NodeJS.ProcessEnv; onLine?: (line: string) => void } = {}): SpawnedProcess {
    if (this.destroyed) throw new Error('topology destroyed');
    const child = spawn('ip', ['netns', 'exec', this.nsOf(side), cmd, ...args], {
      detached: true,
      stdio: ['ignore', 'pipe', 'pipe'],
      env: opts.env ?? process.env,
    });
    const lines: string[] = [];
    let partial = '';
    const onData = (b: Buffer): void => {
      const text = partial + b.toString('utf8');
      const parts = text.split('\n');
      partial = parts.pop() ?? '';
      for (const line of parts) {
        lines.push(line);
        if (lines.length > 400) lines.shift();
        try {
          opts.onLine?.(line);
        } catch {
          /* observer errors must not break the reader */
        }
      }
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', onData);
    const exited = new Promise<number>((resolve) => {
      child.once('error', () => resolve(-1));
      child.once('close', (code, signal) => resolve(code ?? (signal ? 128 : -1)));
    });
    const proc: SpawnedProcess = {
      child,
      log: () => [...lines, partial].join('\n'),
      exited,
      kill: async () => {
        killGroup(child.pid, 'SIGTERM');
        const done = await Promise.race([exited.then(() => true), sleep(3000).then(() => false)]);
        if (!done) {
          killGroup(child.pid, 'SIGKILL');
          await Promise.race([exited, sleep(2000)]);
        }
        this.procs.delete(proc);
      },
    };
    this.procs.add(proc);
    return proc;
  }

  /** Waits until something listens on TCP `port` in the server namespace. */
  async waitListening(port: number, timeoutMs = 20_000, proc?: SpawnedProcess): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    for (let i = 0; i < 1000; i++) {
      const r = await this.exec('srv', 'ss', ['-Hltn', `sport = :${port}`], { timeoutMs: 5000 });
      if (r.code === 0 && r.stdout.trim()) return;
      if (proc && proc.child.exitCode !== null) throw new Error(`server exited before listening:\n${proc.log().slice(-3000)}`);
      if (Date.now() > deadline) break;
      await sleep(100);
    }
    throw new Error(`nothing listening on port ${port} in ${this.srvNs} after ${timeoutMs} ms${proc ? `:\n${proc.log().slice(-3000)}` : ''}`);
  }

  /** Token-bucket shaping of link `i` in both directions (egress of both veth ends). */
  async shape(i: number, rateMbit: number): Promise<void> {
    const l = this.link(i);
    // burst >= rate/HZ; 1 ms worth of bytes or 64 KiB, whichever is larger.
    const burst = Math.max(64 * 1024, Math.ceil((rateMbit * 1e6) / 8 / 1000));
    for (const [ns, dev] of [[this.cliNs, l.cliDev], [this.srvNs, l.srvDev]] as const) {
      await run('tc', ['-n', ns, 'qdisc', 'del', 'dev', dev, 'root'], { timeoutMs: 10_000 });
      const r = await run('tc', ['-n', ns, 'qdisc', 'add', 'dev', dev, 'root', 'tbf', 'rate', `${rateMbit}mbit`, 'burst', String(burst), 'latency', '20ms'], { timeoutMs: 10_000 });
      if (r.code !== 0) throw new Error(`tc on ${dev}: ${(r.stderr || r.stdout).trim()}`);
    }
  }

  async unshape(i: number): Promise<void> {
    const l = this.link(i);
    await run('tc', ['-n', this.cliNs, 'qdisc', 'del', 'dev', l.cliDev, 'root'], { timeoutMs: 10_000 });
    await run('tc', ['-n', this.srvNs, 'qdisc', 'del', 'dev', l.srvDev, 'root'], { timeoutMs: 10_000 });
  }

  /**
   * Cuts link `i`: 'down' sets the server end down (the peer loses carrier, packets vanish, no
   * RST); 'drop' adds an iptables DROP for the link's traffic inside the server namespace.
   */
  async cut(i: number, how: 'down' | 'drop' = 'down'): Promise<void> {
    const l = this.link(i);
    if (how === 'down') {
      await this.ip(['-n', this.srvNs, 'link', 'set', l.srvDev, 'down']);
    } else {
      for (const chain of [['INPUT', '-i'], ['OUTPUT', '-o']] as const) {
        const r = await this.exec('srv', 'iptables', ['-A', chain[0], chain[1], l.srvDev, '-j', 'DROP'], { timeoutMs: 10_000 });
        if (r.code !== 0) throw new Error(`iptables in ${this.srvNs}: ${(r.stderr || r.stdout).trim()}`);
      }
    }
  }

  /** Undoes cut(i). */
  async heal(i: number, how: 'down' | 'drop' = 'down'): Promise<void> {
    const l = this.link(i);
    if (how === 'down') {
      await this.ip(['-n', this.srvNs, 'link', 'set', l.srvDev, 'up']);
    } else {
      for (const chain of [['INPUT', '-i'], ['OUTPUT', '-o']] as const) {
        await this.exec('srv', 'iptables', ['-D', chain[0], chain[1], l.srvDev, '-j', 'DROP'], { timeoutMs: 10_000 });
      }
    }
  }

  /** Kills every process started here, deletes both namespaces (and so the veth pairs). */
  async destroy(): Promise<void> {
    if (this.destroyed) return;
    for (const p of [...this.procs]) await p.kill().catch(() => undefined);
    this.destroySync();
  }

  /** Synchronous teardown (exit hooks). */
  destroySync(): void {
    if (this.destroyed) return;
    this.destroyed = true;
    for (const p of this.procs) killGroup(p.child.pid, 'SIGKILL');
    this.procs.clear();
    for (const ns of [this.cliNs, this.srvNs]) {
      killNsProcesses(ns);
      ipOk(['netns', 'del', ns]);
    }
    live.delete(this);
  }
}

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/**
 * Command + args that run a project script with node: the compiled .js under dist/ when this
 * file runs from dist (npm test), else the .ts through tsx. `rel` is relative to the repo root,
 * without extension, e.g. 'test/interop/mc-client'.
 */
export function nodeScript(rel: string): { cmd: string; args: string[] } {
  const here = new URL(import.meta.url).pathname;
  const root = repoRoot();
  if (here.endsWith('.js')) {
    const js = join(root, 'dist', rel + '.js');
    return { cmd: process.execPath, args: [js] };
  }
  const ts = join(root, rel + '.ts');
  if (!existsSync(ts)) throw new Error(`no ${ts}`);
  return { cmd: process.execPath, args: ['--import', 'tsx', ts] };
}
