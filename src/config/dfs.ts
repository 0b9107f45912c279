// DFS share keys (docs/dfs.md), Samba's names where Samba has them:
//   msdfs root = yes              the share is a DFS root; links are `msdfs:` symlinks in it
//   msdfs proxy = \host\share     the share is only a referral to another share (needs no path)
//   msdfs shuffle referrals = yes targets of a link in random order per referral
//   host msdfs = no               ([global]) no DFS at all (Samba's default is yes)
//   msdfs ttl = 600               smbts only (Samba always answers 600 s): TimeToLive of every referral, s
import { parseBool } from './config.js';

export interface MsdfsConfig {
  root: boolean;
  proxy?: string;
  shuffle: boolean;
  /** Seconds. */
  ttl: number;
  /** `host msdfs`; false turns every other key off. */
  host: boolean;
}

export const DEFAULT_MSDFS_TTL = 600;

export function defaultMsdfs(): MsdfsConfig {
  return { root: false, shuffle: false, ttl: DEFAULT_MSDFS_TTL, host: true };
}

/** Applies one DFS key (lower-cased, space-free) to `target.msdfs`; false when `key` is not one. */
export function applyDfsKey(target: { msdfs?: MsdfsConfig }, key: string, value: string, where: string, warnings: string[]): boolean {
  const set = (f: (m: MsdfsConfig) => void): true => {
    const m = { ...(target.msdfs ?? defaultMsdfs()) };
    f(m);
    target.msdfs = m;
    return true;
  };
  const bool = (apply: (m: MsdfsConfig, b: boolean) => void): true => {
    const b = parseBool(value);
    if (b === undefined) { warnings.push(`${where}: bad boolean ${JSON.stringify(value)}`); return true; }
    return set((m) => apply(m, b));
  };
  switch (key) {
    case 'msdfsroot': return bool((m, b) => { m.root = b; });
    case 'msdfsshufflereferrals': return bool((m, b) => { m.shuffle = b; });
    case 'hostmsdfs': return bool((m, b) => { m.host = b; });
    case 'msdfsproxy': {
      const p = value.trim().replace(/\//g, '\\').replace(/^\\+/, '');
      if (!/^[^\\]+\\[^\\]+/.test(p)) { warnings.push(`${where}: msdfs proxy must be \\host\\share`); return true; }
      return set((m) => { m.proxy = '\\' + p; });
    }
    case 'msdfsttl': {
      const n = Number(value);
      if (!Number.isInteger(n) || n < 1 || n > 86400 * 7) { warnings.push(`${where}: bad msdfs ttl ${JSON.stringify(value)}`); return true; }
      return set((m) => { m.ttl = n; });
    }
    default: return false;
  }
}

/** The share's DFS role: 'root', 'proxy' or undefined (not a DFS share, or host msdfs = no). */
export function dfsRole(share: { msdfs?: MsdfsConfig }): 'root' | 'proxy' | undefined {
  const m = share.msdfs;
  if (!m || !m.host) return undefined;
  if (m.proxy) return 'proxy';
  return m.root ? 'root' : undefined;
}
