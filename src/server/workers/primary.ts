// The primary of a server with `smbts:workers` > 1 (docs/ARCHITECTURE.md, "Process model"):
// it owns the listening socket and nothing of the protocol. Each accepted connection's first
// frame is read here (bounded in size and time), routed by its NEGOTIATE ClientGuid
// (route.ts), and the socket handle plus those bytes go to the worker process, which serves
// the connection to its end. Workers that die are started again; with coordination 'local' the
// primary also hosts the KV the workers coordinate on (kv-host.ts).
import { fork, type ChildProcess } from 'node:child_process';
import * as net from 'node:net';
import { randomBytes } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import type { ServerConfig } from '../../config/config.js';
import type { UserDb } from '../../auth/userdb.js';
import type { WorkersConfig } from '../../config/workers.js';
import type { ServerStatus, SmbServer, StartServerOptions, WorkerStatus } from '../index.js';
import { KvHost } from './kv-host.js';
import { ClaimHost } from './claim-host.js';
import { fileStatePrefix } from '../cluster/coordinator.js';
import { clusterConfigOf } from '../cluster/config.js';
import { negotiateClientGuid, readFirstFrame, workerForGuid, type FirstFrame } from './route.js';
import { answerSmb1 } from './smb1.js';
import { isSmb1Negotiate } from '../../wire/smb1.js';
import { frameHeader } from '../../transport/framing.js';
import { b64, bytes, type FromWorker, type ToWorker } from './messages.js';

/** A NEGOTIATE is a few hundred bytes; SMB1's multi-protocol one too. */
const FIRST_FRAME_MAX = 64 * 1024;
const FIRST_FRAME_TIMEOUT_MS = 10_000;
/** Connections waiting for their first frame or for their worker to be (re)started. */
const MAX_ROUTING = 1024;
const STATUS_TIMEOUT_MS = 2_000;
const WORKER_START_TIMEOUT_MS = 30_000;

interface Slot {
  index: number;
  child: ChildProcess | undefined;
  ready: boolean;
  restarts: number;
  startedAt: number;
  /** connections routed here while the worker was (re)starting */
  waiting: Array<{ socket: net.Socket; head: Buffer; smb1: Buffer | undefined }>;
  last: WorkerStatus;
}

/** Why a workers-mode server refuses to start, or undefined. */
export function workersRefusal(opts: StartServerOptions, config: ServerConfig, w: WorkersConfig): string | undefined {
  if (opts.vfs && Object.keys(opts.vfs).length > 0) return 'smbts:workers > 1 serves shares from the config only (a Vfs object cannot be shared between processes)';
  if (opts.netbiosPort !== undefined || opts.smbdirect) return 'smbts:workers > 1 serves direct TCP only (no NetBIOS or SMB-Direct listener)';
  const ca = config.shares.find((s) => /^(yes|true|1|on)$/i.test(s.extra?.['continuousavailability'] ?? ''));
  if (ca) return `smbts:workers > 1 does not serve continuously available shares yet ([${ca.name}]: every worker would restore the same persistent opens)`;
  if (clusterConfigOf(config)) return 'smbts:workers > 1 with clustering = yes is not supported yet (each worker would have to be its own etcd node)';
  return undefined;
}

