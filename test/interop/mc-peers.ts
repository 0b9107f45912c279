// Multichannel peers inside a netns Topology (netns.ts): Samba smbd or `smbts serve` in the server
// namespace listening on every link address, smbtorture and the smbts client driver
// (mc-client.ts) in the client namespace.
import { mkdtemp, mkdir, writeFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DEFAULT_PASS, DEFAULT_USER, addSambaUsers, killSambaHelpers, makeSambaRoot, parseTorture, run, sambaConfText, type TortureCase } from './peers.js';
import { nodeScript, type SpawnedProcess, type Topology } from './netns.js';

export const SMB_PORT = 445;

export interface NsServer {
  kind: 'samba' | 'smbts';
  /** Share directory on this machine's filesystem (namespaces share it). */
  shareDir: string;
  user: string;
  pass: string;
  proc: SpawnedProcess;
  /** smbts only: `smbts status --json` (admin socket; unix sockets work across network namespaces). */
  status?(): Promise<ServerStatusJson>;
  stop(): Promise<void>;
}

export interface ServerStatusJson {
  sessions: Array<{ sessionId: string; user: string; channels: Array<{ connectionId: number; localAddress: string; remoteAddress: string; signingKeyId: string; bytesIn: number; bytesOut: number; requestsInFlight: number }> }>;
}

export interface NsServerOptions {
  /** Link speed reported per interface, bits/s (default 1 Gbit/s each). */
  speeds?: number[];
  /** Advertise RSS on every interface (default true). */
  rss?: boolean;
  /** Replaces the generated `interfaces` value (e.g. to report an address that does not exist). */
  interfaces?: string;
  /** smbts: "max channels" (default 32). Samba: "server multi channel support" on when > 1. */
  maxChannels?: number;
  log?: (line: string) => void;
}

function interfacesLine(topo: Topology, o: NsServerOptions): string {
  if (o.interfaces !== undefined) return o.interfaces;
  return topo.links.map((l, i) => {
    const speed = o.speeds?.[i] ?? 1_000_000_000;
    return `"${l.srvAddr};speed=${speed}${o.rss === false ? '' : ',capability=RSS'}"`;
  }).join(' ');
}

/** Samba smbd in the server namespace, multichannel on, one writable [share]. */
export async function startSambaNs(topo: Topology, o: NsServerOptions = {}): Promise<NsServer> {
  const { root, shareDir } = await makeSambaRoot('smbts-mc-samba-', true);
  const conf = join(root, 'smb.conf');
  await writeFile(conf, sambaConfText({
    root, port: SMB_PORT, interfaces: interfacesLine(topo, o), shareDir,
    extraGlobal: [`server multi channel support = ${(o.maxChannels ?? 32) > 1 ? 'yes' : 'no'}`],
  }));
  await addSambaUsers(conf, [[DEFAULT_USER, DEFAULT_PASS]]);
  const proc = topo.spawn('srv', 'smbd', ['-F', '--no-process-group', '-s', conf, '--debug-stdout', '-d', '1'], { onLine: o.log });
  try {
    await topo.waitListening(SMB_PORT, 20_000, proc);
  } catch (e) {
    await proc.kill();
    await rm(root, { recursive: true, force: true }).catch(() => undefined);
    throw e;
  }
  return {
    kind: 'samba', shareDir, user: DEFAULT_USER, pass: DEFAULT_PASS, proc,
    async stop() {
      await proc.kill();
      killSambaHelpers(conf, 'SIGKILL');
      await rm(root, { recursive: true, force: true }).catch(() => undefined);
    },
  };
}

