/**
 * Per-share persistence of DOS attributes and creation time in Samba's `user.DOSATTRIB` xattr
 * (./dosattrib.ts), with a per-inode cache, used by LocalVfs.
 *
 * - Enabled when the native addon loaded (./xattr.ts) and the share root's filesystem supports
 *   user.* xattrs, probed once at first use (init). Otherwise LocalVfs keeps its in-memory map.
 * - Cache: keyed dev:ino, valid while the inode's ctime is unchanged. Setting an xattr (ours or
 *   Samba's), chmod, writes, renames all bump ctime, so a changed file is re-read on its next stat.
 *   Caveat: ctime has the kernel's coarse clock granularity (a few ms); two changes by another
 *   process within one tick after we cached can go unnoticed until the next ctime change.
 *   Absent attributes are cached too. At most CACHE_MAX entries (oldest dropped first).
 * - Per-file failures (EPERM/EACCES writing, ENOTSUP on another mount inside the share, a blob we
 *   cannot decode) fall back to memory for that file; they never fail the SMB operation.
 */
import type { BigIntStats } from 'node:fs';
import { DOSATTRIB_XATTR, decodeDosAttrib, encodeDosAttrib } from './dosattrib.js';
import { probeXattr, xattrBinding, xattrUnavailableReason, type XattrBinding } from './xattr.js';
import { FileAttribute, SETTABLE_ATTRIBUTES } from './types.js';

export interface DosInfo {
  /** FILE_ATTRIBUTE_* as stored (only bits smbts keeps: settable ones and SPARSE_FILE) */
  attributes: number;
  /** FILETIME, when the blob has one */
  creationTime?: bigint;
}

interface Entry {
  ctimeNs: bigint;
  info: DosInfo | null;
}

const CACHE_MAX = 100_000;
/** Bits taken from a stored value; DIRECTORY follows the object type, NORMAL means "none". */
const KEEP = SETTABLE_ATTRIBUTES | FileAttribute.SPARSE_FILE;
/** Listing reads go to the pool in chunks this big (several chunks run in parallel). */
const PREFETCH_CHUNK = 16;

export type DosStorage = { storage: 'xattr' } | { storage: 'memory'; reason: string };

export class DosAttribStore {
  private readonly binding: XattrBinding | undefined;
  private state: 'unprobed' | 'on' | 'off';
  private why: string | undefined;
  private readonly cache = new Map<string, Entry>();

  constructor(mode: 'xattr' | 'memory' = 'xattr', binding?: XattrBinding) {
    if (mode === 'memory') {
      this.state = 'off';
      this.why = 'dosAttributes: memory';
      return;
    }
    this.binding = binding ?? xattrBinding();
    if (this.binding) {
      this.state = 'unprobed';
    } else {
      this.state = 'off';
      this.why = xattrUnavailableReason() ?? 'native xattr addon unavailable';
    }
  }

  /** First use per share: probe the filesystem of the share root (cheap, writes nothing). */
  init(root: string): void {
    if (this.state !== 'unprobed') return;
    const p = probeXattr(root, this.binding);
    if (p.ok) {
      this.state = 'on';
    } else {
      this.state = 'off';
      this.why = p.reason;
    }
  }

  get enabled(): boolean {
    return this.state === 'on';
  }

  status(): DosStorage {
    return this.state === 'on' ? { storage: 'xattr' } : { storage: 'memory', reason: this.why ?? 'not probed yet' };
  }

  private static key(st: BigIntStats): string {
    return `${st.dev}:${st.ino}`;
  }

  private static decode(v: Buffer | null | undefined | string): DosInfo | null {
    if (!v || typeof v === 'string') return null;
    try {
      const d = decodeDosAttrib(v);
      return { attributes: (d.attributes ?? 0) & KEEP, creationTime: d.creationTime };
    } catch {
      return null; // not a blob we understand: as if absent (Samba logs and ignores it too)
    }
  }

