// Cross-node coordination of opens, byte-range locks and oplock/lease breaks over a Kv
// (docs/cluster-coordination.md has the key layout and the transactions).
//
// Each node publishes its opens as keys on its liveness lease and mirrors the other nodes' opens
// as "remote" Open objects that ServerState.opensByFile returns beside the local ones, sharing the
// file's FileNode: create.ts share-mode/oplock checks and lock.ts conflicts treat them as any
// other open. A change that adds a conflict (a new open, new locks) is published with a
// compare on the file's revision key, so two nodes cannot both grant conflicting state on the
// same snapshot; the loser refreshes and re-evaluates. Breaks of a remote open are written under
// the owner's break prefix; the owner breaks its real open and republishes the state its client
// acknowledged.
import type { FileId, Open, SessionView, ShareTree } from '../types.js';
import type { ServerCore } from '../internal.js';
import type { Kv, KvEvent, KvLease, KvWatch } from './kv.js';
import { KvUnavailableError } from './kv.js';
import { clusterOf, setCluster, SET_DELETE_PENDING, REMOTE_OPEN, isRemoteOpen, type ClusterHooks, type OpenIntent, type Reservation } from './hooks.js';
import { attachState, newNode, onAnyClose, setOplockLevel, stateOf, wake, type FileNode } from '../open-file.js';
import { Access, LeaseState, OplockLevel, ShareAccess } from '../../wire/constants.js';
import { NtStatusError, Status } from '../../wire/status.js';
import { OPLOCK_BREAK_TIMEOUT_MS, startBreak } from '../oplocks.js';
import { attachRemoteLease, breakLease, leaseOf, LEASE_BREAK_TIMEOUT_MS, type Lease } from '../leases.js';
import { cachingAsOplock } from './create-hook.js';
import { foldCase } from '../../vfs/path.js';
import type { ClaimState, FileClaims } from './claims.js';

const ROOT = 'smbts/';
const NODES = ROOT + 'nodes/';
const FILES = ROOT + 'files/';
const BREAKS = ROOT + 'breaks/';

/** One published open (the value of files/<fileKey>/open/<node>/<id>). */
export interface OpenRecord {
  node: string;
  share: string;
  path: string;
  access: number;
  shareAccess: number;
  /** Oplock level; LEASE (0xff) for a lease, whose state is leaseState. */
  oplock: number;
  leaseState: number;
  /** [offset, length, exclusive] as decimal strings (u64). */
  locks: [string, string, boolean][];
  fileId: string;
  user: string;
  /** This open set delete-pending on the file (FileDispositionInformation). */
  deletePending?: boolean;
}


interface Remote { key: string; rec: OpenRecord; open: Open; modRevision: number; deletePending?: boolean }
/**
 * A file as this node mirrors it. `rev` moves on every change that admits an open or a lock,
 * `xrev` only on changes that can refuse or break another open (see publishing below);
 * `foreignRev`/`foreignXrev`: the last revisions another node's write was seen to set them to.
 */
interface Mirror {
  fileKey: string; rev: number; xrev: number; foreignRev: number; foreignXrev: number;
  syncedAt: number; remotes: Map<string, Remote>;
  /** Lost compares in a row on this node (the backoff grows with them). */
  fails: number;
  /** Tail of this node's queue of compared writes on the file (a node never races itself). */
  gate: Promise<unknown>;
}
/** What a compared write is checked against. */
type WriteMode = 'none' | 'open' | 'benign' | 'lock';
/** The revisions a write's caller evaluated the file at. */
interface Seen { rev: number; xrev: number }
interface Published {
  key: string; fileKey: string; id: string; open: Open | undefined; last: string; pendingBreak?: number;
  /** What the open asked for (its record until it is bound). */
  intent?: OpenIntent;
}

/** Idle claimed files ('mine', no opens) a node keeps before releasing the oldest half. */
const MAX_IDLE_CLAIMS = 4096;
/** A shared file this node has no opens of is released after this long (the others may then own it). */
const SHARED_IDLE_MS = 200;

/** Ceiling of the randomised wait after a lost compare. */
const MAX_BACKOFF_MS = 40;

/**
 * An open that cannot conflict with another such open and whose admission no open granted
 * meanwhile needs to know of unless that open could refuse or break it: no write/append/delete
 * access, sharing read (so two of them pass each other's share check, MS-FSA 2.1.5.1.2.2; an
 * open without data access takes no part in share checks at all), and no caching asked for
 * (nothing of it to break or to grant against others). Directory listings and attribute opens.
 */
export function isBenign(intent: OpenIntent): boolean {
  const stat = (intent.access & DATA_ACCESS_BITS) === 0;
  return (intent.access & (Access.FILE_WRITE_DATA | Access.FILE_APPEND_DATA | Access.DELETE)) === 0
    && (stat || (intent.shareAccess & ShareAccess.READ) !== 0)
    && intent.oplock === OplockLevel.NONE;
}
const DATA_ACCESS_BITS = Access.FILE_READ_DATA | Access.FILE_WRITE_DATA | Access.FILE_APPEND_DATA | Access.FILE_EXECUTE | Access.DELETE;

/** The NTSTATUS of a state change refused because the cluster store has no quorum. */
export const STATUS_CLUSTER_UNAVAILABLE = Status.INSUFFICIENT_RESOURCES;

function unavailable(err: unknown): NtStatusError {
  return new NtStatusError(STATUS_CLUSTER_UNAVAILABLE, `cluster store unavailable: ${(err as Error).message}`);
}

