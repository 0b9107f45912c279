// Resource limits of the request path (issue 9; the keys and defaults are config/limits.ts, the
// threat model docs/security.md). Kept out of connection.ts, which only asks:
//   - ServerGuard (one per server): may a new TCP connection be accepted (connections in total, per
//     client address, file descriptors); a periodic sweep closes connections past a deadline
//     (authentication, a partial frame, idle without opens = Samba "deadtime").
//   - ConnectionLimits (one per connection): the frame size limit (small until a session is
//     authenticated), and whether a SESSION_SETUP or CREATE may go on (pending sessions and
//     sessions per connection, opens per session, the file descriptor reserve).
import * as fs from 'node:fs';
import { MAX_FRAME } from '../transport/framing.js';
import { Command } from '../wire/constants.js';
import { Status } from '../wire/status.js';
import { DEFAULT_LIMITS, type Limits } from '../config/limits.js';
import type { ServerConfig } from '../config/config.js';
import type { ServerCore } from './internal.js';
import type { Session } from './session.js';

/** The limits of a config (configs built by hand in tests may have none). */
export function limitsOf(config: ServerConfig): Limits {
  return config.limits ?? DEFAULT_LIMITS;
}

/** What the guard needs of a connection. */
export interface GuardedConnection {
  readonly id: number;
  readonly remoteAddress: string;
  readonly closed: boolean;
  readonly requestsInFlight: number;
  readonly limits: ConnectionLimits;
  drop(reason: string): void;
}

/** Soft RLIMIT_NOFILE from /proc/self/limits (Linux); Infinity where it cannot be read. */
function fdLimit(): number {
  try {
    const m = /^Max open files\s+(\d+|unlimited)/m.exec(fs.readFileSync('/proc/self/limits', 'utf8'));
    return m && m[1] !== 'unlimited' ? Number(m[1]) : Infinity;
  } catch {
    return Infinity;
  }
}

function fdsInUse(): number {
  try {
    return fs.readdirSync('/proc/self/fd').length;
  } catch {
    return 0;
  }
}

/** Address without the port ("1.2.3.4:5678" -> "1.2.3.4", "[::1]:5" / "::1:5" -> "::1"). */
function hostOf(remoteAddress: string): string {
  const i = remoteAddress.lastIndexOf(':');
  return i > 0 ? remoteAddress.slice(0, i) : remoteAddress;
}

/** Descriptors never given to clients (logs, the depot, a pipe for a child). */
const SERVER_FDS = 8;

const guards = new WeakMap<object, ServerGuard>();

/** The guard of a server (made on first use). */
export function guardFor(server: ServerCore): ServerGuard {
  let g = guards.get(server);
  if (!g) guards.set(server, (g = new ServerGuard(server)));
  return g;
}

export class ServerGuard {
  readonly limits: Limits;
  private readonly perClient = new Map<string, number>();
  private readonly watched = new Set<GuardedConnection>();
  private total = 0;
  private timer: NodeJS.Timeout | undefined;
  /** File descriptors the process may use, and those in use before any client (listeners, logs). */
  private readonly fdMax = fdLimit();
  private readonly fdBase = fdsInUse();

  constructor(private readonly server: ServerCore) {
    this.limits = limitsOf(server.config);
  }

  /** Called for each accepted socket: a reason to refuse it (logged by the caller), or undefined. */
  admit(remoteAddress: string | undefined): string | undefined {
    const l = this.limits;
    const host = remoteAddress ?? '?';
    if (l.maxConnections > 0 && this.total >= l.maxConnections) {
      return `connection from ${host} refused: ${this.total} connections open (max smbd processes = ${l.maxConnections})`;
    }
    const mine = this.perClient.get(host) ?? 0;
    if (l.maxConnectionsPerClient > 0 && mine >= l.maxConnectionsPerClient) {
      return `connection from ${host} refused: ${mine} connections from this address (max connections per client = ${l.maxConnectionsPerClient})`;
    }
    // Opens stop at the reserve; connections may use it, all but a few kept for the server itself.
    if (this.fdsUsed() + SERVER_FDS >= this.fdMax) {
      return `connection from ${host} refused: out of file descriptors (${this.fdsUsed()} of ${this.fdMax} in use)`;
    }
    this.total++;
    this.perClient.set(host, mine + 1);
    return undefined;
  }

  /** The admitted socket from `remoteAddress` closed. */
  release(remoteAddress: string | undefined): void {
    const host = remoteAddress ?? '?';
    this.total = Math.max(0, this.total - 1);
    const n = (this.perClient.get(host) ?? 1) - 1;
    if (n > 0) this.perClient.set(host, n);
    else this.perClient.delete(host);
  }

  /** Estimated descriptors in use: the baseline, one per connection, one per open. */
  fdsUsed(): number {
    return this.fdBase + this.server.connections.size + ((this.server as { openCount?: number }).openCount ?? 0);
  }

  /** May one more file be opened, leaving the reserve for new connections? */
  fdsForOpen(): boolean {
    return this.fdsUsed() + this.limits.fdReserve < this.fdMax;
  }

  watch(conn: GuardedConnection): void {
    this.watched.add(conn);
    this.arm();
  }

  unwatch(conn: GuardedConnection): void {
    this.watched.delete(conn);
    if (this.watched.size === 0 && this.timer) {
      clearInterval(this.timer);
      this.timer = undefined;
    }
  }

