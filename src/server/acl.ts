// Per-file NT ACLs: the session's token, the access check, inheritance to new objects and the
// merge of SET_INFO(SECURITY) into a stored descriptor (MS-DTYP 2.5.3, simplified).
//
// Descriptors are stored per file by the VFS (VfsHandle.getSecurity/setSecurity, in the stream
// depot on LocalVfs). Files without a stored descriptor keep the synthesized default of
// security.ts and are not access-checked here (share-level access only).
import { createHash } from 'node:crypto';
import * as os from 'node:os';
import {
  AceFlags, AceType, SdControl, WellKnownSid, decodeSecurityDescriptor, encodeSecurityDescriptor, isSimpleAce,
  type Ace, type Acl, type SecurityDescriptor,
} from '../wire/security.js';
import { Access, SecurityInformation as SI } from '../wire/constants.js';
import { mapGeneric } from './share-modes.js';
import { defaultAces } from './security.js';
import type { Vfs } from '../vfs/types.js';
import { parentPath, splitStream } from '../vfs/path.js';

/** Who a session is, for access checks (MS-DTYP 2.5.2 token, simplified). */
export interface Token {
  user: string;
  /** Primary group (owner group of objects this user creates). */
  group: string;
  /** Every SID of the token, the user's first. */
  sids: string[];
}

let domainSid: string | undefined;
/** This server's machine domain SID S-1-5-21-a-b-c, stable per host (and SMBTS_DOMAIN_SEED). */
export function serverDomainSid(): string {
  if (!domainSid) {
    const h = createHash('sha256').update('smbts-domain:' + (process.env.SMBTS_DOMAIN_SEED ?? os.hostname())).digest();
    domainSid = `S-1-5-21-${h.readUInt32LE(0)}-${h.readUInt32LE(4)}-${h.readUInt32LE(8)}`;
  }
  return domainSid;
}

const rids = new Map<string, number>();
/** A stable RID >= 1000 for a user name (case-insensitive); memoized (tokenOf runs on every CREATE). */
function ridOf(user: string): number {
  const key = user.toLowerCase();
  let rid = rids.get(key);
  if (rid === undefined) {
    const h = createHash('sha256').update(key, 'utf8').digest();
    rid = 1000 + (h.readUInt32LE(0) % 0x3fffff00);
    if (rids.size >= 1024) rids.clear();
    rids.set(key, rid);
  }
  return rid;
}

export interface TokenSource {
  readonly user: string;
  readonly guest: boolean;
  readonly anonymous: boolean;
}

/** The token of a session: S-1-5-21-<domain>-<rid> with Everyone, Authenticated Users, Users. */
export function tokenOf(s: TokenSource): Token {
  if (s.anonymous) return { user: WellKnownSid.ANONYMOUS, group: WellKnownSid.ANONYMOUS, sids: [WellKnownSid.ANONYMOUS, WellKnownSid.EVERYONE] };
  if (s.guest) return { user: WellKnownSid.BUILTIN_GUESTS, group: WellKnownSid.BUILTIN_GUESTS, sids: [WellKnownSid.BUILTIN_GUESTS, WellKnownSid.EVERYONE] };
  const dom = serverDomainSid();
  const user = `${dom}-${ridOf(s.user)}`;
  const group = `${dom}-513`; // Domain Users
  return { user, group, sids: [user, group, WellKnownSid.EVERYONE, WellKnownSid.AUTHENTICATED_USERS, WellKnownSid.BUILTIN_USERS] };
}

const OWNER_RIGHTS = 'S-1-3-4';

function aceMask(a: Ace): number {
  return isSimpleAce(a) ? mapGeneric(a.mask) : 0;
}

/**
 * What the DACL grants the token (MS-DTYP 2.5.3.2 with MAXIMUM_ALLOWED semantics): ACEs in
 * order, an allow adds the bits not denied before, a deny removes the bits not granted before.
 * The owner gets READ_CONTROL|WRITE_DAC unless an OWNER RIGHTS ACE is present.
 * NULL DACL: everything; empty DACL: nothing but the owner's implicit rights.
 */