/** fileKeys may hold ':' and other bytes; keep keys printable and prefix-free. */
const enc = (s: string): string => encodeURIComponent(s);
const dec = (s: string): string => decodeURIComponent(s);

/** Every key of one file's cluster state (its revisions and open records). */
export function fileStatePrefix(fileKey: string): string {
  return FILES + enc(fileKey) + '/';
}

export interface NodeStatus { name: string; alive: boolean; info: Record<string, unknown> }
export interface ClusterStatus {
  node: string;
  available: boolean;
  nodes: NodeStatus[];
  opens: (OpenRecord & { fileKey: string })[];
}

/**
 * The cluster as the store holds it (smbts status --cluster): live nodes (their key is on their
 * liveness lease, so a dead node's is gone) and every published open with its locks and caching.
 */
export async function readClusterStatus(kv: Kv): Promise<ClusterStatus> {
  const [nodes, files] = await Promise.all([kv.getPrefix(NODES), kv.getPrefix(FILES)]);
  const opens: (OpenRecord & { fileKey: string })[] = [];
  for (const e of files.entries) {
    const parts = e.key.slice(FILES.length).split('/');
    if (parts[1] === 'open') opens.push({ fileKey: dec(parts[0]!), ...(JSON.parse(e.value) as OpenRecord) });
  }
  const live = nodes.entries.map((e) => ({ name: e.key.slice(NODES.length), alive: true, info: JSON.parse(e.value) as Record<string, unknown> }));
  // A node named by an open but without a node key: its lease is expiring right now.
  for (const o of opens) if (!live.some((n) => n.name === o.node)) live.push({ name: o.node, alive: false, info: {} });
  return { node: '', available: true, nodes: live, opens };
}

export class ClusterNode implements ClusterHooks {
  private lease: KvLease | undefined;
  private readonly mirrors = new Map<string, Mirror>();
  private readonly published = new Map<Open, Published>();
  private readonly byId = new Map<string, Published>();
  private nextId = 1;
  private watches: KvWatch[] = [];
  private stopped = false;
  private healthy = false;
  private readonly hookedNodes = new WeakSet<FileNode>();
  private readonly fakeSession: SessionView;
  /** With claims (claims.ts): files this node holds alone ('mine') or shares; absent = neither. */
  private readonly claimed = new Map<string, ClaimState>();
  private readonly claiming = new Map<string, Promise<ClaimState>>();
  /** This node's reservations and opens per file. */
  private readonly byKey = new Map<string, Set<Published>>();
  /** Claimed files without opens here, oldest first (their claims are released lazily). */
  private readonly idle = new Map<string, number>();
  private idleTimer: NodeJS.Timeout | undefined;

  private constructor(
    private readonly server: ServerCore,
    private readonly kv: Kv,
    readonly name: string,
    private readonly ttl: number,
    private readonly info: Record<string, unknown>,
    private readonly ownsKv: boolean,
    private readonly claims: FileClaims | undefined,
  ) {
    this.fakeSession = {
      id: 0n, user: '', domain: '', guest: false, anonymous: false, dialect: 0, encryptData: false,
      trees: new Map(), opens: new Map(),
    };
  }

  /**
   * `ownsKv`: close the Kv with the node (not a Kv an embedder shares between nodes). `claims`:
   * files only this node has open are decided here alone (claims.ts; worker processes).
   */
  static async start(server: ServerCore, kv: Kv, name: string, ttl: number, info: Record<string, unknown>, ownsKv = true, claims?: FileClaims): Promise<ClusterNode> {
    const node = new ClusterNode(server, kv, name, ttl, info, ownsKv, claims);
    claims?.onRevoke((fileKey) => node.onRevoke(fileKey));
    await node.join();
    setCluster(server, node);
    server.remoteOpens = (fileKey) => node.remoteOpens(fileKey);
    server.remoteOpensByPath = (share, folded) => node.remoteOpensByPath(share, folded);
    return node;
  }

  /** Lease, node key, a full mirror of the other nodes' opens and the watches that keep it. */
  private async join(): Promise<void> {
    const lease = await this.kv.grantLease(this.ttl);
    this.lease = lease;
    lease.onLost((err) => this.leaseLost(err));
    await this.kv.txn({ compare: [], then: [{ type: 'put', key: NODES + this.name, value: JSON.stringify({ ...this.info, since: new Date().toISOString() }), lease: lease.id }] });
    const files = await this.kv.getPrefix(FILES);
    // A rejoin starts the mirror over: mirrored opens drop their locks and waiters wake.
    for (const m of [...this.mirrors.values()]) for (const k of [...m.remotes.keys()]) this.removeRemote(m, k);
    this.mirrors.clear();
    for (const e of files.entries) this.applyEvent({ type: 'put', key: e.key, value: e.value, modRevision: e.modRevision }, true);
    for (const m of this.mirrors.values()) m.syncedAt = files.revision;
    for (const w of this.watches) await w.cancel();
    this.watches = [
      await this.kv.watchPrefix(FILES, files.revision + 1, {
        onEvents: (evs) => { for (const e of evs) this.applyEvent(e, false); },
        onReset: () => this.rejoinSoon(),
      }),
      await this.kv.watchPrefix(BREAKS + this.name + '/', files.revision + 1, {
        onEvents: (evs) => { for (const e of evs) if (e.type === 'put') this.onBreakRequest(e); },
        onReset: () => this.rejoinSoon(),
      }),
    ];
    // Re-publish what this node holds (after a lost lease its keys are gone).
    for (const p of this.published.values()) {
      p.last = '';
      if (p.open) await this.write(p, 'none').catch(() => undefined);
    }
    this.healthy = true;
  }

