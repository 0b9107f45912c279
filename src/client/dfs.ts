// DFS on the client (seed 003; MS-DFSC 3.1.4, MS-SMB2 3.2.4.3 / 3.2.5.5): a path that answers
// STATUS_PATH_NOT_COVERED is resolved with a referral (FSCTL_DFS_GET_REFERRALS on the server's IPC$),
// the answer goes into the DfsCache, and the operation runs again on a target: the hint first, the
// others in order after it; the first target that works becomes the hint. Nested links (a target
// that is itself under a link or a DFS root) are followed to the end, at most MAX_HOPS deep.
// Connections to targets are pooled per server + user and share the caller's credentials.
import { randomBytes } from 'node:crypto';
import { Command, Fsctl, IoctlFlags } from '../wire/constants.js';
import { decodeIoctlResponse, encodeIoctlRequest } from '../wire/ioctl.js';
import { decodeDfsReferralResponse, encodeDfsReferralRequest, type DfsReferralResponse } from '../wire/dfs.js';
import { RELATED_FILE_ID } from '../wire/common.js';
import { Status } from '../wire/status.js';
import { Connection } from './connection.js';
import { negotiate } from './negotiate.js';
import { setupSession, type Session } from './session.js';
import { connectTree, type Tree } from './tree.js';
import { createGss } from './auth.js';
import { Reconnector, type ReconnectOptions } from './reconnect.js';
import { SmbError, parse } from './errors.js';
import { DfsCache, dfsKey, isUnreachable, type DfsCacheEntry, type DfsCacheInfo } from './dfs-cache.js';

/** Links followed for one path before giving up (a referral loop ends here). */
export const MAX_HOPS = 8;
/** Largest referral answer accepted (MaxOutputResponse). */
const MAX_REFERRAL_BYTES = 64 * 1024;

export interface DfsOptions {
  /** Port of every referral target (clients follow referrals to 445 only). */
  port?: number;
  /** Cache entries kept (default 256). */
  maxEntries?: number;
  /** Refresher period, ms (default 1000; 0 = no refresher). */
  refreshTickMs?: number;
}

export interface Credentials {
  user: string;
  password: string;
  domain?: string;
  workstation?: string;
  dialects?: number[];
  encrypt?: boolean;
  sign?: boolean;
  ciphers?: number[];
  timeoutMs: number;
  keepaliveMs: number;
  /** Reconnect to a target after a lost connection (reconnect.ts; `{ attempts: 0 }`: never). */
  reconnect?: ReconnectOptions;
}

interface PoolEntry {
  host: string;
  /** The caller's own connection (connect()): never replaced behind its back. */
  pinned?: boolean;
  conn: Connection;
  session: Session;
  trees: Map<string, Promise<Tree>>;
  /** The trees connected so far (a reconnect connects them again and reopens their handles). */
  live: Map<string, Tree>;
}

/** Connections to DFS servers and targets, one per server (host:port) + user. */
export class SessionPool {
  private readonly sessions = new Map<string, Promise<PoolEntry>>();
  private readonly bySession = new Map<Session, PoolEntry>();
  readonly clientGuid = randomBytes(16);

  constructor(private readonly creds: Credentials) {}

  private key(host: string, port: number): string {
    return `${host.toLowerCase()}:${port}/${this.creds.domain ?? ''}\\${this.creds.user}`.toLowerCase();
  }

  /** Registers a session made elsewhere (the one connect() opened). */
  adopt(host: string, port: number, conn: Connection, session: Session, tree: Tree): void {
    const share = tree.share.toLowerCase();
    // After a reconnect (same Session object) the entry keeps its trees: the reconnect connected them again.
    const e = this.bySession.get(session) ?? { host, pinned: true, conn, session, trees: new Map(), live: new Map() };
    e.conn = conn;
    e.trees.set(share, Promise.resolve(tree));
    e.live.set(share, tree);
    this.bySession.set(session, e);
    this.sessions.set(this.key(host, port), Promise.resolve(e));
  }

  /** The trees connected on `session` so far. */
  treesOf(session: Session): Tree[] {
    return [...(this.bySession.get(session)?.live.values() ?? [])];
  }

  private async session(host: string, port: number): Promise<PoolEntry> {
    const k = this.key(host, port);
    const have = this.sessions.get(k);
    if (have) {
      const e = await have.catch(() => undefined);
      if (e && !e.conn.closed) return e;
      // The session reconnects (client/reconnect.ts; the URL's own one adopts the new connection
      // here): its trees and durable handles come back with it.
      if (e?.session.recover) {
        try {
          await e.session.recover();
        } catch (err) {
          if (e.pinned) throw err;
        }
        const again = await this.sessions.get(k)?.catch(() => undefined);
        if (again && !again.conn.closed) return again;
      }
      // The URL's connection died: its failure is the caller's to see (DFS targets elsewhere still work).
      if (e?.pinned) throw new SmbError(Status.CONNECTION_DISCONNECTED, `connection to ${host} closed`);
      if (this.sessions.get(k) === have) this.sessions.delete(k);
    }
    const p = this.open(host, port);
    this.sessions.set(k, p);
    p.catch(() => { if (this.sessions.get(k) === p) this.sessions.delete(k); });
    return p;
  }

