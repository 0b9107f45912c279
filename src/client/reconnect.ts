// Reconnect after a lost connection (MS-SMB2 3.2.4.4 re-establishing a durable open, 3.2.4.2.3
// PreviousSessionId). When the last connection of the session dies, the first request that notices
// calls Session.recover(): one reconnect runs for everyone (others wait on the same promise) with
// bounded exponential backoff. It opens a new connection with the same ClientGUID, negotiates,
// sets up a session naming the old one as PreviousSessionId (the server then treats the old
// session's opens as disconnected), connects the share again and reopens every durable handle with
// DH2C. Handles the server refuses (or that were not durable) get a HandleLostError that their
// next call throws; everything else continues: FileHandle requests that failed with the
// connection are sent again, rebuilt with the new FileId and flagged as replays.
// With several addresses of a clustered server (ConnectOptions.servers, or a name with several
// addresses; failover.ts), each attempt tries the node it was on first, then the others: a node
// that died is left for another one, where the persistent handles are reclaimed by DH2C.
import { Connection } from './connection.js';
import { negotiate, type NegotiateResult } from './negotiate.js';
import { setupSession, type GssClient, type Session } from './session.js';
import { connectTree, type Tree } from './tree.js';
import { decodeCreateResponse, type CreateResponse } from '../wire/create.js';
import { CreateContextName, decodeLease } from '../wire/create-contexts.js';
import { OplockLevel } from '../wire/constants.js';
import { Status } from '../wire/status.js';
import { SmbError, parse } from './errors.js';
import { HandleLostError, isDisconnect, reopenRequest, type DurableHandleState } from './durable-open.js';
import { closeRequest, displayPath, type FileHandle } from './file.js';
import type { FileId } from '../wire/common.js';
import { candidates, type ServerAddress } from './failover.js';

export interface ReconnectOptions {
  /** Reconnect attempts before giving up (default 6; 0 = never reconnect). */
  attempts?: number;
  /** First wait between attempts, doubled each time (default 200 ms). */
  initialDelayMs?: number;
  /** Longest wait between attempts (default 5 s). */
  maxDelayMs?: number;
  /** How long one DH2C reopen may take before its handle counts as lost (default: the connection's timeoutMs). */
  reopenTimeoutMs?: number;
}

/** What the reconnector needs of the client (client.ts provides it). */
export interface ReconnectHost {
  readonly session: Session;
  /**
   * The session's trees to connect again (their handles are reopened). With `required`, the first
   * must come back or the attempt fails (the URL's share); a tree that cannot (a DFS target's
   * share gone) only loses its handles.
   */
  trees(): Tree[];
  readonly required?: boolean;
  /** The server's name (UNC path, NetName context) and first address. */
  readonly host: string;
  readonly port: number;
  /** Other addresses of the same (clustered) server to fail over to (failover.ts). */
  readonly servers?: ServerAddress[];
  /** The address the first connection went to (default host:port). */
  readonly connectedTo?: ServerAddress;
  readonly timeoutMs: number;
  readonly keepaliveMs: number;
  readonly dialects: number[] | undefined;
  readonly ciphers: number[] | undefined;
  readonly requireSigning: boolean;
  readonly encrypt: boolean;
  readonly clientGuid: Buffer;
  /** Offer SMB2_GLOBAL_CAP_MULTI_CHANNEL (the session binds more channels after the reconnect). */
  readonly multichannel?: boolean;
  gss(): GssClient;
  /** The new connection replaces the old one (oplock/lease break handler, close()). */
  adoptConnection(conn: Connection, neg: NegotiateResult): void;
  /** For diagnostics. */
  log?(line: string): void;
}

export class Reconnector {
  private running: Promise<void> | undefined;
  /** Completed reconnects (tests and diagnostics). */
  reconnects = 0;
  /** Durable handles given back by DH2C over all reconnects (tests and diagnostics). */
  reopened = 0;
  /** The node address the session is on now. */
  current: ServerAddress;

  constructor(private readonly host: ReconnectHost, private readonly o: ReconnectOptions = {}) {
    this.current = host.connectedTo ?? { host: host.host, port: host.port };
  }

  /** Brings the session back (one run at a time); rejects when every attempt failed. */
  recover(): Promise<void> {
    this.running ??= this.run().finally(() => { this.running = undefined; });
    return this.running;
  }

  private async run(): Promise<void> {
    const session = this.host.session;
    if (session.liveChannels().length > 0) return;
    const attempts = this.o.attempts ?? 6;
    let delay = this.o.initialDelayMs ?? 200;
    let last: unknown;
    for (let i = 0; i < attempts; i++) {
      if (i > 0) {
        await new Promise((r) => setTimeout(r, delay));
        delay = Math.min(delay * 2, this.o.maxDelayMs ?? 5000);
      }
      const targets = await candidates({ host: this.host.host, port: this.host.port }, this.host.servers ?? [], this.current);
      let refused = false;
      for (const target of targets) {
        try {
          await this.once(target);
          if (target.host !== this.current.host || target.port !== this.current.port) {
            this.host.log?.(`failed over from ${this.current.host}:${this.current.port} to ${target.host}:${target.port}`);
          }
          this.current = target;
          this.reconnects++;
          return;
        } catch (e) {
          last = e;
          this.host.log?.(`reconnect attempt ${i + 1} to ${target.host}:${target.port} failed: ${(e as Error).message}`);
          // A refused logon will not get better by waiting.
          if (e instanceof SmbError && e.status === Status.LOGON_FAILURE) refused = true;
        }
      }
      if (refused) break;
    }
    const why = last instanceof Error ? last.message : String(last);
    throw new SmbError(Status.CONNECTION_DISCONNECTED, `connection lost and reconnecting failed (${attempts} attempts): ${why}`);
  }

