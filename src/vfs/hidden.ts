// Host paths a share never exposes: the server's own state (SMBTS_HOME with its user database,
// stream depots and admin sockets; a user database kept elsewhere), whatever the share's path is
// (DESIGN.md rule 10). Matched by real path and by dev+inode identity, never by a spelling of a
// name, so symlinks, case variants and other spellings of the same directory are all caught.
import * as fsp from 'node:fs/promises';
import type { BigIntStats } from 'node:fs';
import * as nodePath from 'node:path';

interface Entry {
  /** real path (the existing part resolved, the missing tail appended) */
  real: string;
  /** number of components below the share root */
  depth: number;
  /** dev:ino when the path exists */
  id: string | undefined;
}

const idOf = (st: BigIntStats): string => `${st.dev}:${st.ino}`;

function inside(dir: string, p: string): boolean {
  return dir === '/' || p === dir || p.startsWith(dir + '/');
}

/** Real path of `p`: realpath of its longest existing prefix plus the rest. */
async function realish(p: string): Promise<string> {
  let probe = nodePath.resolve(p);
  const tail: string[] = [];
  for (;;) {
    try {
      return nodePath.join(await fsp.realpath(probe), ...tail);
    } catch {
      const up = nodePath.dirname(probe);
      if (up === probe) return nodePath.resolve(p);
      tail.unshift(nodePath.basename(probe));
      probe = up;
    }
  }
}

export class HiddenPaths {
  private constructor(
    private readonly root: string,
    private readonly entries: Entry[],
    /** The share root itself lies inside server state: nothing in it is served. */
    readonly everything: boolean,
    private readonly ids: ReadonlySet<string>,
  ) {}

  static readonly NONE = new HiddenPaths('/', [], false, new Set());

  /**
   * The entries of `paths` that lie inside the share rooted at the real path `root`. A share
   * inside one of them serves nothing, except inside `home` (a state directory an administrator
   * may keep a share in, e.g. SMBTS_HOME/share): there only the home itself is refused.
   */
  static async load(root: string, paths: readonly string[] | undefined, home?: string): Promise<HiddenPaths> {
    if (!paths?.length) return HiddenPaths.NONE;
    const realHome = home === undefined ? undefined : await realish(home);
    const entries: Entry[] = [];
    let everything = false;
    for (const p of paths) {
      const real = await realish(p);
      if (real === root || (inside(real, root) && real !== realHome)) everything = true;
      if (!inside(root, real) || real === root) continue;
      const st = await fsp.lstat(real, { bigint: true }).catch(() => undefined);
      const depth = nodePath.relative(root, real).split(nodePath.sep).length;
      entries.push({ real, depth, id: st ? idOf(st) : undefined });
    }
    if (!entries.length && !everything) return HiddenPaths.NONE;
    return new HiddenPaths(root, entries, everything, new Set(entries.flatMap((e) => (e.id ? [e.id] : []))));
  }

  get empty(): boolean {
    return !this.everything && this.entries.length === 0;
  }

  /** Whether the host path `abs` (inside the share, symlinks resolved) is hidden server state. */
  async covers(abs: string, lstat: (p: string) => Promise<BigIntStats | undefined>): Promise<boolean> {
    if (this.everything) return true;
    if (this.entries.length === 0) return false;
    if (this.entries.some((e) => inside(e.real, abs))) return true;
    // The same directory under another spelling (a case-insensitive host filesystem, a bind
    // mount): only the ancestor at a hidden entry's depth can be it.
    const comps = nodePath.relative(this.root, abs).split(nodePath.sep);
    for (const e of this.entries) {
      if (!e.id || comps.length < e.depth || comps[0] === '..') continue;
      const st = await lstat(nodePath.join(this.root, ...comps.slice(0, e.depth))).catch(() => undefined);
      if (st && idOf(st) === e.id) return true;
    }
    return false;
  }

  /** For listings: whether a directory entry at `abs` with stat `st` is hidden (no I/O). */
  listed(abs: string, st: BigIntStats | undefined): boolean {
    if (this.everything) return true;
    if (this.entries.length === 0) return false;
    return this.entries.some((e) => inside(e.real, abs)) || (st !== undefined && this.ids.has(idOf(st)));
  }
}
