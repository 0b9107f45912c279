// smbts server entry point: listen, accept connections, report status.
import * as net from 'node:net';
import type { ServerConfig } from '../config/config.js';
import type { UserDb } from '../auth/userdb.js';
import type { Vfs } from '../vfs/types.js';
import { resolveShares } from './embed.js';
import { Connection } from './connection.js';
import { ServerStateImpl } from './state.js';
import { keyId } from './session.js';
import { disconnectedOpens, drainPersistent, restorePersistent, shutdownDurable, type DisconnectedOpenStatus } from './durable.js';
import { listenNetbios, listenSmbdirect, type SmbdirectListenOptions } from './transports.js';
import { isMessageTransport } from '../transport/transport.js';
import { guardFor } from './limits.js';
import { workersOf } from '../config/workers.js';
import { applyGcThreads, gcThreadsOf } from '../config/gc.js';
import { handleSmb1Negotiate } from './handlers/negotiate.js';
import { publishRestored } from './cluster/publish-restored.js';
import { startCluster, type ClusterJoinOptions, type ClusterStatus } from './cluster/start.js';
import type { ClusterNode } from './cluster/coordinator.js';

export interface StartServerOptions {
  /** Shares, protocol range, signing, encryption (docs/config.md). Default: no shares but IPC$ plus those named in `vfs`. */
  config?: ServerConfig;
  /** Who may log on: a user database, or user name -> password. */
  users: UserDb | Record<string, string>;
  /**
   * Share backends by share name (docs/server-api.md): LocalVfs, MemoryVfs or your own Vfs. A name
   * not in `config` becomes a read-write, non-guest share. Shares without one here are served by a
   * LocalVfs on their configured path, which must exist when the server starts.
   */
  vfs?: Record<string, Vfs>;
  /** Default 0.0.0.0 (every IPv4 interface); use 127.0.0.1 for loopback only. */
  host?: string;
  /** 0 = ephemeral. Default: config.port. */
  port?: number;
  /** One line per event (connections, sessions, protocol errors). Default: silent. */
  log?: (line: string) => void;
  /** Also listen for SMB over the NetBIOS session service (RFC 1002) on this port (139; 0 = ephemeral). */
  netbiosPort?: number;
  /** Also listen for SMB over SMB-Direct (MS-SMBD) on an RDMA provider (see transports.ts). */
  smbdirect?: SmbdirectListenOptions;
  /**
   * Cluster mode over this Kv instead of the config's etcd endpoints (worker processes of one
   * machine coordinating through a Kv their primary hosts; tests): docs/cluster-coordination.md.
   */
  cluster?: ClusterJoinOptions;
  /**
   * Internal (server/workers/worker-main.ts): this process is one worker of a server with
   * `smbts:workers` > 1. It does not listen; the primary hands it connections through adopt().
   */
  worker?: {
    serverGuid: Buffer;
    /** joins the local cluster (server/workers/worker-main.ts) */
    cluster?: (state: ServerStateImpl) => Promise<ClusterNode | undefined>;
    /** the worker's server state, once made (change notifications relayed from other workers) */
    started?: (state: ServerStateImpl) => void;
  };
}

export interface ChannelStatus {
  connectionId: number;
  localAddress: string;
  remoteAddress: string;
  /** A short hash of the channel signing key (never the key), '-' when unsigned. */
  signingKeyId: string;
  bytesIn: number;
  bytesOut: number;
  requestsInFlight: number;
}

export interface SessionStatus {
  sessionId: string;
  user: string;
  domain: string;
  guest: boolean;
  anonymous: boolean;
  dialect: string;
  state: string;
  encrypted: boolean;
  signingRequired: boolean;
  trees: string[];
  openFiles: number;
  channels: ChannelStatus[];
  /** With `smbts:workers` > 1: the worker process serving it. */
  worker?: number;
}

export interface ConnectionStatus {
  id: number;
  localAddress: string;
  remoteAddress: string;
  dialect: string;
  bytesIn: number;
  bytesOut: number;
  requestsInFlight: number;
  /** With `smbts:workers` > 1: the worker process serving it. */
  worker?: number;
  /** The ClientGuid of its NEGOTIATE (hex; zeros before a 2.1+ NEGOTIATE). */
  clientGuid?: string;
}

