/**
 * The metadata system calls LocalVfs makes on every request (lstat/stat/fstat/realpath of
 * resolved paths, the name index's directory stat): synchronous on local filesystems, on the
 * libuv thread pool otherwise.
 *
 * Why: on a local filesystem these calls hit the kernel's dentry/inode caches and take a few
 * microseconds (lstat 4 us, realpath 8 us here on tmpfs), while the fs/promises versions cost
 * 30-60 us of main-thread CPU each plus two thread switches (futex + eventfd wake-ups), which on a
 * busy machine adds scheduling latency to every SMB round trip. Samba makes them synchronously
 * too. On network or FUSE filesystems a single call can block for milliseconds, stalling every
 * other connection of this single-threaded server, so those stay asynchronous.
 * Reads and writes of file data, readdir, open/close are not affected.
 */
import * as fs from 'node:fs';
import * as fsp from 'node:fs/promises';
import type { BigIntStats } from 'node:fs';

/** statfs f_type of filesystems whose metadata calls are local (linux/magic.h). */
const LOCAL_FS = new Set<number>([
  0x01021994, // tmpfs
  0xef53, // ext2/3/4
  0x58465342, // xfs
  0x9123683e, // btrfs
  0xf2f52010, // f2fs
  0x2fc12fc1, // zfs
  0x858458f6, // ramfs
  0x794c7630, // overlayfs (over local layers in containers)
  0x4d44, // vfat
  0x5346544e, // ntfs
  0x7366746e, // ntfs3
  0x2011bab0, // exfat
  0x3153464a, // jfs
  0x52654973, // reiserfs
]);

export type MetadataCalls = 'auto' | 'sync' | 'async';

export class MetaIo {
  /** decided by init() for 'auto' */
  sync: boolean;

  constructor(private readonly mode: MetadataCalls = 'auto') {
    this.sync = mode === 'sync';
  }

  /** Once, with the share root: 'auto' goes synchronous on a local filesystem type. */
  init(root: string): void {
    if (this.mode !== 'auto') return;
    try {
      this.sync = process.platform === 'linux' && LOCAL_FS.has(Number(fs.statfsSync(root).type));
    } catch {
      this.sync = false;
    }
  }

  /** lstat; undefined when the path does not exist (ENOENT), other errors thrown. */
  async lstatOrUndefined(p: string): Promise<BigIntStats | undefined> {
    if (this.sync) return fs.lstatSync(p, { bigint: true, throwIfNoEntry: false });
    try {
      return await fsp.lstat(p, { bigint: true });
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw e;
    }
  }

  async lstat(p: string): Promise<BigIntStats> {
    return this.sync ? fs.lstatSync(p, { bigint: true }) : fsp.lstat(p, { bigint: true });
  }

  async stat(p: string): Promise<BigIntStats> {
    return this.sync ? fs.statSync(p, { bigint: true }) : fsp.stat(p, { bigint: true });
  }

  async fstat(fd: number, fh: fsp.FileHandle): Promise<BigIntStats> {
    return this.sync ? fs.fstatSync(fd, { bigint: true }) : fh.stat({ bigint: true });
  }

  async realpath(p: string): Promise<string> {
    return this.sync ? fs.realpathSync.native(p) : fsp.realpath(p);
  }

  /** Whether `p` exists (does not follow a final symlink). */
  async exists(p: string): Promise<boolean> {
    if (!this.sync) return fsp.lstat(p).then(() => true, () => false);
    try {
      return fs.lstatSync(p, { throwIfNoEntry: false }) !== undefined;
    } catch {
      return false;
    }
  }
}