/** `smbts serve` (the CLI, as a user would run it) in the server namespace. */
export async function startSmbtsNs(topo: Topology, o: NsServerOptions = {}): Promise<NsServer> {
  const root = await mkdtemp(join(tmpdir(), 'smbts-mc-serve-'));
  const shareDir = join(root, 'share');
  await mkdir(shareDir, { recursive: true });
  const conf = join(root, 'smb.conf');
  await writeFile(conf, [
    '[global]',
    `  smb ports = ${SMB_PORT}`,
    `  interfaces = ${interfacesLine(topo, o)}`,
    `  max channels = ${o.maxChannels ?? 32}`,
    '',
    '[share]',
    `  path = ${shareDir}`,
    '  read only = no',
    '',
  ].join('\n'));
  const users = join(root, 'smbpasswd');
  const { cmd, args } = nodeScript('src/cli/main');
  const proc = topo.spawn('srv', cmd, [...args, 'serve', '--config', conf, '--users', users, '--port', String(SMB_PORT), ...(o.log ? [] : ['--quiet'])], {
    env: { ...process.env, SMBTS_PASSWORD: DEFAULT_PASS, SMBTS_HOME: root },
    onLine: o.log,
  });
  try {
    await topo.waitListening(SMB_PORT, 30_000, proc);
  } catch (e) {
    await proc.kill();
    await rm(root, { recursive: true, force: true }).catch(() => undefined);
    throw e;
  }
  // With a fresh user database, serve creates user "smbts" with SMBTS_PASSWORD.
  return {
    kind: 'smbts', shareDir, user: 'smbts', pass: DEFAULT_PASS, proc,
    async status() {
      const r = await run(cmd, [...args, 'status', '--users', users, '--json'], { timeoutMs: 20_000, env: { ...process.env, SMBTS_HOME: root } });
      if (r.code !== 0) throw new Error(`smbts status: ${r.stderr || r.stdout}`);
      const all = JSON.parse(r.stdout) as ServerStatusJson[]; // one element per server (one here)
      return all[0]!;
    },
    async stop() {
      await proc.kill();
      await rm(root, { recursive: true, force: true }).catch(() => undefined);
    },
  };
}

/** smbtorture run inside the client namespace against the first link's server address. */
export async function smbtortureNs(
  topo: Topology, server: NsServer, tests: string[], opts: { timeoutMs?: number; extraArgs?: string[]; onOutput?: (t: string, out: string) => void } = {},
): Promise<TortureCase[]> {
  const dir = await mkdtemp(join(tmpdir(), 'smbts-mc-torture-'));
  const auth = join(dir, 'auth');
  const conf = join(dir, 'smb.conf');
  await writeFile(auth, `username = ${server.user}\npassword = ${server.pass}\ndomain = WORKGROUP\n`, { mode: 0o600 });
  await writeFile(conf, ['[global]', '  workgroup = WORKGROUP', '  client min protocol = SMB2_02', '  disable netbios = yes', ''].join('\n'));
  const all: TortureCase[] = [];
  try {
    for (const t of tests) {
      const r = await topo.exec('cli', 'smbtorture', [
        `//${topo.link(1).srvAddr}/share`, '-s', conf, '-p', String(SMB_PORT), '-A', auth,
        '--format=subunit', '--fullname', ...(opts.extraArgs ?? []), t,
      ], { timeoutMs: opts.timeoutMs ?? 120_000, cwd: dir });
      opts.onOutput?.(t, r.stdout + r.stderr);
      const cases = parseTorture(r.stdout);
      const leaves = cases.filter((c) => !cases.some((x) => x !== c && x.name.startsWith(c.name + '.')));
      all.push(...leaves);
      if (r.timedOut) all.push({ name: t, result: 'error', message: 'timeout' });
      else if (leaves.length === 0) all.push({ name: t, result: 'error', message: `no results (exit ${r.code}): ${(r.stdout + r.stderr).slice(-400)}` });
    }
  } finally {
    await rm(dir, { recursive: true, force: true }).catch(() => undefined);
  }
  return all;
}

// ---------------------------------------------------------------------------------------------
// The client driver (mc-client.ts) in the client namespace

