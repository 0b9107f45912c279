// Typed payloads of the create contexts (MS-SMB2 2.2.13.2.x requests, 2.2.14.2.x responses).
// Each helper encodes/decodes the context DATA only; put it in a { name, data } entry of create.ts.
import { Reader, Writer, WireError } from './buf.js';
import { readFileId, writeFileId, type FileId } from './common.js';
import { encodeFullEaList, decodeFullEaList, type FullEa } from './ea.js';

export const CreateContextName = {
  EA_BUFFER: 'ExtA', SD_BUFFER: 'SecD', DURABLE_HANDLE_REQUEST: 'DHnQ', DURABLE_HANDLE_RECONNECT: 'DHnC',
  ALLOCATION_SIZE: 'AlSi', QUERY_MAXIMAL_ACCESS: 'MxAc', TIMEWARP_TOKEN: 'TWrp', QUERY_ON_DISK_ID: 'QFid',
  REQUEST_LEASE: 'RqLs', DURABLE_HANDLE_REQUEST_V2: 'DH2Q', DURABLE_HANDLE_RECONNECT_V2: 'DH2C',
  /** 16-byte binary tags, as latin1 strings. */
  APP_INSTANCE_ID: Buffer.from('45bca66aefa7f74a9008fa462e144d74', 'hex').toString('latin1'),
  APP_INSTANCE_VERSION: Buffer.from('b982d0b73b56074fa07b524a8116a010', 'hex').toString('latin1'),
  /** SMB3 POSIX extensions create context (same GUID as the negotiate context data). */
  POSIX: Buffer.from('93ad25509cb411e7b42383de968bcd7c', 'hex').toString('latin1'),
} as const;

function need(data: Buffer, n: number, what: string): Reader {
  if (data.length < n) throw new WireError(`truncated ${what} create context`);
  return new Reader(data);
}

// --- MxAc (2.2.13.2.5 / 2.2.14.2.5)
export function encodeMxAcRequest(timestamp?: bigint): Buffer {
  return timestamp === undefined ? Buffer.alloc(0) : new Writer(8).u64(timestamp).finish();
}
export function decodeMxAcRequest(data: Buffer): { timestamp?: bigint } {
  if (data.length === 0) return {};
  return { timestamp: need(data, 8, 'MxAc').u64() };
}
export interface MxAcResponse { queryStatus: number; maximalAccess: number }
export function encodeMxAcResponse(v: MxAcResponse): Buffer {
  return new Writer(8).u32(v.queryStatus).u32(v.maximalAccess).finish();
}
export function decodeMxAcResponse(data: Buffer): MxAcResponse {
  const r = need(data, 8, 'MxAc');
  return { queryStatus: r.u32(), maximalAccess: r.u32() };
}

// --- QFid (2.2.13.2.9 request: empty; 2.2.14.2.9 response: DiskFileId 32 bytes)
export function encodeQFidResponse(diskFileId: Buffer): Buffer {
  const out = Buffer.alloc(32);
  diskFileId.copy(out, 0, 0, 32);
  return out;
}
/** Convenience: Samba/Windows fill DiskFileId with the 8-byte file id then the 8-byte volume id. */
export function makeDiskFileId(fileId: bigint, volumeId: bigint): Buffer {
  return new Writer(32).u64(fileId).u64(volumeId).zeros(16).finish();
}
export function decodeQFidResponse(data: Buffer): { diskFileId: Buffer } {
  need(data, 32, 'QFid');
  return { diskFileId: data.subarray(0, 32) };
}

// --- AlSi (2.2.13.2.6): AllocationSize u64. TWrp (2.2.13.2.7): Timestamp u64.
export function encodeAlSi(allocationSize: bigint): Buffer { return new Writer(8).u64(allocationSize).finish(); }
export function decodeAlSi(data: Buffer): bigint { return need(data, 8, 'AlSi').u64(); }
export function encodeTWrp(timestamp: bigint): Buffer { return new Writer(8).u64(timestamp).finish(); }
export function decodeTWrp(data: Buffer): bigint { return need(data, 8, 'TWrp').u64(); }

// --- DHnQ (2.2.13.2.3: 16 reserved bytes; response 2.2.14.2.3: 8 reserved bytes)
export function encodeDHnQRequest(): Buffer { return Buffer.alloc(16); }
export function decodeDHnQRequest(data: Buffer): Record<string, never> { need(data, 16, 'DHnQ'); return {}; }
export function encodeDHnQResponse(): Buffer { return Buffer.alloc(8); }
// --- DHnC (2.2.13.2.4): Data = SMB2_FILEID (16 bytes)
export function encodeDHnC(fileId: FileId): Buffer { return writeFileId(new Writer(16), fileId).finish(); }
export function decodeDHnC(data: Buffer): { fileId: FileId } { return { fileId: readFileId(need(data, 16, 'DHnC')) }; }

