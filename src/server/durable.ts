// Durable, resilient and persistent opens (MS-SMB2 3.3.1.10 Open.IsDurable / IsResilient /
// IsPersistent, 3.3.4.x, 3.3.5.9.6-.12, 3.3.5.15.9, 3.3.7.1).
//
// A durable open outlives its connection: when the last channel of its session goes, the open is
// not closed (state.ts closeOpen asks keepDisconnected first) but stays in the global open table
// with its handle, byte-range locks, lease/oplock and share mode, "disconnected", until a client
// reconnects it (handlers/create-durable.ts) or its timeout passes and the scavenger closes it
// (locks released, delete-on-close honoured, waiters woken, all through the normal close path).
//
// Persistent opens (shares with `continuous availability = yes`) are also written to a StateStore
// (store/disk.ts under $SMBTS_HOME/state/<share hash>/opens) before the CREATE or LOCK answer, and
// restorePersistent() brings them back as disconnected opens after a restart or kill -9.
import { createHash } from 'node:crypto';
import { realpathSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import type { FileId, Open, ServerState, SessionView, ShareTree } from './types.js';
import { parseBool, type ServerConfig, type ShareConfig } from '../config/config.js';
import { DEFAULT_LIMITS } from '../config/limits.js';
import type { Vfs } from '../vfs/types.js';
import { OplockLevel, Access } from '../wire/constants.js';
import { LeaseState } from '../wire/constants.js';
import { onAnyClose, stateOf, attachState, newNode, opensOfFile } from './open-file.js';
import { leaseOf } from './leases.js';
import { closeOpen as closeForTeardown } from './handlers/close.js';
import { DiskStore } from './store/disk.js';
import { MemoryStore } from './store/memory.js';
import type { OpenRecord, StateStore } from './store/types.js';
import { clusterStoreConfig, clusterStoreFor, nodeGeneration, type ClusterStoreConfig } from './cluster-store.js';

/** Open.DurableOpenTimeout for durable v1 opens (Samba keeps them 16 minutes). */
export const DEFAULT_V1_TIMEOUT_MS = 16 * 60_000;
/** DH2Q Timeout 0 means "server default" (MS-SMB2 3.3.5.9.10; Windows and Samba: 60 s). */
export const DEFAULT_V2_TIMEOUT_MS = 60_000;
/** Cap on a requested DH2Q Timeout (Samba: 300 s). */
export const DEFAULT_V2_MAX_TIMEOUT_MS = 300_000;
/** Cap on FSCTL_LMR_REQUEST_RESILIENCY Timeout (MS-SMB2 3.3.5.15.9: MaxResiliencyTimeout). */
export const MAX_RESILIENCY_TIMEOUT_MS = 300_000;

export interface DurableState {
  version: 1 | 2;
  persistent: boolean;
  resilient: boolean;
  timeoutMs: number;
  createGuid: Buffer | undefined;
  clientGuid: Buffer;
  /** Open.DurableOwner: the user the open was made by (3.3.5.9.7 / .12 compare it). */
  user: string;
  domain: string;
  /** ms since the epoch when the open lost its last channel; undefined while connected. */
  disconnectedAt: number | undefined;
  timer: NodeJS.Timeout | undefined;
}

const KEY = 'durable';

export function durableOf(open: Open): DurableState | undefined {
  return open.extra.get(KEY) as DurableState | undefined;
}

// ------------------------------------------------------------------------------------ settings

function seconds(v: string | undefined, dflt: number): number {
  if (v === undefined) return dflt;
  const n = Number(v);
  return Number.isFinite(n) && n >= 0 ? Math.round(n * 1000) : dflt;
}

function yes(v: string | undefined): boolean | undefined {
  return v === undefined ? undefined : parseBool(v);
}

/** `durable handles = no` on a share turns durable (and persistent) opens off there (docs/config.md). */
export function durableAllowed(share: ShareConfig): boolean {
  return yes(share.extra?.['durablehandles']) !== false;
}

/** Share capability CONTINUOUS_AVAILABILITY (2.2.10): `continuous availability = yes` (or `smb3 persistent handles`). */
export function continuouslyAvailable(share: ShareConfig): boolean {
  if (share.ipc || !durableAllowed(share)) return false;
  return yes(share.extra?.['continuousavailability']) === true || yes(share.extra?.['smb3persistenthandles']) === true;
}

export function v1TimeoutMs(config: ServerConfig): number {
  return seconds(config.extra['durablehandletimeout'], DEFAULT_V1_TIMEOUT_MS);
}

/** 3.3.5.9.10: the requested timeout capped, or the default when 0. */
export function v2TimeoutMs(config: ServerConfig, requested: number): number {
  const max = seconds(config.extra['durablev2maxtimeout'], DEFAULT_V2_MAX_TIMEOUT_MS);
  if (requested === 0) return Math.min(DEFAULT_V2_TIMEOUT_MS, max || DEFAULT_V2_TIMEOUT_MS);
  return Math.min(requested, max);
}

// ------------------------------------------------------------------------------- server table

interface Table {
  /** Durable opens (connected or not) by persistent FileId, for reconnects. */
  byId: Map<bigint, Open>;
  /**
   * The disconnected ones, oldest disconnect first (a Set keeps insertion order): bounded by
   * `max disconnected durable opens` (enforceCap); CREATE skips breakDisconnected while empty.
   */
  disconnected: Set<Open>;
  /** One store per CA share (by share name, folded). */
  stores: Map<string, StateStore>;
  /** Cluster mode settings (cluster-store.ts), null in single-node mode; read once. */
  cluster?: ClusterStoreConfig | null;
  /** DH2C lookups of records this node does not hold, by FileId (one restore per id at a time). */
  fetching: Map<bigint, Promise<Open | undefined>>;
  /** Cluster mode, node shutting down: closes keep the persistent records for the other nodes. */
  draining?: boolean;
}

const tables = new WeakMap<ServerState, Table>();

function table(server: ServerState): Table {
  let t = tables.get(server);
  if (!t) tables.set(server, (t = { byId: new Map(), disconnected: new Set(), stores: new Map(), fetching: new Map() }));
  return t;
}

/** Where a CA share's persistent state lives: outside any share, under $SMBTS_HOME (DESIGN rule 10). */
export function persistentDir(share: ShareConfig): string {
  const home = process.env.SMBTS_HOME || join(homedir(), '.smbts');
  let root = share.path;
  try {
    root = realpathSync(share.path);
  } catch {
    /* not there yet: the configured path names it */
  }
  const id = createHash('sha256').update(root).digest('hex').slice(0, 16);
  return join(home, 'state', id, 'opens');
}

/** Test hook: a memory store stands in for the disk one (unit tests without $SMBTS_HOME). */
let storeFactory: ((share: ShareConfig) => StateStore) | undefined;
export function setStoreFactory(f: ((share: ShareConfig) => StateStore) | undefined): void {
  storeFactory = f;
}
export { MemoryStore };

/** Cluster mode settings of this server (`clustering = yes`), or undefined. */
function clusterOf(server: ServerState): ClusterStoreConfig | undefined {
  const t = table(server);
  if (t.cluster === undefined) t.cluster = clusterStoreConfig(server.config) ?? null;
  return t.cluster ?? undefined;
}

function storeFor(server: ServerState, share: ShareConfig): StateStore {
  const t = table(server);
  const k = share.name.toLowerCase();
  let s = t.stores.get(k);
  if (!s) {
    const cluster = clusterOf(server);
    s = storeFactory ? storeFactory(share) : cluster ? clusterStoreFor(cluster, share) : new DiskStore(persistentDir(share));
    t.stores.set(k, s);
  }
  return s;
}

function log(server: ServerState, line: string): void {
  const l = (server as { log?: (s: string) => void }).log;
  try {
    l?.call(server, line);
  } catch {
    /* ignore */
  }
}

// ------------------------------------------------------------------------------------ records

function recordOf(open: Open, d: DurableState, node: string | undefined): OpenRecord {
  const lease = leaseOf(open);
  const st = stateOf(open);
  return {
    fileId: open.fileId.persistent.toString(), share: open.tree.share.name, path: open.path, fileKey: open.fileKey,
    clientGuid: d.clientGuid.toString('hex'), createGuid: d.createGuid?.toString('hex'),
    user: d.user, domain: d.domain, version: d.version, persistent: d.persistent, resilient: d.resilient,
    timeoutMs: d.timeoutMs, grantedAccess: open.grantedAccess, shareAccess: open.shareAccess,
    createOptions: open.createOptions, oplockLevel: open.oplockLevel, deleteOnClose: open.deleteOnClose,
    isDirectory: open.isDirectory,
    lease: lease ? { key: lease.key.toString('hex'), version: lease.version, state: lease.state, epoch: lease.epoch, parentKey: lease.parentKey?.toString('hex') } : undefined,
    locks: [...st.node.locks].filter((l) => l.open === open).map((l) => ({ offset: l.offset.toString(), length: l.length.toString(), exclusive: l.exclusive })),
    disconnectedAt: d.disconnectedAt, node,
  };
}

/** Writes a persistent open's record; resolves once it is on disk (before the CREATE/LOCK answer). */
export async function persist(server: ServerState, open: Open): Promise<void> {
  const d = durableOf(open);
  if (!d?.persistent || stateOf(open).closed) return;
  await storeFor(server, open.tree.share).putOpen(recordOf(open, d, clusterOf(server)?.nodeName));
}

// ------------------------------------------------------------------------------------ lifecycle

/** Makes `open` durable (after a granted DHnQ/DH2Q or a resiliency request). */
export async function makeDurable(server: ServerState, open: Open, d: Omit<DurableState, 'disconnectedAt' | 'timer'>): Promise<void> {
  const prev = durableOf(open);
  open.extra.set(KEY, { ...d, disconnectedAt: undefined, timer: prev?.timer });
  table(server).byId.set(open.fileId.persistent, open);
  try {
    await persist(server, open);
  } catch (e) {
    // The CREATE answers without durability (create-durable.ts grant): say why in the log.
    table(server).byId.delete(open.fileId.persistent);
    log(server, `persistent open ${open.tree.share.name}/${open.path} not granted: ${(e as Error).message}`);
    throw e;
  }
}

onAnyClose((server, open) => {
  const d = durableOf(open);
  if (!d) return;
  if (d.timer) clearTimeout(d.timer);
  d.timer = undefined;
  const t = table(server);
  d.disconnectedAt = undefined;
  t.disconnected.delete(open);
  if (t.byId.get(open.fileId.persistent) === open) t.byId.delete(open.fileId.persistent);
  if (d.persistent && !t.draining) {
    storeFor(server, open.tree.share).deleteOpen(open.fileId.persistent.toString())
      .catch((e: unknown) => log(server, `persistent record of ${open.path}: ${(e as Error).message}`));
  }
});

/**
 * Called for every open that dies with its connection (state.ts closeOpen, reason 'disconnect').
 * true: the open is kept, disconnected, until reconnected or scavenged; false: close it as usual.
 */
export function keepDisconnected(server: ServerState, open: Open): boolean {
  const d = durableOf(open);
  const st = stateOf(open);
  if (!d || st.closed || open.pipe) return false;
  if (d.disconnectedAt !== undefined) return true;
  // A break in flight cannot be acknowledged any more: the open goes (3.3.4.6/3.3.4.7, as Samba).
  const lease = leaseOf(open);
  if (st.breakingTo !== undefined || lease?.breakingTo !== undefined) return false;
  if (maxDisconnected(server) === 0) return false;
  d.disconnectedAt = Date.now();
  table(server).disconnected.add(open);
  open.session.opens.delete(open.fileId.volatile);
  open.extra.delete('open.connectionId');
  armScavenger(server, open, d, d.timeoutMs);
  log(server, `durable open ${open.tree.share.name}/${open.path} disconnected, kept ${Math.round(d.timeoutMs / 1000)} s`);
  if (d.persistent) persist(server, open).catch(() => undefined);
  enforceCap(server);
  return true;
}

function maxDisconnected(server: ServerState): number {
  return server.config.limits?.maxDisconnectedOpens ?? DEFAULT_LIMITS.maxDisconnectedOpens;
}

/**
 * Every table has a bound (DESIGN rule 8): past `max disconnected durable opens` the open that
 * lost its connection longest ago is scavenged (locks, share mode and descriptor freed), durable
 * before persistent ones (a persistent handle is the stronger promise). The oldest, not the one
 * that just disconnected: a client is most likely to come back soon after a network blip, least
 * likely after a long absence, and the spec lets the server drop a disconnected open at any time
 * before its timeout (MS-SMB2 3.3.7.1 is a maximum); refusing durability to new opens instead would
 * punish every live client for one that is gone.
 */
function enforceCap(server: ServerState): void {
  const t = table(server);
  const cap = maxDisconnected(server);
  while (t.disconnected.size > cap) {
    let victim: Open | undefined;
    for (const o of t.disconnected) {
      if (!durableOf(o)?.persistent) {
        victim = o;
        break;
      }
    }
    victim ??= t.disconnected.values().next().value as Open;
    t.disconnected.delete(victim);
    log(server, `durable open ${victim.tree.share.name}/${victim.path} scavenged: more than ${cap} disconnected opens`);
    void scavenge(server, victim);
  }
}

function armScavenger(server: ServerState, open: Open, d: DurableState, ms: number): void {
  if (d.timer) clearTimeout(d.timer);
  d.timer = setTimeout(() => {
    d.timer = undefined;
    if (d.disconnectedAt === undefined) return;
    log(server, `durable open ${open.tree.share.name}/${open.path} expired`);
    void scavenge(server, open);
  }, Math.max(0, ms));
  d.timer.unref?.();
}

/** Closes a disconnected open through the normal close path (locks, delete-on-close, waiters). */
export async function scavenge(server: ServerState, open: Open): Promise<void> {
  try {
    await closeForTeardown(open, server);
  } catch (e) {
    log(server, `scavenging ${open.path}: ${(e as Error).message}`);
  }
}

/** Is the open disconnected (kept for a reconnect)? */
export function isDisconnected(open: Open): boolean {
  return durableOf(open)?.disconnectedAt !== undefined;
}

/** The durable open with this persistent FileId, connected or not. */
/** Every durable/persistent open this server holds, connected or not (cluster join publishes them). */
export function durableOpens(server: ServerState): Open[] {
  return [...table(server).byId.values()];
}

export function durableById(server: ServerState, id: bigint): Open | undefined {
  const o = table(server).byId.get(id);
  return o && !stateOf(o).closed ? o : undefined;
}

/** The durable v2 open a ClientGUID + CreateGuid made (3.3.5.9.10 replay detection). */
export function durableByCreateGuid(server: ServerState, clientGuid: Buffer, createGuid: Buffer): Open | undefined {
  for (const o of table(server).byId.values()) {
    const d = durableOf(o)!;
    if (!stateOf(o).closed && d.createGuid?.equals(createGuid) && d.clientGuid.equals(clientGuid)) return o;
  }
  return undefined;
}

/** Reattaches a disconnected open to the reconnecting session and tree (3.3.5.9.7 / 3.3.5.9.12). */
export function reattach(server: ServerState, open: Open, session: SessionView, tree: ShareTree, connectionId: number): void {
  const d = durableOf(open)!;
  if (d.timer) clearTimeout(d.timer);
  d.timer = undefined;
  table(server).disconnected.delete(open);
  d.disconnectedAt = undefined;
  const o = open as { session: SessionView; tree: ShareTree };
  o.session = session;
  o.tree = tree;
  session.opens.set(open.fileId.volatile, open);
  open.extra.set('open.connectionId', connectionId);
  // ChannelSequence starts over for the new connection (replay.ts keeps it per open).
  open.extra.delete('replay.channelSequence');
}

/**
 * A CREATE by anyone else on a file with disconnected opens: a disconnected open holding an
 * oplock or lease that this open would break cannot answer the break, so it is closed instead
 * (MS-SMB2 3.3.4.6 / 3.3.4.7; Samba invalidates the durable handle). Opens without such caching
 * stay and keep their share mode (a conflicting open gets SHARING_VIOLATION until they expire).
 * The holder is found by the file's identity (DESIGN rule 9), so a hard link or another spelling
 * of the name finds it too; the stat costs nothing while no open is disconnected.
 */
export async function breakDisconnected(server: ServerState, tree: ShareTree, path: string, desiredAccess: number, truncating: boolean): Promise<void> {
  if (table(server).disconnected.size === 0 || !tree.vfs) return;
  const statOnly = (desiredAccess & ~(Access.SYNCHRONIZE | Access.FILE_READ_ATTRIBUTES | Access.FILE_WRITE_ATTRIBUTES | Access.READ_CONTROL)) === 0;
  if (statOnly && !truncating) return;
  const identity = (await tree.vfs.stat(path).catch(() => undefined))?.identity;
  if (identity === undefined) return; // no such file: nothing holds it
  for (const o of opensOfFile(server, tree, path, identity)) {
    if (!isDisconnected(o) || stateOf(o).closed) continue;
    const lease = leaseOf(o);
    const level = o.oplockLevel;
    const caching = lease
      ? (lease.state & (LeaseState.HANDLE | LeaseState.WRITE)) !== 0 || (truncating && lease.state !== 0)
      : level === OplockLevel.BATCH || level === OplockLevel.EXCLUSIVE || (truncating && level === OplockLevel.II);
    if (!caching) continue;
    if (durableOf(o)!.persistent) {
      // A persistent open keeps its share mode (continuous availability): it just stops caching,
      // as it could not answer a break; a conflicting open then meets its share mode.
      if (lease) lease.state &= LeaseState.READ;
      else o.oplockLevel = OplockLevel.NONE;
      continue;
    }
    await scavenge(server, o);
  }
}

// ------------------------------------------------------------------------------------ status

export interface DisconnectedOpenStatus {
  share: string;
  path: string;
  user: string;
  kind: 'durable v1' | 'durable v2' | 'resilient' | 'persistent';
  /** Seconds until the scavenger closes it. */
  remainingSeconds: number;
  locks: number;
  lease: string;
}

/** Disconnected durable/resilient/persistent opens (smbts status; never keys or GUIDs). */
export function disconnectedOpens(server: ServerState, now = Date.now()): DisconnectedOpenStatus[] {
  const out: DisconnectedOpenStatus[] = [];
  for (const o of table(server).byId.values()) {
    const d = durableOf(o)!;
    if (d.disconnectedAt === undefined || stateOf(o).closed) continue;
    const lease = leaseOf(o);
    out.push({
      share: o.tree.share.name, path: o.path, user: d.domain ? `${d.domain}\\${d.user}` : d.user,
      kind: d.persistent ? 'persistent' : d.resilient ? 'resilient' : d.version === 2 ? 'durable v2' : 'durable v1',
      remainingSeconds: Math.max(0, Math.ceil((d.disconnectedAt + d.timeoutMs - now) / 1000)),
      locks: [...stateOf(o).node.locks].filter((l) => l.open === o).length,
      lease: lease ? leaseName(lease.state) : o.oplockLevel === OplockLevel.BATCH ? 'batch' : o.oplockLevel === OplockLevel.EXCLUSIVE ? 'exclusive' : o.oplockLevel === OplockLevel.II ? 'level2' : '-',
    });
  }
  return out;
}

function leaseName(s: number): string {
  const n = (s & LeaseState.READ ? 'R' : '') + (s & LeaseState.HANDLE ? 'H' : '') + (s & LeaseState.WRITE ? 'W' : '');
  return n ? `lease ${n}` : 'lease -';
}

// ------------------------------------------------------------------------------ restart recovery

/** What restorePersistent needs of the server beyond the handler seam (state.ts provides it). */
export interface RestoreHost extends ServerState {
  vfsFor(share: ShareConfig): Vfs | undefined;
  /** Keeps new FileIds above those of restored opens. */
  reserveFileId(id: bigint): void;
}

/**
 * After a restart: every record of every CA share comes back as a disconnected open (file opened
 * again, share mode, locks), reclaimable by DH2C until its timeout counted from now. A record
 * whose file is gone or changed is dropped.
 */
export async function restorePersistent(server: RestoreHost): Promise<number> {
  let n = 0;
  const cluster = clusterOf(server);
  let numbered = false;
  for (const share of server.config.shares) {
    if (!continuouslyAvailable(share)) continue;
    const store = storeFor(server, share);
    if (cluster && !numbered) {
      // FileIds from generation << 40: unique across the nodes sharing the store (etcd.ts).
      // Without it two nodes would write records under one key; so no etcd, no start.
      const gen = await nodeGeneration(store);
      if (gen !== undefined) server.reserveFileId(BigInt(gen) << 40n);
      numbered = true;
    }
    const vfs = server.vfsFor(share);
    let recs: OpenRecord[];
    try {
      recs = await store.listOpens();
    } catch (e) {
      log(server, `persistent state of [${share.name}] unreadable: ${(e as Error).message}`);
      continue;
    }
    for (const r of recs) {
      // Cluster mode: this node takes back its own opens; other nodes' records are theirs (live
      // ones) or come over one by one when their client reconnects here (durableFromStore).
      if (cluster && r.node !== cluster.nodeName) continue;
      try {
        if (!vfs || r.share.toLowerCase() !== share.name.toLowerCase()) throw new Error('share changed');
        await restoreOne(server, share, vfs, r, (id) => server.reserveFileId(id));
        n++;
      } catch (e) {
        log(server, `persistent open ${r.share}/${r.path} not restored: ${(e as Error).message}`);
        await store.deleteOpen(r.fileId).catch(() => undefined);
      }
    }
  }
  return n;
}

async function restoreOne(server: ServerState, share: ShareConfig, vfs: Vfs, r: OpenRecord, reserve: ((id: bigint) => void) | undefined): Promise<Open> {
  const id = BigInt(r.fileId);
  const wantsWrite = (r.grantedAccess & (Access.FILE_WRITE_DATA | Access.FILE_APPEND_DATA)) !== 0;
  const { handle } = await vfs.open(r.path, { create: 'open', read: true, write: wantsWrite && !r.isDirectory, directory: r.isDirectory || undefined });
  const identity = (await handle.stat().catch(() => undefined))?.identity;
  // The file was replaced behind the handle while the server was down: the open is gone.
  if (r.fileKey !== undefined && identity !== r.fileKey) {
    await handle.close().catch(() => undefined);
    throw new Error('the file changed identity');
  }
  const tree: ShareTree = {
    id: 0, share, vfs, isIpc: false, readOnly: share.readOnly, maximalAccess: r.grantedAccess, encrypt: false,
  };
  const session: SessionView = {
    id: 0n, user: r.user, domain: r.domain, guest: false, anonymous: false, dialect: 0x0300, encryptData: false,
    trees: new Map(), opens: new Map(),
  };
  const fileId: FileId = { persistent: id, volatile: id };
  const open: Open = {
    fileId, tree, session, path: handle.path, isDirectory: r.isDirectory, handle, pipe: undefined,
    grantedAccess: r.grantedAccess, shareAccess: r.shareAccess, createOptions: r.createOptions,
    // A lease comes back with the reconnect (the client names its key then); oplocks stay.
    oplockLevel: r.lease ? OplockLevel.NONE : r.oplockLevel, deleteOnClose: r.deleteOnClose, dirCursor: undefined, extra: new Map(),
    fileKey: identity,
  };
  const others = opensOfFile(server, tree, open.path, open.fileKey);
  const node = others.length ? stateOf(others[0]!).node : newNode();
  attachState(open, node);
  reserve?.(id);
  server.registerOpen(open);
  for (const l of r.locks) node.locks.add({ open, offset: BigInt(l.offset), length: BigInt(l.length), exclusive: l.exclusive });
  if (r.lease) open.extra.set('durable.restoredLease', r.lease);
  const d: DurableState = {
    version: r.version, persistent: true, resilient: !!r.resilient, timeoutMs: r.timeoutMs,
    createGuid: r.createGuid ? Buffer.from(r.createGuid, 'hex') : undefined, clientGuid: Buffer.from(r.clientGuid, 'hex'),
    user: r.user, domain: r.domain, disconnectedAt: Date.now(), timer: undefined,
  };
  open.extra.set(KEY, d);
  table(server).byId.set(id, open);
  table(server).disconnected.add(open);
  armScavenger(server, open, d, d.timeoutMs);
  enforceCap(server);
  return open;
}

/**
 * Cluster mode: a DH2C/DHnC (or a replayed DH2Q) for a persistent open this node does not hold
 * looks the record up in the shared store and brings it back here as a disconnected open, so a
 * handle opened on a node that died is reclaimable on this one (docs/cluster.md). The caller then
 * runs the usual reconnect checks; the record names this node from the next persist on.
 */
export async function durableFromStore(server: ServerState, tree: ShareTree, id: bigint | undefined, byCreateGuid?: { clientGuid: Buffer; createGuid: Buffer }): Promise<Open | undefined> {
  if (!clusterOf(server) || !continuouslyAvailable(tree.share) || tree.isIpc || !tree.vfs) return undefined;
  const vfs = tree.vfs;
  const store = storeFor(server, tree.share);
  let rec: OpenRecord | undefined;
  try {
    rec = byCreateGuid
      ? await store.findByCreateGuid(byCreateGuid.clientGuid.toString('hex'), byCreateGuid.createGuid.toString('hex'))
      : await store.getOpen(id!.toString());
  } catch (e) {
    log(server, `persistent open ${id ?? 'by CreateGuid'} lookup: ${(e as Error).message}`);
    return undefined;
  }
  if (!rec || !rec.persistent || rec.share.toLowerCase() !== tree.share.name.toLowerCase()) return undefined;
  const fileId = BigInt(rec.fileId);
  const t = table(server);
  const held = durableById(server, fileId);
  if (held) return held;
  let p = t.fetching.get(fileId);
  if (!p) {
    const r = rec;
    p = restoreOne(server, tree.share, vfs, r, undefined).then(
      (open) => {
        log(server, `persistent open ${r.share}/${r.path} taken over from node ${r.node ?? '?'}`);
        return open;
      },
      (e: unknown) => {
        log(server, `persistent open ${r.share}/${r.path} of node ${r.node ?? '?'} not restored: ${(e as Error).message}`);
        return undefined;
      },
    ).finally(() => t.fetching.delete(fileId));
    t.fetching.set(fileId, p);
  }
  return p;
}

/**
 * Start of a server shutdown. In cluster mode a node that stops (a planned restart, SIGTERM) keeps
 * the records of its persistent opens in the shared store: its clients fail over to another node
 * and reclaim them there with DH2C, or this node takes them back when it starts again. A single
 * node deletes them as it closes the opens, as before.
 */
export function drainPersistent(server: ServerState): void {
  if (clusterOf(server)) table(server).draining = true;
}

/** Server shutdown: scavenger timers stop (the opens are closed by the shutdown itself). */
export async function shutdownDurable(server: ServerState): Promise<void> {
  const t = table(server);
  for (const o of [...t.byId.values()]) {
    const d = durableOf(o);
    if (d?.timer) clearTimeout(d.timer);
    if (d?.disconnectedAt !== undefined) await scavenge(server, o);
  }
  for (const s of t.stores.values()) await s.close().catch(() => undefined);
}

// ------------------------------------------------------------------------------------ resiliency

/**
 * FSCTL_LMR_REQUEST_RESILIENCY (MS-SMB2 3.3.5.15.9): NETWORK_RESILIENCY_REQUEST = Timeout(4) ms |
 * Reserved(4). The open survives a lost connection for Timeout ms (reclaimed with DHnC); returns
 * the NTSTATUS. A timeout above MaxResiliencyTimeout is INVALID_PARAMETER.
 */
export async function requestResiliency(server: ServerState, open: Open, session: SessionView, clientGuid: Buffer, dialect: number, input: Buffer): Promise<number> {
  if (dialect < 0x0210 || open.pipe) return 0xc0000010; // STATUS_INVALID_DEVICE_REQUEST
  if (input.length < 8) return 0xc000000d; // STATUS_INVALID_PARAMETER
  const timeout = input.readUInt32LE(0);
  if (timeout > MAX_RESILIENCY_TIMEOUT_MS) return 0xc000000d;
  const prev = durableOf(open);
  await makeDurable(server, open, {
    version: prev?.version ?? 1, persistent: prev?.persistent ?? false, resilient: true,
    // 0: implementation default (Windows: 120 s).
    timeoutMs: timeout === 0 ? 120_000 : timeout,
    createGuid: prev?.createGuid, clientGuid: prev?.clientGuid ?? Buffer.from(clientGuid),
    user: prev?.user ?? session.user, domain: prev?.domain ?? session.domain,
  });
  return 0;
}
