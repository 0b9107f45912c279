// Samba's per-share user lists, applied at TREE_CONNECT: `invalid users`, `valid users`,
// `read list`, `write list`, `admin users` (smb.conf(5); Samba user_ok_token and
// is_share_read_only_for_token). Guest and anonymous sessions are the guest account ("nobody",
// Samba's default `guest account`), so `valid users = u1` refuses them as Samba does.
//
// List entries: a user name (case-insensitive), DOMAIN\name, or a Unix group: @group (Samba
// tries an NIS netgroup, then the Unix group; smbts has no NIS), +group (Unix group) or &group
// (NIS only: never matches). Group members come from /etc/group and /etc/passwd (the primary
// group), matched by user name, since the smbpasswd user database has no groups of its own.
import { readFileSync, statSync } from 'node:fs';

export interface ShareUser {
  readonly user: string;
  readonly domain: string;
  readonly guest: boolean;
  readonly anonymous: boolean;
}

export interface UserLists {
  validUsers: readonly string[];
  invalidUsers?: readonly string[];
  readList?: readonly string[];
  writeList?: readonly string[];
  adminUsers?: readonly string[];
}

/** Lower-case member names of a Unix group, or undefined when there is no such group. */
export type GroupLookup = (group: string) => ReadonlySet<string> | undefined;

/** Samba's default `guest account`: the name guest and anonymous sessions are matched as. */
export const GUEST_ACCOUNT = 'nobody';

function namesOf(who: ShareUser): { user: string; qualified: string | undefined } {
  if (who.guest || who.anonymous) return { user: GUEST_ACCOUNT, qualified: undefined };
  const user = who.user.toLowerCase();
  return { user, qualified: who.domain ? `${who.domain.toLowerCase()}\\${user}` : undefined };
}

/** Whether `who` is named by one of the entries of a Samba user list (token_contains_name_in_list). */
export function inList(list: readonly string[] | undefined, who: ShareUser, groups: GroupLookup = unixGroups): boolean {
  if (!list?.length) return false;
  const { user, qualified } = namesOf(who);
  for (const raw of list) {
    const e = raw.trim().toLowerCase();
    if (e === '') continue;
    const m = /^([@+&]+)(.+)$/.exec(e);
    if (m) {
      if (m[1] === '&') continue; // NIS netgroups only
      if (groups(m[2]!)?.has(user)) return true;
      continue;
    }
    // An unqualified entry names the user in any domain (local accounts); DOMAIN\user only there.
    if (e === user || e === qualified) return true;
  }
  return false;
}

export interface ShareAccess {
  /** TREE_CONNECT allowed (not in `invalid users`; in `valid users` when that is set). */
  allowed: boolean;
  /** `read only`, made read-only by `read list`, made writable by `write list`. */
  readOnly: boolean;
  /** In `admin users` (never a guest). */
  admin: boolean;
}

export function shareAccess(share: UserLists & { readOnly: boolean }, who: ShareUser, groups: GroupLookup = unixGroups): ShareAccess {
  let allowed = !inList(share.invalidUsers, who, groups);
  if (allowed && share.validUsers.length) allowed = inList(share.validUsers, who, groups);
  let readOnly = share.readOnly;
  if (inList(share.readList, who, groups)) readOnly = true;
  if (inList(share.writeList, who, groups)) readOnly = false;
  const admin = !who.guest && !who.anonymous && inList(share.adminUsers, who, groups);
  return { allowed, readOnly, admin };
}

// ---- Unix groups (/etc/group + primary groups from /etc/passwd), re-read when a file changes.

interface GroupCache { key: string; groups: Map<string, Set<string>> }
let cache: GroupCache | undefined;

function fileKey(p: string): string {
  try {
    const st = statSync(p);
    return `${st.mtimeMs}:${st.size}`;
  } catch {
    return 'none';
  }
}

/** Parse /etc/group and /etc/passwd text into group name -> member names (lower case). */
export function parseGroups(groupText: string, passwdText: string): Map<string, Set<string>> {
  const groups = new Map<string, Set<string>>();
  const byGid = new Map<string, Set<string>>();
  for (const line of groupText.split('\n')) {
    const f = line.split(':');
    if (f.length < 4 || !f[0] || f[0].startsWith('#')) continue;
    const members = new Set(f[3]!.split(',').map((s) => s.trim().toLowerCase()).filter(Boolean));
    groups.set(f[0].toLowerCase(), members);
    byGid.set(f[2]!, members);
  }
  for (const line of passwdText.split('\n')) {
    const f = line.split(':');
    if (f.length < 4 || !f[0]) continue;
    byGid.get(f[3]!)?.add(f[0].toLowerCase());
  }
  return groups;
}

export const unixGroups: GroupLookup = (group) => {
  const key = fileKey('/etc/group') + '|' + fileKey('/etc/passwd');
  if (!cache || cache.key !== key) {
    const read = (p: string) => {
      try {
        return readFileSync(p, 'utf8');
      } catch {
        return '';
      }
    };
    cache = { key, groups: parseGroups(read('/etc/group'), read('/etc/passwd')) };
  }
  return cache.groups.get(group.toLowerCase());
};
