/**
 * Samba's `user.DOSATTRIB` extended attribute: DOS attributes and creation time of a file, as
 * Samba's smbd stores them ("store dos attributes = yes", the default since 4.9), so a directory
 * can be served by smbts and Samba alternately without losing either.
 *
 * The value is Samba's NDR encoding of `xattr_DOSATTRIB` (librpc/idl/xattr.idl, hand-written
 * push/pull in librpc/ndr/ndr_xattr.c). Layout, little-endian, NDR alignment (a field of size
 * 2/4 starts at a multiple of 2/4; NTTIME and udlong are 4-aligned):
 *
 *   astring  attrib_hex   NUL-terminated ASCII. "0x<hex attrib>" for versions 1..3, "" for 4 and 5.
 *                         A value holding nothing else is the pre-3.5 hex-only form.
 *   uint16   version      1..5
 *   uint16   level        the union discriminant, repeats version; then padding to 4
 *   union by version:
 *     1: attrib u32, ea_size u32, size u64, alloc_size u64, create_time NTTIME, change_time NTTIME
 *     2: flags u32, then as 1, then write_time NTTIME, name (UTF-8, NUL) (old, read only)
 *     3: valid_flags u32, attrib u32, ea_size u32, size u64, alloc_size u64, create_time, change_time
 *     4: valid_flags u32, attrib u32, itime NTTIME, create_time NTTIME          (Samba 4.11 .. 4.16)
 *     5: valid_flags u32, attrib u32, create_time NTTIME                         (Samba 4.17 ..)
 *
 * valid_flags: XATTR_DOSINFO_ATTRIB 0x1, EA_SIZE 0x2, SIZE 0x4, ALLOC_SIZE 0x8, CREATE_TIME 0x10,
 * CHANGE_TIME 0x20, ITIME 0x40. Samba writes version 5 with ATTRIB|CREATE_TIME (dosmode.c
 * set_ea_dos_attribute), never stores FILE_ATTRIBUTE_OFFLINE, and on read keeps only
 * R/H/S/D/A/OFFLINE plus SPARSE and REPARSE_POINT; a zero or absent create_time means "none".
 */
import { WireError } from '../wire/buf.js';

export const DOSATTRIB_XATTR = 'user.DOSATTRIB';

export const DosInfoValid = {
  ATTRIB: 0x01,
  EA_SIZE: 0x02,
  SIZE: 0x04,
  ALLOC_SIZE: 0x08,
  CREATE_TIME: 0x10,
  CHANGE_TIME: 0x20,
  ITIME: 0x40,
} as const;

/** Hex-only legacy form (no NDR info after the string). */
export const DOSATTRIB_VERSION_HEX = 0xffff;

export interface DosAttrib {
  /** 1..5, or DOSATTRIB_VERSION_HEX for the bare hex string */
  version: number;
  /** FILE_ATTRIBUTE_* as stored; undefined when the blob says it is not valid */
  attributes?: number;
  /** FILETIME; undefined when absent, not valid or zero */
  creationTime?: bigint;
  /** valid_flags of versions 3..5 */
  validFlags?: number;
  /** version 1..3 extras (informational; Samba ignores them) */
  eaSize?: number;
  size?: bigint;
  allocationSize?: bigint;
  changeTime?: bigint;
  /** version 4 */
  itime?: bigint;
}

class Cursor {
  off = 0;
  constructor(private readonly b: Buffer) {}
  align(n: number): void {
    this.off = (this.off + n - 1) & ~(n - 1);
  }
  need(n: number): void {
    if (this.off + n > this.b.length) throw new WireError(`DOSATTRIB: truncated at ${this.off} (+${n} of ${this.b.length})`);
  }
  u16(): number {
    this.align(2);
    this.need(2);
    const v = this.b.readUInt16LE(this.off);
    this.off += 2;
    return v;
  }
  u32(): number {
    this.align(4);
    this.need(4);
    const v = this.b.readUInt32LE(this.off);
    this.off += 4;
    return v;
  }
  /** udlong / NTTIME: 8 bytes, 4-aligned in NDR */
  u64(): bigint {
    this.align(4);
    this.need(8);
    const v = this.b.readBigUInt64LE(this.off);
    this.off += 8;
    return v;
  }
}

function parseHex(s: string): number | undefined {
  // sscanf("%x") semantics as Samba uses them: optional 0x prefix, leading hex digits.
  const m = /^\s*(?:0[xX])?([0-9a-fA-F]+)/.exec(s);
  if (!m) return undefined;
  return parseInt(m[1]!.slice(-8), 16) >>> 0;
}