  private async once(target: ServerAddress): Promise<void> {
    const h = this.host;
    const conn = new Connection({ host: target.host, port: target.port, timeoutMs: h.timeoutMs, keepaliveMs: h.keepaliveMs });
    try {
      await conn.connect();
      const neg = await negotiate(conn, {
        dialects: h.dialects, requireSigning: h.requireSigning, ciphers: h.ciphers, clientGuid: h.clientGuid, host: h.host, multichannel: h.multichannel,
      });
      if (neg.dialect !== h.session.dialect) throw new SmbError(Status.NOT_SUPPORTED, `the server now speaks dialect 0x${neg.dialect.toString(16)}`);
      const fresh = await setupSession(conn, neg, {
        gss: h.gss(), requireSigning: h.requireSigning, timeoutMs: h.timeoutMs, previousSessionId: h.session.id,
      });
      // Everything happens on the new session first; requests of the old one wait for recover()
      // and go out only once the shares and the handles are back (one synchronous switch below).
      const trees = h.trees();
      const reopened = new Map<FileHandle, FileId | SmbError>();
      const fresh2old: Array<[Tree, Tree]> = [];
      for (const [i, old] of trees.entries()) {
        let t: Tree;
        try {
          t = await connectTree(fresh, h.host, old.share, old.encrypt);
        } catch (e) {
          if ((i === 0 && h.required) || isDisconnect(e)) throw e;
          // The share is gone: its handles cannot come back (their next call throws why).
          const st = e instanceof SmbError ? e.status : Status.UNSUCCESSFUL;
          for (const fh of old.handles) reopened.set(fh, new HandleLostError(st, displayPath(fh.path)));
          this.host.log?.(`\\\\${h.host}\\${old.share}: ${(e as Error).message}`);
          continue;
        }
        fresh2old.push([t, old]);
        for (const [fh, r] of await this.reopenAll(old, t)) reopened.set(fh, r);
      }
      h.session.adopt(fresh);
      h.adoptConnection(conn, neg);
      for (const [t, old] of fresh2old) {
        old.id = t.id;
        old.capabilities = t.capabilities;
      }
      for (const [fh, r] of reopened) {
        if (r instanceof SmbError) fh.lost = r;
        else {
          fh.fileId = r;
          this.reopened++;
        }
      }
    } catch (e) {
      await conn.close();
      throw e;
    }
  }

  /** DH2C for every durable handle of `old` on `t` (its new tree connect); the others, and refused ones, are lost (typed error). */
  private async reopenAll(old: Tree, t: Tree): Promise<Map<FileHandle, FileId | SmbError>> {
    const out = new Map<FileHandle, FileId | SmbError>();
    await Promise.all([...old.handles].map(async (fh) => {
      const path = displayPath(fh.path);
      if (!fh.durable) {
        out.set(fh, new HandleLostError(Status.FILE_CLOSED, path));
        return;
      }
      try {
        const res = await t.request(reopenRequest(fh.path, fh.fileId, fh.durable), { path, timeoutMs: this.o.reopenTimeoutMs });
        const created = parse(() => decodeCreateResponse(res.msg), `DH2C answer for ${path}`);
        const bad = checkReopen(created, fh.fileId, fh.durable);
        if (bad) {
          // Whatever the server opened is not our handle: close it (best effort) and lose ours.
          void t.request(closeRequest(created.fileId), { timeoutMs: 5000 }).catch(() => undefined);
          throw new HandleLostError(Status.INVALID_NETWORK_RESPONSE, path, `the server's DH2C answer is not the handle asked for (${bad})`);
        }
        out.set(fh, created.fileId);
      } catch (e) {
        if (e instanceof SmbError && e.status === Status.CONNECTION_DISCONNECTED) throw e; // the whole reconnect again
        const lost = e instanceof HandleLostError ? e : new HandleLostError(e instanceof SmbError ? e.status : Status.UNSUCCESSFUL, path);
        out.set(fh, lost);
        this.host.log?.(`${path}: ${lost.message}`);
      }
    }));
    return out;
  }
}

/**
 * What is wrong with a successful DH2C answer, if anything. The server gives back the same open
 * (3.3.5.9.12: Open.FileId.Persistent; the volatile part may change) and, when the handle held a
 * lease, the lease with the same key (3.3.5.9.12 / 3.2.5.5: the reconnect names Open.LeaseKey).
 */
export function checkReopen(res: CreateResponse, was: FileId, d: DurableHandleState): string | undefined {
  if (res.fileId.persistent !== was.persistent) {
    return `FileId.Persistent 0x${res.fileId.persistent.toString(16)}, the handle had 0x${was.persistent.toString(16)}`;
  }
  if (!d.leaseGranted) return undefined;
  if (res.oplockLevel !== OplockLevel.LEASE) return `no lease (oplock level 0x${res.oplockLevel.toString(16)})`;
  const ctx = res.contexts.find((c) => c.name === CreateContextName.REQUEST_LEASE);
  if (!ctx) return 'no lease context';
  let key: Buffer;
  try {
    key = decodeLease(ctx.data).leaseKey;
  } catch (e) {
    return `bad lease context (${(e as Error).message})`;
  }
  if (!key.equals(d.leaseKey)) return 'a lease with another key';
  return undefined;
}
