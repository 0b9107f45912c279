// Security descriptors synthesized for QUERY_INFO(SECURITY) (MS-DTYP 2.4.6 self-relative SD).
//
// The VFS has no ACLs, so the descriptor is derived from what we know: owner/group are the
// server process's uid/gid as Samba's unix SIDs (S-1-22-1-uid / S-1-22-2-gid), and the DACL
// grants the owner full control, the group and
// Everyone read+execute, and SYSTEM full control. QUERY_INFO reports the session user's SID
// (acl.ts tokenOf) as owner. A descriptor set by SET_INFO(SECURITY) or the SecD create context
// is stored per file and replaces this one (acl.ts).
import { Writer } from '../wire/buf.js';
import { SecurityInformation as SI } from '../wire/constants.js';

const SE_SELF_RELATIVE = 0x8000;
const SE_DACL_PRESENT = 0x0004;
const ACCESS_ALLOWED_ACE_TYPE = 0 as const;
const OBJECT_INHERIT_ACE = 0x1;
const CONTAINER_INHERIT_ACE = 0x2;

export const FULL_CONTROL = 0x001f01ff;
export const READ_EXECUTE = 0x001200a9;

/** Encode a SID string "S-1-5-18" (MS-DTYP 2.4.2.2). */
export function encodeSid(sid: string): Buffer {
  const parts = sid.split('-');
  if (parts[0] !== 'S' || parts.length < 3) throw new Error(`bad SID ${sid}`);
  const rev = Number(parts[1]);
  const auth = BigInt(parts[2]!);
  const subs = parts.slice(3).map((p) => Number(p) >>> 0);
  const w = new Writer(8 + 4 * subs.length).u8(rev).u8(subs.length);
  for (let i = 5; i >= 0; i--) w.u8(Number((auth >> BigInt(8 * i)) & 0xffn));
  for (const s of subs) w.u32(s);
  return w.finish();
}

interface Ace { sid: string; mask: number; flags: number }

function encodeAcl(aces: Ace[]): Buffer {
  const bodies = aces.map((a) => {
    const sid = encodeSid(a.sid);
    return new Writer(8 + sid.length).u8(ACCESS_ALLOWED_ACE_TYPE).u8(a.flags).u16(8 + sid.length).u32(a.mask).bytes(sid).finish();
  });
  const size = 8 + bodies.reduce((n, b) => n + b.length, 0);
  const w = new Writer(size).u8(2).u8(0).u16(size).u16(aces.length).u16(0);
  for (const b of bodies) w.bytes(b);
  return w.finish();
}

export interface SdInput {
  uid: number;
  gid: number;
  isDirectory: boolean;
  attributes: number;
  /** Owner / group SIDs to report instead of the uid/gid ones (the session user's, acl.ts tokenOf). */
  owner?: string;
  group?: string;
}

export function ownerSid(uid: number): string {
  return uid === 0 ? 'S-1-5-32-544' : `S-1-22-1-${uid}`;
}
export function groupSid(gid: number): string {
  return `S-1-22-2-${gid}`;
}

/** The DACL of the synthesized descriptor (allowed ACEs). */
// The DOS READONLY attribute is not part of the ACL (Windows, Samba with acl_xattr; smb2.winattr):
// it is enforced at CREATE on its own.
export function defaultAces(owner: string, group: string, isDirectory: boolean): Array<{ type: number; sid: string; mask: number; flags: number }> {
  const inherit = isDirectory ? OBJECT_INHERIT_ACE | CONTAINER_INHERIT_ACE : 0;
  const t = ACCESS_ALLOWED_ACE_TYPE;
  return [
    { type: t, sid: owner, mask: FULL_CONTROL, flags: inherit },
    { type: t, sid: group, mask: READ_EXECUTE, flags: inherit },
    { type: t, sid: 'S-1-1-0', mask: READ_EXECUTE, flags: inherit },
    { type: t, sid: 'S-1-5-18', mask: FULL_CONTROL, flags: inherit },
  ];
}

/** Build the self-relative SD holding the parts `secInfo` asks for (OWNER|GROUP|DACL; SACL is empty). */
export function buildSecurityDescriptor(inp: SdInput, secInfo: number): Buffer {
  const owner = inp.owner ?? ownerSid(inp.uid);
  const group = inp.group ?? groupSid(inp.gid);
  const parts: Array<{ kind: 'owner' | 'group' | 'dacl'; data: Buffer }> = [];
  if (secInfo & SI.OWNER) parts.push({ kind: 'owner', data: encodeSid(owner) });
  if (secInfo & SI.GROUP) parts.push({ kind: 'group', data: encodeSid(group) });
  if (secInfo & SI.DACL) {
    parts.push({
      kind: 'dacl',
      data: encodeAcl(defaultAces(owner, group, inp.isDirectory)),
    });
  }
  let control = SE_SELF_RELATIVE;
  if (secInfo & SI.DACL) control |= SE_DACL_PRESENT;
  const w = new Writer(20 + parts.reduce((n, p) => n + p.data.length, 0));
  w.u8(1).u8(0).u16(control).u32(0).u32(0).u32(0).u32(0);
  let off = 20;
  const offsets: Record<string, number> = {};
  for (const p of parts) {
    offsets[p.kind] = off;
    w.bytes(p.data);
    off += p.data.length;
  }
  w.setU32(4, offsets.owner ?? 0).setU32(8, offsets.group ?? 0).setU32(12, 0).setU32(16, offsets.dacl ?? 0);
  return w.finish();
}

/** Access needed to query the given SecurityInformation (MS-SMB2 3.3.5.20.3). */
export function queryAccessNeeded(secInfo: number): number {
  let need = 0;
  if (secInfo & (SI.OWNER | SI.GROUP | SI.DACL | SI.LABEL | SI.ATTRIBUTE | SI.SCOPE)) need |= 0x00020000; // READ_CONTROL
  if (secInfo & SI.SACL) need |= 0x01000000; // ACCESS_SYSTEM_SECURITY
  return need;
}

/** Access needed to set the given SecurityInformation (MS-SMB2 3.3.5.21.3). */
export function setAccessNeeded(secInfo: number): number {
  let need = 0;
  if (secInfo & (SI.OWNER | SI.GROUP | SI.LABEL)) need |= 0x00080000; // WRITE_OWNER
  if (secInfo & (SI.DACL | SI.ATTRIBUTE)) need |= 0x00040000; // WRITE_DAC
  if (secInfo & SI.SACL) need |= 0x01000000;
  return need;
}