export interface ServerStatus {
  address: string;
  port: number;
  startedAt: string;
  connections: ConnectionStatus[];
  sessions: SessionStatus[];
  openFiles: number;
  /** Durable/resilient/persistent opens waiting for their client to reconnect (durable.ts). */
  disconnectedOpens?: DisconnectedOpenStatus[];
  /** With `smbts:workers` > 1: one row per worker process (server/workers/primary.ts). */
  workers?: WorkerStatus[];
  /** Cluster mode: this node's name (clusterStatus() has the cluster-wide view). */
  clusterNode?: string;
}

export interface WorkerStatus {
  index: number;
  pid: number;
  /** times this worker slot was restarted after its process died */
  restarts: number;
  connections: number;
  sessions: number;
  openFiles: number;
}

export interface SmbServer {
  readonly port: number;
  readonly address: string;
  /** Ports of the NetBIOS and SMB-Direct listeners, when asked for. */
  readonly netbiosPort?: number | undefined;
  readonly smbdirectPort?: number | undefined;
  close(): Promise<void>;
  status(): ServerStatus;
  /** The full status; with worker processes it asks each of them (status() then has the primary's view only). */
  statusAsync?(): Promise<ServerStatus>;
  /** Worker processes only: serve a connection the primary accepted, `head` = bytes it already read. */
  adopt?(socket: net.Socket, head: Buffer, smb1?: Buffer): void;
  /** Cluster mode: nodes, liveness and cluster-wide opens/locks/leases; undefined on a single node. */
  clusterStatus(): Promise<ClusterStatus | undefined>;
}

function dialectName(d: number): string {
  if (d === 0) return 'none';
  if (d === 0x02ff) return '2.???';
  return `${d >> 8}.${((d >> 4) & 0xf)}.${d & 0xf}`;
}

function listenError(err: NodeJS.ErrnoException, host: string, port: number): Error {
  const where = `${host}:${port}`;
  switch (err.code) {
    case 'EADDRINUSE':
      return new Error(`cannot listen on ${where}: the port is already in use (another SMB server such as smbd, or another smbts?). Stop it or choose another port with --port.`);
    case 'EACCES':
      return new Error(`cannot listen on ${where}: permission denied. Ports below 1024 (like 445) need root or CAP_NET_BIND_SERVICE; use --port 4450 (or any port >= 1024) instead.`);
    case 'EADDRNOTAVAIL':
      return new Error(`cannot listen on ${where}: no local interface has address ${host}.`);
    default:
      return new Error(`cannot listen on ${where}: ${err.message}`);
  }
}