export function grantedBy(sd: SecurityDescriptor, token: Token): number {
  if (!sd.dacl) return 0x001f01ff; // NULL (or absent) DACL: everything
  const isOwner = sd.owner !== undefined && token.sids.includes(sd.owner);
  let granted = 0;
  let denied = 0;
  const aces = sd.dacl.aces;
  const hasOwnerRights = aces.some((a) => isSimpleAce(a) && a.sid === OWNER_RIGHTS && !(a.flags & AceFlags.INHERIT_ONLY));
  if (isOwner && !hasOwnerRights) granted |= Access.READ_CONTROL | Access.WRITE_DAC;
  for (const a of aces) {
    if (!isSimpleAce(a) || (a.flags & AceFlags.INHERIT_ONLY)) continue;
    const matches = token.sids.includes(a.sid) || (a.sid === OWNER_RIGHTS && isOwner);
    if (!matches) continue;
    const m = aceMask(a);
    if (a.type === AceType.ACCESS_ALLOWED) granted |= m & ~denied;
    else if (a.type === AceType.ACCESS_DENIED) denied |= m & ~granted;
  }
  return granted >>> 0;
}

/** The default descriptor of an object without a stored one (same as the synthesized SD). */
export function defaultSd(token: Token, isDirectory: boolean): SecurityDescriptor {
  return {
    control: 0, owner: token.user, group: token.group,
    dacl: { revision: 2, aces: defaultAces(token.user, token.group, isDirectory) },
  };
}

const INHERIT_FLAGS = AceFlags.OBJECT_INHERIT | AceFlags.CONTAINER_INHERIT | AceFlags.NO_PROPAGATE_INHERIT | AceFlags.INHERIT_ONLY;

/**
 * The ACEs a new child inherits from its parent's ACL (MS-DTYP 2.5.3.4.2, simplified):
 * OI ACEs go to files, CI ACEs to directories (OI-only ACEs to directories as inherit-only,
 * to be passed on to files); NO_PROPAGATE stops after one level; CREATOR OWNER / GROUP are
 * replaced by the new owner / group in the effective ACE. Returns undefined when nothing is
 * inheritable.
 */
export function inheritAcl(parent: Acl | null | undefined, isDirectory: boolean, owner: string, group: string, autoInherit = true): Acl | undefined {
  if (!parent) return undefined;
  // INHERITED_ACE only under auto-inheritance (MS-DTYP 2.5.3.4.1: the parent is DACL_AUTO_INHERITED).
  const INH = autoInherit ? AceFlags.INHERITED : 0;
  const out: Ace[] = [];
  for (const a of parent.aces) {
    const oi = !!(a.flags & AceFlags.OBJECT_INHERIT);
    const ci = !!(a.flags & AceFlags.CONTAINER_INHERIT);
    const np = !!(a.flags & AceFlags.NO_PROPAGATE_INHERIT);
    const keepFlags = a.flags & ~(INHERIT_FLAGS | AceFlags.INHERITED);
    const own = a.flags & ~AceFlags.INHERITED;
    if (!isDirectory) {
      if (!oi) continue;
      out.push(effective(a, keepFlags | INH, owner, group));
      continue;
    }
    if (ci) {
      const creator = isSimpleAce(a) && (a.sid === WellKnownSid.CREATOR_OWNER || a.sid === WellKnownSid.CREATOR_GROUP);
      const generic = isSimpleAce(a) && (a.mask & 0xf0000000) !== 0;
      if (np) {
        out.push(effective(a, keepFlags | INH, owner, group));
      } else if (creator || generic) {
        // The effective ACE for this directory plus an inherit-only copy for its children.
        out.push(effective(a, keepFlags | INH, owner, group));
        out.push({ ...a, flags: own | AceFlags.INHERIT_ONLY | INH });
      } else {
        out.push({ ...a, flags: (own & ~AceFlags.INHERIT_ONLY) | INH });
      }
    } else if (oi && !np) {
      out.push({ ...a, flags: own | AceFlags.INHERIT_ONLY | INH });
    }
  }
  return out.length ? { revision: parent.revision, aces: out } : undefined;
}

function effective(a: Ace, flags: number, owner: string, group: string): Ace {
  if (!isSimpleAce(a)) return { ...a, flags };
  const sid = a.sid === WellKnownSid.CREATOR_OWNER ? owner : a.sid === WellKnownSid.CREATOR_GROUP ? group : a.sid;
  return { type: a.type, flags, mask: mapGeneric(a.mask), sid };
}