  private arm(): void {
    if (this.timer) return;
    const l = this.limits;
    const periods = [l.frameTimeoutMs, l.authTimeoutMs, l.deadtimeMs].filter((t) => t > 0);
    if (periods.length === 0) return;
    const every = Math.min(1000, Math.max(25, Math.floor(Math.min(...periods) / 4)));
    this.timer = setInterval(() => this.sweep(), every);
    this.timer.unref();
  }

  /** Closes the connections past one of their deadlines. */
  sweep(now = Date.now()): void {
    for (const c of [...this.watched]) {
      if (c.closed) {
        this.unwatch(c);
        continue;
      }
      const why = c.limits.overdue(now, c.requestsInFlight);
      if (why) c.drop(why);
    }
  }

  close(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    this.watched.clear();
  }
}

/** Per-connection limits and deadlines. */
export class ConnectionLimits {
  private readonly limits: Limits;
  private readonly openedAt = Date.now();
  private lastActivity = Date.now();
  private authenticated = false;
  /** Since when a frame has been partly received (0: none), and its claimed length. */
  private partialSince = 0;
  private partialLength = 0;
  /** Sessions whose SESSION_SETUP ran on this connection (new ones and binds). */
  private readonly sessions = new Set<Session>();
  /** First legs admitted whose handler has not finished (pipelined requests run concurrently). */
  private firstLegs = 0;

  constructor(private readonly server: ServerCore, private readonly connectionId: number) {
    this.limits = limitsOf(server.config);
  }

  /** The frame size limit now: small before authentication (issue 9: 8 MiB claimed by anyone). */
  readonly maxFrame = (): number => (this.authenticated ? MAX_FRAME : Math.min(MAX_FRAME, this.limits.maxUnauthFrame));

  /**
   * Bytes arrived: `frames` complete frames (NetBIOS keepalives are none: they do not count as
   * activity for deadtime), `pendingFrame` the claimed length of a frame still incomplete (0: none).
   */
  received(frames: number, pendingFrame: number, now = Date.now()): void {
    if (frames > 0) this.lastActivity = now;
    // A frame completed: what is pending now is a new frame (a busy stream of large WRITEs always
    // has one pending, and must not add their times up).
    if (pendingFrame === 0) this.partialSince = 0;
    else if (this.partialSince === 0 || frames > 0) this.partialSince = now;
    this.partialLength = pendingFrame;
  }

  /**
   * Before a request's handler: a status to refuse it with, or 0. SESSION_SETUP for a new session:
   * pending exchanges and sessions per connection. CREATE: opens per session, descriptor reserve.
   */
  admit(command: number, sessionId: bigint, session: Session | undefined): number {
    const l = this.limits;
    if (command === Command.SESSION_SETUP && sessionId === 0n) {
      let pending = 0;
      let established = 0;
      for (const s of this.sessions) {
        if (this.server.sessions.get(s.id) !== s) this.sessions.delete(s);
        else if (s.pendingBinds.has(this.connectionId)) pending++;
        else if (s.channels.has(this.connectionId)) established++;
        else this.sessions.delete(s);
      }
      pending += this.firstLegs;
      if (pending >= l.maxPendingSessions || pending + established >= l.maxSessionsPerConnection) {
        return Status.INSUFFICIENT_RESOURCES;
      }
      this.firstLegs++;
    } else if (command === Command.CREATE && session) {
      // Samba answers TOO_MANY_OPENED_FILES at "max open files"; a server out of descriptors
      // INSUFFICIENT_RESOURCES. Requests in flight may pass together (bounded by credits).
      if (session.opens.size >= l.maxOpenFiles) return Status.TOO_MANY_OPENED_FILES;
      if (!guardFor(this.server).fdsForOpen()) return Status.INSUFFICIENT_RESOURCES;
    }
    return 0;
  }

  /** After an admitted SESSION_SETUP's handler: the request's SessionId, the session it answered for, its status. */
  sessionSetupDone(requestSessionId: bigint, sessionId: bigint | undefined, status: number): void {
    if (requestSessionId === 0n) this.firstLegs = Math.max(0, this.firstLegs - 1);
    if (sessionId === undefined) return;
    const s = this.server.sessions.get(sessionId);
    if (s) this.sessions.add(s);
    if (status === Status.SUCCESS && s?.channels.has(this.connectionId)) this.authenticated = true;
  }

  /** Whether a session has been authenticated on this connection. */
  get isAuthenticated(): boolean {
    return this.authenticated;
  }

  /** A reason to close the connection now, or undefined. */
  overdue(now: number, requestsInFlight: number): string | undefined {
    const l = this.limits;
    if (l.authTimeoutMs > 0 && !this.authenticated && now - this.openedAt > l.authTimeoutMs) {
      return `no session authenticated within ${l.authTimeoutMs / 1000} s (auth timeout)`;
    }
    if (l.frameTimeoutMs > 0 && this.partialSince > 0) {
      // Slow links get 1 s more per 64 KiB of the frame (a 16 KiB/s floor for an 8 MiB WRITE).
      const allowed = l.frameTimeoutMs + Math.floor(this.partialLength / 65536) * 1000;
      if (now - this.partialSince > allowed) {
        return `frame of ${this.partialLength} bytes not complete after ${Math.round((now - this.partialSince) / 1000)} s (frame timeout)`;
      }
    }
    if (l.deadtimeMs > 0 && now - this.lastActivity > l.deadtimeMs && requestsInFlight === 0 && !this.hasOpens()) {
      return `idle for ${Math.round((now - this.lastActivity) / 1000)} s without open files (deadtime)`;
    }
    return undefined;
  }

  private hasOpens(): boolean {
    for (const s of this.sessions) {
      if (s.channels.has(this.connectionId) && s.opens.size > 0) return true;
    }
    return false;
  }
}
