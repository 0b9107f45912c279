// ASN.1 building blocks of RFC 4120 5.2 on top of the minimal DER in ../der.ts:
// INTEGER (Int32/UInt32), KerberosString (GeneralString), KerberosTime (GeneralizedTime),
// KerberosFlags (BIT STRING), explicit context tags [n], and a field reader for SEQUENCEs.
import { WireError } from '../../wire/buf.js';
import { children, der, readOne, readTlv, type Tlv } from '../der.js';

export const TAG = { INTEGER: 0x02, BIT_STRING: 0x03, OCTET_STRING: 0x04, SEQUENCE: 0x30, GENERAL_STRING: 0x1b, GENERALIZED_TIME: 0x18 } as const;

/** [APPLICATION n] constructed. */
export const app = (n: number, ...content: Buffer[]): Buffer => der(0x60 | n, ...content);
/** [n] EXPLICIT, constructed context tag. */
export const ctx = (n: number, content: Buffer): Buffer => der(0xa0 | n, content);
export const seq = (...fields: (Buffer | undefined)[]): Buffer => der(TAG.SEQUENCE, ...fields.filter((f): f is Buffer => f !== undefined));

export function int(n: number): Buffer {
  if (!Number.isInteger(n) || n < -0x80000000 || n > 0xffffffff) throw new RangeError(`INTEGER out of range: ${n}`);
  const bytes: number[] = [];
  let v = BigInt(n);
  // two's complement, minimal length
  for (;;) {
    bytes.unshift(Number(v & 0xffn));
    const rest = v >> 8n;
    const top = bytes[0]! & 0x80;
    if ((rest === 0n && !top) || (rest === -1n && top)) break;
    v = rest;
  }
  return der(TAG.INTEGER, Buffer.from(bytes));
}

export const str = (s: string): Buffer => der(TAG.GENERAL_STRING, Buffer.from(s, 'utf8'));
export const octetString = (b: Buffer): Buffer => der(TAG.OCTET_STRING, b);

/** KerberosTime: "YYYYMMDDHHMMSSZ", whole seconds (RFC 4120 5.2.3). */
export function time(ms: number): Buffer {
  const iso = new Date(Math.floor(ms / 1000) * 1000).toISOString(); // 2024-01-02T03:04:05.000Z
  return der(TAG.GENERALIZED_TIME, Buffer.from(iso.slice(0, 19).replace(/[-T:]/g, '') + 'Z', 'latin1'));
}

/** KerberosFlags: 32-bit BIT STRING, bit 0 = most significant bit of the first byte. */
export function flags(v: number): Buffer {
  const b = Buffer.alloc(5);
  b.writeUInt32BE(v >>> 0, 1);
  return der(TAG.BIT_STRING, b);
}

// ------------------------------------------------------------------------------------- decoding

export function decInt(t: Tlv): number {
  if (t.tag !== TAG.INTEGER) throw new WireError('krb5: INTEGER expected');
  const c = t.content;
  if (c.length === 0 || c.length > 5) throw new WireError('krb5: bad INTEGER length');
  const v = BigInt.asIntN(c.length * 8, BigInt('0x' + c.toString('hex')));
  if (v < -0x80000000n || v > 0xffffffffn) throw new WireError('krb5: INTEGER out of range');
  return Number(v);
}

export function decStr(t: Tlv): string {
  if (t.tag !== TAG.GENERAL_STRING && t.tag !== 0x0c && t.tag !== 0x16) throw new WireError('krb5: string expected');
  return t.content.toString('utf8');
}

export function decOctets(t: Tlv): Buffer {
  if (t.tag !== TAG.OCTET_STRING) throw new WireError('krb5: OCTET STRING expected');
  return t.content;
}

export function decTime(t: Tlv): number {
  if (t.tag !== TAG.GENERALIZED_TIME) throw new WireError('krb5: KerberosTime expected');
  const m = /^(\d{4})(\d\d)(\d\d)(\d\d)(\d\d)(\d\d)(?:\.\d+)?Z$/.exec(t.content.toString('latin1'));
  if (!m) throw new WireError('krb5: bad KerberosTime');
  return Date.UTC(+m[1]!, +m[2]! - 1, +m[3]!, +m[4]!, +m[5]!, +m[6]!);
}

export function decFlags(t: Tlv): number {
  if (t.tag !== TAG.BIT_STRING || t.content.length < 1) throw new WireError('krb5: BIT STRING expected');
  const b = Buffer.alloc(4);
  t.content.copy(b, 0, 1, Math.min(5, t.content.length));
  return b.readUInt32BE(0);
}

export function decSeqOf(t: Tlv): Tlv[] {
  if (t.tag !== TAG.SEQUENCE) throw new WireError('krb5: SEQUENCE expected');
  return children(t.content);
}

/** The fields of a SEQUENCE by context tag number: [n] -> the TLV inside it. */
export class Fields {
  private readonly byTag = new Map<number, Tlv>();

  constructor(seqTlv: Tlv, private readonly what: string) {
    if (seqTlv.tag !== TAG.SEQUENCE) throw new WireError(`krb5: ${what} is not a SEQUENCE`);
    for (const f of children(seqTlv.content)) {
      if ((f.tag & 0xe0) !== 0xa0) throw new WireError(`krb5: ${what} has a field without a context tag`);
      this.byTag.set(f.tag & 0x1f, readTlv(f.content, 0));
    }
  }

  opt(n: number): Tlv | undefined {
    return this.byTag.get(n);
  }

  get(n: number): Tlv {
    const t = this.byTag.get(n);
    if (!t) throw new WireError(`krb5: ${this.what} lacks field [${n}]`);
    return t;
  }
}

/** Unwraps [APPLICATION n] and returns the SEQUENCE fields inside it. */
export function appFields(buf: Buffer, n: number, what: string): Fields {
  const outer = readOne(buf, 0x60 | n, what);
  return new Fields(readTlv(outer.content, 0), what);
}