/** The descriptor of a new object under a parent with a stored descriptor. */
export function inheritedSd(parent: SecurityDescriptor, token: Token, isDirectory: boolean): SecurityDescriptor {
  const auto = (parent.control & SdControl.DACL_AUTO_INHERITED) !== 0;
  const dacl = inheritAcl(parent.dacl, isDirectory, token.user, token.group, auto);
  // Nothing inheritable: the Windows default, full control for the owner and SYSTEM.
  return {
    control: auto ? SdControl.DACL_AUTO_INHERITED : 0, owner: token.user, group: token.group,
    dacl: dacl ?? { revision: 2, aces: [
      { type: AceType.ACCESS_ALLOWED, flags: 0, mask: 0x001f01ff, sid: token.user },
      { type: AceType.ACCESS_ALLOWED, flags: 0, mask: 0x001f01ff, sid: WellKnownSid.LOCAL_SYSTEM },
    ] },
  };
}

/**
 * Merge the parts `secInfo` names from `incoming` into `base` (SET_INFO(SECURITY), MS-SMB2
 * 3.3.5.21.3 / MS-FSA 2.1.5.16). A DACL/SACL named by secInfo but not present in `incoming`
 * is a NULL ACL (as Windows and Samba).
 */
export function mergeSd(base: SecurityDescriptor, incoming: SecurityDescriptor, secInfo: number): SecurityDescriptor {
  // GENERIC_* bits in the ACEs are stored mapped to the file rights (as Samba set_sd).
  const mapAcl = (acl: Acl | null | undefined): Acl | null =>
    acl ? { revision: acl.revision, aces: acl.aces.map((a) => (isSimpleAce(a) ? { ...a, mask: mapGeneric(a.mask) } : a)) } : null;
  const out: SecurityDescriptor = { ...base };
  if ((secInfo & SI.OWNER) && incoming.owner) out.owner = incoming.owner;
  if ((secInfo & SI.GROUP) && incoming.group) out.group = incoming.group;
  // PROTECTED is kept; AUTO_INHERITED only together with AUTO_INHERIT_REQ (which is never
  // stored), as Windows (smb2.acls.INHERITFLAGS).
  const c = incoming.control;
  const DACL_BITS = SdControl.DACL_PROTECTED | SdControl.DACL_AUTO_INHERITED | SdControl.DACL_DEFAULTED;
  const SACL_BITS = SdControl.SACL_PROTECTED | SdControl.SACL_AUTO_INHERITED | SdControl.SACL_DEFAULTED;
  if (secInfo & SI.DACL) {
    out.dacl = mapAcl(incoming.dacl);
    let bits = c & SdControl.DACL_PROTECTED;
    if ((c & SdControl.DACL_AUTO_INHERITED) && (c & SdControl.DACL_COMPUTED_INHERITANCE_REQUIRED)) bits |= SdControl.DACL_AUTO_INHERITED;
    out.control = (out.control & ~DACL_BITS & ~SdControl.DACL_COMPUTED_INHERITANCE_REQUIRED) | bits;
  }
  if (secInfo & SI.SACL) {
    out.sacl = mapAcl(incoming.sacl);
    let bits = c & SdControl.SACL_PROTECTED;
    if ((c & SdControl.SACL_AUTO_INHERITED) && (c & SdControl.SACL_COMPUTED_INHERITANCE_REQUIRED)) bits |= SdControl.SACL_AUTO_INHERITED;
    out.control = (out.control & ~SACL_BITS & ~SdControl.SACL_COMPUTED_INHERITANCE_REQUIRED) | bits;
  }
  return out;
}

/** The parts of a stored descriptor a QUERY_INFO(SECURITY) asks for, encoded self-relative. */
export function selectSd(sd: SecurityDescriptor, secInfo: number): Buffer {
  const out: SecurityDescriptor = { control: sd.control & ~(SdControl.DACL_PRESENT | SdControl.SACL_PRESENT) };
  if (secInfo & SI.OWNER) out.owner = sd.owner;
  if (secInfo & SI.GROUP) out.group = sd.group;
  if (secInfo & SI.DACL) out.dacl = sd.dacl === undefined ? null : sd.dacl;
  else out.control &= ~(SdControl.DACL_PROTECTED | SdControl.DACL_AUTO_INHERITED | SdControl.DACL_DEFAULTED);
  if (secInfo & SI.SACL) { if (sd.sacl !== undefined) out.sacl = sd.sacl; }
  else out.control &= ~(SdControl.SACL_PROTECTED | SdControl.SACL_AUTO_INHERITED | SdControl.SACL_DEFAULTED);
  return encodeSecurityDescriptor(out);
}

/** Decode a stored descriptor; undefined when it is unreadable (treated as "none stored"). */
export function parseStored(buf: Buffer | undefined): SecurityDescriptor | undefined {
  if (!buf) return undefined;
  try {
    return decodeSecurityDescriptor(buf);
  } catch {
    return undefined;
  }
}

