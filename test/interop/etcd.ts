// A private etcd cluster for tests: N members of /usr/bin/etcd (Debian etcd-server, 3.4) on
// 127.0.0.1 with free ports and data directories under one temp directory. Each member runs in its
// own process group; every wait is bounded, and stop() kills what is left and removes the data.
//
//   const etcd = await startEtcd({ members: 3 });
//   etcd.endpoints            // ['127.0.0.1:23791', ...] (the smb.conf `etcd endpoints` form)
//   await etcd.kill(0);       // SIGKILL member 0; the other two keep quorum
//   await etcd.restart(0);    // same name, ports and data dir; waits until the cluster is healthy
//   await etcd.stop();
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { HOST, freePort, killGroup, missingTools } from './peers.js';

export interface EtcdOptions {
  /** Number of members (default 3). */
  members?: number;
  /** How long start()/restart() wait for a healthy cluster (default 20 s). */
  readyTimeoutMs?: number;
  /** Receives every output line, prefixed with the member name (default: kept in memory only). */
  log?: (line: string) => void;
}

export interface EtcdMember {
  name: string;
  clientPort: number;
  peerPort: number;
  dataDir: string;
  /** The running process, or undefined while killed. */
  proc?: ChildProcess;
}

export interface EtcdCluster {
  members: EtcdMember[];
  /** 'host:port' of every member's client URL, in member order. */
  endpoints: string[];
  /** 'http://host:port' of every member (the form the etcd3 client takes). */
  urls: string[];
  /** SIGKILL a member (kill -9) and wait until its process is gone. */
  kill(i: number): Promise<void>;
  /** Start a killed member again with its data dir, then wait for cluster health. */
  restart(i: number): Promise<void>;
  /** True when member i answers /health with health=true (it sees a leader and quorum). */
  healthy(i: number): Promise<boolean>;
  /** Resolve when every running member is healthy; throws after timeoutMs. */
  waitHealthy(timeoutMs?: number): Promise<void>;
  /** The last lines the members printed (for failure messages). */
  tail(): string;
  stop(): Promise<void>;
}

export const ETCD_BIN = '/usr/bin/etcd';

/** A skip reason when etcd is not installed (outside CI; in CI, .ci/run installs it and a missing
 *  etcd throws), or undefined. */
export function etcdMissing(): string | undefined {
  return missingTools(['etcd']);
}

async function getHealth(port: number, timeoutMs: number): Promise<boolean> {
  try {
    const r = await fetch(`http://${HOST}:${port}/health`, { signal: AbortSignal.timeout(timeoutMs) });
    if (!r.ok) return false;
    const body = (await r.json()) as { health?: string };
    return body.health === 'true';
  } catch {
    return false;
  }
}

export async function startEtcd(opts: EtcdOptions = {}): Promise<EtcdCluster> {
  const n = opts.members ?? 3;
  const readyTimeoutMs = opts.readyTimeoutMs ?? 20_000;
  const root = await mkdtemp(join(tmpdir(), 'smbts-etcd-'));
  const lines: string[] = [];
  const note = (l: string): void => {
    lines.push(l);
    if (lines.length > 200) lines.shift();
    opts.log?.(l);
  };
  const members: EtcdMember[] = [];
  for (let i = 0; i < n; i++) {
    members.push({
      name: `e${i}`,
      clientPort: await freePort(),
      peerPort: await freePort(),
      dataDir: join(root, `e${i}`),
    });
  }
  const initialCluster = members.map((m) => `${m.name}=http://${HOST}:${m.peerPort}`).join(',');
  const token = `smbts-${process.pid}-${Date.now()}`;

  const launch = (m: EtcdMember): void => {
    const client = `http://${HOST}:${m.clientPort}`;
    const peer = `http://${HOST}:${m.peerPort}`;
    // Short heartbeat/election so a killed leader is replaced in about a second in tests.
    const args = [
      '--name', m.name,
      '--data-dir', m.dataDir,
      '--listen-client-urls', client,
      '--advertise-client-urls', client,
      '--listen-peer-urls', peer,
      '--initial-advertise-peer-urls', peer,
      '--initial-cluster', initialCluster,
      '--initial-cluster-state', 'new',
      '--initial-cluster-token', token,
      '--heartbeat-interval', '50',
      '--election-timeout', '500',
      '--enable-v2=false',
      '--logger', 'zap',
      '--log-level', 'warn',
    ];
    const child = spawn(ETCD_BIN, args, { detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
    const onData = (b: Buffer): void => {
      for (const l of b.toString('utf8').split('\n')) if (l.trim()) note(`[${m.name}] ${l}`);
    };
    child.stdout?.on('data', onData);
    child.stderr?.on('data', onData);
    child.on('error', (e) => note(`[${m.name}] spawn error: ${e.message}`));
    child.on('exit', (code, sig) => {
      note(`[${m.name}] exited code=${code} signal=${sig}`);
      if (m.proc === child) m.proc = undefined;
    });
    m.proc = child;
  };

  const waitGone = (child: ChildProcess): Promise<void> =>
    new Promise((resolve) => {
      if (child.exitCode !== null || child.signalCode !== null) return resolve();
      const t = setTimeout(resolve, 5_000);
      child.once('exit', () => {
        clearTimeout(t);
        resolve();
      });
    });

  const cluster: EtcdCluster = {
    members,
    endpoints: members.map((m) => `${HOST}:${m.clientPort}`),
    urls: members.map((m) => `http://${HOST}:${m.clientPort}`),
    async kill(i) {
      const child = members[i].proc;
      if (!child) return;
      killGroup(child.pid, 'SIGKILL');
      await waitGone(child);
      members[i].proc = undefined;
    },
    async restart(i) {
      if (members[i].proc) throw new Error(`etcd member ${members[i].name} is running`);
      launch(members[i]);
      await cluster.waitHealthy(readyTimeoutMs);
    },
    healthy: (i) => getHealth(members[i].clientPort, 1_000),
    async waitHealthy(timeoutMs = readyTimeoutMs) {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const running = members.map((m, i) => (m.proc ? i : -1)).filter((i) => i >= 0);
        const ok = await Promise.all(running.map((i) => cluster.healthy(i)));
        if (running.length > 0 && ok.every(Boolean)) return;
        if (Date.now() > deadline) {
          throw new Error(`etcd not healthy after ${timeoutMs} ms (running: ${running.join(',')})\n${cluster.tail()}`);
        }
        await new Promise((r) => setTimeout(r, 100));
      }
    },
    tail: () => lines.slice(-30).join('\n'),
    async stop() {
      await Promise.all(members.map((_, i) => cluster.kill(i)));
      await rm(root, { recursive: true, force: true }).catch(() => {});
    },
  };

  for (const m of members) launch(m);
  try {
    await cluster.waitHealthy(readyTimeoutMs);
  } catch (e) {
    await cluster.stop();
    throw e;
  }
  return cluster;
}
