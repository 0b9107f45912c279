// Leases (MS-SMB2 3.3.5.9.8 / 3.3.5.9.11 grant, 3.3.4.7 break, 3.3.5.22.2 acknowledgement), with
// the grant/break choices of Windows and Samba (smbtorture smb2.lease).
//
// Model: one server-wide table keyed by ClientGuid + LeaseKey (DESIGN.md rule 2). A lease belongs
// to one file (share + case-folded path) and is shared by every open that names its key. Opens
// with a lease carry oplockLevel LEASE (0xff) and point at their Lease in Open.extra.
//  - A new open from another key (or without a lease) strips WRITE from holders; a sharing
//    conflict strips HANDLE; a truncating open breaks to NONE.
//  - Breaks from a state with W or H need an acknowledgement (the CREATE waits for it, as for
//    oplocks, up to the break timeout); a break from R drops at once.
//  - Writes, truncation and locks from other leases break READ (to NONE).
// Directory leases are not offered (no SMB2_GLOBAL_CAP_DIRECTORY_LEASING).
import type { Open, ServerState } from './types.js';
import { Command, LeaseState, OplockLevel, Access } from '../wire/constants.js';
import { Status } from '../wire/status.js';
import { encodeLeaseBreakNotification, LEASE_BREAK_FLAG_ACK_REQUIRED } from '../wire/oplock-break.js';
import { CreateContextName, decodeLease, encodeLease, LeaseFlags, type Lease as LeaseCtx } from '../wire/create-contexts.js';
import type { CreateContext } from '../wire/create.js';
import { foldCase } from '../vfs/path.js';
import { stateOf, setOplockLevel, wake, onAnyClose, type FileNode } from './open-file.js';

const R = LeaseState.READ;
const H = LeaseState.HANDLE;
const W = LeaseState.WRITE;

/** Lease break acknowledgement timeout (Samba: 35 s, like oplocks). */
export let LEASE_BREAK_TIMEOUT_MS = 35_000;
export function setLeaseBreakTimeout(ms: number): void {
  LEASE_BREAK_TIMEOUT_MS = ms;
}

export interface Lease {
  readonly id: string;
  readonly clientGuid: Buffer;
  readonly key: Buffer;
  version: 1 | 2;
  epoch: number;
  state: number;
  /** Break in flight waiting for an acknowledgement: the state offered. */
  breakingTo: number | undefined;
  /** Lower target asked for while a break was in flight; broken to once the client acks (Samba breaking_to_required). */
  pendingTo: number | undefined;
  timer: NodeJS.Timeout | undefined;
  parentKey: Buffer | undefined;
  readonly opens: Set<Open>;
  node: FileNode | undefined;
  /**
   * A lease of another cluster node's open, mirrored (cluster/coordinator.ts): a break of it is
   * asked of the owning node, which runs breakLease on the real lease.
   */
  remote?: (to: number) => void;
}

const OPEN_LEASE = 'lease';
const tables = new WeakMap<ServerState, Map<string, Lease>>();
function table(server: ServerState): Map<string, Lease> {
  let t = tables.get(server);
  if (!t) tables.set(server, (t = new Map()));
  return t;
}
function leaseId(clientGuid: Buffer, key: Buffer): string {
  return clientGuid.toString('hex') + ':' + key.toString('hex');
}
function fileKey(share: string, path: string): string {
  return foldCase(share) + '\0' + foldCase(path);
}
/** The leased file, as its opens name it now (a rename moves the lease along, smb2.lease.v2_rename). */
function fileOf(l: Lease): string | undefined {
  for (const o of l.opens) return fileKey(o.tree.share.name, o.path);
  return undefined;
}

/** Attaches a mirrored remote lease to a mirrored remote open (cluster/coordinator.ts). */
export function attachRemoteLease(open: Open, l: Lease): void {
  open.extra.set(OPEN_LEASE, l);
}

export function leaseOf(open: Open): Lease | undefined {
  return open.extra.get(OPEN_LEASE) as Lease | undefined;
}
/** Current lease state of an open (0 when it holds no lease). */
export function leaseStateOf(open: Open): number {
  return leaseOf(open)?.state ?? 0;
}

