// Minimal DER (X.690) for the GSS-API tokens we speak: SPNEGO (spnego.ts) and Kerberos
// (krb5/asn1.ts). Single-byte tags only, definite lengths up to 4 length bytes; every read is
// bounds-checked and throws WireError.
import { WireError } from '../wire/buf.js';

export interface Tlv {
  tag: number;
  content: Buffer;
  /** The whole TLV including tag and length. */
  raw: Buffer;
  /** Offset just past this TLV in the buffer it was read from. */
  end: number;
}

function derLen(n: number): Buffer {
  if (n < 0x80) return Buffer.from([n]);
  const bytes: number[] = [];
  while (n > 0) {
    bytes.unshift(n & 0xff);
    n = Math.floor(n / 256);
  }
  return Buffer.from([0x80 | bytes.length, ...bytes]);
}

export function der(tag: number, ...content: Buffer[]): Buffer {
  const body = content.length === 1 ? content[0]! : Buffer.concat(content);
  return Buffer.concat([Buffer.from([tag]), derLen(body.length), body]);
}

export function readTlv(buf: Buffer, pos: number): Tlv {
  if (pos + 2 > buf.length) throw new WireError('DER truncated');
  const tag = buf[pos]!;
  if ((tag & 0x1f) === 0x1f) throw new WireError('DER multi-byte tags unsupported');
  let len = buf[pos + 1]!;
  let p = pos + 2;
  if (len & 0x80) {
    const n = len & 0x7f;
    if (n === 0 || n > 4) throw new WireError('DER bad length');
    if (p + n > buf.length) throw new WireError('DER truncated length');
    len = 0;
    for (let i = 0; i < n; i++) len = len * 256 + buf[p + i]!;
    p += n;
  }
  if (p + len > buf.length) throw new WireError('DER content out of range');
  return { tag, content: buf.subarray(p, p + len), raw: buf.subarray(pos, p + len), end: p + len };
}

/** The single TLV at the start of `buf`, which must carry `tag`. */
export function readOne(buf: Buffer, tag: number, what: string): Tlv {
  const t = readTlv(buf, 0);
  if (t.tag !== tag) throw new WireError(`DER: ${what} expected tag 0x${tag.toString(16)}, got 0x${t.tag.toString(16)}`);
  return t;
}

export function children(buf: Buffer): Tlv[] {
  const out: Tlv[] = [];
  let p = 0;
  while (p < buf.length) {
    const t = readTlv(buf, p);
    out.push(t);
    p = t.end;
  }
  return out;
}

export const oid = (hex: string): Buffer => der(0x06, Buffer.from(hex, 'hex'));
export const octets = (b: Buffer): Buffer => der(0x04, b);