/** Decode a user.DOSATTRIB value. Throws WireError when it is not one Samba would accept. */
export function decodeDosAttrib(buf: Buffer): DosAttrib {
  const nul = buf.indexOf(0);
  if (nul < 0) throw new WireError('DOSATTRIB: attrib_hex is not NUL-terminated');
  const hex = buf.toString('latin1', 0, nul);
  const c = new Cursor(buf);
  c.off = nul + 1;
  if (c.off >= buf.length) {
    const attributes = parseHex(hex);
    if (attributes === undefined) throw new WireError('DOSATTRIB: bad hex attributes');
    return { version: DOSATTRIB_VERSION_HEX, attributes };
  }
  const version = c.u16();
  const level = c.u16();
  if (level !== version) throw new WireError(`DOSATTRIB: union level ${level} != version ${version}`);
  const nz = (t: bigint): bigint | undefined => (t === 0n ? undefined : t);
  switch (version) {
    case 1: {
      const attributes = c.u32();
      const eaSize = c.u32();
      const size = c.u64();
      const allocationSize = c.u64();
      const creationTime = nz(c.u64());
      const changeTime = c.u64();
      return { version, attributes, eaSize, size, allocationSize, creationTime, changeTime };
    }
    case 2: {
      c.u32(); // flags (sticky write time, obsolete)
      const attributes = c.u32();
      const eaSize = c.u32();
      const size = c.u64();
      const allocationSize = c.u64();
      c.u64(); // create_time: Samba ignores it for version 2
      const changeTime = c.u64();
      c.u64(); // write_time; the trailing name is not needed
      return { version, attributes, eaSize, size, allocationSize, changeTime };
    }
    case 3: {
      const validFlags = c.u32();
      const attrib = c.u32();
      const eaSize = c.u32();
      const size = c.u64();
      const allocationSize = c.u64();
      const ct = c.u64();
      const changeTime = c.u64();
      return {
        version, validFlags, eaSize, size, allocationSize, changeTime,
        // Samba takes attrib regardless of the ATTRIB flag for versions 3..5 (dosmode.c).
        attributes: attrib,
        creationTime: validFlags & DosInfoValid.CREATE_TIME ? nz(ct) : undefined,
      };
    }
    case 4: {
      const validFlags = c.u32();
      const attributes = c.u32();
      const itime = c.u64();
      const ct = c.u64();
      return {
        version, validFlags, attributes,
        itime: validFlags & DosInfoValid.ITIME ? itime : undefined,
        creationTime: validFlags & DosInfoValid.CREATE_TIME ? nz(ct) : undefined,
      };
    }
    case 5: {
      const validFlags = c.u32();
      const attributes = c.u32();
      const ct = c.u64();
      return { version, validFlags, attributes, creationTime: validFlags & DosInfoValid.CREATE_TIME ? nz(ct) : undefined };
    }
    default:
      throw new WireError(`DOSATTRIB: unknown version ${version}`);
  }
}

export interface DosAttribWrite {
  attributes: number;
  /** FILETIME; 0 / undefined writes no CREATE_TIME flag */
  creationTime?: bigint;
  /** 5 (default, Samba 4.17 and later) or 4 (readable by Samba 4.11 and later) */
  version?: 4 | 5;
}

/** Encode a user.DOSATTRIB value the way Samba 4.x does (empty hex string, version 5 or 4). */
export function encodeDosAttrib(w: DosAttribWrite): Buffer {
  const version = w.version ?? 5;
  const ct = w.creationTime !== undefined && w.creationTime > 0n ? w.creationTime : 0n;
  if (ct < 0n || ct > 0xffffffffffffffffn) throw new RangeError('creationTime out of range');
  const flags = DosInfoValid.ATTRIB | (ct !== 0n ? DosInfoValid.CREATE_TIME : 0);
  // "" NUL, pad to 2, version, level, pad to 4, valid_flags, attrib, [itime], create_time
  const b = Buffer.alloc(version === 5 ? 24 : 32);
  b.writeUInt16LE(version, 2);
  b.writeUInt16LE(version, 4);
  b.writeUInt32LE(flags, 8);
  b.writeUInt32LE(w.attributes >>> 0, 12);
  // version 4: itime left 0 without the ITIME flag (Samba does the same for files it did not create)
  b.writeBigUInt64LE(ct, version === 5 ? 16 : 24);
  return b;
}