/** A lease request of a CREATE (RqLs v1 or v2), if the dialect allows leases. */
export function leaseRequestOf(contexts: CreateContext[], dialect: number): LeaseCtx | undefined {
  if (dialect < 0x0210) return undefined;
  const c = contexts.find((x) => x.name === CreateContextName.REQUEST_LEASE);
  if (!c) return undefined;
  const l = decodeLease(c.data);
  // v2 leases belong to SMB 3.x; a 2.1 client sending one is treated as v1 (Samba).
  if (l.version === 2 && dialect < 0x0300) return { version: 1, leaseKey: l.leaseKey, leaseState: l.leaseState, leaseFlags: 0, leaseDuration: 0n };
  return l;
}

/**
 * 3.3.5.9.8: a lease key already used for another file of this client is INVALID_PARAMETER
 * (checked before anything is created).
 */
export function leaseKeyClash(server: ServerState, clientGuid: Buffer, req: LeaseCtx, share: string, path: string): boolean {
  const l = table(server).get(leaseId(clientGuid, req.leaseKey));
  return !!l && l.opens.size > 0 && fileOf(l) !== fileKey(share, path);
}

/** Requested state reduced to what Windows grants: R, RH, RW, RWH or nothing. */
function normalize(s: number): number {
  if (!(s & R)) return 0;
  return s & (R | H | W);
}

function isOplockStat(o: Open): boolean {
  const bits = Access.SYNCHRONIZE | Access.FILE_READ_ATTRIBUTES | Access.FILE_WRITE_ATTRIBUTES;
  return (o.grantedAccess & ~bits) === 0;
}

/** Opens that count against a grant to `id`: other leases/opens, not attribute-only ones without caching. */
function rivals(others: Open[], id: string | undefined): Open[] {
  return others.filter((o) => {
    if (stateOf(o).closed) return false;
    const l = leaseOf(o);
    if (l && l.id === id) return false;
    if (o.oplockLevel === OplockLevel.NONE && isOplockStat(o)) return false;
    if (l && l.state === 0 && isOplockStat(o)) return false;
    return true;
  });
}

/** What may be granted next to `rivals`: no W beside other opens, no H beside non-lease oplocks. */
function limit(state: number, rv: Open[]): number {
  if (rv.length) state &= ~W;
  if (rv.some((o) => o.oplockLevel === OplockLevel.II || o.oplockLevel === OplockLevel.EXCLUSIVE || o.oplockLevel === OplockLevel.BATCH)) {
    state &= ~H;
  }
  return state;
}

function send(server: ServerState, l: Lease, from: number, to: number, ack: boolean): void {
  const body = encodeLeaseBreakNotification({
    newEpoch: l.version === 2 ? l.epoch : 0, flags: ack ? LEASE_BREAK_FLAG_ACK_REQUIRED : 0, leaseKey: l.key,
    currentLeaseState: from, newLeaseState: to, breakReason: 0, accessMaskHint: 0, shareMaskHint: 0,
  });
  // 3.3.4.7: any live channel of a session that holds an open of the lease; the open's own
  // connection first.
  for (const o of l.opens) {
    try {
      const conn = o.extra.get('open.connectionId');
      server.notifier.sendUnsolicited(o.session.id, Command.OPLOCK_BREAK, body, typeof conn === 'number' ? conn : undefined);
      return;
    } catch {
      /* try the next open's session */
    }
  }
}

function wakeLease(l: Lease): void {
  if (l.node) wake(l.node.oplockWaiters);
}

/** Break lease `l` down to `to` (a subset of its state); idempotent while a break is in flight. */
export function breakLease(server: ServerState, l: Lease, to: number, chained = false): void {
  if (l.remote) return l.remote(to);
  if (l.breakingTo !== undefined) {
    // Already breaking: the client acks the first offer; a lower target waits for that ack
    // (smb2.lease.breaking3).
    if ((l.breakingTo & to) !== l.breakingTo) l.pendingTo = (l.pendingTo ?? l.breakingTo) & to;
    return;
  }
  to &= l.state;
  if (to === l.state) return;
  const from = l.state;
  // The epoch moves with a new break, not with the follow-up breaks of one break chain.
  if (l.version === 2 && !chained) l.epoch = (l.epoch + 1) & 0xffff;
  // 3.3.4.7: an acknowledgement is required when W or H is being given up... or held.
  const ack = (from & (W | H)) !== 0;
  if (!ack) {
    l.state = to;
    send(server, l, from, to, false);
    return;
  }
  l.breakingTo = to;
  send(server, l, from, to, true);
  l.timer = setTimeout(() => {
    l.timer = undefined;
    if (l.breakingTo === undefined) return;
    // Not acknowledged in time: the lease is gone to NONE (smb2.lease.timeout, as Windows/Samba).
    l.state = 0;
    l.breakingTo = undefined;
    l.pendingTo = undefined;
    wakeLease(l);
  }, LEASE_BREAK_TIMEOUT_MS);
  l.timer.unref?.();
}