  private async open(host: string, port: number): Promise<PoolEntry> {
    const c = this.creds;
    const conn = new Connection({ host, port, timeoutMs: c.timeoutMs, keepaliveMs: c.keepaliveMs });
    try {
      await conn.connect();
      const neg = await negotiate(conn, { dialects: c.dialects, requireSigning: c.sign, ciphers: c.ciphers, clientGuid: this.clientGuid, host, multichannel: false });
      const gss = createGss({ user: c.user, password: c.password, domain: c.domain ?? '', workstation: c.workstation });
      const session = await setupSession(conn, neg, { gss, requireSigning: !!c.sign, timeoutMs: c.timeoutMs });
      if (c.encrypt) session.encryptData = true;
      const e: PoolEntry = { host, conn, session, trees: new Map(), live: new Map() };
      this.bySession.set(session, e);
      if ((c.reconnect?.attempts ?? 1) > 0) this.reconnectable(e, port);
      return e;
    } catch (e) {
      await conn.close();
      throw e;
    }
  }

  /**
   * A DFS target's connection comes back like the URL's (reconnect.ts): same target, PreviousSessionId,
   * its trees connected again and its durable handles reopened with DH2C. A handle the target does not
   * give back (or a target that stays unreachable) ends in HandleLostError; readFile/download then
   * fail over to the link's next target (isUnreachable).
   */
  private reconnectable(e: PoolEntry, port: number): void {
    const c = this.creds;
    const r = new Reconnector({
      session: e.session, trees: () => [...e.live.values()], host: e.host, port,
      timeoutMs: c.timeoutMs, keepaliveMs: c.keepaliveMs, dialects: c.dialects, ciphers: c.ciphers,
      requireSigning: !!c.sign, encrypt: !!c.encrypt, clientGuid: this.clientGuid,
      gss: () => createGss({ user: c.user, password: c.password, domain: c.domain ?? '', workstation: c.workstation }),
      adoptConnection: (conn) => {
        const old = e.conn;
        e.conn = conn;
        void old.close().catch(() => undefined);
      },
    }, c.reconnect);
    e.session.recover = () => r.recover();
  }

  /** A tree connect to \\host\share (reused while its connection lives). */
  async tree(host: string, port: number, share: string): Promise<Tree> {
    const e = await this.session(host, port);
    const k = share.toLowerCase();
    let t = e.trees.get(k);
    if (!t) {
      t = connectTree(e.session, host, share, !!this.creds.encrypt);
      e.trees.set(k, t);
      t.then((tree) => { e.live.set(k, tree); }, () => undefined);
      t.catch(() => { if (e.trees.get(k) === t) e.trees.delete(k); });
    }
    return t;
  }

  /** Closes every pooled connection except `keep`. */
  async close(keep?: Connection): Promise<void> {
    const all = [...this.sessions.values()];
    this.sessions.clear();
    for (const e of this.bySession.values()) if (e.conn !== keep) e.session.recover = undefined;
    this.bySession.clear();
    await Promise.all(all.map(async (p) => {
      const e = await p.catch(() => undefined);
      if (!e || e.conn === keep) return;
      // Polite but bounded: a stalled target must not make close() hang.
      let t: NodeJS.Timeout | undefined;
      const limit = new Promise<void>((r) => { t = setTimeout(r, Math.min(5000, this.creds.timeoutMs)); });
      await Promise.race([e.session.logoff().catch(() => undefined), limit]);
      clearTimeout(t);
      await e.conn.close();
    }));
  }
}

