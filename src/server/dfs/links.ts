// DFS links in a DFS root share, declared as Samba does: a symlink whose target is
// `msdfs:host\share[,host2\share2...]` (a directory prepared for Samba works unchanged).
// The link is only ever *read* (lstat + readlink): its target becomes a referral, never a local path,
// so a link cannot reach outside the share. Walking stops at the first component that is not a
// plain directory (a file, an ordinary symlink, or nothing), and the VFS decides from there.
import { lstat, readlink, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { DFS_MAX_REFERRALS } from '../../wire/dfs.js';

export interface DfsLink {
  /** How many components of the share-relative path the link covers. */
  components: number;
  /** Targets as `\host\share[\path]`, in the order written. */
  targets: string[];
}

/** Deepest path a link search walks (each step is one lstat). */
const MAX_DEPTH = 64;

/** `msdfs:a\b,c\d` -> ['\a\b', '\c\d']; undefined when the text is not an msdfs link. */
export function parseMsdfsTarget(text: string): string[] | undefined {
  if (!text.toLowerCase().startsWith('msdfs:')) return undefined;
  const out: string[] = [];
  for (const raw of text.slice(6).split(',')) {
    const t = raw.trim().replace(/\//g, '\\').replace(/^\\+/, '').replace(/\\+$/, '');
    if (!/^[^\\]+\\[^\\]+/.test(t)) continue; // needs at least host\share
    out.push('\\' + t);
    if (out.length >= DFS_MAX_REFERRALS) break;
  }
  return out.length ? out : undefined;
}

/** The name of `want` in directory `dir`, case-insensitively (one readdir). */
async function findName(dir: string, want: string): Promise<string | undefined> {
  let names: string[];
  try { names = await readdir(dir); } catch { return undefined; }
  const l = want.toLowerCase();
  return names.find((n) => n.toLowerCase() === l);
}

/**
 * The msdfs link `components` (share-relative, '/'-separated components) crosses or names, if any.
 * `root` is the share's directory on disk.
 */
export async function findLink(root: string, components: string[]): Promise<DfsLink | undefined> {
  let dir = root;
  const n = Math.min(components.length, MAX_DEPTH);
  for (let i = 0; i < n; i++) {
    const c = components[i]!;
    if (c === '' || c === '.' || c === '..') return undefined;
    const want = c.replace(/:.*$/, ''); // 'link:stream' names the link too
    let p = join(dir, want);
    let st = await lstat(p).catch(() => undefined);
    if (!st) {
      const name = await findName(dir, want);
      if (name === undefined) return undefined;
      p = join(dir, name);
      st = await lstat(p).catch(() => undefined);
      if (!st) return undefined;
    }
    if (st.isSymbolicLink()) {
      let text: string;
      try { text = await readlink(p); } catch { return undefined; }
      const targets = parseMsdfsTarget(text);
      return targets ? { components: i + 1, targets } : undefined;
    }
    if (!st.isDirectory()) return undefined;
    dir = p;
  }
  return undefined;
}