function leasesOf(opens: Open[], except: string | undefined): Lease[] {
  const out = new Set<Lease>();
  for (const o of opens) {
    const l = leaseOf(o);
    if (l && l.id !== except && !stateOf(o).closed) out.add(l);
  }
  return [...out];
}

/**
 * Breaks for a CREATE against the other opens of the file (Samba delay_for_oplock): W goes for any
 * non-attribute-only open, H when the open would fail on a sharing conflict, everything when it
 * truncates. Returns the leases whose acknowledgement the CREATE must wait for.
 */
export function breakLeasesForCreate(
  server: ServerState, others: Open[], clientGuid: Buffer, req: LeaseCtx | undefined,
  o: { statOnly: boolean; sharingConflict: boolean; truncating: boolean; waited?: boolean },
): Lease[] {
  const mine = req ? leaseId(clientGuid, req.leaseKey) : undefined;
  const wait: Lease[] = [];
  for (const l of leasesOf(others, mine)) {
    const from = l.state;
    let to = l.state;
    if (o.truncating) to = 0;
    else if (o.statOnly) continue;
    else if (o.sharingConflict) to &= ~H;
    else to &= ~W;
    breakLease(server, l, to);
    // A fresh CREATE waits while W (H on a sharing conflict) is being given up; a break of H or R
    // alone does not hold it up (smb2.lease.breaking4). A CREATE that already waited keeps
    // waiting until the whole break chain is acknowledged (smb2.lease.breaking3).
    const blocks = o.waited || (from & (o.sharingConflict ? (W | H) : W)) !== 0;
    if (l.breakingTo !== undefined && blocks) wait.push(l);
  }
  return wait;
}

/** Break every READ lease on the file other than the writer's own to NONE (writes, truncation, locks). */
export function breakReadLeases(server: ServerState, opens: Open[], writer: Open): void {
  const own = leaseOf(writer)?.id;
  for (const l of leasesOf(opens, own)) {
    if (l.state & R) breakLease(server, l, 0);
  }
}

/**
 * Breaks for a rename of a file: the other leases on it lose HANDLE caching (Samba
 * delay_rename_for_lease_break; smb2.lease.v2_rename, rename_wait). Returns the leases whose
 * acknowledgement the rename waits for.
 */
export function breakHandleLeasesForRename(server: ServerState, others: Open[], renamer: Open): Lease[] {
  const wait: Lease[] = [];
  for (const l of leasesOf(others, leaseOf(renamer)?.id)) {
    if (!(l.state & H)) continue;
    breakLease(server, l, l.state & ~H);
    if (l.breakingTo !== undefined) wait.push(l);
  }
  return wait;
}

/** Is any of the leases still waiting for an acknowledgement? */
export function leasesBreaking(ls: Lease[]): boolean {
  return ls.some((l) => l.breakingTo !== undefined && l.opens.size > 0);
}

export function waitForLeaseBreaks(ls: Lease[], signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (!leasesBreaking(ls)) return resolve();
    const nodes = new Set<FileNode>();
    for (const l of ls) if (l.node) nodes.add(l.node);
    const check = (): void => {
      if (leasesBreaking(ls) && !signal?.aborted) return;
      for (const n of nodes) n.oplockWaiters.delete(check);
      resolve();
    };
    for (const n of nodes) n.oplockWaiters.add(check);
    signal?.addEventListener('abort', check, { once: true });
  });
}

/** Oplock for a non-lease open beside leases: none next to a HANDLE lease (smb2.lease.oplock). */
export function oplockBesideLeases(level: number, others: Open[]): number {
  if (level === OplockLevel.NONE) return level;
  const ls = leasesOf(others, undefined);
  if (ls.some((l) => (l.state | (l.breakingTo ?? 0)) & H)) return OplockLevel.NONE;
  if (ls.length && level !== OplockLevel.II) return OplockLevel.II;
  return level;
}

/**
 * Grant a lease to a new open (3.3.5.9.8 / 3.3.5.9.11). `others` are the other opens of the file.
 * Returns the response context and attaches the open to its lease.
 */