export async function startPrimary(opts: StartServerOptions, config: ServerConfig, users: UserDb, w: WorkersConfig): Promise<SmbServer> {
  const why = workersRefusal(opts, config, w);
  if (why) throw new Error(why);
  const log = opts.log ?? (() => undefined);
  const host = opts.host ?? '0.0.0.0';
  const wantPort = opts.port ?? config.port;
  const startedAt = new Date();
  const serverGuid = randomBytes(16);
  const kvHost = w.coordination === 'local' ? new KvHost() : undefined;
  // file claims: a file only one worker has open is decided there alone (cluster/claims.ts)
  const claimHost = kvHost ? new ClaimHost(
    (index, m) => { const s = slots[index]; if (s) send(s, m); },
    (key) => { void kvHost.kv.txn({ compare: [], then: [{ type: 'deletePrefix', prefix: fileStatePrefix(key) }] }).catch(() => undefined); },
  ) : undefined;
  const entry = fileURLToPath(new URL('./worker-main.js', import.meta.url));
  const usersText = users.serialize();
  let closing = false;
  let routing = 0;
  let rr = 0;
  let statusId = 1;
  const statusWaits = new Map<number, (s: ServerStatus | undefined) => void>();
  /** the workers' SPNEGO hint (all build the same one from the config), for SMB1 answers */
  let negotiateHint: Buffer = Buffer.alloc(0);

  /**
   * Change-notify relay (worker-main.ts): workers with CHANGE_NOTIFY watches, and what each worker
   * was last told (it posts its changes only while another worker watches).
   */
  const watching = new Set<number>();
  const relayTold = new Map<number, boolean>();
  const tellRelay = (): void => {
    for (const s of slots) {
      if (!s.child) continue;
      const on = [...watching].some((i) => i !== s.index);
      if (relayTold.get(s.index) === on) continue;
      relayTold.set(s.index, on);
      send(s, { t: 'relay', on });
    }
  };
  const slots: Slot[] = Array.from({ length: w.count }, (_, index) => ({
    index, child: undefined, ready: false, restarts: 0, startedAt: 0, waiting: [],
    last: { index, pid: 0, restarts: 0, connections: 0, sessions: 0, openFiles: 0 },
  }));
  let readyOnce: Array<() => void> = [];

  /**
   * Posts to a worker; false only when the channel is gone. (child.send() returning false means
   * "queued behind a backlog", not "not sent": a socket destroyed on that was a lost connection.)
   */
  const send = (slot: Slot, msg: ToWorker, handle?: net.Socket): boolean => {
    const c = slot.child;
    if (!c?.connected) return false;
    try {
      if (handle) c.send(msg, handle, { keepOpen: false }, (e) => { if (e) handle.destroy(); });
      else c.send(msg, (e) => { if (e) log(`worker ${slot.index}: ipc: ${e.message}`); });
      return true;
    } catch {
      return false;
    }
  };

  const handOver = (slot: Slot, socket: net.Socket, head: Buffer, smb1?: Buffer): void => {
    if (!slot.ready) {
      if (slot.waiting.length >= MAX_ROUTING) socket.destroy();
      else slot.waiting.push({ socket, head, smb1 });
      return;
    }
    const msg: ToWorker = { t: 'conn', head: b64(head), ...(smb1 ? { smb1: b64(smb1) } : {}) };
    if (!send(slot, msg, socket)) socket.destroy();
  };

  const spawnWorker = (slot: Slot): void => {
    const child = fork(entry, [], { serialization: 'json', stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    slot.child = child;
    slot.ready = false;
    slot.startedAt = Date.now();
    slot.last.pid = child.pid ?? 0;
    kvHost?.attach(slot.index, (m) => { send(slot, m); });
    child.on('message', (raw) => {
      const m = raw as FromWorker;
      switch (m.t) {
        case 'ready': {
          slot.ready = true;
          negotiateHint = bytes(m.hint);
          for (const x of slot.waiting.splice(0)) handOver(slot, x.socket, x.head, x.smb1);
          const ws = readyOnce;
          readyOnce = [];
          for (const f of ws) f();
          break;
        }
        case 'log': log(`worker ${slot.index}: ${m.line}`); break;
        case 'fatal': log(`worker ${slot.index}: fatal: ${m.error}`); break;
        case 'status-res': statusWaits.get(m.id)?.(m.status); break;
        case 'kv': if (kvHost) void kvHost.handle(slot.index, m); break;
        case 'claim': case 'release': case 'revoked': claimHost?.handle(slot.index, m); break;
        case 'notify': for (const o of slots) if (o !== slot && o.ready && watching.has(o.index)) send(o, m); break;
        case 'watching':
          if (m.on) watching.add(slot.index);
          else watching.delete(slot.index);
          tellRelay();
          break;
      }
    });
    child.on('error', (e) => log(`worker ${slot.index}: ${e.message}`));
    child.once('exit', (code, signal) => {
      if (slot.child !== child) return;
      slot.child = undefined;
      slot.ready = false;
      kvHost?.detach(slot.index);
      claimHost?.detach(slot.index);
      watching.delete(slot.index);
      relayTold.delete(slot.index);
      tellRelay();
      if (closing) return;
      // its connections are gone (their clients reconnect; durable handles it held are lost, as
      // when a single-process server dies); start a new one, backing off if it keeps dying young
      slot.restarts++;
      slot.last.restarts = slot.restarts;
      const young = Date.now() - slot.startedAt < 5_000;
      const delay = young ? Math.min(10_000, 250 * 2 ** Math.min(6, slot.restarts)) : 100;
      log(`worker ${slot.index} (pid ${child.pid}) exited (${signal ?? code}); restarting in ${delay} ms`);
      setTimeout(() => { if (!closing) spawnWorker(slot); }, delay).unref();
    });
    send(slot, {
      t: 'init', index: slot.index, workers: w.count, config, users: usersText, serverGuid: b64(serverGuid),
      log: opts.log !== undefined, coordination: kvHost !== undefined,
    });
    tellRelay();
  };

  for (const s of slots) spawnWorker(s);
  // every worker up (or a clear error) before the port is opened
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`worker processes did not start in ${WORKER_START_TIMEOUT_MS} ms`)), WORKER_START_TIMEOUT_MS);
    const check = (): void => {
      if (slots.every((s) => s.ready)) {
        clearTimeout(timer);
        resolve();
      } else readyOnce.push(check);
    };
    check();
  }).catch(async (e: unknown) => {
    closing = true;
    for (const s of slots) s.child?.kill('SIGKILL');
    throw e;
  });

  /**
   * The first frame; after an SMB1 NEGOTIATE answered here with "SMB 2.???", the SMB2 NEGOTIATE
   * that follows it (the one with the ClientGuid), and the SMB1 frame for the worker to replay.
   */
  const route = async (socket: net.Socket): Promise<FirstFrame & { smb1?: Buffer }> => {
    const first = await readFirstFrame(socket, FIRST_FRAME_MAX, FIRST_FRAME_TIMEOUT_MS);
    if (!isSmb1Negotiate(first.message)) return first;
    const answer = answerSmb1(first.message, config, serverGuid, negotiateHint);
    if (!answer) throw new Error('SMB1 NEGOTIATE without an SMB2 dialect');
    const smb1 = Buffer.from(first.message);
    socket.write(Buffer.concat([frameHeader(answer.reply.length), answer.reply]));
    // "SMB 2.002": no second NEGOTIATE, so no ClientGuid; the worker replays and reads on
    if (!answer.wildcard) return { head: first.head.subarray(4 + first.message.length), message: Buffer.alloc(0), smb1 };
    const next = await readFirstFrame(socket, FIRST_FRAME_MAX, FIRST_FRAME_TIMEOUT_MS);
    return { ...next, smb1 };
  };

  const server = net.createServer({ noDelay: true }, (socket) => {
    socket.on('error', () => undefined);
    if (routing >= MAX_ROUTING || closing) {
      socket.destroy();
      return;
    }
    routing++;
    route(socket).then(({ head, message, smb1 }) => {
      routing--;
      const guid = negotiateClientGuid(message);
      const slot = slots[guid ? workerForGuid(guid, slots.length) : rr++ % slots.length] as Slot;
      handOver(slot, socket, head, smb1);
    }, (e: unknown) => {
      routing--;
      log(`connection from ${socket.remoteAddress ?? '?'} dropped before routing: ${(e as Error).message}`);
      socket.destroy();
    });
  });
  server.on('error', (e) => log(`server error: ${e.message}`));
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(wantPort, host, () => {
      server.off('error', reject);
      resolve();
    });
  }).catch(async (e: unknown) => {
    closing = true;
    for (const s of slots) s.child?.kill('SIGKILL');
    const err = e as NodeJS.ErrnoException;
    throw new Error(`cannot listen on ${host}:${wantPort}: ${err.code === 'EADDRINUSE' ? 'the port is already in use' : err.message}`);
  });
  const addr = server.address() as net.AddressInfo;
  log(`primary: ${w.count} worker processes, routing by NEGOTIATE ClientGuid`);

  const askStatus = (slot: Slot): Promise<ServerStatus | undefined> => new Promise((resolve) => {
    const id = statusId++;
    const timer = setTimeout(() => { statusWaits.delete(id); resolve(undefined); }, STATUS_TIMEOUT_MS);
    statusWaits.set(id, (s) => { clearTimeout(timer); statusWaits.delete(id); resolve(s); });
    if (!send(slot, { t: 'status', id })) { clearTimeout(timer); statusWaits.delete(id); resolve(undefined); }
  });

  const base = (): ServerStatus => ({
    address: addr.address, port: addr.port, startedAt: startedAt.toISOString(),
    connections: [], sessions: [], openFiles: 0, disconnectedOpens: [],
    workers: slots.map((s) => ({ ...s.last, pid: s.child?.pid ?? 0, restarts: s.restarts })),
  });

  let closed: Promise<void> | undefined;
  return {
    port: addr.port,
    address: addr.address,
    status: base,
    // the workers are the nodes of the local cluster; `smbts status` lists them under workers
    clusterStatus: async () => undefined,
    async statusAsync(): Promise<ServerStatus> {
      const all = await Promise.all(slots.map((s) => askStatus(s)));
      const out = base();
      all.forEach((st, i) => {
        const slot = slots[i] as Slot;
        if (!st) return;
        slot.last = { index: i, pid: slot.child?.pid ?? 0, restarts: slot.restarts, connections: st.connections.length, sessions: st.sessions.length, openFiles: st.openFiles };
        out.connections.push(...st.connections.map((c) => ({ ...c, worker: i })));
        out.sessions.push(...st.sessions.map((x) => ({ ...x, worker: i })));
        out.openFiles += st.openFiles;
        out.disconnectedOpens?.push(...(st.disconnectedOpens ?? []));
      });
      out.workers = slots.map((s) => ({ ...s.last }));
      return out;
    },
    close(): Promise<void> {
      closed ??= (async () => {
        closing = true;
        const done = new Promise<void>((resolve) => server.close(() => resolve()));
        for (const s of slots) for (const x of s.waiting.splice(0)) x.socket.destroy();
        await Promise.all(slots.map(async (s) => {
          const c = s.child;
          if (!c || c.exitCode !== null || c.signalCode !== null) return;
          const exited = new Promise<void>((resolve) => c.once('exit', () => resolve()));
          if (!send(s, { t: 'close' })) c.kill('SIGTERM');
          const t = setTimeout(() => c.kill('SIGKILL'), 5_000);
          await exited;
          clearTimeout(t);
        }));
        await kvHost?.close();
        await done;
      })();
      return closed;
    },
  };
}