  private rejoining = false;
  private leaseLost(err: KvUnavailableError): void {
    if (this.stopped) return;
    this.healthy = false;
    this.server.log(`cluster: ${this.name} lost its liveness lease (${err.message}); rejoining`);
    this.rejoinSoon();
  }

  /** Rejoin with backoff until the store answers again (bounded per attempt by the call deadline). */
  private rejoinSoon(): void {
    if (this.rejoining || this.stopped) return;
    this.rejoining = true;
    this.healthy = false;
    const attempt = (delay: number): void => {
      const t = setTimeout(() => {
        if (this.stopped) { this.rejoining = false; return; }
        this.join().then(() => {
          this.rejoining = false;
          this.server.log(`cluster: ${this.name} rejoined`);
        }, () => attempt(Math.min(delay * 2, 2000)));
      }, delay);
      t.unref?.();
    };
    attempt(100);
  }

  // ------------------------------------------------------------------ mirror

  private mirror(fileKey: string): Mirror {
    let m = this.mirrors.get(fileKey);
    if (!m) {
      m = { fileKey, rev: 0, xrev: 0, foreignRev: 0, foreignXrev: 0, syncedAt: 0, remotes: new Map(), fails: 0, gate: Promise.resolve() };
      this.mirrors.set(fileKey, m);
    }
    return m;
  }

  /** Applies one files/ event: rev keys move the file's revision, open keys of other nodes become remote opens. */
  private applyEvent(e: KvEvent, initial: boolean): void {
    const rest = e.key.slice(FILES.length);
    const slash = rest.indexOf('/');
    if (slash < 0) return;
    const fileKey = dec(rest.slice(0, slash));
    const sub = rest.slice(slash + 1);
    const m = this.mirror(fileKey);
    if (!initial && e.modRevision <= m.syncedAt) return; // already in a fresher read
    if (sub === 'rev' || sub === 'xrev') {
      const rev = e.type === 'put' ? e.modRevision : 0;
      const foreign = e.type === 'delete' || e.value !== this.name;
      if (sub === 'rev') {
        m.rev = rev;
        if (foreign) m.foreignRev = rev;
      } else {
        m.xrev = rev;
        if (foreign) m.foreignXrev = rev;
      }
      // A freed file's state is deleted (claims): nothing left to mirror.
      if (m.rev === 0 && m.xrev === 0 && m.remotes.size === 0 && !this.byKey.has(fileKey)) this.mirrors.delete(fileKey);
      return;
    }
    if (!sub.startsWith('open/')) return;
    const owner = sub.slice(5, sub.indexOf('/', 5));
    if (owner === this.name) return;
    if (e.type === 'delete') this.removeRemote(m, e.key);
    else this.upsertRemote(m, e.key, JSON.parse(e.value) as OpenRecord, e.modRevision);
  }

  private nodeOf(fileKey: string): FileNode {
    const local = this.localOpens(fileKey);
    if (local.length) return stateOf(local[0]!).node;
    const m = this.mirrors.get(fileKey);
    for (const r of m?.remotes.values() ?? []) return stateOf(r.open).node;
    return newNode();
  }

  private localOpens(fileKey: string): Open[] {
    return this.server.localOpensByFile(fileKey).filter((o) => !stateOf(o).closed);
  }

  private upsertRemote(m: Mirror, key: string, rec: OpenRecord, modRevision: number): void {
    let r = m.remotes.get(key);
    if (!r) {
      const open = this.remoteOpen(m.fileKey, rec);
      attachState(open, this.nodeOf(m.fileKey));
      r = { key, rec, open, modRevision };
      m.remotes.set(key, r);
    }
    const node = stateOf(r.open).node;
    const open = r.open;
    r.rec = rec;
    r.modRevision = modRevision;
    open.grantedAccess = rec.access;
    open.shareAccess = rec.shareAccess;
    open.path = rec.path;
    const st = stateOf(open);
    if (rec.oplock === OplockLevel.LEASE) {
      // The real lease state, as a mirrored Lease: breakLeasesForCreate / breakReadLeases here
      // judge it as a local one and ask the owner for the break (requestLeaseBreak).
      // setOplockLevel: the node's sharedReaders count (the fast path of breakLevelII and early
      // writes) must see remote level II / lease holders too.
      setOplockLevel(open, OplockLevel.LEASE);
      const l = leaseOf(open) ?? this.remoteLease(open);
      l.state = rec.leaseState;
      l.node = node;
      // An oplock-style break asked of it (startBreak: to II or NONE) ends by the caching it shows.
      if (st.breakingTo !== undefined && cachingAsOplock(rec.leaseState, rec.oplock) <= st.breakingTo) st.breakingTo = undefined;
      if (l.breakingTo !== undefined && (l.state & ~l.breakingTo) === 0) {
        l.breakingTo = undefined;
        if (l.timer) clearTimeout(l.timer);
        l.timer = undefined;
      }
    } else {
      const level = cachingAsOplock(rec.leaseState || undefined, rec.oplock);
      setOplockLevel(open, level);
      if (st.breakingTo !== undefined && level <= st.breakingTo) st.breakingTo = undefined;
    }
    // Delete-pending set on another node holds here too; it stays after that open closes (the
    // last closer anywhere deletes the file, open-file.ts closeOpen).
    if (rec.deletePending !== undefined && rec.deletePending !== r.deletePending) {
      node.deletePending = rec.deletePending;
      r.deletePending = rec.deletePending;
    }
    // Locks: the record is the whole list.
    const hadLocks = node.locks.removeOpen(open);
    for (const [off, len, excl] of rec.locks) node.locks.add({ open, offset: BigInt(off), length: BigInt(len), exclusive: excl });
    if (hadLocks) wake(node.lockWaiters);
    wake(node.oplockWaiters);
  }

