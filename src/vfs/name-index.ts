/**
 * Per-directory index of case-folded names for LocalVfs' case-insensitive lookups, so creating a
 * new name (or looking up a differently-cased one) need not readdir the whole directory each time.
 *
 * Keyed by the directory's absolute host path; each entry is validated on use against the
 * directory's mtime + ctime (one stat), so changes made outside smbts are seen. smbts' own
 * create/rename/delete update the entry in place (and re-stamp it). An index is not cached when
 * the directory changed within RACY_NS of its listing (a change in the same timestamp tick would
 * be invisible, as git's "racy" files). Bounded: LRU over directories and total names.
 */
import * as fsp from 'node:fs/promises';
import type { BigIntStats } from 'node:fs';
import { foldCase } from './path.js';
import type { MetaIo } from './metaio.js';

/** How the index stats a directory (LocalVfs passes its MetaIo: synchronous on local filesystems). */
type StatDir = (dir: string) => Promise<BigIntStats>;
const asyncStat: StatDir = (dir) => fsp.stat(dir, { bigint: true });

interface DirIndex {
  mtimeNs: bigint;
  ctimeNs: bigint;
  /** foldCase(name) -> on-disk names with that folding, in readdir order */
  names: Map<string, string[]>;
  size: number;
}

const RACY_NS = 50_000_000n;

export class NameIndex {
  private readonly dirs = new Map<string, DirIndex>();
  private total = 0;

  private readonly statDir: StatDir;

  constructor(private readonly maxDirs = 128, private readonly maxNames = 500_000, io?: MetaIo) {
    this.statDir = io ? (dir) => io.stat(dir) : asyncStat;
  }

  /**
   * On-disk names in `dir` equal to `name` case-insensitively (readdir order), from the index.
   * Throws what stat/readdir of `dir` throw.
   */
  async lookup(dir: string, name: string): Promise<string[]> {
    const st = await this.statDir(dir);
    let idx = this.dirs.get(dir);
    if (idx && (idx.mtimeNs !== st.mtimeNs || idx.ctimeNs !== st.ctimeNs)) {
      this.drop(dir);
      idx = undefined;
    }
    if (idx) {
      // LRU: most recently used last.
      this.dirs.delete(dir);
      this.dirs.set(dir, idx);
    } else {
      idx = await this.build(dir, st);
    }
    return idx.names.get(foldCase(name)) ?? [];
  }

  /** smbts itself added `name` to `dir` (create, rename target). */
  async added(dir: string, name: string): Promise<void> {
    const idx = this.dirs.get(dir);
    if (!idx) return;
    const f = foldCase(name);
    const list = idx.names.get(f);
    if (!list) idx.names.set(f, [name]);
    else if (!list.includes(name)) list.push(name);
    else return this.restamp(dir, idx);
    idx.size++;
    this.total++;
    await this.restamp(dir, idx);
    this.trim();
  }

  /** smbts itself removed `name` from `dir` (unlink, rmdir, rename source). */
  async removed(dir: string, name: string): Promise<void> {
    const idx = this.dirs.get(dir);
    if (!idx) return;
    const f = foldCase(name);
    const list = idx.names.get(f);
    const i = list ? list.indexOf(name) : -1;
    if (list && i >= 0) {
      list.splice(i, 1);
      if (list.length === 0) idx.names.delete(f);
      idx.size--;
      this.total--;
    }
    await this.restamp(dir, idx);
  }

  /** Forget `dir` (and, with a trailing separator semantics, nothing else): e.g. it was removed. */
  drop(dir: string): void {
    const idx = this.dirs.get(dir);
    if (!idx) return;
    this.total -= idx.size;
    this.dirs.delete(dir);
  }

  /** @internal tests */
  get cachedDirs(): number {
    return this.dirs.size;
  }

  private async restamp(dir: string, idx: DirIndex): Promise<void> {
    try {
      const st = await this.statDir(dir);
      if (this.dirs.get(dir) !== idx) return;
      idx.mtimeNs = st.mtimeNs;
      idx.ctimeNs = st.ctimeNs;
    } catch {
      this.drop(dir);
    }
  }

  private async build(dir: string, st: BigIntStats): Promise<DirIndex> {
    const started = BigInt(Date.now()) * 1_000_000n;
    const list = await fsp.readdir(dir);
    const names = new Map<string, string[]>();
    for (const n of list) {
      const f = foldCase(n);
      const l = names.get(f);
      if (l) l.push(n);
      else names.set(f, [n]);
    }
    const idx: DirIndex = { mtimeNs: st.mtimeNs, ctimeNs: st.ctimeNs, names, size: list.length };
    const racy = st.mtimeNs + RACY_NS > started || st.ctimeNs + RACY_NS > started;
    if (!racy && list.length <= this.maxNames) {
      this.drop(dir);
      this.dirs.set(dir, idx);
      this.total += idx.size;
      this.trim();
    }
    return idx;
  }

  private trim(): void {
    while (this.dirs.size > this.maxDirs || (this.total > this.maxNames && this.dirs.size > 0)) {
      const oldest = this.dirs.keys().next().value as string;
      this.drop(oldest);
    }
  }
}
