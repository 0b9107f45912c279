// Oplocks (MS-SMB2 3.3.4.6 break notification, 3.3.5.22.1 acknowledgement; MS-FSA 2.1.5.17 and
// Samba's open.c for which opens break which). Leases: leases.ts.
//
// Model: each Open carries oplockLevel. An exclusive/batch holder is broken (to II or NONE) by a
// conflicting CREATE, which waits (async) until the holder acknowledges, closes, or the break times
// out. Level II holders are broken to NONE by writes/truncates/locks from anyone; those breaks are
// not acknowledged in SMB2 (3.2.5.19.1), so the level drops at once.
import type { Open, ServerState } from './types.js';
import { OplockLevel, Command, Access } from '../wire/constants.js';
import { Writer } from '../wire/buf.js';
import { stateOf, wake, opensLike, onAnyClose } from './open-file.js';
import { breakReadLeases } from './leases.js';
import { clusterOf, isRemoteOpen } from './cluster/hooks.js';

/** How long a CREATE waits for an oplock break acknowledgement (Samba: 35 s). */
export let OPLOCK_BREAK_TIMEOUT_MS = 35_000;
export function setOplockBreakTimeout(ms: number): void {
  OPLOCK_BREAK_TIMEOUT_MS = ms;
}

/** OPLOCK_BREAK notification/response body (MS-SMB2 2.2.23.1 / 2.2.25.1): 24 bytes. */
export function encodeOplockBreak(level: number, open: Open): Buffer {
  return new Writer(24).u16(24).u8(level).u8(0).u32(0)
    .u64(open.fileId.persistent).u64(open.fileId.volatile).finish();
}

/** Open.extra key: id of the connection the open was made on (Open.Connection, MS-SMB2 3.3.1.10). */
export const OPEN_CONNECTION = 'open.connectionId';

function send(server: ServerState, open: Open, level: number): void {
  try {
    const conn = open.extra.get(OPEN_CONNECTION);
    server.notifier.sendUnsolicited(open.session.id, Command.OPLOCK_BREAK, encodeOplockBreak(level, open), typeof conn === 'number' ? conn : undefined);
  } catch {
    /* no live channel: the break times out */
  }
}

/** Start breaking an exclusive/batch oplock to `to` (II or NONE); idempotent while in flight. */
export function startBreak(server: ServerState, open: Open, to: number): void {
  // Another node's open (cluster mode): its node breaks it and publishes the acknowledged level.
  if (isRemoteOpen(open)) return clusterOf(server)?.requestBreak(open, to);
  const st = stateOf(open);
  if (open.oplockLevel === OplockLevel.NONE) return;
  if (open.oplockLevel === OplockLevel.II) {
    if (to === OplockLevel.NONE) {
      open.oplockLevel = OplockLevel.NONE;
      send(server, open, OplockLevel.NONE);
    }
    return;
  }
  if (st.breakingTo !== undefined) {
    // Already breaking: may lower the target (II -> NONE) but the client acks the first one.
    if (to < st.breakingTo) st.breakingTo = to;
    return;
  }
  st.breakingTo = to;
  send(server, open, to);
  // Timeout: the oplock is forcibly dropped (Samba behaviour) and the waiters proceed.
  const t = setTimeout(() => {
    if (st.breakingTo === undefined || st.closed) return;
    open.oplockLevel = OplockLevel.NONE;
    st.breakingTo = undefined;
    wake(st.node.oplockWaiters);
  }, OPLOCK_BREAK_TIMEOUT_MS);
  t.unref?.();
  st.onClose.add(() => clearTimeout(t));
}