export { encodeSecurityDescriptor, decodeSecurityDescriptor };

// ---- CREATE helpers (used by handlers/create.ts)

/** The stored descriptor of `path` (a stream path: its file's), or undefined. Never throws. */
export async function storedSd(vfs: Vfs, path: string): Promise<SecurityDescriptor | undefined> {
  if (!vfs.getSecurity) return undefined;
  try {
    return parseStored(await vfs.getSecurity(path));
  } catch {
    return undefined;
  }
}

/** Whether the parent of `path` lets the token delete children (MS-FSA 2.1.5.1.2.1: DELETE via FILE_DELETE_CHILD). */
async function parentAllowsDeleteChild(vfs: Vfs, path: string, token: Token): Promise<boolean> {
  if (path === '') return false;
  const psd = await storedSd(vfs, parentPath(path));
  if (!psd) return true; // no per-file ACL on the parent: share-level access decides
  return (grantedBy(psd, token) & Access.FILE_DELETE_CHILD) !== 0;
}

/**
 * What a stored descriptor allows on an existing object (undefined: none stored, no limit).
 * DELETE is also granted when the parent grants FILE_DELETE_CHILD.
 */
export async function accessLimit(vfs: Vfs, path: string, token: Token, sd?: SecurityDescriptor): Promise<number | undefined> {
  sd ??= await storedSd(vfs, path);
  if (!sd) return undefined;
  // FILE_READ_ATTRIBUTES comes from the containing directory (MS-FSA 2.1.5.1.2.1, as Samba).
  let granted = grantedBy(sd, token) | Access.FILE_READ_ATTRIBUTES;
  if (!(granted & Access.DELETE) && await parentAllowsDeleteChild(vfs, splitStream(path).base, token)) granted |= Access.DELETE;
  return granted >>> 0;
}

/**
 * Creating a new object in a directory with a stored descriptor needs FILE_ADD_FILE /
 * FILE_ADD_SUBDIRECTORY there (MS-FSA 2.1.5.1.1). Returns the parent's descriptor (for
 * inheritance) and whether the check passed.
 */
export async function checkAddChild(vfs: Vfs, path: string, isDirectory: boolean, token: Token): Promise<{ parent: SecurityDescriptor | undefined; ok: boolean }> {
  const parent = await storedSd(vfs, parentPath(splitStream(path).base));
  if (!parent) return { parent, ok: true };
  const need = isDirectory ? Access.FILE_ADD_SUBDIRECTORY : Access.FILE_ADD_FILE;
  return { parent, ok: (grantedBy(parent, token) & need) === need };
}

/**
 * The descriptor a new (or overwritten) object gets: from the SecD create context merged over
 * the inherited (or default) one, or the inherited one alone. undefined: nothing to store.
 * Throws WireError for a malformed SecD.
 */
export function newObjectSd(secd: Buffer | undefined, parent: SecurityDescriptor | undefined, token: Token, isDirectory: boolean): SecurityDescriptor | undefined {
  const inherited = parent ? inheritedSd(parent, token, isDirectory) : undefined;
  if (!secd) return inherited;
  const incoming = decodeSecurityDescriptor(secd);
  let flags = 0;
  if (incoming.owner) flags |= SI.OWNER;
  if (incoming.group) flags |= SI.GROUP;
  if (incoming.control & SdControl.DACL_PRESENT) flags |= SI.DACL;
  if (incoming.control & SdControl.SACL_PRESENT) flags |= SI.SACL;
  const merged = mergeSd(inherited ?? defaultSd(token, isDirectory), incoming, flags);
  // An explicit DACL gets the inheritable ACEs of the parent appended unless protected (MS-DTYP 2.5.3.4).
  const inheritedAces = parent ? inheritAcl(parent.dacl, isDirectory, token.user, token.group, (parent.control & SdControl.DACL_AUTO_INHERITED) !== 0) : undefined;
  if ((flags & SI.DACL) && merged.dacl && inheritedAces && !(incoming.control & SdControl.DACL_PROTECTED)) {
    merged.dacl = { revision: merged.dacl.revision, aces: [...merged.dacl.aces.filter((a) => !(a.flags & AceFlags.INHERITED)), ...inheritedAces.aces] };
    if (parent!.control & SdControl.DACL_AUTO_INHERITED) merged.control |= SdControl.DACL_AUTO_INHERITED;
  }
  return merged;
}
