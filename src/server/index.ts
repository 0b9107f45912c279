// smbts server entry point: listen, accept connections, report status.
import * as net from 'node:net';
import type { ServerConfig } from '../config/config.js';
import type { UserDb } from '../auth/userdb.js';
import type { Vfs } from '../vfs/types.js';
import { resolveShares } from './embed.js';
import { Connection } from './connection.js';
import { ServerStateImpl } from './state.js';
import { keyId } from './session.js';
import { disconnectedOpens, restorePersistent, shutdownDurable, type DisconnectedOpenStatus } from './durable.js';
import { guardFor } from './limits.js';

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
}

export interface ConnectionStatus {
  id: number;
  localAddress: string;
  remoteAddress: string;
  dialect: string;
  bytesIn: number;
  bytesOut: number;
  requestsInFlight: number;
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
}

export interface SmbServer {
  readonly port: number;
  readonly address: string;
  close(): Promise<void>;
  status(): ServerStatus;
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
  const state = new ServerStateImpl(config, users, log);
  for (const [name, vfs] of Object.entries(opts.vfs ?? {})) state.useVfs(name, vfs);
  const host = opts.host ?? '0.0.0.0';
  const wantPort = opts.port ?? config.port;
  const startedAt = new Date();
  // Persistent opens of CA shares come back from the state store before the first connection.
  const restored = await restorePersistent(state);
  if (restored) log(`restored ${restored} persistent open(s)`);

  const guard = guardFor(state);
  const server = net.createServer({ noDelay: true }, (socket) => {
    // Connections in total / per address, descriptors (limits.ts); refused ones are closed at once.
    const refused = guard.admit(socket.remoteAddress);
    if (refused) {
      log(refused);
      socket.destroy();
      return;
    }
    const addr = socket.remoteAddress;
    socket.once('close', () => guard.release(addr));
    try {
      const conn = new Connection(state, socket);
      state.connections.add(conn);
      log(`conn ${conn.id}: accepted from ${conn.remoteAddress}`);
    } catch (e) {
      log(`accept failed: ${(e as Error).message}`);
      socket.destroy();
    }
  });
  server.on('error', (e) => log(`server error: ${e.message}`));

  await new Promise<void>((resolve, reject) => {
    const onError = (err: NodeJS.ErrnoException): void => reject(listenError(err, host, wantPort));
    server.once('error', onError);
    server.listen(wantPort, host, () => {
      server.off('error', onError);
      resolve();
    });
  });
  const addr = server.address() as net.AddressInfo;

  let closing: Promise<void> | undefined;
  return {
    port: addr.port,
    address: addr.address,
    close(): Promise<void> {
      closing ??= (async () => {
        const done = new Promise<void>((resolve) => server.close(() => resolve()));
        guard.close();
        for (const c of [...state.connections]) c.close();
        for (const s of [...state.sessions.values()]) await state.destroySession(s, 'shutdown');
        await shutdownDurable(state);
        await done;
      })();
      return closing;
    },
    status(): ServerStatus {
      const conns = [...state.connections];
      return {
        address: addr.address,
        port: addr.port,
        startedAt: startedAt.toISOString(),
        openFiles: state.openCount,
        disconnectedOpens: disconnectedOpens(state),
        connections: conns.map((c) => ({
          id: c.id, localAddress: c.localAddress, remoteAddress: c.remoteAddress, dialect: dialectName(c.dialect),
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