  private put(st: BigIntStats, info: DosInfo | null): void {
    if (this.cache.size >= CACHE_MAX) {
      let drop = CACHE_MAX >> 3;
      for (const k of this.cache.keys()) {
        this.cache.delete(k);
        if (--drop <= 0) break;
      }
    }
    this.cache.set(DosAttribStore.key(st), { ctimeNs: st.ctimeNs, info });
  }

  /** Cached value still valid for `st`: info, null (file has none), undefined (not known). `key`: dev:ino when the caller has it. */
  cached(st: BigIntStats, key = DosAttribStore.key(st)): DosInfo | null | undefined {
    const e = this.cache.get(key);
    return e && e.ctimeNs === st.ctimeNs ? e.info : undefined;
  }

  /** Read the xattr now (sync; `src` is an fd or a path, not following a final symlink) and cache it. */
  read(st: BigIntStats, src: number | string): DosInfo | null {
    if (this.state !== 'on') return null;
    let v: Buffer | undefined;
    try {
      v = typeof src === 'number' ? this.binding!.fgetxattr(src, DOSATTRIB_XATTR) : this.binding!.lgetxattr(src, DOSATTRIB_XATTR);
    } catch {
      v = undefined; // vanished, no permission, ENOTSUP on a nested mount: nothing stored
    }
    const info = DosAttribStore.decode(v);
    this.put(st, info);
    return info;
  }

  /** Cached, else read from `src` when given. */
  get(st: BigIntStats, src?: number | string, key?: string): DosInfo | null | undefined {
    if (this.state !== 'on') return undefined;
    const c = this.cached(st, key);
    if (c !== undefined || src === undefined) return c;
    return this.read(st, src);
  }

  /**
   * Read the entries a listing needs (those not cached) on the libuv pool; `syncUpTo` or fewer are
   * left to the synchronous read of the caller's stat (no thread hand-off for one new file).
   */
  async prefetch(items: ReadonlyArray<{ st: BigIntStats; path: string; key?: string }>, syncUpTo = 0): Promise<void> {
    if (this.state !== 'on') return;
    const todo = items.filter((i) => this.cached(i.st, i.key) === undefined);
    if (todo.length <= syncUpTo) return;
    const chunks: Array<typeof todo> = [];
    for (let i = 0; i < todo.length; i += PREFETCH_CHUNK) chunks.push(todo.slice(i, i + PREFETCH_CHUNK));
    await Promise.all(chunks.map(async (chunk) => {
      let vals: Array<Buffer | null | string>;
      try {
        vals = await this.binding!.lgetxattrBatch(chunk.map((i) => i.path), DOSATTRIB_XATTR);
      } catch {
        return; // leave uncached; toFileStat falls back to a sync read
      }
      chunk.forEach((it, k) => this.put(it.st, DosAttribStore.decode(vals[k])));
    }));
  }

  /**
   * Store attributes + creation time (Samba's version-5 layout). Returns false when this file
   * cannot hold them (the caller keeps them in memory). The cached entry is dropped: the write
   * changed the ctime, so the next stat re-reads it.
   */
  write(st: BigIntStats, src: number | string, attributes: number, creationTime: bigint | undefined): boolean {
    if (this.state !== 'on') return false;
    this.cache.delete(DosAttribStore.key(st));
    // DIRECTORY is stored for directories as Samba does; NORMAL is "no attributes".
    const attrs = (attributes & ~FileAttribute.NORMAL) >>> 0;
    const blob = encodeDosAttrib({ attributes: attrs, creationTime });
    try {
      if (typeof src === 'number') this.binding!.fsetxattr(src, DOSATTRIB_XATTR, blob);
      else this.binding!.lsetxattr(src, DOSATTRIB_XATTR, blob);
      return true;
    } catch {
      return false;
    }
  }

  /** The inode is gone (deleted). */
  forget(st: BigIntStats): void {
    this.cache.delete(DosAttribStore.key(st));
  }

  /** @internal tests */
  get cacheSize(): number {
    return this.cache.size;
  }
}