export interface DriverJob {
  url: string;
  password: string;
  maxChannels: number;
  /** Bytes to write then read back. */
  size: number;
  /** Remote file name. */
  file: string;
  /** 'write' | 'read' | 'both' (default both: write, then read back and compare). */
  mode?: 'write' | 'read' | 'both';
  chunkSize?: number;
  depth?: number;
  /** Seconds after which a channel with requests in flight and no progress is declared dead. */
  channelTimeoutMs?: number;
  /** Encrypt everything / require signing (ConnectOptions.encrypt / sign). */
  encrypt?: boolean;
  sign?: boolean;
  /** After the transfer, wait up to this long for every channel to be active again (re-binding). */
  waitAllActiveMs?: number;
  /** Dialects to offer (default: the client's). */
  dialects?: number[];
}

export interface ChannelReport {
  id?: number;
  state: string;
  interface?: string;
  local?: string;
  remote?: string;
  speed?: number;
  signingKeyId?: string;
  failures?: number;
  bytesSent: number;
  bytesReceived: number;
  inFlight?: number;
  requests?: number;
}

export interface DriverResult {
  ok: boolean;
  error?: string;
  sha256: string;
  readSha256?: string;
  writeMs?: number;
  readMs?: number;
  channels: ChannelReport[];
  /** Snapshot of channels right after the write phase. */
  channelsAfterWrite?: ChannelReport[];
  /** Snapshot right after the transfer (before waitAllActiveMs). */
  channelsAfterTransfer?: ChannelReport[];
  /** ms until every channel was active again (waitAllActiveMs), undefined if not reached. */
  allActiveAfterMs?: number;
}

export interface DriverRun {
  proc: SpawnedProcess;
  /** Progress of the current phase in bytes, as reported by the driver. */
  progress(): { phase: string; bytes: number };
  /** The channels right after connect (the driver's "channels" line), [] before. */
  connectedChannels(): ChannelReport[];
  /** Resolves when progress in `phase` reaches `bytes` (or the driver exits). */
  waitFor(phase: string, bytes: number, timeoutMs: number): Promise<boolean>;
  result: Promise<DriverResult>;
}

export function startDriver(topo: Topology, job: DriverJob): DriverRun {
  const { cmd, args } = nodeScript('test/interop/mc-client');
  let phase = 'start';
  let bytes = 0;
  let resultLine: string | undefined;
  let connected: ChannelReport[] = [];
  const watchers = new Set<() => void>();
  const proc = topo.spawn('cli', cmd, [...args, JSON.stringify(job)], {
    onLine: (line) => {
      const m = /^progress (\w+) (\d+)$/.exec(line);
      if (m) {
        phase = m[1]!;
        bytes = Number(m[2]);
        for (const w of [...watchers]) w();
      } else if (line.startsWith('channels ')) {
        try {
          connected = JSON.parse(line.slice(9)) as ChannelReport[];
        } catch {
          /* ignore */
        }
      } else if (line.startsWith('result ')) {
        resultLine = line.slice(7);
      }
    },
  });
  const result = proc.exited.then((code): DriverResult => {
    for (const w of [...watchers]) w();
    if (resultLine) {
      try {
        return JSON.parse(resultLine) as DriverResult;
      } catch {
        /* fall through */
      }
    }
    return { ok: false, error: `driver exited ${code} without a result:\n${proc.log().slice(-3000)}`, sha256: '', channels: [] };
  });
  return {
    proc,
    progress: () => ({ phase, bytes }),
    connectedChannels: () => connected,
    waitFor: (p, n, timeoutMs) => new Promise<boolean>((resolve) => {
      let done = false;
      const check = (): void => {
        if (done) return;
        if ((phase === p && bytes >= n) || proc.child.exitCode !== null || resultLine !== undefined) {
          done = true;
          watchers.delete(check);
          clearTimeout(timer);
          resolve(phase === p && bytes >= n);
        }
      };
      const timer = setTimeout(() => {
        done = true;
        watchers.delete(check);
        resolve(false);
      }, timeoutMs);
      watchers.add(check);
      check();
    }),
    result,
  };
}