/** `\host\share\a\b` -> { host, share, rel: 'a\b' }. */
export function splitUnc(p: string): { host: string; share: string; rel: string } {
  const comps = p.replace(/\//g, '\\').split('\\').filter((c) => c !== '');
  if (comps.length < 2) throw new SmbError(Status.OBJECT_PATH_SYNTAX_BAD, `not a \\\\host\\share path: ${p}`);
  return { host: comps[0]!, share: comps[1]!, rel: comps.slice(2).join('\\') };
}

/** Where an operation ran: the tree and the share-relative path, and the DFS entry/target if any. */
export interface Routed<T> {
  value: T;
  tree: Tree;
  via?: { entry: DfsCacheEntry; target: string };
}

export class DfsResolver {
  readonly cache: DfsCache;
  readonly port: number;
  /** Referral requests sent (tests and `smbts dfs` read it). */
  referrals = 0;

  constructor(
    readonly pool: SessionPool,
    /** The URL's host and port: that host is reached on its own port, every other on `port`. */
    private readonly origin: { host: string; port: number },
    o: DfsOptions = {},
  ) {
    this.cache = new DfsCache({ maxEntries: o.maxEntries });
    this.port = o.port ?? 445;
    if ((o.refreshTickMs ?? 1000) > 0) this.cache.startRefresher((e) => this.fetch(e.server, e.path), o.refreshTickMs ?? 1000);
  }

  private portOf(host: string): number {
    return host.toLowerCase() === this.origin.host.toLowerCase() ? this.origin.port : this.port;
  }

  /** Asks `host` for a referral for `path` (MS-DFSC 3.1.4.2, sent as FSCTL on IPC$, MS-SMB2 3.2.4.20.3). */
  async fetch(host: string, path: string, level = 4): Promise<{ response: DfsReferralResponse; server: string }> {
    const ipc = await this.pool.tree(host, this.portOf(host), 'IPC$');
    this.referrals++;
    const res = await ipc.request({
      command: Command.IOCTL,
      body: encodeIoctlRequest({
        ctlCode: Fsctl.DFS_GET_REFERRALS, fileId: RELATED_FILE_ID, input: encodeDfsReferralRequest({ maxReferralLevel: level, requestFileName: path }),
        maxInputResponse: 0, maxOutputResponse: MAX_REFERRAL_BYTES, flags: IoctlFlags.IS_FSCTL,
      }),
      payloadSize: MAX_REFERRAL_BYTES,
    }, { path });
    const out = parse(() => decodeIoctlResponse(res.msg).output, `DFS referral for ${path} from ${host}`);
    const response = parse(() => decodeDfsReferralResponse(out), `DFS referral for ${path} from ${host}`);
    return { response, server: host };
  }

  /**
   * Runs `op` on the tree that really holds `path` (`\host\share\rel`): straight away when no link
   * is known, through the cache's targets (hint first) when one is, following PATH_NOT_COVERED.
   */
  async route<T>(path: string, op: (tree: Tree, rel: string) => Promise<T>, hops = 0): Promise<Routed<T>> {
    if (hops > MAX_HOPS) {
      throw new SmbError(Status.PATH_NOT_COVERED, `DFS: more than ${MAX_HOPS} referrals for ${path} (a link loop?)`);
    }
    const hit = this.cache.findNoReq(path);
    if (hit) return this.viaTargets(hit.entry, hit.rest, op, hops);
    const { host, share, rel } = splitUnc(path);
    try {
      const tree = await this.pool.tree(host, this.portOf(host), share);
      return { value: await op(tree, rel), tree };
    } catch (e) {
      if (!(e instanceof SmbError) || e.status !== Status.PATH_NOT_COVERED) {
        // An unreachable server whose expired entry we still have: use its targets (seed 003).
        const stale = isUnreachable(e) ? this.cache.findNoReq(path, true) : undefined;
        if (stale) return this.viaTargets(stale.entry, stale.rest, op, hops);
        throw e;
      }
    }
    const { entry, rest } = await this.cache.find(path, () => this.fetch(host, path));
    return this.viaTargets(entry, rest, op, hops);
  }

  private async viaTargets<T>(entry: DfsCacheEntry, rest: string, op: (tree: Tree, rel: string) => Promise<T>, hops: number): Promise<Routed<T>> {
    let last: unknown;
    for (const target of this.cache.ordered(entry)) {
      try {
        const r = dfsKey(target) === entry.key
          ? await this.direct(target + rest, op) // a root referral names the root itself
          : await this.route(target + rest, op, hops + 1);
        this.cache.updateHint(entry, target);
        return r.via ? r : { ...r, via: { entry, target } };
      } catch (e) {
        if (!isUnreachable(e)) throw e;
        last = e;
      }
    }
    throw last instanceof SmbError ? new SmbError(last.status, `DFS: no target of ${entry.path} is reachable (last: ${last.message})`) : last;
  }

  private async direct<T>(path: string, op: (tree: Tree, rel: string) => Promise<T>): Promise<Routed<T>> {
    const { host, share, rel } = splitUnc(path);
    const tree = await this.pool.tree(host, this.portOf(host), share);
    return { value: await op(tree, rel), tree };
  }

  /** A target in use died: the next lookup starts after it. */
  targetFailed(via: { entry: DfsCacheEntry; target: string }): void {
    this.cache.skipTarget(via.entry, via.target);
  }

  list(): DfsCacheInfo[] {
    return this.cache.list();
  }

  async close(keep?: Connection): Promise<void> {
    this.cache.stopRefresher();
    await this.pool.close(keep);
  }
}
