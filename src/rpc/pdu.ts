/**
 * DCE/RPC connection-oriented PDUs (C706 chapter 12.6, MS-RPCE 2.2.2).
 * Only little-endian NDR data representation is produced; decoders reject other byte orders.
 */
import { NdrError } from './ndr.js';

export const PType = {
  REQUEST: 0,
  RESPONSE: 2,
  FAULT: 3,
  BIND: 11,
  BIND_ACK: 12,
  BIND_NAK: 13,
  ALTER_CONTEXT: 14,
  ALTER_CONTEXT_RESP: 15,
  AUTH3: 16,
  SHUTDOWN: 17,
  CO_CANCEL: 18,
  ORPHANED: 19,
} as const;

export const PfcFlags = {
  FIRST_FRAG: 0x01,
  LAST_FRAG: 0x02,
  PENDING_CANCEL: 0x04, // SUPPORT_HEADER_SIGN in bind PDUs (MS-RPCE 2.2.2.3)
  CONC_MPX: 0x10,
  DID_NOT_EXECUTE: 0x20,
  MAYBE: 0x40,
  OBJECT_UUID: 0x80,
} as const;

/** Fault / reject status codes (C706 appendix E, MS-RPCE 3.1.1.5.5). */
export const NcaStatus = {
  OP_RNG_ERROR: 0x1c010002,
  UNK_IF: 0x1c010003,
  PROTO_ERROR: 0x1c01000b,
  FAULT_NDR: 0x000006f7, // RPC_X_BAD_STUB_DATA
  FAULT_REMOTE_NO_MEMORY: 0x1c00001b,
  FAULT_ACCESS_DENIED: 0x00000005,
  FAULT_OTHER: 0x00000001,
} as const;

/** p_cont_def_result_t */
export const ContextResult = { ACCEPTANCE: 0, USER_REJECTION: 1, PROVIDER_REJECTION: 2, NEGOTIATE_ACK: 3 } as const;
/** p_provider_reason_t */
export const ProviderReason = {
  NOT_SPECIFIED: 0,
  ABSTRACT_SYNTAX_NOT_SUPPORTED: 1,
  PROPOSED_TRANSFER_SYNTAXES_NOT_SUPPORTED: 2,
  LOCAL_LIMIT_EXCEEDED: 3,
} as const;
/** p_reject_reason_t for bind_nak (C706 12.6.3.1 + MS-RPCE 2.2.2.5) */
export const RejectReason = {
  NOT_SPECIFIED: 0,
  TEMPORARY_CONGESTION: 1,
  LOCAL_LIMIT_EXCEEDED: 2,
  PROTOCOL_VERSION_NOT_SUPPORTED: 4,
  AUTHENTICATION_TYPE_NOT_RECOGNIZED: 8,
  INVALID_CHECKSUM: 9,
} as const;

export interface SyntaxId {
  /** canonical lower-case text form */
  uuid: string;
  versionMajor: number;
  versionMinor: number;
}

export const NDR20_SYNTAX: SyntaxId = { uuid: '8a885d04-1ceb-11c9-9fe8-08002b104860', versionMajor: 2, versionMinor: 0 };
export const NDR64_SYNTAX: SyntaxId = { uuid: '71710533-beba-4937-8319-b5dbef9ccc36', versionMajor: 1, versionMinor: 0 };
/** MS-RPCE 2.2.2.14: bind time feature negotiation; the last 8 bytes carry the feature bitmask. */
export const BTFN_UUID_PREFIX = '6cb71c2c-9812-4540-';

export const HEADER_SIZE = 16;
export const REQUEST_HEADER_SIZE = 24;
export const RESPONSE_HEADER_SIZE = 24;
export const DEFAULT_MAX_FRAG = 4280;

export function uuidToBytes(uuid: string): Buffer {
  const hex = uuid.replace(/-/g, '');
  if (!/^[0-9a-fA-F]{32}$/.test(hex)) throw new Error(`bad uuid ${uuid}`);
  const b = Buffer.from(hex, 'hex');
  // first three fields are little-endian on the wire
  b.subarray(0, 4).reverse();
  b.subarray(4, 6).reverse();
  b.subarray(6, 8).reverse();
  return b;
}

