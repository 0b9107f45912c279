// NEGOTIATE request/response (MS-SMB2 2.2.3 / 2.2.4) with SMB 3.1.1 negotiate contexts (2.2.3.1.x).
// Contexts start on 8-byte boundaries; NegotiateContextOffset counts from the SMB2 header start.
import { HEADER_SIZE } from './header.js';
import { Reader, Writer, WireError, utf16, fromUtf16 } from './buf.js';
import { Dialect, NegotiateContextType as T } from './constants.js';
import { bodyReader, msgView, hdrOff, align8 } from './common.js';

/** Data of the SMB2_POSIX_EXTENSIONS_AVAILABLE negotiate context (also the POSIX create context tag). */
export const POSIX_EXTENSIONS_GUID = Buffer.from('93ad25509cb411e7b42383de968bcd7c', 'hex');
/** SMB2_TRANSPORT_CAPABILITIES Flags (2.2.3.1.5). */
export const TRANSPORT_ACCEPT_TRANSPORT_LEVEL_SECURITY = 0x1;
/** SMB2_COMPRESSION_CAPABILITIES Flags (2.2.3.1.3). */
export const COMPRESSION_CAPABILITIES_FLAG_CHAINED = 0x1;

export type NegotiateContext =
  | { kind: 'preauth'; hashAlgorithms: number[]; salt: Buffer }
  | { kind: 'encryption'; ciphers: number[] }
  | { kind: 'compression'; algorithms: number[]; flags: number }
  | { kind: 'netname'; netName: string }
  | { kind: 'transport'; flags: number }
  | { kind: 'signing'; signingAlgorithms: number[] }
  | { kind: 'posix'; data: Buffer }
  /** Any other context type (e.g. RDMA transform), kept as it came. */
  | { kind: 'raw'; type: number; data: Buffer };

export interface NegotiateRequest {
  securityMode: number;
  capabilities: number;
  clientGuid: Buffer;
  dialects: number[];
  /** Present (possibly empty) when dialects include 3.1.1. */
  contexts: NegotiateContext[];
  /** ClientStartTime for pre-3.1.1 requests (the same 8 bytes as the context offset/count). */
  clientStartTime?: bigint;
}

export interface NegotiateResponse {
  securityMode: number;
  dialectRevision: number;
  serverGuid: Buffer;
  capabilities: number;
  maxTransactSize: number;
  maxReadSize: number;
  maxWriteSize: number;
  systemTime: bigint;
  serverStartTime: bigint;
  securityBuffer: Buffer;
  contexts: NegotiateContext[];
}

function contextType(c: NegotiateContext): number {
  switch (c.kind) {
    case 'preauth': return T.PREAUTH_INTEGRITY_CAPABILITIES;
    case 'encryption': return T.ENCRYPTION_CAPABILITIES;
    case 'compression': return T.COMPRESSION_CAPABILITIES;
    case 'netname': return T.NETNAME_NEGOTIATE_CONTEXT_ID;
    case 'transport': return T.TRANSPORT_CAPABILITIES;
    case 'signing': return T.SIGNING_CAPABILITIES;
    case 'posix': return T.POSIX_EXTENSIONS;
    case 'raw': return c.type;
  }
}

function contextData(c: NegotiateContext): Buffer {
  const w = new Writer(64);
  switch (c.kind) {
    case 'preauth':
      w.u16(c.hashAlgorithms.length).u16(c.salt.length);
      for (const h of c.hashAlgorithms) w.u16(h);
      w.bytes(c.salt);
      break;
    case 'encryption':
      w.u16(c.ciphers.length);
      for (const x of c.ciphers) w.u16(x);
      break;
    case 'compression':
      w.u16(c.algorithms.length).u16(0).u32(c.flags);
      for (const x of c.algorithms) w.u16(x);
      break;
    case 'netname': w.bytes(utf16(c.netName)); break;
    case 'transport': w.u32(c.flags); break;
    case 'signing':
      w.u16(c.signingAlgorithms.length);
      for (const x of c.signingAlgorithms) w.u16(x);
      break;
    case 'posix':
    case 'raw': w.bytes(c.data); break;
  }
  return w.finish();
}

