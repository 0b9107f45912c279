// Byte-range locks (MS-SMB2 3.3.5.14, MS-FSA 2.1.5.7/2.1.5.8; conflict rules as Samba's brl code).
import type { Open } from './types.js';
import { stateOf, wake, type ByteLock, type FileNode } from './open-file.js';
import { Status } from '../wire/status.js';

const U64_MAX = 0xffffffffffffffffn;
export const STATUS_INVALID_LOCK_RANGE = 0xc00001a1;

/** Two ranges overlap (zero-length ranges overlap a range strictly containing their offset). */
export function overlaps(aOff: bigint, aLen: bigint, bOff: bigint, bLen: bigint): boolean {
  if (aLen !== 0n && aOff === bOff && aLen === bLen) return true;
  const aEnd = aOff + aLen;
  const bEnd = bOff + bLen;
  if (aOff >= bEnd || bOff >= aEnd) return false;
  return true;
}

/** Does a new lock conflict with an existing one? (Samba brl_conflict) */
function lockConflict(existing: ByteLock, open: Open, offset: bigint, length: bigint, exclusive: boolean): boolean {
  if (!existing.exclusive && !exclusive) return false;
  // A shared lock may stack on an exclusive lock of the same open.
  if (existing.exclusive && !exclusive && existing.open === open) return false;
  return overlaps(existing.offset, existing.length, offset, length);
}

export function validRange(offset: bigint, length: bigint): boolean {
  // MS-SMB2 3.3.5.14: offset + length wrapping past 2^64 is STATUS_INVALID_LOCK_RANGE.
  return length === 0n || offset + length - 1n <= U64_MAX;
}

/** Try to take a lock; returns SUCCESS or LOCK_NOT_GRANTED. */
export function tryLock(node: FileNode, open: Open, offset: bigint, length: bigint, exclusive: boolean): number {
  for (const l of node.locks) {
    if (lockConflict(l, open, offset, length, exclusive)) return Status.LOCK_NOT_GRANTED;
  }
  node.locks.push({ open, offset, length, exclusive });
  return Status.SUCCESS;
}

/** Remove a lock held by `open` with exactly this range; RANGE_NOT_LOCKED if none. */
export function unlock(node: FileNode, open: Open, offset: bigint, length: bigint): number {
  let idx = node.locks.findIndex((l) => l.open === open && l.offset === offset && l.length === length && l.exclusive);
  if (idx < 0) idx = node.locks.findIndex((l) => l.open === open && l.offset === offset && l.length === length);
  if (idx < 0) return Status.RANGE_NOT_LOCKED;
  node.locks.splice(idx, 1);
  wake(node.lockWaiters);
  return Status.SUCCESS;
}

/**
 * May `open` read (write=false) or write (write=true) [offset, offset+length)? (Samba brl_conflict_other)
 * Other opens' exclusive locks block reads; any other lock blocks writes; the open's own shared lock blocks its writes.
 */
export function ioAllowed(open: Open, offset: bigint, length: bigint, write: boolean): boolean {
  if (length === 0n) return true;
  const node = stateOf(open).node;
  for (const l of node.locks) {
    if (!l.exclusive && !write) continue;
    if (l.open === open && !(write && !l.exclusive)) continue;
    if (overlaps(l.offset, l.length, offset, length)) return false;
  }
  return true;
}