  private removeRemote(m: Mirror, key: string): void {
    const r = m.remotes.get(key);
    if (!r) return;
    m.remotes.delete(key);
    const st = stateOf(r.open);
    st.closed = true;
    st.breakingTo = undefined;
    const l = leaseOf(r.open);
    if (l) {
      l.opens.delete(r.open);
      l.breakingTo = undefined;
      if (l.timer) clearTimeout(l.timer);
      l.timer = undefined;
    }
    r.open.oplockLevel = OplockLevel.NONE;
    const node = st.node;
    node.locks.removeOpen(r.open);
    wake(node.lockWaiters);
    wake(node.oplockWaiters);
    if (m.remotes.size === 0 && this.orphans.has(m.fileKey) && this.localOpens(m.fileKey).length === 0) void this.deleteOrphan(m.fileKey);
    if (m.remotes.size === 0 && m.rev === 0 && m.xrev === 0) this.mirrors.delete(m.fileKey);
  }

  /**
   * A file this node closed DELETE_ON_CLOSE while other nodes had it open, once their opens are
   * gone: deleted here unless their last closer did (or the name is another file by now).
   */
  private async deleteOrphan(fileKey: string): Promise<void> {
    const o = this.orphans.get(fileKey);
    this.orphans.delete(fileKey);
    const vfs = o?.tree.vfs;
    if (!o || !vfs) return;
    try {
      if ((await vfs.stat(o.path)).identity !== fileKey) return;
      if (o.isDirectory) await vfs.rmdir(o.path);
      else await vfs.unlink(o.path);
    } catch {
      // Already gone, or a directory no longer empty: as a local last closer, nothing to do.
    }
  }

  /** The mirrored Lease of a remote open whose record holds a lease. */
  private remoteLease(open: Open): Lease {
    const l: Lease = {
      id: `remote:${open.extra.get(REMOTE_OPEN) as string}:${open.fileKey}:${this.nextRemoteLease++}`, clientGuid: Buffer.alloc(16), key: Buffer.alloc(16),
      version: 2, epoch: 0, state: 0, breakingTo: undefined, pendingTo: undefined, timer: undefined, parentKey: undefined,
      opens: new Set([open]), node: undefined,
      remote: (to) => this.requestLeaseBreak(open, l, to),
    };
    attachRemoteLease(open, l);
    return l;
  }
  private nextRemoteLease = 1;

  /**
   * A break of a remote lease to `to`: the owner is asked to drop the bits `to` lacks from the
   * state mirrored here (W for a new opener, H on a sharing conflict, R for a write; MS-SMB2
   * 3.3.4.7) and runs its own breakLease on the real lease; it republishes the state its client
   * acknowledged. Breaks from R alone need no acknowledgement and are taken as done here.
   */
  private requestLeaseBreak(open: Open, l: Lease, to: number): void {
    to &= l.state;
    const target = l.breakingTo !== undefined ? l.breakingTo & to : to;
    if (target === l.state || (l.breakingTo !== undefined && target === l.breakingTo)) return;
    const drop = l.state & ~target;
    if (l.state & (LeaseState.WRITE | LeaseState.HANDLE)) {
      l.breakingTo = target;
      if (!l.timer) {
        l.timer = setTimeout(() => {
          l.timer = undefined;
          if (l.breakingTo === undefined) return;
          l.state = 0;
          l.breakingTo = undefined;
          if (l.node) wake(l.node.oplockWaiters);
        }, LEASE_BREAK_TIMEOUT_MS + 2000);
        l.timer.unref?.();
      }
    } else {
      l.state = target;
    }
    this.sendBreak(open, { to: OplockLevel.NONE, drop });
  }

  private remoteOpen(fileKey: string, rec: OpenRecord): Open {
    const share = this.server.findShare(rec.share) ?? { name: rec.share, path: '', readOnly: false, guestOk: false, validUsers: [], browseable: false, comment: '', encrypt: 'default' as const };
    const tree: ShareTree = { id: 0, share, vfs: undefined, isIpc: false, readOnly: false, maximalAccess: 0, encrypt: false };
    const fileId: FileId = { persistent: 0n, volatile: 0n };
    const open: Open = {
      fileId, tree, session: this.fakeSession, path: rec.path, isDirectory: false, handle: undefined, pipe: undefined,
      grantedAccess: rec.access, shareAccess: rec.shareAccess, createOptions: 0, oplockLevel: OplockLevel.NONE,
      deleteOnClose: false, dirCursor: undefined, extra: new Map([[REMOTE_OPEN, rec.node]]), fileKey,
    };
    return open;
  }

