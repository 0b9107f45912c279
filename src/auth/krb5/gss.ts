// The Kerberos V5 GSS-API mechanism's context tokens (RFC 1964 1.1, RFC 4121 4.1):
//   0x60 len { OID 1.2.840.113554.1.2.2, TOK_ID (2 bytes), inner message }
// TOK_ID 01 00 = AP-REQ, 02 00 = AP-REP, 03 00 = KRB-ERROR; and the authenticator checksum
// of type 0x8003 that carries the GSS flags (RFC 4121 4.1.1).
import { WireError } from '../../wire/buf.js';
import { der, oid, readOne, readTlv } from '../der.js';

export const OID_KRB5_HEX = '2a864886f712010202'; // 1.2.840.113554.1.2.2
export const OID_MS_KRB5_HEX = '2a864882f712010202'; // 1.2.840.48018.1.2.2 (MS-KILE 3.1.5.10)

export const TokId = { AP_REQ: 0x0100, AP_REP: 0x0200, KRB_ERROR: 0x0300 } as const;

export const GssFlags = { DELEG: 1, MUTUAL: 2, REPLAY: 4, SEQUENCE: 8, CONF: 16, INTEG: 32 } as const;
export const GSS_CHECKSUM_TYPE = 0x8003;

export function wrapGssToken(tokId: number, inner: Buffer): Buffer {
  const id = Buffer.alloc(2);
  id.writeUInt16BE(tokId);
  return der(0x60, oid(OID_KRB5_HEX), id, inner);
}

export function unwrapGssToken(token: Buffer): { tokId: number; inner: Buffer } {
  const outer = readOne(token, 0x60, 'GSS krb5 token');
  const o = readTlv(outer.content, 0);
  const hex = o.content.toString('hex');
  if (o.tag !== 0x06 || (hex !== OID_KRB5_HEX && hex !== OID_MS_KRB5_HEX)) throw new WireError('GSS token is not Kerberos');
  if (o.end + 2 > outer.content.length) throw new WireError('GSS token truncated');
  return { tokId: outer.content.readUInt16BE(o.end), inner: outer.content.subarray(o.end + 2) };
}

/** RFC 4121 4.1.1: Lgth (16) | Bnd (16 zero bytes: no channel bindings) | Flags, little-endian. */
export function encodeGssChecksum(flags: number): Buffer {
  const b = Buffer.alloc(24);
  b.writeUInt32LE(16, 0);
  b.writeUInt32LE(flags >>> 0, 20);
  return b;
}

export function decodeGssChecksum(b: Buffer): { flags: number; bindings: Buffer } {
  if (b.length < 24) throw new WireError('GSS checksum too short');
  const lgth = b.readUInt32LE(0);
  if (lgth !== 16) throw new WireError('GSS checksum: bad channel-binding length');
  return { bindings: b.subarray(4, 20), flags: b.readUInt32LE(20) };
}
