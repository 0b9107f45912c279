// LOCK request/response (MS-SMB2 2.2.26 / 2.2.27) with SMB2_LOCK_ELEMENT entries (2.2.26.1).
// LockSequenceNumber (low 4 bits) and LockSequenceIndex (high 28 bits) share one u32 (2.1+).
import { Writer, WireError } from './buf.js';
import { bodyReader, readFileId, writeFileId, type FileId } from './common.js';

export interface LockElement {
  offset: bigint;
  length: bigint;
  /** SMB2_LOCKFLAG_SHARED_LOCK 0x1, EXCLUSIVE 0x2, UNLOCK 0x4, FAIL_IMMEDIATELY 0x10. */
  flags: number;
}

export interface LockRequest {
  lockSequenceNumber: number;
  lockSequenceIndex: number;
  fileId: FileId;
  locks: LockElement[];
}
export type LockResponse = Record<string, never>;

// StructureSize 48 | LockCount(2) | LockSequence(4) | FileId(16) | Locks (24 bytes each)
export function encodeLockRequest(req: LockRequest): Buffer {
  const w = new Writer(24 + 24 * req.locks.length);
  w.u16(48).u16(req.locks.length).u32(((req.lockSequenceIndex << 4) | (req.lockSequenceNumber & 0xf)) >>> 0);
  writeFileId(w, req.fileId);
  for (const l of req.locks) w.u64(l.offset).u64(l.length).u32(l.flags).u32(0);
  return w.finish();
}

export function decodeLockRequest(msg: Buffer): LockRequest {
  const r = bodyReader(msg, 48, 'LOCK request');
  const count = r.u16();
  const seq = r.u32();
  const fileId = readFileId(r);
  if (count === 0) throw new WireError('LOCK with LockCount 0');
  r.need(count * 24, 'lock elements');
  const locks: LockElement[] = [];
  for (let i = 0; i < count; i++) {
    const offset = r.u64();
    const length = r.u64();
    const flags = r.u32();
    r.skip(4);
    locks.push({ offset, length, flags });
  }
  return { lockSequenceNumber: seq & 0xf, lockSequenceIndex: seq >>> 4, fileId, locks };
}

export function encodeLockResponse(_res: LockResponse = {}): Buffer {
  return new Writer(4).u16(4).u16(0).finish();
}
export function decodeLockResponse(msg: Buffer): LockResponse {
  bodyReader(msg, 4, 'LOCK response');
  return {};
}