  /** Other nodes' opens of a file, as this node last saw them (ServerState.opensByFile adds them). */
  remoteOpens(fileKey: string): Open[] {
    const m = this.mirrors.get(fileKey);
    if (!m || m.remotes.size === 0) return [];
    return [...m.remotes.values()].map((r) => r.open);
  }

  /** Other nodes' opens of a share-relative path (folded); a scan of the mirror. */
  remoteOpensByPath(shareName: string, folded: string): Open[] {
    const out: Open[] = [];
    const share = shareName.toLowerCase();
    for (const m of this.mirrors.values()) {
      for (const r of m.remotes.values()) {
        if (r.rec.share.toLowerCase() === share && foldCase(r.rec.path) === folded) out.push(r.open);
      }
    }
    return out;
  }

  isRemote(open: Open): boolean {
    return isRemoteOpen(open);
  }

  async refresh(fileKey: string): Promise<void> {
    let range;
    try {
      range = await this.kv.getPrefix(FILES + enc(fileKey) + '/');
    } catch (err) {
      throw unavailable(err);
    }
    const m = this.mirror(fileKey);
    const seen = new Set<string>();
    m.rev = 0;
    m.xrev = 0;
    for (const e of range.entries) {
      seen.add(e.key);
      // A re-read cannot tell whose writes came between: every revision counts as foreign, so a
      // caller that evaluated before it re-evaluates.
      if (e.key.endsWith('/rev')) { m.rev = m.foreignRev = e.modRevision; continue; }
      if (e.key.endsWith('/xrev')) { m.xrev = m.foreignXrev = e.modRevision; continue; }
      const owner = e.key.slice(FILES.length).split('/')[2];
      if (owner !== this.name) this.upsertRemote(m, e.key, JSON.parse(e.value) as OpenRecord, e.modRevision);
    }
    for (const k of [...m.remotes.keys()]) if (!seen.has(k)) this.removeRemote(m, k);
    m.syncedAt = Math.max(m.syncedAt, range.revision);
  }

  // ------------------------------------------------------------------ publishing

  private requireHealthy(): void {
    if (!this.healthy || !this.lease) throw unavailable(new Error('this node is not joined to the cluster (no quorum or lease lost)'));
  }

  private keyFor(fileKey: string, id: string): string {
    return `${FILES}${enc(fileKey)}/open/${this.name}/${id}`;
  }

  private recordOf(open: Open | undefined, intent?: OpenIntent): OpenRecord {
    if (!open) {
      return {
        node: this.name, share: intent!.shareName, path: intent!.path, access: intent!.access, shareAccess: intent!.shareAccess,
        oplock: intent!.oplock, leaseState: 0, locks: [], fileId: '', user: '',
      };
    }
    const locks: [string, string, boolean][] = [];
    for (const l of stateOf(open).node.locks) if (l.open === open) locks.push([String(l.offset), String(l.length), l.exclusive]);
    const lease = leaseOf(open);
    return {
      node: this.name, share: open.tree.share.name, path: open.path, access: open.grantedAccess, shareAccess: open.shareAccess,
      oplock: lease ? OplockLevel.LEASE : open.oplockLevel, leaseState: lease ? lease.state : 0, locks,
      fileId: open.fileId.persistent.toString(), user: open.session.user,
      deletePending: open.extra.get(SET_DELETE_PENDING) === true,
    };
  }

  /**
   * One transaction: put the record, compared and bumping revisions by `mode`:
   * - 'open': an open that may refuse, break or be refused by others: compares `rev` (every
   *   admitting change), bumps `rev` and `xrev`.
   * - 'benign': an open that no open admitted meanwhile can conflict with and that cannot
   *   conflict with another benign one (isBenign): compares only `xrev`, bumps only `rev`. Any
   *   other open racing it still loses its `rev` compare and re-evaluates with it.
   * - 'lock': new byte-range locks conflict only with locks: compares `xrev`, bumps both.
   * - 'none': state that refuses nothing new (lock releases, caching after a break); a record
   *   that newly sets delete-pending bumps both revisions so racing opens re-evaluate.
   * `seen`: the revisions the caller evaluated at. Writes of this node between then and now do
   * not make it stale: a single node grants opens evaluated before its own concurrent ones too
   * (the window between a CREATE's checks and its open being registered).
   */
  private async write(p: Published, mode: WriteMode, intent?: OpenIntent, seen?: Seen): Promise<boolean> {
    if (this.local(p.fileKey)) return true;
    this.requireHealthy();
    const rec = this.recordOf(p.open, intent);
    const value = JSON.stringify(rec);
    if (mode === 'none' && value === p.last) return true;
    const m = this.mirror(p.fileKey);
    const base = FILES + enc(p.fileKey);
    const revKey = base + '/rev';
    const xrevKey = base + '/xrev';
    // Newly delete-pending: not compared (it refuses, never needs refusing) but racing opens must re-evaluate.
    const bump = mode === 'none' && rec.deletePending === true && !(p.last && (JSON.parse(p.last) as OpenRecord).deletePending);
    const compare = mode !== 'none';
    const useX = mode === 'benign' || mode === 'lock';
    const at = seen ?? { rev: m.rev, xrev: m.xrev };
    // Another node changed the file since the caller evaluated it: re-evaluate (the mirror holds the change).
    if (compare && (useX ? m.foreignXrev > at.xrev : m.foreignRev > at.rev)) return this.lost(m);
    let res;
    try {
      res = await this.kv.txn({
        compare: compare ? [{ key: useX ? xrevKey : revKey, target: 'modRevision', op: '=', value: useX ? m.xrev : m.rev }] : [],
        then: [
          { type: 'put', key: p.key, value, lease: this.lease!.id },
          ...(compare || bump ? [{ type: 'put' as const, key: revKey, value: this.name }] : []),
          ...(mode === 'open' || mode === 'lock' || bump ? [{ type: 'put' as const, key: xrevKey, value: this.name }] : []),
        ],
      });
    } catch (err) {
      throw unavailable(err);
    }
    if (!res.succeeded) {
      await this.refresh(p.fileKey);
      return this.lost(m);
    }
    p.last = value;
    m.fails = 0;
    // Only a won compare tells that no other write came between: then the key is known to be ours
    // at res.revision ('open' compared rev, which every xrev bump moves too; 'lock' compared xrev).
    // Otherwise the watch brings the revision with whatever came before it.
    if (mode === 'open') m.rev = m.xrev = res.revision;
    else if (mode === 'lock') m.xrev = res.revision;
    return true;
  }

