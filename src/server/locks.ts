// Byte-range locks (MS-SMB2 3.3.5.14, MS-FSA 2.1.5.7/2.1.5.8; conflict rules as Samba's brl code).
// The per-file table with O(log n) conflict checks is lock-table.ts.
import type { Open } from './types.js';
import { stateOf, wake, type FileNode } from './open-file.js';
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

export function validRange(offset: bigint, length: bigint): boolean {
  // MS-SMB2 3.3.5.14: offset + length wrapping past 2^64 is STATUS_INVALID_LOCK_RANGE.
  return length === 0n || offset + length - 1n <= U64_MAX;
}

/**
 * Try to take a lock; returns SUCCESS, LOCK_NOT_GRANTED, or INSUFFICIENT_RESOURCES when the file
 * already holds `maxLocks` locks (config "max locks per file").
 */
export function tryLock(
  node: FileNode, open: Open, offset: bigint, length: bigint, exclusive: boolean, maxLocks = Infinity,
): number {
  if (node.locks.size >= maxLocks) return Status.INSUFFICIENT_RESOURCES;
  if (node.locks.conflicts(open, offset, length, exclusive)) return Status.LOCK_NOT_GRANTED;
  node.locks.add({ open, offset, length, exclusive });
  return Status.SUCCESS;
}

/** Remove a lock held by `open` with exactly this range; RANGE_NOT_LOCKED if none. */
export function unlock(node: FileNode, open: Open, offset: bigint, length: bigint): number {
  if (!node.locks.remove(open, offset, length)) return Status.RANGE_NOT_LOCKED;
  wake(node.lockWaiters);
  return Status.SUCCESS;
}

/**
 * May `open` read (write=false) or write (write=true) [offset, offset+length)? (Samba brl_conflict_other)
 * Other opens' exclusive locks block reads; any other lock blocks writes; the open's own shared lock blocks its writes.
 */
export function ioAllowed(open: Open, offset: bigint, length: bigint, write: boolean): boolean {
  if (length === 0n) return true;
  return !stateOf(open).node.locks.blocksIo(open, offset, length, write);
}
