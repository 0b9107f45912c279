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
 * Opening and closing files (open(), FileIo) go synchronous the same way, with O_NONBLOCK so
 * that nothing can make the open itself wait (a lease held by another process -> EWOULDBLOCK,
 * then the open is retried on the pool). Reads and writes of file data and readdir always use the
 * pool.
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

/** What LocalVfs does with an open file: fs/promises' FileHandle, or a RawFd (opened synchronously). */
export interface FileIo {
  /** -1 once closed */
  readonly fd: number;
  read(buffer: Buffer, offset: number, length: number, position: number): Promise<{ bytesRead: number }>;
  write(buffer: Buffer, offset: number, length: number, position: number): Promise<{ bytesWritten: number }>;
  truncate(len: number): Promise<void>;
  sync(): Promise<void>;
  chmod(mode: number): Promise<void>;
  utimes(atime: number, mtime: number): Promise<void>;
  stat(opts: { bigint: true }): Promise<BigIntStats>;
  close(): Promise<void>;
}

const O_NONBLOCK = fs.constants.O_NONBLOCK ?? 0;

function badf(): NodeJS.ErrnoException {
  const e: NodeJS.ErrnoException = new Error('EBADF: file already closed');
  e.code = 'EBADF';
  return e;
}

/** A plain descriptor: data calls on the libuv pool (fs callbacks), close synchronous. */
class RawFd implements FileIo {
  private open = true;
  constructor(private readonly raw: number) {}

  get fd(): number {
    return this.open ? this.raw : -1;
  }

  private call<T>(f: (fd: number, cb: (e: NodeJS.ErrnoException | null, v: T) => void) => void): Promise<T> {
    if (!this.open) return Promise.reject(badf());
    return new Promise<T>((resolve, reject) => f(this.raw, (e, v) => (e ? reject(e) : resolve(v))));
  }

  read(buffer: Buffer, offset: number, length: number, position: number): Promise<{ bytesRead: number }> {
    return this.call<number>((fd, cb) => fs.read(fd, buffer, offset, length, position, cb)).then((bytesRead) => ({ bytesRead }));
  }

  write(buffer: Buffer, offset: number, length: number, position: number): Promise<{ bytesWritten: number }> {
    return this.call<number>((fd, cb) => fs.write(fd, buffer, offset, length, position, cb)).then((bytesWritten) => ({ bytesWritten }));
  }

  truncate(len: number): Promise<void> {
    return this.call<void>((fd, cb) => fs.ftruncate(fd, len, (e) => cb(e, undefined)));
  }

  sync(): Promise<void> {
    return this.call<void>((fd, cb) => fs.fsync(fd, (e) => cb(e, undefined)));
  }

  chmod(mode: number): Promise<void> {
    return this.call<void>((fd, cb) => fs.fchmod(fd, mode, (e) => cb(e, undefined)));
  }

  utimes(atime: number, mtime: number): Promise<void> {
    return this.call<void>((fd, cb) => fs.futimes(fd, atime, mtime, (e) => cb(e, undefined)));
  }

  async stat(): Promise<BigIntStats> {
    if (!this.open) throw badf();
    return fs.fstatSync(this.raw, { bigint: true });
  }

  async close(): Promise<void> {
    if (!this.open) throw badf();
    this.open = false;
    fs.closeSync(this.raw);
  }
}

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

  /** Synchronous mode only: lstat now; undefined when missing or failing (a listing skips it). */
  lstatNow(p: string): BigIntStats | undefined {
    try {
      return fs.lstatSync(p, { bigint: true, throwIfNoEntry: false });
    } catch {
      return undefined;
    }
  }

  async lstat(p: string): Promise<BigIntStats> {
    return this.sync ? fs.lstatSync(p, { bigint: true }) : fsp.lstat(p, { bigint: true });
  }

  async stat(p: string): Promise<BigIntStats> {
    return this.sync ? fs.statSync(p, { bigint: true }) : fsp.stat(p, { bigint: true });
  }

  /** Synchronous mode only: fstat now (errors thrown). */
  fstatNow(fh: FileIo): BigIntStats {
    return fs.fstatSync(fh.fd, { bigint: true });
  }

  async fstat(fh: FileIo): Promise<BigIntStats> {
    return this.sync ? fs.fstatSync(fh.fd, { bigint: true }) : fh.stat({ bigint: true });
  }

  /**
   * open(2). `plain`: the caller saw a regular file or directory there (or creates one), the
   * only kinds opened synchronously (a FIFO would stay non-blocking).
   */
  async open(p: string, flags: number, mode: number, plain: boolean): Promise<FileIo> {
    if (this.sync && plain) {
      try {
        return new RawFd(fs.openSync(p, flags | O_NONBLOCK, mode));
      } catch (e) {
        const code = (e as NodeJS.ErrnoException).code;
        if (code !== 'EAGAIN' && code !== 'EWOULDBLOCK' && code !== 'ENXIO') throw e;
      }
    }
    return fsp.open(p, flags, mode);
  }

  async realpath(p: string): Promise<string> {
    return this.sync ? fs.realpathSync.native(p) : fsp.realpath(p);
  }

  /**
   * Synchronous mode only: whether root/comps[0], root/comps[0]/comps[1], ... (the first `n`) are
   * all directories and none a symlink (lstat each; a cheaper check than realpath(3), which
   * readlinks every component from '/' down). false also when one is missing or unreadable.
   */
  plainDirs(root: string, comps: readonly string[], n: number): boolean {
    let cur = root;
    for (let i = 0; i < n; i++) {
      cur = cur === '/' ? cur + comps[i] : `${cur}/${comps[i]}`;
      try {
        const st = fs.lstatSync(cur, { throwIfNoEntry: false });
        if (!st || !st.isDirectory()) return false;
      } catch {
        return false;
      }
    }
    return true;
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