  /**
   * A lost compare: false after a randomised wait that grows with the losses in a row on the
   * file (bounded, so nodes retrying together spread out instead of colliding again).
   */
  private async lost(m: Mirror): Promise<false> {
    m.fails++;
    const ceiling = Math.min(MAX_BACKOFF_MS, 2 ** Math.min(m.fails, 6));
    await new Promise((r) => setTimeout(r, Math.random() * ceiling));
    return false;
  }

  /** Runs a compared write in this node's queue for the file (one at a time per file). */
  private gated<T>(fileKey: string, fn: () => Promise<T>): Promise<T> {
    const m = this.mirror(fileKey);
    const run = m.gate.then(fn, fn);
    m.gate = run.catch(() => undefined);
    return run;
  }

  async reserve(intent: OpenIntent): Promise<Reservation | false> {
    const fileKey = intent.fileKey;
    const id = String(this.nextId++);
    const p: Published = { key: this.keyFor(fileKey, id), fileKey, id, open: undefined, last: '', intent };
    if (this.claims) {
      if (!this.claimed.has(fileKey)) {
        let fresh: ClaimState;
        try {
          fresh = await this.claimFile(fileKey);
        } catch (err) {
          throw unavailable(err);
        }
        // Newly shared: the mirror is read again and the CREATE evaluates against it (the
        // owner's opens were published just now).
        if (fresh === 'shared') {
          await this.refresh(fileKey);
          return false;
        }
      }
      const state = this.claimed.get(fileKey);
      if (state === undefined) return false; // revoked before this ran: claim again
      if (state === 'mine') {
        // This node alone has the file open: its own checks were the whole decision.
        this.byId.set(id, p);
        this.track(p);
        return this.reservation(p);
      }
    }
    const m = this.mirror(fileKey);
    const seen = { rev: m.rev, xrev: m.xrev };
    const mode = isBenign(intent) ? 'benign' : 'open';
    if (!(await this.gated(fileKey, () => this.write(p, mode, intent, seen)))) return false;
    this.byId.set(id, p);
    this.track(p);
    return this.reservation(p);
  }

  private reservation(p: Published): Reservation {
    return {
      bind: async (open: Open) => {
        p.open = open;
        this.published.set(open, p);
        // A file this node holds alone is hooked when it becomes shared (onRevoke).
        if (!this.local(p.fileKey)) this.watchNode(open, p.fileKey);
        // A break asked for while this open was only reserved.
        if (p.pendingBreak !== undefined) this.breakLocal(open, p.pendingBreak);
        await this.write(p, 'none').catch((err) => this.server.log(`cluster: publish failed: ${(err as Error).message}`));
      },
      drop: async () => {
        this.byId.delete(p.id);
        const was = p.last;
        p.last = '';
        const done = was ? this.kv.txn({ compare: [], then: [{ type: 'delete', key: p.key }] }).catch(() => undefined) : undefined;
        this.untrack(p);
        await done;
      },
    };
  }

  // ------------------------------------------------------------------ claims (claims.ts)

  /** True when this node decides the file alone (or holds no claim: nothing of it published). */
  private local(fileKey: string): boolean {
    return this.claims !== undefined && this.claimed.get(fileKey) !== 'shared';
  }

  private claimFile(fileKey: string): Promise<ClaimState> {
    let c = this.claiming.get(fileKey);
    if (!c) {
      // The state is set before any continuation of the claim runs (a revoke waits for it).
      c = this.claims!.claim(fileKey).then((s) => {
        this.claimed.set(fileKey, s);
        // Idle until a reservation tracks it (an open refused after the claim still releases it).
        if (!this.byKey.has(fileKey)) {
          this.idle.set(fileKey, Date.now());
          if (s === 'shared') this.scheduleIdle();
        }
        return s;
      })
        .finally(() => this.claiming.delete(fileKey));
      this.claiming.set(fileKey, c);
    }
    return c;
  }