function u16List(r: Reader, n: number): number[] {
  r.need(n * 2, 'algorithm list');
  const out: number[] = [];
  for (let i = 0; i < n; i++) out.push(r.u16());
  return out;
}

function parseContext(type: number, data: Buffer): NegotiateContext {
  const r = new Reader(data);
  switch (type) {
    case T.PREAUTH_INTEGRITY_CAPABILITIES: {
      const n = r.u16();
      const saltLen = r.u16();
      const hashAlgorithms = u16List(r, n);
      return { kind: 'preauth', hashAlgorithms, salt: r.bytes(saltLen) };
    }
    case T.ENCRYPTION_CAPABILITIES: return { kind: 'encryption', ciphers: u16List(r, r.u16()) };
    case T.COMPRESSION_CAPABILITIES: {
      const n = r.u16();
      r.skip(2);
      const flags = r.u32();
      return { kind: 'compression', algorithms: u16List(r, n), flags };
    }
    case T.NETNAME_NEGOTIATE_CONTEXT_ID: return { kind: 'netname', netName: fromUtf16(data).replace(/\0+$/, '') };
    case T.TRANSPORT_CAPABILITIES: return { kind: 'transport', flags: r.u32() };
    case T.SIGNING_CAPABILITIES: return { kind: 'signing', signingAlgorithms: u16List(r, r.u16()) };
    case T.POSIX_EXTENSIONS: return { kind: 'posix', data };
    default: return { kind: 'raw', type, data };
  }
}

/** Writes contexts (each 8-byte aligned relative to the header, i.e. to `w` start + HEADER_SIZE). */
function writeContexts(w: Writer, contexts: NegotiateContext[]): void {
  contexts.forEach((c, i) => {
    if (i > 0) w.align(8); // HEADER_SIZE is a multiple of 8, so body alignment == message alignment
    const data = contextData(c);
    w.u16(contextType(c)).u16(data.length).u32(0).bytes(data);
  });
}

/** Parses `count` contexts starting at header-relative `offset` of `msg`. */
export function decodeNegotiateContexts(msg: Buffer, offset: number, count: number): NegotiateContext[] {
  const out: NegotiateContext[] = [];
  if (count === 0) return out;
  if (offset < HEADER_SIZE || offset > msg.length) throw new WireError('NegotiateContextOffset out of range');
  const r = new Reader(msg, offset);
  for (let i = 0; i < count; i++) {
    if (i > 0) {
      const pad = align8(r.pos) - r.pos;
      r.skip(Math.min(pad, r.remaining)); // tolerate a final context that ends unaligned
    }
    const type = r.u16();
    const len = r.u16();
    r.skip(4);
    out.push(parseContext(type, r.bytes(len)));
  }
  return out;
}

export function findContext<K extends NegotiateContext['kind']>(
  list: NegotiateContext[], kind: K,
): Extract<NegotiateContext, { kind: K }> | undefined {
  return list.find((c) => c.kind === kind) as Extract<NegotiateContext, { kind: K }> | undefined;
}

// Request: StructureSize 36 | DialectCount | SecurityMode | Reserved | Capabilities | ClientGuid(16)
//          | NegotiateContextOffset(4) NegotiateContextCount(2) Reserved2(2) (or ClientStartTime 8)
//          | Dialects | pad8 | contexts
export function encodeNegotiateRequest(req: NegotiateRequest): Buffer {
  const w = new Writer(256);
  w.u16(36).u16(req.dialects.length).u16(req.securityMode).u16(0).u32(req.capabilities).bytes(req.clientGuid.subarray(0, 16));
  if (req.clientGuid.length < 16) w.zeros(16 - req.clientGuid.length);
  const ctxAt = w.pos;
  w.u64(req.contexts.length ? 0n : (req.clientStartTime ?? 0n));
  for (const d of req.dialects) w.u16(d);
  if (req.contexts.length) {
    w.align(8);
    w.setU32(ctxAt, hdrOff(w.pos));
    w.setU16(ctxAt + 4, req.contexts.length);
    writeContexts(w, req.contexts);
  }
  return w.finish();
}

