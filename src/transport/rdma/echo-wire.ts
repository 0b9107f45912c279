// The seed-004 test protocol (an echo-like protocol to test an RDMA transport without SMB): pure
// codec. Every field is the seed's, little-endian and packed. The seed gives no opcode field, and
// a receiver cannot tell an ECHO from a SETUP-LBUF without one, so each message starts with a
// __le32 opcode (a reply carries its request's opcode | REPLY) followed by the seed's REQ_HEADER
// {__le32 message_id} or REP_HEADER {__le32 message_id; __le32 status} and body.
import { Reader, WireError, Writer } from '../../wire/buf.js';
import type { RdmaDescriptor } from './provider.js';

export const Op = { ECHO: 1, SETUP_LBUF: 2, READ_LBUF_TO_DESCS: 3, WRITE_DESCS_TO_LBUF: 4 } as const;
export type OpCode = (typeof Op)[keyof typeof Op];
export const REPLY = 0x80000000;
/** flags: the reply is sent with invalidate of descs[0].token (RDMA Send With Invalidate). */
export const SEND_WITH_INV = 0x00000001;

/** DESCRIPTOR {__le64 iova; __le32 rkey; __le32 length}. */
export const DESCRIPTOR_SIZE = 16;
/** Descriptors per request we accept (the seed sets no limit; a bound keeps a request small). */
export const MAX_DESCS = 256;

export type EchoRequest =
  | { op: typeof Op.ECHO; messageId: number; echoFactor: number; maxResponse: number; data: Buffer }
  | { op: typeof Op.SETUP_LBUF; messageId: number; lbufIdx: number; size: number; nonce: bigint }
  | { op: typeof Op.READ_LBUF_TO_DESCS | typeof Op.WRITE_DESCS_TO_LBUF; messageId: number; lbufIdx: number; flags: number; offset: number; length: number; descs: RdmaDescriptor[] };

export type EchoReply =
  | { op: typeof Op.ECHO; messageId: number; status: number; data: Buffer }
  | { op: typeof Op.SETUP_LBUF; messageId: number; status: number }
  | { op: typeof Op.READ_LBUF_TO_DESCS; messageId: number; status: number; nread: number }
  | { op: typeof Op.WRITE_DESCS_TO_LBUF; messageId: number; status: number; nwritten: number };

export function writeDescriptor(w: Writer, d: RdmaDescriptor): void {
  w.u64(d.offset).u32(d.token).u32(d.length);
}

export function readDescriptor(r: Reader): RdmaDescriptor {
  return { offset: r.u64(), token: r.u32(), length: r.u32() };
}

export function encodeRequest(m: EchoRequest): Buffer {
  const w = new Writer(64 + (m.op === Op.ECHO ? m.data.length : 0));
  w.u32(m.op).u32(m.messageId);
  switch (m.op) {
    case Op.ECHO:
      w.u16(m.echoFactor).u32(m.data.length).u32(m.maxResponse).bytes(m.data);
      break;
    case Op.SETUP_LBUF:
      w.u32(m.lbufIdx).u32(m.size).u64(m.nonce);
      break;
    default:
      w.u32(m.lbufIdx).u32(m.flags).u32(m.offset).u32(m.length).u32(m.descs.length);
      for (const d of m.descs) writeDescriptor(w, d);
  }
  return w.finish();
}

export function decodeRequest(b: Buffer): EchoRequest {
  const r = new Reader(b);
  const op = r.u32();
  const messageId = r.u32();
  switch (op) {
    case Op.ECHO: {
      const echoFactor = r.u16();
      const len = r.u32();
      const maxResponse = r.u32();
      return { op, messageId, echoFactor, maxResponse, data: r.bytes(len) };
    }
    case Op.SETUP_LBUF:
      return { op, messageId, lbufIdx: r.u32(), size: r.u32(), nonce: r.u64() };
    case Op.READ_LBUF_TO_DESCS:
    case Op.WRITE_DESCS_TO_LBUF: {
      const lbufIdx = r.u32(), flags = r.u32(), offset = r.u32(), length = r.u32(), n = r.u32();
      if (n > MAX_DESCS) throw new WireError(`${n} descriptors (at most ${MAX_DESCS})`);
      r.need(n * DESCRIPTOR_SIZE, 'descriptors');
      const descs: RdmaDescriptor[] = [];
      for (let i = 0; i < n; i++) descs.push(readDescriptor(r));
      return { op, messageId, lbufIdx, flags, offset, length, descs };
    }
    default:
      throw new WireError(`unknown opcode ${op}`);
  }
}