  /**
   * Another node wants a file this node holds alone: its opens (and reservations) of the file
   * are published in one transaction that also bumps the file's revisions (an evaluation made
   * before them starts over); from now on the file is shared. No opens: the claim just ends.
   */
  private async onRevoke(fileKey: string): Promise<boolean> {
    await this.claiming.get(fileKey)?.catch(() => undefined);
    const state = this.claimed.get(fileKey);
    if (state === undefined) return false;
    if (state === 'shared') return true;
    const ps = [...(this.byKey.get(fileKey) ?? [])];
    if (ps.length === 0 && this.localOpens(fileKey).length === 0) {
      this.claimed.delete(fileKey);
      this.idle.delete(fileKey);
      return false;
    }
    this.claimed.set(fileKey, 'shared');
    if (ps.length === 0) return true;
    for (const p of ps) if (p.open) this.watchNode(p.open, fileKey);
    await this.gated(fileKey, async () => {
      this.requireHealthy();
      const m = this.mirror(fileKey);
      const base = FILES + enc(fileKey);
      const then = ps.map((p) => {
        p.last = JSON.stringify(this.recordOf(p.open, p.intent));
        return { type: 'put' as const, key: p.key, value: p.last, lease: this.lease!.id };
      });
      const res = await this.kv.txn({
        compare: [],
        then: [...then, { type: 'put', key: base + '/rev', value: this.name }, { type: 'put', key: base + '/xrev', value: this.name }],
      });
      // Nobody else could write the file's keys before this answer: the revisions are ours.
      m.rev = m.xrev = res.revision;
    });
    return true;
  }

  private track(p: Published): void {
    let set = this.byKey.get(p.fileKey);
    if (!set) this.byKey.set(p.fileKey, (set = new Set()));
    set.add(p);
    this.idle.delete(p.fileKey);
  }

  private untrack(p: Published): void {
    const set = this.byKey.get(p.fileKey);
    if (!set?.delete(p) || set.size > 0) return;
    this.byKey.delete(p.fileKey);
    if (!this.claims || !this.claimed.has(p.fileKey)) return;
    this.idle.set(p.fileKey, Date.now());
    if (this.claimed.get(p.fileKey) === 'shared') this.scheduleIdle();
    else if (this.idle.size > MAX_IDLE_CLAIMS) this.releaseIdle();
  }

  private scheduleIdle(): void {
    if (this.idleTimer || this.stopped) return;
    this.idleTimer = setTimeout(() => { this.idleTimer = undefined; this.releaseIdle(); }, SHARED_IDLE_MS);
    this.idleTimer.unref?.();
  }

  /**
   * Releases shared files idle for SHARED_IDLE_MS and, past MAX_IDLE_CLAIMS, the oldest half of
   * the idle owned ones, in one message. An owned idle file costs nothing until another node
   * claims it (then the revoke finds no opens and ends the claim).
   */
  private releaseIdle(): void {
    if (!this.claims) return;
    const now = Date.now();
    let excess = this.idle.size > MAX_IDLE_CLAIMS ? this.idle.size - MAX_IDLE_CLAIMS / 2 : 0;
    let sharedLeft = false;
    const out: string[] = [];
    for (const [fileKey, since] of this.idle) {
      const state = this.claimed.get(fileKey);
      if (state === undefined || this.byKey.has(fileKey) || this.claiming.has(fileKey)) {
        this.idle.delete(fileKey);
        continue;
      }
      const go = state === 'shared' ? now - since >= SHARED_IDLE_MS : excess > 0;
      if (!go) {
        if (state === 'shared') sharedLeft = true;
        continue;
      }
      this.idle.delete(fileKey);
      if (this.localOpens(fileKey).length) continue;
      if (state === 'mine') excess--;
      this.claimed.delete(fileKey);
      const m = this.mirrors.get(fileKey);
      if (m && m.remotes.size === 0) this.mirrors.delete(fileKey);
      out.push(fileKey);
    }
    this.claims.release(out);
    if (sharedLeft) this.scheduleIdle();
  }

  async publish(open: Open, compare: boolean): Promise<boolean> {
    const p = this.published.get(open);
    if (!p || this.local(p.fileKey)) return true;
    if (!compare) return this.write(p, 'none');
    const m = this.mirror(p.fileKey);
    const seen = { rev: m.rev, xrev: m.xrev };
    return this.gated(p.fileKey, () => this.write(p, 'lock', undefined, seen));
  }

  /** A FileNode with published opens republishes them whenever its oplocks/leases change. */
  private watchNode(open: Open, fileKey: string): void {
    const node = stateOf(open).node;
    if (this.hookedNodes.has(node)) return;
    this.hookedNodes.add(node);
    const republish = (): void => {
      if (this.local(fileKey)) return;
      for (const p of this.byKey.get(fileKey) ?? []) {
        if (!p.open || stateOf(p.open).node !== node || stateOf(p.open).closed) continue;
        void this.write(p, 'none').catch(() => undefined);
      }
    };
    node.oplockWaiters.add(republish);
  }

  private readonly removing = new Map<Open, Promise<void>>();
  /** Files closed DELETE_ON_CLOSE here while open on other nodes (deleteOrphan). */
  private readonly orphans = new Map<string, { tree: ShareTree; path: string; isDirectory: boolean }>();