export function decodeNegotiateRequest(msg: Buffer): NegotiateRequest {
  const r = bodyReader(msg, 36, 'NEGOTIATE request');
  const dialectCount = r.u16();
  const securityMode = r.u16();
  r.skip(2);
  const capabilities = r.u32();
  const clientGuid = r.guid();
  const ctxOffset = r.u32();
  const ctxCount = r.u16();
  r.skip(2);
  if (dialectCount === 0) throw new WireError('NEGOTIATE with no dialects');
  const dialects = u16List(r, dialectCount);
  if (dialects.includes(Dialect.SMB3_11)) {
    return { securityMode, capabilities, clientGuid, dialects, contexts: decodeNegotiateContexts(msg, ctxOffset, ctxCount) };
  }
  const clientStartTime = msg.readBigUInt64LE(HEADER_SIZE + 28);
  return { securityMode, capabilities, clientGuid, dialects, contexts: [], clientStartTime };
}

// Response: StructureSize 65 | SecurityMode | DialectRevision | NegotiateContextCount | ServerGuid(16)
//           | Capabilities | MaxTransactSize | MaxReadSize | MaxWriteSize | SystemTime(8)
//           | ServerStartTime(8) | SecurityBufferOffset(2) | SecurityBufferLength(2)
//           | NegotiateContextOffset(4) | Buffer | pad8 | contexts
export function encodeNegotiateResponse(res: NegotiateResponse): Buffer {
  const w = new Writer(256 + res.securityBuffer.length);
  const withCtx = res.dialectRevision === Dialect.SMB3_11 && res.contexts.length > 0;
  w.u16(65).u16(res.securityMode).u16(res.dialectRevision).u16(withCtx ? res.contexts.length : 0);
  w.bytes(res.serverGuid.subarray(0, 16));
  if (res.serverGuid.length < 16) w.zeros(16 - res.serverGuid.length);
  w.u32(res.capabilities).u32(res.maxTransactSize).u32(res.maxReadSize).u32(res.maxWriteSize);
  w.u64(res.systemTime).u64(res.serverStartTime);
  w.u16(hdrOff(64)).u16(res.securityBuffer.length);
  const ctxAt = w.pos;
  w.u32(0);
  w.bytes(res.securityBuffer);
  if (withCtx) {
    w.align(8);
    w.setU32(ctxAt, hdrOff(w.pos));
    writeContexts(w, res.contexts);
  } else if (res.securityBuffer.length === 0) {
    w.zeros(1); // StructureSize 65 counts one Buffer byte
  }
  return w.finish();
}

export function decodeNegotiateResponse(msg: Buffer): NegotiateResponse {
  const r = bodyReader(msg, 65, 'NEGOTIATE response');
  const securityMode = r.u16();
  const dialectRevision = r.u16();
  const ctxCount = r.u16();
  const serverGuid = r.guid();
  const capabilities = r.u32();
  const maxTransactSize = r.u32();
  const maxReadSize = r.u32();
  const maxWriteSize = r.u32();
  const systemTime = r.u64();
  const serverStartTime = r.u64();
  const secOff = r.u16();
  const secLen = r.u16();
  const ctxOffset = r.u32();
  const securityBuffer = msgView(msg, secOff, secLen, 'security buffer');
  const contexts = dialectRevision === Dialect.SMB3_11 ? decodeNegotiateContexts(msg, ctxOffset, ctxCount) : [];
  return {
    securityMode, dialectRevision, serverGuid, capabilities, maxTransactSize, maxReadSize, maxWriteSize,
    systemTime, serverStartTime, securityBuffer, contexts,
  };
}
