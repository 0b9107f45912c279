// Access-mask mapping and share-mode checks for CREATE (MS-SMB2 3.3.5.9, MS-FSA 2.1.5.1.2).
import { Access, ShareAccess } from '../wire/constants.js';
import { Status } from '../wire/status.js';
import type { Open } from './types.js';

export const FILE_GENERIC_READ = 0x00120089;
export const FILE_GENERIC_WRITE = 0x00120116;
export const FILE_GENERIC_EXECUTE = 0x001200a0;
export const FILE_ALL_ACCESS = 0x001f01ff;

/** Bits that mean "this open touches data or may delete" (MS-FSA 2.1.5.1.2.2: others never conflict). */
export const DATA_ACCESS = Access.FILE_READ_DATA | Access.FILE_WRITE_DATA | Access.FILE_APPEND_DATA |
  Access.FILE_EXECUTE | Access.DELETE;

/** Access bits that modify the object (refused on read-only shares). */
export const WRITE_ACCESS_BITS = Access.FILE_WRITE_DATA | Access.FILE_APPEND_DATA | Access.FILE_WRITE_EA |
  Access.FILE_WRITE_ATTRIBUTES | Access.DELETE | Access.WRITE_DAC | Access.WRITE_OWNER | Access.FILE_DELETE_CHILD;

/**
 * DesiredAccess bits refused with ACCESS_DENIED: reserved bits 9-15 and 21-23, and bits 26-27.
 * (Windows also refuses SYNCHRONIZE alone, gentest 0x0df0fe00; Samba allows it and
 * smb2.sharemode expects that, so we follow Samba.)
 */
const RESERVED_ACCESS = 0x0ce0fe00;

/** Map GENERIC_* bits to the file-specific rights (MS-SMB2 3.3.5.9 / MS-DTYP 2.4.3). */
export function mapGeneric(mask: number): number {
  let m = mask >>> 0;
  if (m & Access.GENERIC_READ) m |= FILE_GENERIC_READ;
  if (m & Access.GENERIC_WRITE) m |= FILE_GENERIC_WRITE;
  if (m & Access.GENERIC_EXECUTE) m |= FILE_GENERIC_EXECUTE;
  if (m & Access.GENERIC_ALL) m |= FILE_ALL_ACCESS;
  return (m & ~(Access.GENERIC_READ | Access.GENERIC_WRITE | Access.GENERIC_EXECUTE | Access.GENERIC_ALL)) >>> 0;
}

export interface AccessInput {
  desired: number;
  /** What MAXIMUM_ALLOWED grants on this object (share maximal access, read-only files ...). */
  maximal: number;
  /** What may be granted when asked for explicitly (default: maximal). */
  limit?: number;
}

/**
 * Validate and resolve a DesiredAccess into the granted access. Returns the NTSTATUS on failure.
 * MAXIMUM_ALLOWED grants `maximal` plus whatever explicit bits were asked (which must be allowed).
 */
export function resolveAccess(inp: AccessInput): { status: number; granted: number } {
  const desired = inp.desired >>> 0;
  if (desired & RESERVED_ACCESS) return { status: Status.ACCESS_DENIED, granted: 0 };
  // ACCESS_SYSTEM_SECURITY needs SeSecurityPrivilege, which no smbts user has.
  if (desired & Access.ACCESS_SYSTEM_SECURITY) return { status: Status.PRIVILEGE_NOT_HELD, granted: 0 };
  let want = mapGeneric(desired & ~Access.MAXIMUM_ALLOWED);
  if (desired & Access.MAXIMUM_ALLOWED) {
    want |= inp.maximal;
  }
  if ((want & ~(inp.limit ?? inp.maximal) & ~inp.maximal & ~Access.SYNCHRONIZE) !== 0) return { status: Status.ACCESS_DENIED, granted: 0 };
  return { status: Status.SUCCESS, granted: want >>> 0 };
}

/** True when the access touches neither data nor delete (attribute/"stat" opens never conflict). */
export function isStatOpen(access: number): boolean {
  return (access & DATA_ACCESS) === 0;
}

/** Whether a new open (access, share) conflicts with an existing open (MS-FSA 2.1.5.1.2.2). */
export function shareConflict(existing: { grantedAccess: number; shareAccess: number }, access: number, share: number): boolean {
  if (isStatOpen(existing.grantedAccess) || isStatOpen(access)) return false;
  const ea = existing.grantedAccess;
  const es = existing.shareAccess;
  if ((ea & (Access.FILE_WRITE_DATA | Access.FILE_APPEND_DATA)) && !(share & ShareAccess.WRITE)) return true;
  if ((ea & (Access.FILE_READ_DATA | Access.FILE_EXECUTE)) && !(share & ShareAccess.READ)) return true;
  if ((ea & Access.DELETE) && !(share & ShareAccess.DELETE)) return true;
  if ((access & (Access.FILE_WRITE_DATA | Access.FILE_APPEND_DATA)) && !(es & ShareAccess.WRITE)) return true;
  if ((access & (Access.FILE_READ_DATA | Access.FILE_EXECUTE)) && !(es & ShareAccess.READ)) return true;
  if ((access & Access.DELETE) && !(es & ShareAccess.DELETE)) return true;
  return false;
}

/** The existing opens a new open would conflict with. */
export function conflictingOpens(opens: Iterable<Open>, access: number, share: number): Open[] {
  const out: Open[] = [];
  for (const o of opens) if (shareConflict(o, access, share)) out.push(o);
  return out;
}
