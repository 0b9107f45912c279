// DFS on the file path (MS-SMB2 3.3.5.9 step "If SMB2_FLAGS_DFS_OPERATIONS ..."): a CREATE on a DFS
// share may name `host\share\path`; a path crossing a link is STATUS_PATH_NOT_COVERED, so the client
// asks for a referral. Nothing here follows a link.
import type { ShareConfig } from '../../config/config.js';
import { dfsRole } from '../../config/dfs.js';
import { HeaderFlags } from '../../wire/constants.js';
import { Status } from '../../wire/status.js';
import { NtStatusError } from '../../wire/status.js';
import { findLink } from './links.js';
import { splitDfsPath } from './referral.js';

/** True when the tree's share answers referrals (msdfs root or proxy). */
export function isDfsShare(share: ShareConfig): boolean {
  return dfsRole(share) !== undefined;
}

/**
 * The share-relative name of a CREATE on a DFS share: the leading `host\share` (with or without a
 * leading backslash) is dropped. Windows marks such names with SMB2_FLAGS_DFS_OPERATIONS; smbclient
 * sends them on any tree whose ShareFlags say DFS without the flag, so (as Samba) the form is
 * recognised by its second component naming this share.
 */
export function dfsRequestName(share: ShareConfig, headerFlags: number, name: string): string {
  if (!isDfsShare(share)) return name;
  if (!(headerFlags & HeaderFlags.DFS_OPERATIONS) && !name.includes('\\')) return name;
  const comps = splitDfsPath(name);
  if (comps.length >= 2 && comps[1]!.toLowerCase() === share.name.toLowerCase()) return comps.slice(2).join('\\');
  return name;
}

/** Throws PATH_NOT_COVERED when `path` ('/'-separated, share-relative) is on or below a link. */
export async function refuseDfsLink(share: ShareConfig, path: string): Promise<void> {
  const role = dfsRole(share);
  if (role === 'proxy') throw new NtStatusError(Status.PATH_NOT_COVERED);
  if (role !== 'root' || path === '') return;
  if (await findLink(share.path, path.split('/'))) throw new NtStatusError(Status.PATH_NOT_COVERED);
}

/** FILE_ATTRIBUTE_DIRECTORY | FILE_ATTRIBUTE_REPARSE_POINT (MS-FSCC 2.6). */
const LINK_ATTRIBUTES = 0x10 | 0x400;

/**
 * Directory entries of a DFS root that are msdfs links are listed as directories with the
 * reparse-point attribute, as Samba lists them (Windows Explorer then opens them as folders and
 * meets PATH_NOT_COVERED). Only symlink entries are looked at: one readlink each.
 */
export async function markDfsLinks(
  share: ShareConfig, dir: string,
  entries: Array<{ name: string; attributes: number; endOfFile: bigint; allocationSize: bigint }>,
  isLink: (name: string) => boolean,
): Promise<void> {
  if (dfsRole(share) !== 'root') return;
  const base = dir === '' ? [] : dir.split('/');
  for (const e of entries) {
    if (e.name === '.' || e.name === '..' || !isLink(e.name)) continue;
    const link = await findLink(share.path, [...base, e.name]);
    if (!link || link.components !== base.length + 1) continue;
    e.attributes = LINK_ATTRIBUTES;
    e.endOfFile = 0n;
    e.allocationSize = 0n;
  }
}