export async function startServer(opts: StartServerOptions): Promise<SmbServer> {
  const log = opts.log ?? (() => undefined);
  const { config, users } = await resolveShares(opts);
  applyGcThreads(gcThreadsOf(config)); // primary and workers alike (config/gc.ts)
  const workers = workersOf(config);
  if (workers.count > 1 && !opts.worker) {
    const { startPrimary } = await import('./workers/primary.js');
    return startPrimary(opts, config, users, workers);
  }
  const state = new ServerStateImpl(config, users, log);
  if (opts.worker) {
    state.serverGuid.set(opts.worker.serverGuid);
    opts.worker.started?.(state);
  }
  for (const [name, vfs] of Object.entries(opts.vfs ?? {})) state.useVfs(name, vfs);
  const host = opts.host ?? '0.0.0.0';
  const wantPort = opts.port ?? config.port;
  const startedAt = new Date();
  // Persistent opens of CA shares come back from the state store before the first connection.
  const restored = await restorePersistent(state);
  if (restored) log(`restored ${restored} persistent open(s)`);

  const guard = guardFor(state);
  const accept = (transport: ConstructorParameters<typeof Connection>[1]): Connection | undefined => {
    // Connections in total / per address, descriptors (limits.ts); refused ones are closed at once.
    const addr = transport.remoteAddress;
    const refused = guard.admit(addr);
    if (refused) {
      log(refused);
      transport.destroy();
      return undefined;
    }
    let released = false;
    const release = (): void => { if (!released) { released = true; guard.release(addr); } };
    if (!isMessageTransport(transport)) transport.once('close', release);
    try {
      const conn = new Connection(state, transport);
      if (isMessageTransport(transport)) {
        const closed = transport.onClose;
        transport.onClose = (e) => { release(); closed?.(e); };
      }
      state.connections.add(conn);
      log(`conn ${conn.id}: accepted from ${conn.remoteAddress}`);
      return conn;
    } catch (e) {
      log(`accept failed: ${(e as Error).message}`);
      transport.destroy();
      release();
      return undefined;
    }
  };
  const server = net.createServer({ noDelay: true }, (socket) => { accept(socket); });
  server.on('error', (e) => log(`server error: ${e.message}`));

  if (!opts.worker) {
    await new Promise<void>((resolve, reject) => {
      const onError = (err: NodeJS.ErrnoException): void => reject(listenError(err, host, wantPort));
      server.once('error', onError);
      server.listen(wantPort, host, () => {
        server.off('error', onError);
        resolve();
      });
    });
  }
  const addr = (server.address() as net.AddressInfo | null) ?? { address: host, port: wantPort, family: 'IPv4' };
  // Cluster mode: join before serving (cluster/start.ts loads the etcd client only then). A worker
  // process (smbts:workers) is a node of the local cluster its primary hosts (workers/).
  const cluster = await (opts.worker?.cluster
    ? opts.worker.cluster(state)
    : startCluster(state, { address: addr.address, port: addr.port }, opts.cluster)).catch((e: unknown) => {
    if (!opts.worker) server.close();
    throw e;
  });
  if (cluster && restored) log(`cluster: published ${await publishRestored(state, cluster)} of ${restored} restored persistent open(s)`);
  const nbt = opts.netbiosPort !== undefined ? await listenNetbios(host, opts.netbiosPort, accept, log) : undefined;
  const rdma = opts.smbdirect ? await listenSmbdirect(host, opts.smbdirect, accept, log) : undefined;

  let closing: Promise<void> | undefined;
  return {
    port: addr.port,
    address: addr.address,
    netbiosPort: nbt?.port,
    smbdirectPort: rdma?.port,
    close(): Promise<void> {
      closing ??= (async () => {
        drainPersistent(state);
        const done = opts.worker ? Promise.resolve() : new Promise<void>((resolve) => server.close(() => resolve()));
        nbt?.close();
        rdma?.close();
        guard.close();
        for (const c of [...state.connections]) c.close();
        for (const s of [...state.sessions.values()]) await state.destroySession(s, 'shutdown');
        await shutdownDurable(state);
        await cluster?.close();
        await done;
      })();
      return closing;
    },
    adopt(socket: net.Socket, head: Buffer, smb1?: Buffer): void {
      const conn = accept(socket);
      // the primary answered an SMB1 NEGOTIATE (workers/smb1.ts): the same step on this connection,
      // its answer already sent
      if (conn && smb1) handleSmb1Negotiate(conn, smb1);
      // the first frame(s), read by the primary to route the connection: as if just received
      if (!socket.destroyed && head.length > 0) socket.emit('data', head);
    },
    clusterStatus: async () => cluster?.status(),
    status(): ServerStatus {
      const conns = [...state.connections];
      return {
        address: addr.address,
        port: addr.port,
        startedAt: startedAt.toISOString(),
        openFiles: state.openCount,
        disconnectedOpens: disconnectedOpens(state),
        ...(cluster ? { clusterNode: cluster.name } : {}),
        connections: conns.map((c) => ({
          id: c.id, localAddress: c.localAddress, remoteAddress: c.remoteAddress, dialect: dialectName(c.dialect), clientGuid: c.clientGuid.toString('hex'),
          bytesIn: c.bytesIn, bytesOut: c.bytesOut, requestsInFlight: c.requestsInFlight,
        })),
        sessions: [...state.sessions.values()].map((s) => ({
          sessionId: `0x${s.id.toString(16).padStart(16, '0')}`,
          user: s.user,
          domain: s.domain,
          guest: s.guest,
          anonymous: s.anonymous,
          dialect: dialectName(s.dialect),
          state: s.state,
          encrypted: s.encryptData,
          signingRequired: s.signingRequired,
          trees: [...s.trees.values()].map((t) => t.share.name),
          openFiles: s.opens.size,
          channels: [...s.channels.values()].map((ch) => ({
            connectionId: ch.connection.id,
            localAddress: ch.connection.localAddress,
            remoteAddress: ch.connection.remoteAddress,
            signingKeyId: keyId(ch.signingKey),
            bytesIn: ch.connection.bytesIn,
            bytesOut: ch.connection.bytesOut,
            requestsInFlight: ch.connection.requestsInFlight,
          })),
        })),
      };
    },
  };
}

export type { ServerConfig };