export function grantLease(server: ServerState, open: Open, clientGuid: Buffer, req: LeaseCtx, others: Open[], node: FileNode): CreateContext {
  const t = table(server);
  const id = leaseId(clientGuid, req.leaseKey);
  const file = fileKey(open.tree.share.name, open.path);
  let l = t.get(id);
  if (l && (l.opens.size === 0 || fileOf(l) !== file)) {
    clearTimeout(l.timer);
    t.delete(id);
    l = undefined;
  }
  const rv = rivals(others, id);
  const want = normalize(req.leaseState);
  if (!l) {
    l = {
      id, clientGuid: Buffer.from(clientGuid), key: Buffer.from(req.leaseKey),
      version: req.version === 2 ? 2 : 1, epoch: req.version === 2 ? (req.epoch ?? 0) : 0,
      state: 0, breakingTo: undefined, pendingTo: undefined, timer: undefined,
      parentKey: req.version === 2 && (req.leaseFlags & LeaseFlags.PARENT_LEASE_KEY_SET) ? Buffer.from(req.parentLeaseKey!) : undefined,
      opens: new Set(), node,
    };
    t.set(id, l);
    const g = limit(want, rv);
    if (g !== 0) {
      l.state = g;
      if (l.version === 2) l.epoch = (l.epoch + 1) & 0xffff;
    }
  } else if (l.breakingTo === undefined) {
    // Upgrade only to a strict superset of the current state that can be held beside the other
    // opens as asked; else nothing changes (smb2.lease.upgrade2/upgrade3).
    const g = limit(want, rv);
    if (g === want && (g & l.state) === l.state && g !== l.state) {
      l.state = g;
      if (l.version === 2) l.epoch = (l.epoch + 1) & 0xffff;
    }
  }
  l.node = node;
  l.opens.add(open);
  open.extra.set(OPEN_LEASE, l);
  setOplockLevel(open, OplockLevel.LEASE);
  return responseContext(l);
}

function responseContext(l: Lease): CreateContext {
  let flags = l.breakingTo !== undefined ? LeaseFlags.BREAK_IN_PROGRESS : 0;
  if (l.version === 2 && l.parentKey) flags |= LeaseFlags.PARENT_LEASE_KEY_SET;
  const v: LeaseCtx = l.version === 2
    ? { version: 2, leaseKey: l.key, leaseState: l.state, leaseFlags: flags, leaseDuration: 0n, parentLeaseKey: l.parentKey ?? Buffer.alloc(16), epoch: l.epoch }
    : { version: 1, leaseKey: l.key, leaseState: l.state, leaseFlags: flags, leaseDuration: 0n };
  return { name: CreateContextName.REQUEST_LEASE, data: encodeLease(v) };
}

/** LEASE_BREAK acknowledgement (3.3.5.22.2). */
export function acknowledgeLease(server: ServerState, clientGuid: Buffer, key: Buffer, state: number): { status: number; state: number } {
  const l = table(server).get(leaseId(clientGuid, key));
  if (!l || l.opens.size === 0) return { status: Status.OBJECT_NAME_NOT_FOUND, state: 0 };
  if (l.breakingTo === undefined) return { status: Status.UNSUCCESSFUL, state: l.state };
  if (state & ~l.breakingTo) return { status: Status.REQUEST_NOT_ACCEPTED, state: l.state };
  clearTimeout(l.timer);
  l.timer = undefined;
  l.state = state;
  l.breakingTo = undefined;
  const pending = l.pendingTo;
  l.pendingTo = undefined;
  if (pending !== undefined && (state & pending) !== state) {
    // A lower target was asked for meanwhile: give up H/W first, then R (as Samba: RH -> R -> none).
    const next = state & (W | H) ? (pending | R) & state : pending & state;
    breakLease(server, l, next, true);
    if (next !== (pending & state)) {
      if (l.breakingTo !== undefined) l.pendingTo = pending & state;
      else breakLease(server, l, pending & state, true);
    }
  }
  wakeLease(l);
  return { status: Status.SUCCESS, state };
}

onAnyClose((server, open) => {
  const l = leaseOf(open);
  if (!l) return;
  l.opens.delete(open);
  if (l.opens.size === 0) {
    clearTimeout(l.timer);
    l.timer = undefined;
    l.breakingTo = undefined;
    l.pendingTo = undefined;
    const t = table(server);
    if (t.get(l.id) === l) t.delete(l.id);
  }
  wakeLease(l);
});