/** Acknowledgement from the client; returns the NTSTATUS and the new level. */
export function acknowledge(open: Open, level: number): { status: number; level: number } {
  const st = stateOf(open);
  if (st.breakingTo === undefined) return { status: 0xc00000e3 /* INVALID_OPLOCK_PROTOCOL */, level: open.oplockLevel };
  const target = st.breakingTo;
  st.breakingTo = undefined;
  let status = 0;
  let newLevel = level;
  if (level !== OplockLevel.NONE && level !== OplockLevel.II) {
    status = 0xc00000e3;
    newLevel = OplockLevel.NONE;
  } else if (level > target) {
    // Acknowledging to a higher level than offered (3.3.5.22.1): protocol error, oplock dropped.
    status = 0xc00000e3;
    newLevel = OplockLevel.NONE;
  }
  open.oplockLevel = newLevel;
  wake(st.node.oplockWaiters);
  return { status, level: newLevel };
}

/** Wait until no open in `opens` is mid-break (or the signal aborts). */
export function waitForBreaks(opens: Open[], signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const pending = (): boolean => opens.some((o) => {
      const s = stateOf(o);
      return !s.closed && s.breakingTo !== undefined;
    });
    if (!pending()) return resolve();
    const nodes = new Set(opens.map((o) => stateOf(o).node));
    const check = (): void => {
      if (pending() && !signal?.aborted) return;
      for (const n of nodes) n.oplockWaiters.delete(check);
      resolve();
    };
    for (const n of nodes) n.oplockWaiters.add(check);
    signal?.addEventListener('abort', check, { once: true });
  });
}

/** Is any open of the list still in a break? */
export function anyBreaking(opens: Open[]): boolean {
  return opens.some((o) => stateOf(o).breakingTo !== undefined && !stateOf(o).closed);
}

/** Break every level II oplock on the file of `open` to none (writes, truncation, locks; MS-FSA 2.1.4.12). */
export function breakLevelII(server: ServerState, open: Open): void {
  if (!open.tree.vfs) return;
  // No level II oplock and no lease on the file: nothing to break (skips the scan of the share's opens).
  if (stateOf(open).node.sharedReaders === 0) return;
  const opens = opensLike(server, open);
  for (const o of opens) {
    if (o.oplockLevel === OplockLevel.II) startBreak(server, o, OplockLevel.NONE);
  }
  // READ leases of other keys go to NONE as well (leases.ts).
  breakReadLeases(server, opens, open);
}

/** SYNCHRONIZE / READ_ATTRIBUTES / WRITE_ATTRIBUTES only (Samba is_oplock_stat_open). */
export function isOplockStatAccess(access: number): boolean {
  const bits = Access.SYNCHRONIZE | Access.FILE_READ_ATTRIBUTES | Access.FILE_WRITE_ATTRIBUTES;
  return (access & bits) !== 0 && (access & ~bits) === 0;
}

/**
 * Oplock level to grant a new open (MS-SMB2 3.3.5.9 step "oplock", Samba grant_fsp_oplock_type):
 * exclusive/batch only when no other (non-stat) open exists; else level II if requested.
 * `statOnly`: an attribute-only open of an existing file that does not truncate; it gets no
 * oplock (Samba open_file_ntcreate). Attribute-only opens that create or truncate do get one
 * (smb2.oplock batch9, exclusive5, batch13).
 */
export function grantLevel(requested: number, others: Open[], isDirectory: boolean, statOnly: boolean): number {
  if (isDirectory || statOnly) return OplockLevel.NONE;
  if (requested === OplockLevel.LEASE) return OplockLevel.NONE;
  if (requested !== OplockLevel.II && requested !== OplockLevel.EXCLUSIVE && requested !== OplockLevel.BATCH) {
    return OplockLevel.NONE;
  }
  // Attribute-only opens without an oplock never affect the grant (Samba validate_oplock_types).
  others = others.filter((o) => o.oplockLevel !== OplockLevel.NONE || !isOplockStatAccess(o.grantedAccess));
  if (others.length === 0) return requested;
  // Other opens holding exclusive/batch (still) or mid-break: no oplock.
  if (others.some((o) => o.oplockLevel === OplockLevel.EXCLUSIVE || o.oplockLevel === OplockLevel.BATCH)) {
    return OplockLevel.NONE;
  }
  return OplockLevel.II;
}

onAnyClose((_server, open) => {
  const st = stateOf(open);
  st.breakingTo = undefined;
  open.oplockLevel = OplockLevel.NONE;
});