export function uuidFromBytes(b: Buffer): string {
  const c = Buffer.from(b.subarray(0, 16));
  c.subarray(0, 4).reverse();
  c.subarray(4, 6).reverse();
  c.subarray(6, 8).reverse();
  const h = c.toString('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}

export function sameSyntax(a: SyntaxId, b: SyntaxId): boolean {
  return a.uuid === b.uuid && a.versionMajor === b.versionMajor && a.versionMinor === b.versionMinor;
}

export interface PduHeader {
  rpcVersMinor: number;
  ptype: number;
  flags: number;
  drep: number;
  fragLength: number;
  authLength: number;
  callId: number;
}

function fail(msg: string): never {
  throw new NdrError(`RPC PDU: ${msg}`);
}

export function decodeHeader(b: Buffer): PduHeader {
  if (b.length < HEADER_SIZE) fail('short header');
  if (b[0] !== 5) fail(`rpc_vers ${b[0]}`);
  const drep = b.readUInt32LE(4);
  if ((b[4]! & 0xf0) !== 0x10) fail('big-endian data representation not supported');
  const h: PduHeader = {
    rpcVersMinor: b[1]!,
    ptype: b[2]!,
    flags: b[3]!,
    drep,
    fragLength: b.readUInt16LE(8),
    authLength: b.readUInt16LE(10),
    callId: b.readUInt32LE(12),
  };
  if (h.fragLength < HEADER_SIZE) fail('frag_length too small');
  return h;
}

function writeHeader(b: Buffer, ptype: number, flags: number, callId: number, authLength = 0): void {
  b[0] = 5;
  b[1] = 0;
  b[2] = ptype;
  b[3] = flags;
  b.writeUInt32LE(0x00000010, 4); // drep: little-endian, ASCII, IEEE
  b.writeUInt16LE(b.length, 8);
  b.writeUInt16LE(authLength, 10);
  b.writeUInt32LE(callId >>> 0, 12);
}

// ---------------------------------------------------------------- BIND / ALTER_CONTEXT

export interface PresentationContext {
  contextId: number;
  abstractSyntax: SyntaxId;
  transferSyntaxes: SyntaxId[];
}

export interface BindPdu {
  header: PduHeader;
  maxXmitFrag: number;
  maxRecvFrag: number;
  assocGroupId: number;
  contexts: PresentationContext[];
  authVerifier?: Buffer;
}

function readSyntax(b: Buffer, off: number): SyntaxId {
  if (off + 20 > b.length) fail('short syntax id');
  return { uuid: uuidFromBytes(b.subarray(off, off + 16)), versionMajor: b.readUInt16LE(off + 16), versionMinor: b.readUInt16LE(off + 18) };
}
function writeSyntax(b: Buffer, off: number, s: SyntaxId): void {
  uuidToBytes(s.uuid).copy(b, off);
  b.writeUInt16LE(s.versionMajor, off + 16);
  b.writeUInt16LE(s.versionMinor, off + 18);
}

/** Decode BIND or ALTER_CONTEXT (same layout, C706 12.6.4.3 / 12.6.4.1). */
export function decodeBind(pdu: Buffer): BindPdu {
  const header = decodeHeader(pdu);
  if (header.ptype !== PType.BIND && header.ptype !== PType.ALTER_CONTEXT) fail('not a bind');
  const end = header.fragLength - (header.authLength ? header.authLength + 8 : 0);
  if (pdu.length < header.fragLength || end < 28) fail('short bind');
  const b = pdu.subarray(0, end);
  const n = b[24]!;
  let off = 28;
  const contexts: PresentationContext[] = [];
  for (let i = 0; i < n; i++) {
    if (off + 4 + 20 > b.length) fail('short context element');
    const contextId = b.readUInt16LE(off);
    const nts = b[off + 2]!;
    const abstractSyntax = readSyntax(b, off + 4);
    off += 24;
    const transferSyntaxes: SyntaxId[] = [];
    for (let j = 0; j < nts; j++) {
      transferSyntaxes.push(readSyntax(b, off));
      off += 20;
    }
    contexts.push({ contextId, abstractSyntax, transferSyntaxes });
  }
  return {
    header,
    maxXmitFrag: b.readUInt16LE(16),
    maxRecvFrag: b.readUInt16LE(18),
    assocGroupId: b.readUInt32LE(20),
    contexts,
    authVerifier: header.authLength ? pdu.subarray(end, header.fragLength) : undefined,
  };
}

export function encodeBind(p: {
  callId: number; maxXmitFrag?: number; maxRecvFrag?: number; assocGroupId?: number; contexts: PresentationContext[]; alter?: boolean;
}): Buffer {
  const len = 28 + p.contexts.reduce((a, c) => a + 24 + 20 * c.transferSyntaxes.length, 0);
  const b = Buffer.alloc(len);
  writeHeader(b, p.alter ? PType.ALTER_CONTEXT : PType.BIND, PfcFlags.FIRST_FRAG | PfcFlags.LAST_FRAG, p.callId);
  b.writeUInt16LE(p.maxXmitFrag ?? DEFAULT_MAX_FRAG, 16);
  b.writeUInt16LE(p.maxRecvFrag ?? DEFAULT_MAX_FRAG, 18);
  b.writeUInt32LE(p.assocGroupId ?? 0, 20);
  b[24] = p.contexts.length;
  let off = 28;
  for (const c of p.contexts) {
    b.writeUInt16LE(c.contextId, off);
    b[off + 2] = c.transferSyntaxes.length;
    writeSyntax(b, off + 4, c.abstractSyntax);
    off += 24;
    for (const t of c.transferSyntaxes) {
      writeSyntax(b, off, t);
      off += 20;
    }
  }
  return b;
}

export interface ContextResultEntry {
  result: number;
  reason: number;
  transferSyntax: SyntaxId;
}

export interface BindAckPdu {
  header: PduHeader;
  maxXmitFrag: number;
  maxRecvFrag: number;
  assocGroupId: number;
  secondaryAddress: string;
  results: ContextResultEntry[];
}

export const NULL_SYNTAX: SyntaxId = { uuid: '00000000-0000-0000-0000-000000000000', versionMajor: 0, versionMinor: 0 };

/** Encode BIND_ACK or ALTER_CONTEXT_RESP (C706 12.6.4.4 / 12.6.4.2). */
export function encodeBindAck(p: {
  callId: number; maxXmitFrag: number; maxRecvFrag: number; assocGroupId: number; secondaryAddress: string;
  results: ContextResultEntry[]; alter?: boolean;
}): Buffer {
  // sec_addr: port_any_t { u16 length; char port_spec[length] } — length includes the NUL, 0 when empty.
  const addr = p.secondaryAddress ? Buffer.from(p.secondaryAddress + '\0', 'latin1') : Buffer.alloc(0);
  let off = 24 + 2 + addr.length;
  off = (off + 3) & ~3; // align p_result_list to 4
  const len = off + 4 + 24 * p.results.length;
  const b = Buffer.alloc(len);
  writeHeader(b, p.alter ? PType.ALTER_CONTEXT_RESP : PType.BIND_ACK, PfcFlags.FIRST_FRAG | PfcFlags.LAST_FRAG, p.callId);
  b.writeUInt16LE(p.maxXmitFrag, 16);
  b.writeUInt16LE(p.maxRecvFrag, 18);
  b.writeUInt32LE(p.assocGroupId >>> 0, 20);
  b.writeUInt16LE(addr.length, 24);
  addr.copy(b, 26);
  b[off] = p.results.length;
  off += 4;
  for (const r of p.results) {
    b.writeUInt16LE(r.result, off);
    b.writeUInt16LE(r.reason, off + 2);
    writeSyntax(b, off + 4, r.transferSyntax);
    off += 24;
  }
  return b;
}

export function decodeBindAck(pdu: Buffer): BindAckPdu {
  const header = decodeHeader(pdu);
  if (header.ptype !== PType.BIND_ACK && header.ptype !== PType.ALTER_CONTEXT_RESP) fail('not a bind_ack');
  const b = pdu.subarray(0, Math.min(pdu.length, header.fragLength - (header.authLength ? header.authLength + 8 : 0)));
  if (b.length < 28) fail('short bind_ack');
  const alen = b.readUInt16LE(24);
  if (26 + alen > b.length) fail('bad sec_addr');
  const secondaryAddress = b.toString('latin1', 26, 26 + Math.max(0, alen - 1));
  let off = (26 + alen + 3) & ~3;
  if (off + 4 > b.length) fail('short result list');
  const n = b[off]!;
  off += 4;
  const results: ContextResultEntry[] = [];
  for (let i = 0; i < n; i++) {
    if (off + 24 > b.length) fail('short result');
    results.push({ result: b.readUInt16LE(off), reason: b.readUInt16LE(off + 2), transferSyntax: readSyntax(b, off + 4) });
    off += 24;
  }
  return { header, maxXmitFrag: b.readUInt16LE(16), maxRecvFrag: b.readUInt16LE(18), assocGroupId: b.readUInt32LE(20), secondaryAddress, results };
}

/** BIND_NAK (C706 12.6.4.5): reject reason + supported protocol versions (5.0). */
export function encodeBindNak(callId: number, reason: number): Buffer {
  const b = Buffer.alloc(24);
  writeHeader(b, PType.BIND_NAK, PfcFlags.FIRST_FRAG | PfcFlags.LAST_FRAG, callId);
  b.writeUInt16LE(reason, 16);
  b[18] = 1; // n_protocols
  b[19] = 5; // major
  b[20] = 0; // minor
  return b;
}

// ---------------------------------------------------------------- REQUEST / RESPONSE / FAULT

export interface RequestPdu {
  header: PduHeader;
  allocHint: number;
  contextId: number;
  opnum: number;
  objectUuid?: string;
  stub: Buffer;
}

export function decodeRequest(pdu: Buffer): RequestPdu {
  const header = decodeHeader(pdu);
  if (header.ptype !== PType.REQUEST) fail('not a request');
  if (pdu.length < header.fragLength || header.fragLength < REQUEST_HEADER_SIZE) fail('short request');
  let off = REQUEST_HEADER_SIZE;
  let objectUuid: string | undefined;
  if (header.flags & PfcFlags.OBJECT_UUID) {
    if (header.fragLength < off + 16) fail('short object uuid');
    objectUuid = uuidFromBytes(pdu.subarray(off, off + 16));
    off += 16;
  }
  let end = header.fragLength;
  if (header.authLength) {
    // auth verifier: sec_trailer (8 bytes) + auth_value; the stub is padded by auth_pad_length
    end -= header.authLength + 8;
    if (end < off) fail('bad auth_length');
    end -= pdu[end + 2]!; // auth_pad_length
    if (end < off) fail('bad auth_pad_length');
  }
  return {
    header,
    allocHint: pdu.readUInt32LE(16),
    contextId: pdu.readUInt16LE(20),
    opnum: pdu.readUInt16LE(22),
    objectUuid,
    stub: pdu.subarray(off, end),
  };
}

/** Encode a request as one or more fragments of at most maxFrag bytes. */
export function encodeRequest(p: { callId: number; contextId: number; opnum: number; stub: Buffer; maxFrag?: number }): Buffer[] {
  return fragment(PType.REQUEST, p.callId, p.stub, p.maxFrag ?? DEFAULT_MAX_FRAG, (b, first) => {
    void first;
    b.writeUInt16LE(p.contextId, 20);
    b.writeUInt16LE(p.opnum, 22);
  });
}

export interface ResponsePdu {
  header: PduHeader;
  allocHint: number;
  contextId: number;
  cancelCount: number;
  stub: Buffer;
}

export function decodeResponse(pdu: Buffer): ResponsePdu {
  const header = decodeHeader(pdu);
  if (header.ptype !== PType.RESPONSE) fail('not a response');
  if (pdu.length < header.fragLength || header.fragLength < RESPONSE_HEADER_SIZE) fail('short response');
  return {
    header,
    allocHint: pdu.readUInt32LE(16),
    contextId: pdu.readUInt16LE(20),
    cancelCount: pdu[22]!,
    stub: pdu.subarray(RESPONSE_HEADER_SIZE, header.fragLength - (header.authLength ? header.authLength + 8 : 0)),
  };
}

/** Encode a response; fragments so that no PDU exceeds maxFrag (the client's max_recv_frag). */
export function encodeResponse(p: { callId: number; contextId: number; stub: Buffer; maxFrag?: number }): Buffer[] {
  return fragment(PType.RESPONSE, p.callId, p.stub, p.maxFrag ?? DEFAULT_MAX_FRAG, (b) => {
    b.writeUInt16LE(p.contextId, 20);
    b[22] = 0;
  });
}

function fragment(ptype: number, callId: number, stub: Buffer, maxFrag: number, fill: (b: Buffer, first: boolean) => void): Buffer[] {
  // stub bytes per fragment, kept a multiple of 8 so NDR alignment inside the stub is unaffected
  const per = Math.max(8, (Math.max(maxFrag, 32) - 24) & ~7);
  const out: Buffer[] = [];
  let off = 0;
  do {
    const n = Math.min(per, stub.length - off);
    const b = Buffer.alloc(24 + n);
    const first = off === 0;
    const last = off + n >= stub.length;
    writeHeader(b, ptype, (first ? PfcFlags.FIRST_FRAG : 0) | (last ? PfcFlags.LAST_FRAG : 0), callId);
    b.writeUInt32LE(stub.length - off, 16); // alloc_hint: remaining stub bytes
    fill(b, first);
    stub.copy(b, 24, off, off + n);
    out.push(b);
    off += n;
  } while (off < stub.length);
  return out;
}

export interface FaultPdu {
  header: PduHeader;
  contextId: number;
  status: number;
}

/** FAULT (C706 12.6.4.7). */
export function encodeFault(callId: number, contextId: number, status: number, didNotExecute = true): Buffer {
  const b = Buffer.alloc(32);
  writeHeader(b, PType.FAULT, PfcFlags.FIRST_FRAG | PfcFlags.LAST_FRAG | (didNotExecute ? PfcFlags.DID_NOT_EXECUTE : 0), callId);
  b.writeUInt32LE(32, 16); // alloc_hint
  b.writeUInt16LE(contextId, 20);
  b[22] = 0;
  b.writeUInt32LE(status >>> 0, 24);
  return b;
}

export function decodeFault(pdu: Buffer): FaultPdu {
  const header = decodeHeader(pdu);
  if (header.ptype !== PType.FAULT || pdu.length < 28) fail('not a fault');
  return { header, contextId: pdu.readUInt16LE(20), status: pdu.readUInt32LE(24) };
}