// --- DH2Q (2.2.13.2.11): Timeout(4) | Flags(4) | Reserved(8) | CreateGuid(16); response (2.2.14.2.12): Timeout | Flags
export const DurableV2Flags = { PERSISTENT: 0x2 } as const;
export interface DH2QRequest { timeout: number; flags: number; createGuid: Buffer }
export function encodeDH2QRequest(v: DH2QRequest): Buffer {
  return new Writer(32).u32(v.timeout).u32(v.flags).u64(0n).bytes(v.createGuid.subarray(0, 16)).finish();
}
export function decodeDH2QRequest(data: Buffer): DH2QRequest {
  const r = need(data, 32, 'DH2Q');
  const timeout = r.u32();
  const flags = r.u32();
  r.skip(8);
  return { timeout, flags, createGuid: r.guid() };
}
export interface DH2QResponse { timeout: number; flags: number }
export function encodeDH2QResponse(v: DH2QResponse): Buffer { return new Writer(8).u32(v.timeout).u32(v.flags).finish(); }
export function decodeDH2QResponse(data: Buffer): DH2QResponse {
  const r = need(data, 8, 'DH2Q');
  return { timeout: r.u32(), flags: r.u32() };
}
// --- DH2C (2.2.13.2.12): FileId(16) | CreateGuid(16) | Flags(4)
export interface DH2C { fileId: FileId; createGuid: Buffer; flags: number }
export function encodeDH2C(v: DH2C): Buffer {
  return writeFileId(new Writer(36), v.fileId).bytes(v.createGuid.subarray(0, 16)).u32(v.flags).finish();
}
export function decodeDH2C(data: Buffer): DH2C {
  const r = need(data, 36, 'DH2C');
  return { fileId: readFileId(r), createGuid: r.guid(), flags: r.u32() };
}

// --- RqLs lease v1 (2.2.13.2.8, 32 bytes) / v2 (2.2.13.2.10, 52 bytes); responses use the same layouts
//     (2.2.14.2.10 / 2.2.14.2.11). v1: LeaseKey(16) | LeaseState(4) | LeaseFlags(4) | LeaseDuration(8).
//     v2 adds ParentLeaseKey(16) | Epoch(2) | Reserved(2).
export const LeaseFlags = { BREAK_IN_PROGRESS: 0x2, PARENT_LEASE_KEY_SET: 0x4 } as const;
export interface Lease {
  version: 1 | 2;
  leaseKey: Buffer;
  leaseState: number;
  leaseFlags: number;
  leaseDuration: bigint;
  /** v2 only. */
  parentLeaseKey?: Buffer;
  /** v2 only. */
  epoch?: number;
}
export function encodeLease(v: Lease): Buffer {
  const w = new Writer(52).bytes(v.leaseKey.subarray(0, 16)).u32(v.leaseState).u32(v.leaseFlags).u64(v.leaseDuration);
  if (v.version === 2) {
    const p = v.parentLeaseKey ?? Buffer.alloc(16);
    w.bytes(p.subarray(0, 16)).u16(v.epoch ?? 0).u16(0);
  }
  return w.finish();
}
/** Decodes v1 (32 bytes) or v2 (52 bytes) by length. */
export function decodeLease(data: Buffer): Lease {
  if (data.length !== 32 && data.length < 52) throw new WireError('bad RqLs create context length');
  const r = new Reader(data);
  const leaseKey = r.guid();
  const leaseState = r.u32();
  const leaseFlags = r.u32();
  const leaseDuration = r.u64();
  if (data.length === 32) return { version: 1, leaseKey, leaseState, leaseFlags, leaseDuration };
  const parentLeaseKey = r.guid();
  const epoch = r.u16();
  return { version: 2, leaseKey, leaseState, leaseFlags, leaseDuration, parentLeaseKey, epoch };
}
export const encodeLeaseRequest = encodeLease;
export const decodeLeaseRequest = decodeLease;
export const encodeLeaseResponse = encodeLease;
export const decodeLeaseResponse = decodeLease;

// --- ExtA (2.2.13.2.1): FILE_FULL_EA_INFORMATION list
export function encodeExtA(list: FullEa[]): Buffer { return encodeFullEaList(list); }
export function decodeExtA(data: Buffer): FullEa[] { return decodeFullEaList(data); }

// --- SecD (2.2.13.2.2): a self-relative security descriptor (see security.ts), kept raw here.
// --- POSIX (SMB3 POSIX extensions): request data = Mode u32; response kept raw.
export function encodePosixCreateRequest(mode: number): Buffer { return new Writer(4).u32(mode).finish(); }
export function decodePosixCreateRequest(data: Buffer): { mode: number } { return { mode: need(data, 4, 'POSIX').u32() }; }
