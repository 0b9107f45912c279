// Security descriptors, ACLs, ACEs and SIDs (MS-DTYP 2.4.2 SID, 2.4.4 ACE, 2.4.5 ACL,
// 2.4.6 SECURITY_DESCRIPTOR, self-relative form only). SIDs are strings ("S-1-5-21-1-2-3-500").
import { Reader, Writer, WireError } from './buf.js';

export const SdControl = {
  OWNER_DEFAULTED: 0x0001, GROUP_DEFAULTED: 0x0002, DACL_PRESENT: 0x0004, DACL_DEFAULTED: 0x0008,
  SACL_PRESENT: 0x0010, SACL_DEFAULTED: 0x0020, DACL_TRUSTED: 0x0040, SERVER_SECURITY: 0x0080,
  DACL_COMPUTED_INHERITANCE_REQUIRED: 0x0100, SACL_COMPUTED_INHERITANCE_REQUIRED: 0x0200,
  DACL_AUTO_INHERITED: 0x0400, SACL_AUTO_INHERITED: 0x0800, DACL_PROTECTED: 0x1000, SACL_PROTECTED: 0x2000,
  RM_CONTROL_VALID: 0x4000, SELF_RELATIVE: 0x8000,
} as const;

export const AceType = {
  ACCESS_ALLOWED: 0x00, ACCESS_DENIED: 0x01, SYSTEM_AUDIT: 0x02, SYSTEM_ALARM: 0x03,
  ACCESS_ALLOWED_OBJECT: 0x05, ACCESS_DENIED_OBJECT: 0x06, SYSTEM_MANDATORY_LABEL: 0x11,
} as const;

export const AceFlags = {
  OBJECT_INHERIT: 0x01, CONTAINER_INHERIT: 0x02, NO_PROPAGATE_INHERIT: 0x04, INHERIT_ONLY: 0x08,
  INHERITED: 0x10, SUCCESSFUL_ACCESS: 0x40, FAILED_ACCESS: 0x80,
} as const;

export const WellKnownSid = {
  EVERYONE: 'S-1-1-0', CREATOR_OWNER: 'S-1-3-0', CREATOR_GROUP: 'S-1-3-1', NETWORK: 'S-1-5-2',
  ANONYMOUS: 'S-1-5-7', AUTHENTICATED_USERS: 'S-1-5-11', LOCAL_SYSTEM: 'S-1-5-18',
  BUILTIN_ADMINISTRATORS: 'S-1-5-32-544', BUILTIN_USERS: 'S-1-5-32-545', BUILTIN_GUESTS: 'S-1-5-32-546',
  NULL: 'S-1-0-0',
} as const;

/** Samba's Unix user / group SIDs (S-1-22-1-uid, S-1-22-2-gid). */
export function unixUserSid(uid: number): string { return `S-1-22-1-${uid >>> 0}`; }
export function unixGroupSid(gid: number): string { return `S-1-22-2-${gid >>> 0}`; }

// ---- SID (2.4.2.2): Revision(1)=1 | SubAuthorityCount(1) | IdentifierAuthority(6, big-endian) | SubAuthority[n] (u32 LE)
const SID_RE = /^S-1-(0x[0-9a-fA-F]{1,12}|\d+)((?:-\d+){0,15})$/i;

export function sidToBuffer(sid: string): Buffer {
  const m = SID_RE.exec(sid);
  if (!m) throw new WireError(`bad SID string ${sid}`);
  const auth = BigInt(m[1]!.toLowerCase()); // decimal, or 0x-prefixed hex for authorities >= 2^32
  if (auth >= 1n << 48n) throw new WireError('SID authority too large');
  const subs = m[2] ? m[2].slice(1).split('-').map(Number) : [];
  const out = Buffer.alloc(8 + subs.length * 4);
  out[0] = 1;
  out[1] = subs.length;
  out.writeUIntBE(Number(auth), 2, 6);
  subs.forEach((s, i) => {
    if (!Number.isInteger(s) || s < 0 || s > 0xffffffff) throw new WireError('SID sub-authority out of range');
    out.writeUInt32LE(s, 8 + i * 4);
  });
  return out;
}

export function sidSize(sid: string): number {
  return sidToBuffer(sid).length;
}

/** Reads a SID at the reader's position. */
export function readSid(r: Reader): string {
  const rev = r.u8();
  const n = r.u8();
  if (rev !== 1 || n > 15) throw new WireError('bad SID');
  const authBuf = r.bytes(6);
  const auth = authBuf.readUIntBE(0, 6);
  r.need(n * 4, 'SID');
  const parts = [auth >= 2 ** 32 ? '0x' + auth.toString(16).toUpperCase().padStart(12, '0') : String(auth)];
  for (let i = 0; i < n; i++) parts.push(String(r.u32()));
  return 'S-1-' + parts.join('-');
}

export function sidFromBuffer(b: Buffer): string {
  return readSid(new Reader(b));
}

// ---- ACE (2.4.4): AceType(1) | AceFlags(1) | AceSize(2) | body
/** ACE types with the Mask(4) | Sid layout (allowed, denied, audit, alarm, mandatory label). */
export interface SimpleAce {
  type: number;
  flags: number;
  mask: number;
  sid: string;
}
/** Any other ACE type: body (after the 4-byte header) kept raw. */
export interface RawAce {
  type: number;
  flags: number;
  raw: Buffer;
}
export type Ace = SimpleAce | RawAce;