export function encodeReply(m: EchoReply): Buffer {
  const w = new Writer(32 + (m.op === Op.ECHO ? m.data.length : 0));
  w.u32((m.op | REPLY) >>> 0).u32(m.messageId).u32(m.status);
  if (m.op === Op.ECHO) w.u32(m.data.length).bytes(m.data);
  else if (m.op === Op.READ_LBUF_TO_DESCS) w.u32(m.nread);
  else if (m.op === Op.WRITE_DESCS_TO_LBUF) w.u32(m.nwritten);
  return w.finish();
}

export function decodeReply(b: Buffer): EchoReply {
  const r = new Reader(b);
  const word = r.u32();
  if ((word & REPLY) === 0) throw new WireError('not a reply');
  const op = (word & ~REPLY) >>> 0;
  const messageId = r.u32();
  const status = r.u32();
  switch (op) {
    case Op.ECHO: return { op, messageId, status, data: r.bytes(r.u32()) };
    case Op.SETUP_LBUF: return { op, messageId, status };
    case Op.READ_LBUF_TO_DESCS: return { op, messageId, status, nread: r.u32() };
    case Op.WRITE_DESCS_TO_LBUF: return { op, messageId, status, nwritten: r.u32() };
    default: throw new WireError(`unknown reply opcode ${op}`);
  }
}

/**
 * Fills buf with the seed's LBUF pattern: for (ofs = 0; ofs < size; ofs += 8)
 * PUSH_UINT64_LE(buf, ofs, nonce ^ ofs). `base` is buf's offset within the LBUF (a multiple of
 * 8); a tail shorter than 8 bytes gets the low bytes of its u64.
 */
export function fillPattern(buf: Buffer, nonce: bigint, base = 0): void {
  if (base % 8 !== 0) throw new RangeError('base must be a multiple of 8');
  const lo = Number(nonce & 0xffffffffn) >>> 0;
  const hi = Number((nonce >> 32n) & 0xffffffffn) >>> 0;
  const full = buf.length & ~7;
  // offsets are below 2^32 (the LBUF size is a u32), so only the low half of nonce ^ ofs varies
  for (let o = 0; o < full; o += 8) {
    buf.writeUInt32LE((lo ^ ((base + o) >>> 0)) >>> 0, o);
    buf.writeUInt32LE(hi, o + 4);
  }
  if (full < buf.length) {
    const t = Buffer.alloc(8);
    t.writeBigUInt64LE(BigInt.asUintN(64, nonce ^ BigInt(base + full)));
    t.copy(buf, full, 0, buf.length - full);
  }
}

/** The offset of the first byte of buf (LBUF bytes [base, base + buf.length)) that is not the
 *  pattern, or -1. Compares whole u64s by 32-bit halves (no BigInt per word). */
export function checkPattern(buf: Buffer, nonce: bigint, base = 0): number {
  if (base % 8 !== 0) throw new RangeError('base must be a multiple of 8');
  const lo = Number(nonce & 0xffffffffn) >>> 0;
  const hi = Number((nonce >> 32n) & 0xffffffffn) >>> 0;
  const full = buf.length & ~7;
  for (let o = 0; o < full; o += 8) {
    const ofs = base + o;
    const wantLo = (lo ^ (ofs >>> 0)) >>> 0; // ofs < 2^32 (u32 sizes), so its high half is 0
    if (buf.readUInt32LE(o) !== wantLo || buf.readUInt32LE(o + 4) !== hi) return o;
  }
  if (full < buf.length) {
    const t = Buffer.alloc(8);
    fillPattern(t, nonce, base + full);
    for (let i = full; i < buf.length; i++) if (buf[i] !== t[i - full]) return i;
  }
  return -1;
}