  /** Local close: the record goes (its locks and share mode with it). */
  onClose(open: Open): void {
    const p = this.published.get(open);
    if (!p) return;
    this.published.delete(open);
    this.byId.delete(p.id);
    if (this.local(p.fileKey)) {
      this.untrack(p);
      return;
    }
    // DELETE_ON_CLOSE with opens on other nodes: the file is delete-pending from now on (MS-FSA
    // 2.1.5.4) and their last closer deletes it. The record says so before it goes, as set-info's
    // delete-pending does; should those opens close before they hear of it, this node deletes the
    // file once the last of them is gone (removeRemote).
    let shared: Promise<unknown> = Promise.resolve();
    if (open.deleteOnClose && this.remoteOpens(p.fileKey).some((o) => !stateOf(o).closed) && open.tree.vfs) {
      open.extra.set(SET_DELETE_PENDING, true);
      this.orphans.set(p.fileKey, { tree: open.tree, path: open.path, isDirectory: open.isDirectory });
      shared = this.write(p, 'none').catch(() => undefined);
    }
    const done = shared.then(() => this.kv.txn({ compare: [], then: [{ type: 'delete', key: p.key }] })).then(() => undefined, (err: unknown) => {
      // Without quorum the key stays until this node's lease expires; rejoin republishes only live opens.
      this.server.log(`cluster: unpublish of ${open.path} failed: ${(err as Error).message}`);
    }).finally(() => {
      this.removing.delete(open);
      this.untrack(p);
    });
    this.removing.set(open, done);
  }

  async closed(open: Open): Promise<void> {
    await this.removing.get(open);
  }

  // ------------------------------------------------------------------ breaks

  requestBreak(open: Open, to: number): void {
    const owner = open.extra.get(REMOTE_OPEN) as string;
    const st = stateOf(open);
    const m = this.mirrors.get(open.fileKey!);
    const r = m && [...m.remotes.values()].find((x) => x.open === open);
    if (!r) return;
    if (open.oplockLevel === OplockLevel.II || open.oplockLevel === OplockLevel.NONE) {
      // Level II breaks need no acknowledgement (3.2.5.19.1): dropped here at once.
      if (to === OplockLevel.NONE) open.oplockLevel = OplockLevel.NONE;
    } else if (st.breakingTo !== undefined) {
      if (to < st.breakingTo) st.breakingTo = to;
    } else {
      st.breakingTo = to;
      const t = setTimeout(() => {
        if (st.breakingTo === undefined || st.closed) return;
        open.oplockLevel = OplockLevel.NONE;
        st.breakingTo = undefined;
        wake(st.node.oplockWaiters);
      }, OPLOCK_BREAK_TIMEOUT_MS + 2000);
      t.unref?.();
    }
    this.sendBreak(open, { to });
  }

  /** Writes a break request under the owner's prefix: `to` an oplock level, or `drop` lease bits. */
  private sendBreak(open: Open, req: { to: number; drop?: number }): void {
    const owner = open.extra.get(REMOTE_OPEN) as string;
    const m = this.mirrors.get(open.fileKey!);
    const r = m && [...m.remotes.values()].find((x) => x.open === open);
    if (!r) return;
    const id = r.key.slice(r.key.lastIndexOf('/') + 1);
    const key = `${BREAKS}${owner}/${id}`;
    void this.kv.txn({ compare: [], then: [{ type: 'put', key, value: JSON.stringify({ ...req, by: this.name }), lease: this.lease?.id }] })
      .catch((err) => this.server.log(`cluster: break request to ${owner} failed: ${(err as Error).message}`));
  }

  /** Another node needs our open broken: break it as a local CREATE would; the ack republishes. */
  private onBreakRequest(e: KvEvent): void {
    const id = e.key.slice(e.key.lastIndexOf('/') + 1);
    void this.kv.txn({ compare: [], then: [{ type: 'delete', key: e.key }] }).catch(() => undefined);
    const p = this.byId.get(id);
    if (!p) return;
    const { to, drop } = JSON.parse(e.value) as { to: number; drop?: number };
    const open = p.open;
    if (!open) {
      p.pendingBreak = Math.min(p.pendingBreak ?? to, to);
      return;
    }
    if (stateOf(open).closed) return;
    const lease = leaseOf(open);
    // A lease break with its reason (the bits to give up): this node's own lease logic.
    if (lease && drop !== undefined) breakLease(this.server, lease, lease.state & ~drop);
    else this.breakLocal(open, to);
    // Nothing to acknowledge (or already at the level): republish now so the requester proceeds.
    void this.write(p, 'none').catch(() => undefined);
  }

  private breakLocal(open: Open, to: number): void {
    const lease = leaseOf(open);
    if (lease) {
      // II: the new open only needs write caching gone; NONE: everything (truncation, level II breaks).
      breakLease(this.server, lease, to === OplockLevel.NONE ? 0 : lease.state & ~LeaseState.WRITE);
    } else {
      startBreak(this.server, open, to);
    }
  }

  // ------------------------------------------------------------------ status and shutdown

  async status(): Promise<ClusterStatus> {
    return { ...(await readClusterStatus(this.kv)), node: this.name, available: this.healthy };
  }

  private readonly closers: Array<() => Promise<void>> = [];
  /** Runs `fn` when the node leaves (close), before its watches and lease go. */
  addCloser(fn: () => Promise<void>): void {
    this.closers.push(fn);
  }

  async close(): Promise<void> {
    this.stopped = true;
    if (this.idleTimer) clearTimeout(this.idleTimer);
    for (const fn of this.closers.splice(0)) await fn().catch(() => undefined);
    setCluster(this.server, undefined);
    this.server.remoteOpens = undefined;
    this.server.remoteOpensByPath = undefined;
    for (const w of this.watches) await w.cancel().catch(() => undefined);
    await this.lease?.revoke().catch(() => undefined);
    if (this.ownsKv) await this.kv.close();
  }
}

onAnyClose((server, open) => {
  if (open.extra.has(REMOTE_OPEN)) return;
  const c = clusterOf(server);
  if (c instanceof ClusterNode) c.onClose(open);
});