const SIMPLE_TYPES = new Set<number>([0x00, 0x01, 0x02, 0x03, 0x11]);

export function isSimpleAce(a: Ace): a is SimpleAce {
  return 'sid' in a;
}

function writeAce(w: Writer, a: Ace): void {
  const body = isSimpleAce(a) ? Buffer.concat([new Writer(4).u32(a.mask).finish(), sidToBuffer(a.sid)]) : a.raw;
  const size = (4 + body.length + 3) & ~3; // AceSize is a multiple of 4
  w.u8(a.type).u8(a.flags).u16(size).bytes(body).zeros(size - 4 - body.length);
}

// ---- ACL (2.4.5): AclRevision(1) | Sbz1(1) | AclSize(2) | AceCount(2) | Sbz2(2) | ACEs
export interface Acl {
  /** ACL_REVISION 2, or ACL_REVISION_DS 4 when object ACEs are present. */
  revision: number;
  aces: Ace[];
}

export function encodeAcl(acl: Acl): Buffer {
  const w = new Writer(64);
  w.u8(acl.revision).u8(0).u16(0).u16(acl.aces.length).u16(0);
  for (const a of acl.aces) writeAce(w, a);
  w.setU16(2, w.pos);
  return w.finish();
}

export function decodeAcl(buf: Buffer, offset = 0): Acl {
  const r = new Reader(buf, offset);
  const revision = r.u8();
  r.skip(1);
  const size = r.u16();
  const count = r.u16();
  r.skip(2);
  if (size < 8 || offset + size > buf.length) throw new WireError('ACL size out of range');
  const end = offset + size;
  const aces: Ace[] = [];
  for (let i = 0; i < count; i++) {
    const start = r.pos;
    if (start + 4 > end) throw new WireError('ACE beyond ACL');
    const type = r.u8();
    const flags = r.u8();
    const aceSize = r.u16();
    if (aceSize < 4 || start + aceSize > end) throw new WireError('bad AceSize');
    const body = buf.subarray(start + 4, start + aceSize);
    if (SIMPLE_TYPES.has(type)) {
      const br = new Reader(body);
      const mask = br.u32();
      aces.push({ type, flags, mask, sid: readSid(br) });
    } else {
      aces.push({ type, flags, raw: body });
    }
    r.pos = start + aceSize;
  }
  return { revision, aces };
}

// ---- SECURITY_DESCRIPTOR (2.4.6), self-relative:
// Revision(1)=1 | Sbz1(1) | Control(2) | OffsetOwner(4) | OffsetGroup(4) | OffsetSacl(4) | OffsetDacl(4) | data
export interface SecurityDescriptor {
  /** Control bits; SELF_RELATIVE and the *_PRESENT bits are derived from the fields on encode. */
  control: number;
  owner?: string;
  group?: string;
  /** undefined = not present; null = present but NULL (grants everything for a DACL). */
  sacl?: Acl | null;
  dacl?: Acl | null;
}

export function encodeSecurityDescriptor(sd: SecurityDescriptor): Buffer {
  let control = (sd.control | SdControl.SELF_RELATIVE) & ~(SdControl.DACL_PRESENT | SdControl.SACL_PRESENT);
  if (sd.dacl !== undefined) control |= SdControl.DACL_PRESENT;
  if (sd.sacl !== undefined) control |= SdControl.SACL_PRESENT;
  const w = new Writer(128);
  w.u8(1).u8(0).u16(control).u32(0).u32(0).u32(0).u32(0);
  // Windows order: SACL, DACL, Owner, Group.
  if (sd.sacl) { w.setU32(12, w.pos); w.bytes(encodeAcl(sd.sacl)); }
  if (sd.dacl) { w.setU32(16, w.pos); w.bytes(encodeAcl(sd.dacl)); }
  if (sd.owner) { w.setU32(4, w.pos); w.bytes(sidToBuffer(sd.owner)); }
  if (sd.group) { w.setU32(8, w.pos); w.bytes(sidToBuffer(sd.group)); }
  return w.finish();
}

export function decodeSecurityDescriptor(buf: Buffer): SecurityDescriptor {
  const r = new Reader(buf);
  if (r.u8() !== 1) throw new WireError('bad security descriptor revision');
  r.skip(1);
  const control = r.u16();
  const oOwner = r.u32();
  const oGroup = r.u32();
  const oSacl = r.u32();
  const oDacl = r.u32();
  if (!(control & SdControl.SELF_RELATIVE)) throw new WireError('security descriptor is not self-relative');
  const check = (o: number) => { if (o < 20 || o >= buf.length) throw new WireError('security descriptor offset out of range'); return o; };
  const sd: SecurityDescriptor = { control };
  if (oOwner) sd.owner = readSid(new Reader(buf, check(oOwner)));
  if (oGroup) sd.group = readSid(new Reader(buf, check(oGroup)));
  if (control & SdControl.SACL_PRESENT) sd.sacl = oSacl ? decodeAcl(buf, check(oSacl)) : null;
  if (control & SdControl.DACL_PRESENT) sd.dacl = oDacl ? decodeAcl(buf, check(oDacl)) : null;
  return sd;
}
