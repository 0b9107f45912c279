// SMB2 packet header, sync and async forms (MS-SMB2 2.2.1).
import { HeaderFlags } from './constants.js';
import { Reader, WireError } from './buf.js';

export const HEADER_SIZE = 64;
export const PROTOCOL_ID = 0x424d53fe; // 0xFE 'S' 'M' 'B' read as LE u32
export const SMB1_PROTOCOL_ID = 0x424d53ff;
export const SIGNATURE_OFFSET = 48;

export interface Header {
  creditCharge: number;
  /** ChannelSequence/Reserved in requests (3.x), Status in responses. */
  status: number;
  command: number;
  /** CreditRequest in requests, CreditResponse in responses. */
  credits: number;
  flags: number;
  nextCommand: number;
  messageId: bigint;
  /** Sync form only. */
  treeId: number;
  /** Async form only (flags & ASYNC_COMMAND). */
  asyncId: bigint;
  sessionId: bigint;
  signature: Buffer;
}

export function isAsync(h: Pick<Header, 'flags'>): boolean {
  return (h.flags & HeaderFlags.ASYNC_COMMAND) !== 0;
}

/** Channel sequence lives in the low 16 bits of the Status field of 3.x requests (2.2.1.2). */
export function channelSequence(h: Pick<Header, 'status'>): number {
  return h.status & 0xffff;
}

export function decodeHeader(buf: Buffer, offset = 0): Header {
  if (buf.length - offset < HEADER_SIZE) throw new WireError('truncated SMB2 header');
  const r = new Reader(buf, offset);
  if (r.u32() !== PROTOCOL_ID) throw new WireError('not an SMB2 header');
  if (r.u16() !== HEADER_SIZE) throw new WireError('bad SMB2 header StructureSize');
  const creditCharge = r.u16();
  const status = r.u32();
  const command = r.u16();
  const credits = r.u16();
  const flags = r.u32();
  const nextCommand = r.u32();
  const messageId = r.u64();
  let treeId = 0;
  let asyncId = 0n;
  if (flags & HeaderFlags.ASYNC_COMMAND) {
    asyncId = r.u64();
  } else {
    r.skip(4); // Reserved (process id)
    treeId = r.u32();
  }
  const sessionId = r.u64();
  const signature = r.bytes(16);
  return { creditCharge, status, command, credits, flags, nextCommand, messageId, treeId, asyncId, sessionId, signature };
}

/** Writes a 64-byte header into `out` at `offset` (signature zeroed unless given). */
export function encodeHeaderInto(h: Partial<Header> & { command: number }, out: Buffer, offset = 0): void {
  const flags = h.flags ?? 0;
  out.writeUInt32LE(PROTOCOL_ID, offset);
  out.writeUInt16LE(HEADER_SIZE, offset + 4);
  out.writeUInt16LE(h.creditCharge ?? 0, offset + 6);
  out.writeUInt32LE((h.status ?? 0) >>> 0, offset + 8);
  out.writeUInt16LE(h.command, offset + 12);
  out.writeUInt16LE(h.credits ?? 0, offset + 14);
  out.writeUInt32LE(flags >>> 0, offset + 16);
  out.writeUInt32LE(h.nextCommand ?? 0, offset + 20);
  out.writeBigUInt64LE(BigInt.asUintN(64, h.messageId ?? 0n), offset + 24);
  if (flags & HeaderFlags.ASYNC_COMMAND) {
    out.writeBigUInt64LE(h.asyncId ?? 0n, offset + 32);
  } else {
    out.writeUInt32LE(0xfeff, offset + 32); // Reserved: Windows and Samba send 0xFEFF
    out.writeUInt32LE(h.treeId ?? 0, offset + 36);
  }
  out.writeBigUInt64LE(h.sessionId ?? 0n, offset + 40);
  if (h.signature) h.signature.copy(out, offset + SIGNATURE_OFFSET, 0, 16);
  else out.fill(0, offset + SIGNATURE_OFFSET, offset + HEADER_SIZE);
}

export function encodeHeader(h: Partial<Header> & { command: number }): Buffer {
  const out = Buffer.alloc(HEADER_SIZE);
  encodeHeaderInto(h, out);
  return out;
}

/**
 * Splits a (decrypted) frame into its compound members (2.2.1.2 NextCommand; 3.3.5.2.7).
 * Each member is 8-byte aligned except the last; a bad chain raises WireError.
 */
export function splitCompound(frame: Buffer): Buffer[] {
  const out: Buffer[] = [];
  let off = 0;
  for (let i = 0; i < 1024; i++) {
    if (frame.length - off < HEADER_SIZE) throw new WireError('truncated compound member');
    const next = frame.readUInt32LE(off + 20);
    if (next === 0) {
      out.push(frame.subarray(off));
      return out;
    }
    if (next < HEADER_SIZE || next % 8 !== 0 || off + next > frame.length) throw new WireError('bad NextCommand');
    out.push(frame.subarray(off, off + next));
    off += next;
  }
  throw new WireError('compound chain too long');
}
