// FSCTL_DFS_GET_REFERRALS / _EX answers (MS-SMB2 3.3.5.15.2, MS-DFSC 3.2.5): root referrals for
// `\host\share` of a DFS root, link referrals for a path crossing an msdfs link, and the target
// of an `msdfs proxy` share. Answers at the level the client asked for (1..4).
import { randomInt } from 'node:crypto';
import { findShare, type ServerConfig, type ShareConfig } from '../../config/config.js';
import { dfsRole } from '../../config/dfs.js';
import {
  DfsEntryFlags, DfsHeaderFlags, DfsServerType, encodeDfsReferralResponse, type DfsReferralEntry, type DfsReferralRequest,
} from '../../wire/dfs.js';
import { Status } from '../../wire/status.js';
import { findLink } from './links.js';

export type ReferralResult = { status: number; output?: Buffer };

/** `\host\share\a\b` (or `\\host\...`) -> ['host', 'share', 'a', 'b'], empty components dropped. */
export function splitDfsPath(p: string): string[] {
  return p.replace(/\0+$/, '').replace(/\//g, '\\').split('\\').filter((c) => c !== '');
}

/** The response for `req`, or an NTSTATUS (NOT_FOUND for anything that is not DFS, as Samba). */
export async function answerReferral(cfg: ServerConfig, req: DfsReferralRequest, maxOut: number): Promise<ReferralResult> {
  const level = Math.min(req.maxReferralLevel, 4);
  if (level < 1) return { status: Status.INVALID_PARAMETER };
  const comps = splitDfsPath(req.requestFileName);
  // A lone `\host` is a domain or DC referral request (3.2.5.2/3): no domain-based DFS here.
  if (comps.length < 2) return { status: Status.NOT_FOUND };
  const share = findShare(cfg, comps[1]!);
  const role = share && !share.ipc ? dfsRole(share) : undefined;
  if (!share || !role) return { status: Status.NOT_FOUND };
  const ttl = share.msdfs!.ttl;
  // PathConsumed counts UTF-16 bytes of the request's own spelling of the matched prefix.
  const consumed = (n: number): { text: string; bytes: number } => {
    const text = '\\' + comps.slice(0, n).join('\\');
    return { text, bytes: text.length * 2 };
  };
  let res: { prefix: { text: string; bytes: number }; targets: string[]; root: boolean };
  if (role === 'proxy') {
    res = { prefix: consumed(2), targets: [share.msdfs!.proxy!], root: false };
  } else if (comps.length === 2) {
    // Root referral (3.2.5.5): the root itself, under the name the client used.
    res = { prefix: consumed(2), targets: [consumed(2).text], root: true };
  } else {
    const link = await findLink(share.path, comps.slice(2));
    if (!link) return { status: Status.NOT_FOUND };
    res = { prefix: consumed(2 + link.components), targets: orderTargets(share, link.targets), root: false };
  }
  const referrals: DfsReferralEntry[] = res.targets.map((t, i) => ({
    version: level, serverType: res.root ? DfsServerType.ROOT : DfsServerType.NON_ROOT,
    // One target set (2.2.5.4): the boundary flag marks its first entry.
    referralEntryFlags: i === 0 ? DfsEntryFlags.TARGET_SET_BOUNDARY : 0,
    timeToLive: ttl, dfsPath: res.prefix.text, dfsAlternatePath: res.prefix.text, networkAddress: t,
  }));
  const flags = res.root ? DfsHeaderFlags.REFERRAL_SERVERS | DfsHeaderFlags.STORAGE_SERVERS : DfsHeaderFlags.STORAGE_SERVERS;
  const output = encodeDfsReferralResponse({ pathConsumed: res.prefix.bytes, referralHeaderFlags: flags, referrals }, level as 1 | 2 | 3 | 4);
  // 3.3.5.15.2: a referral that does not fit MaxOutputResponse fails; the client retries bigger.
  if (output.length > maxOut) return { status: Status.BUFFER_OVERFLOW };
  return { status: Status.SUCCESS, output };
}

/** `msdfs shuffle referrals`: a fresh random order per answer (Fisher-Yates). */
function orderTargets(share: ShareConfig, targets: string[]): string[] {
  if (!share.msdfs?.shuffle) return targets;
  const t = [...targets];
  for (let i = t.length - 1; i > 0; i--) {
    const j = randomInt(i + 1);
    [t[i], t[j]] = [t[j]!, t[i]!];
  }
  return t;
}
