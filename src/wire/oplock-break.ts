// OPLOCK_BREAK command (MS-SMB2 2.2.23-2.2.25). Oplock forms (notification 2.2.23.1, acknowledgment
// 2.2.24.1, response 2.2.25.1) share one 24-byte layout; lease forms are the break notification
// (2.2.23.2, StructureSize 44) and acknowledgment/response (2.2.24.2 / 2.2.25.2, StructureSize 36).
// decodeOplockBreak tells them apart by StructureSize. Notifications are sent with MessageId
// 0xFFFFFFFFFFFFFFFF, SessionId 0 (oplock) and TreeId 0.
import { Reader, Writer, WireError } from './buf.js';
import { HEADER_SIZE } from './header.js';
import { bodyReader, readFileId, writeFileId, type FileId } from './common.js';

export interface OplockBreak {
  oplockLevel: number;
  fileId: FileId;
}

/** SMB2_NOTIFY_BREAK_LEASE_FLAG_ACK_REQUIRED. */
export const LEASE_BREAK_FLAG_ACK_REQUIRED = 0x1;

export interface LeaseBreakNotification {
  newEpoch: number;
  flags: number;
  leaseKey: Buffer;
  currentLeaseState: number;
  newLeaseState: number;
  breakReason: number;
  accessMaskHint: number;
  shareMaskHint: number;
}

export interface LeaseBreakAck {
  flags: number;
  leaseKey: Buffer;
  leaseState: number;
  leaseDuration: bigint;
}

// Oplock: StructureSize 24 | OplockLevel(1) | Reserved(1) | Reserved2(4) | FileId(16)
export function encodeOplockBreak(v: OplockBreak): Buffer {
  return writeFileId(new Writer(24).u16(24).u8(v.oplockLevel).u8(0).u32(0), v.fileId).finish();
}
function readOplock(r: Reader): OplockBreak {
  const oplockLevel = r.u8();
  r.skip(5);
  return { oplockLevel, fileId: readFileId(r) };
}
export function decodeOplockBreakBody(msg: Buffer): OplockBreak {
  return readOplock(bodyReader(msg, 24, 'OPLOCK_BREAK'));
}

// Lease break notification: StructureSize 44 | NewEpoch(2) | Flags(4) | LeaseKey(16)
// | CurrentLeaseState(4) | NewLeaseState(4) | BreakReason(4) | AccessMaskHint(4) | ShareMaskHint(4)
export function encodeLeaseBreakNotification(v: LeaseBreakNotification): Buffer {
  return new Writer(44).u16(44).u16(v.newEpoch).u32(v.flags).bytes(v.leaseKey.subarray(0, 16))
    .u32(v.currentLeaseState).u32(v.newLeaseState).u32(v.breakReason).u32(v.accessMaskHint).u32(v.shareMaskHint).finish();
}
function readLeaseNotification(r: Reader): LeaseBreakNotification {
  return {
    newEpoch: r.u16(), flags: r.u32(), leaseKey: r.guid(), currentLeaseState: r.u32(), newLeaseState: r.u32(),
    breakReason: r.u32(), accessMaskHint: r.u32(), shareMaskHint: r.u32(),
  };
}
export function decodeLeaseBreakNotification(msg: Buffer): LeaseBreakNotification {
  return readLeaseNotification(bodyReader(msg, 44, 'lease break notification'));
}

// Lease break ack/response: StructureSize 36 | Reserved(2) | Flags(4) | LeaseKey(16) | LeaseState(4) | LeaseDuration(8)
export function encodeLeaseBreakAck(v: LeaseBreakAck): Buffer {
  return new Writer(36).u16(36).u16(0).u32(v.flags).bytes(v.leaseKey.subarray(0, 16)).u32(v.leaseState).u64(v.leaseDuration).finish();
}
function readLeaseAck(r: Reader): LeaseBreakAck {
  r.skip(2);
  return { flags: r.u32(), leaseKey: r.guid(), leaseState: r.u32(), leaseDuration: r.u64() };
}
export function decodeLeaseBreakAck(msg: Buffer): LeaseBreakAck {
  return readLeaseAck(bodyReader(msg, 36, 'lease break ack'));
}

export type OplockBreakMessage =
  | ({ kind: 'oplock' } & OplockBreak)
  | ({ kind: 'lease-notification' } & LeaseBreakNotification)
  | ({ kind: 'lease-ack' } & LeaseBreakAck);

/** Decodes any OPLOCK_BREAK body (request or response) by its StructureSize. */
export function decodeOplockBreak(msg: Buffer): OplockBreakMessage {
  if (msg.length < HEADER_SIZE + 2) throw new WireError('truncated OPLOCK_BREAK');
  switch (msg.readUInt16LE(HEADER_SIZE)) {
    case 24: return { kind: 'oplock', ...decodeOplockBreakBody(msg) };
    case 44: return { kind: 'lease-notification', ...decodeLeaseBreakNotification(msg) };
    case 36: return { kind: 'lease-ack', ...decodeLeaseBreakAck(msg) };
    default: throw new WireError('bad OPLOCK_BREAK StructureSize');
  }
}

// Convention names: the request is the acknowledgment (oplock or lease), the response mirrors it.
export type OplockBreakRequest = OplockBreakMessage;
export type OplockBreakResponse = OplockBreakMessage;
export function encodeOplockBreakRequest(v: OplockBreakMessage): Buffer {
  switch (v.kind) {
    case 'oplock': return encodeOplockBreak(v);
    case 'lease-notification': return encodeLeaseBreakNotification(v);
    case 'lease-ack': return encodeLeaseBreakAck(v);
  }
}
export const encodeOplockBreakResponse = encodeOplockBreakRequest;
export const decodeOplockBreakRequest = decodeOplockBreak;
export const decodeOplockBreakResponse = decodeOplockBreak;
