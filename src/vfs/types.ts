/**
 * The share-backend seam. The SMB server talks to shares ONLY through these interfaces.
 * Paths are share-relative, '/'-separated, no leading slash; '' is the share root.
 * Use normalizeSmbPath() (./path.ts) to turn an SMB wire path into this form.
 *
 * Named streams (MS-FSCC 2.1.4): open, stat and unlink also take 'dir/file:stream' (the last
 * component carries the stream name, never a ':$DATA' type). A stream's FileStat is its file's,
 * with size/allocationSize of the stream and isDirectory false. Stream names are matched
 * case-insensitively. Deleting a file (or directory) deletes its streams; rename keeps them;
 * an overwriting open of the main stream deletes them (as Samba). readdir/rmdir/rename take
 * plain paths only.
 */
import { NtStatus, errnoToNtStatus } from './status.js';

/** All times are FILETIME: 100ns intervals since 1601-01-01 UTC. */
export interface FileStat {
  isDirectory: boolean;
  isSymlink: boolean;
  size: bigint;
  allocationSize: bigint;
  creationTime: bigint;
  lastAccessTime: bigint;
  lastWriteTime: bigint;
  changeTime: bigint;
  /** FILE_ATTRIBUTE_* (MS-FSCC 2.6). Never 0: FILE_ATTRIBUTE_NORMAL when nothing else. */
  attributes: number;
  /** Stable per file (inode on LocalVfs). */
  fileId: bigint;
  /**
   * The file's identity, unique across every Vfs of the process ("dev:ino" on LocalVfs): the key of
   * every table that guards a file (opens and share modes, byte-range locks, oplocks/leases,
   * delete-pending, durable handles), never a spelling of its name. A stream reports its file's.
   */
  identity: string;
  nlink: number;
  /** Size of the file's FILE_FULL_EA_INFORMATION list (MS-FSCC 2.4.12 EaSize); 0/absent = no EAs. */
  eaSize?: number;
}

export interface DirEntry {
  name: string;
  stat: FileStat;
}

/** One named stream of a file (FileStreamInformation, MS-FSCC 2.4.44). */
export interface StreamInfo {
  /** as created (no ':' prefix, no ':$DATA' type) */
  name: string;
  size: bigint;
  allocationSize: bigint;
}

export interface FsInfo {
  totalBytes: bigint;
  freeBytes: bigint;
  availBytes: bigint;
  bytesPerSector: number;
  sectorsPerUnit: number;
  /** e.g. "NTFS" */
  fsName: string;
  serial: number;
  label: string;
  maxNameLength: number;
}

/** Error carrying an NTSTATUS; every Vfs method rejects only with this. */
export class VfsError extends Error {
  constructor(public readonly status: number, message?: string) {
    // An NTSTATUS answer (not found, access denied...), not a bug: no stack trace (costly per throw).
    const limit = Error.stackTraceLimit;
    Error.stackTraceLimit = 0;
    super(message ?? `NTSTATUS 0x${(status >>> 0).toString(16).padStart(8, '0')}`);
    Error.stackTraceLimit = limit;
    this.name = 'VfsError';
  }

  /** Wrap any thrown value (Node errno errors included) as a VfsError. */
  static from(err: unknown): VfsError {
    if (err instanceof VfsError) return err;
    const code = (err as NodeJS.ErrnoException | undefined)?.code;
    const msg = err instanceof Error ? err.message : String(err);
    return new VfsError(errnoToNtStatus(code), msg);
  }
}

/** An extended attribute (MS-FSCC 2.4.15 FILE_FULL_EA_INFORMATION entry). Names match case-insensitively. */
export interface ExtendedAttribute {
  /** FILE_NEED_EA = 0x80 */
  flags: number;
  name: string;
  value: Buffer;
}

export interface TimesUpdate {
  creationTime?: bigint;
  lastAccessTime?: bigint;
  lastWriteTime?: bigint;
  changeTime?: bigint;
}

export interface VfsHandle {
  /** share-relative, '/'-separated, '' = root. Updated by Vfs.rename for open handles where the backend can. */
  readonly path: string;
  readonly isDirectory: boolean;
  /** Reads INTO buf[bufOffset..bufOffset+length). Returns bytes read (0 at/after EOF). */
  read(buf: Buffer, bufOffset: number, length: number, position: bigint): Promise<number>;
  write(data: Buffer, position: bigint): Promise<number>;
  truncate(size: bigint): Promise<void>;
  flush(): Promise<void>;
  stat(): Promise<FileStat>;
  close(): Promise<void>;
  /** Only the fields present are changed (the server maps 0 / -1 "don't change" values to omission). changeTime may be ignored by backends that cannot set it. */
  setTimes(t: TimesUpdate): Promise<void>;
  /** FILE_ATTRIBUTE_* ; DIRECTORY bit is ignored (fixed by the object type). */
  setAttributes(attrs: number): Promise<void>;
  setAllocation(size: bigint): Promise<void>;
  zeroRange(offset: bigint, length: bigint): Promise<void>;
  /** Allocated (non-hole) ranges intersecting [offset, offset+length) as [offset, length] pairs. */
  allocatedRanges(offset: bigint, length: bigint): Promise<Array<[bigint, bigint]>>;
  setSparse(on: boolean): Promise<void>;
  /** Extended attributes of the file (a stream handle reports its file's). Optional. */
  getEas?(): Promise<ExtendedAttribute[]>;
  /** Named streams of the open file (Vfs.listStreams of its path, without resolving it again). */
  listStreams?(): Promise<StreamInfo[]>;
  /** Set EAs: an entry with an empty value removes that EA (MS-FSA 2.1.5.14.3). */
  setEas?(list: ExtendedAttribute[]): Promise<void>;
  /**
   * The file's stored NT security descriptor (self-relative, MS-DTYP 2.4.6), or undefined when
   * none is stored (a stream handle reports its file's). Optional; opaque to the VFS.
   */
  getSecurity?(): Promise<Buffer | undefined>;
  /** Store (replace) the file's security descriptor; kept across overwrite, dropped on delete. */
  setSecurity?(sd: Buffer): Promise<void>;
  /** Server-side copy (FSCTL_SRV_COPYCHUNK). src must come from the same Vfs. */
  copyRange(src: VfsHandle, srcOffset: bigint, dstOffset: bigint, length: number): Promise<number>;
}

export type CreateDisposition = 'open' | 'create' | 'open-if' | 'overwrite' | 'overwrite-if' | 'supersede';

export interface OpenOptions {
  /** MS-SMB2 CreateDisposition: open=FILE_OPEN, create=FILE_CREATE, open-if=FILE_OPEN_IF, ... */
  create: CreateDisposition;
  /** FILE_DIRECTORY_FILE: must be / create a directory. */
  directory?: boolean;
  /** FILE_NON_DIRECTORY_FILE: must not be a directory. */
  nonDirectory?: boolean;
  read: boolean;
  write: boolean;
  /** FILE_ATTRIBUTE_* applied on create/overwrite/supersede. */
  attributes?: number;
  /**
   * What `stat(path)` of this VFS just returned for the same path (the CREATE handler's checks):
   * a backend that remembers how it resolved that answer opens without resolving the path again.
   * null: that stat() just answered OBJECT_NAME_NOT_FOUND. Only a hint: an unknown object, or a
   * file changed since, is resolved as without it.
   */
  known?: FileStat | null;
}

export type OpenAction = 'opened' | 'created' | 'overwritten' | 'superseded';

export interface Vfs {
  readonly caseSensitive: boolean;
  open(path: string, opts: OpenOptions): Promise<{ handle: VfsHandle; action: OpenAction }>;
  stat(path: string): Promise<FileStat>;
  readdir(path: string): Promise<DirEntry[]>;
  /**
   * The entries of directory `path` named `name` (case-insensitively unless caseSensitive), as
   * readdir(path) would report them, without listing the whole directory: a QUERY_DIRECTORY
   * pattern without wildcards.
   */
  readdirMatch?(path: string, name: string): Promise<DirEntry[]>;
  unlink(path: string): Promise<void>;
  rmdir(path: string): Promise<void>;
  rename(from: string, to: string, replace: boolean): Promise<void>;
  /** Add the name `to` for the file at `from` (a hard link); backends without links leave it out. */
  link?(from: string, to: string, replace: boolean): Promise<void>;
  statfs(): Promise<FsInfo>;
  /** Return the on-disk spelling of path (case-insensitive lookup), or undefined if missing. */
  resolveCase?(path: string): Promise<string | undefined>;
  /** The stored security descriptor of `path` (a stream path: its file's), as VfsHandle.getSecurity. */
  getSecurity?(path: string): Promise<Buffer | undefined>;
  /** Named streams of a file or directory (the main stream is not listed). */
  listStreams?(path: string): Promise<StreamInfo[]>;
  /** Rename a named stream of `path` ('' = to the main stream is not supported). */
  renameStream?(path: string, from: string, to: string, replace: boolean): Promise<void>;
}

/** MS-FSCC 2.6 file attributes. */
export const FileAttribute = {
  READONLY: 0x1,
  HIDDEN: 0x2,
  SYSTEM: 0x4,
  DIRECTORY: 0x10,
  ARCHIVE: 0x20,
  NORMAL: 0x80,
  TEMPORARY: 0x100,
  SPARSE_FILE: 0x200,
  REPARSE_POINT: 0x400,
  COMPRESSED: 0x800,
  OFFLINE: 0x1000,
  NOT_CONTENT_INDEXED: 0x2000,
  ENCRYPTED: 0x4000,
} as const;

/** Attribute bits a client may set with FileBasicInformation (MS-FSCC 2.4.7 / 2.6). */
export const SETTABLE_ATTRIBUTES =
  FileAttribute.READONLY | FileAttribute.HIDDEN | FileAttribute.SYSTEM | FileAttribute.ARCHIVE |
  FileAttribute.TEMPORARY | FileAttribute.OFFLINE | FileAttribute.NOT_CONTENT_INDEXED;

/** Length of the FILE_FULL_EA_INFORMATION chain of `list` (entries 4-aligned but the last). */
export function eaListSize(list: ReadonlyArray<{ name: string; value: Buffer }>): number {
  let total = 0;
  list.forEach((e, i) => {
    total += 8 + Buffer.byteLength(e.name, 'latin1') + 1 + e.value.length;
    if (i < list.length - 1) total = (total + 3) & ~3;
  });
  return total;
}

/** Difference between 1601-01-01 and 1970-01-01 in 100ns units. */
export const FILETIME_EPOCH_OFFSET = 116444736000000000n;

/** Unix time in milliseconds (may be fractional) -> FILETIME. */
export function msToFiletime(ms: number): bigint {
  return BigInt(Math.round(ms * 10_000)) + FILETIME_EPOCH_OFFSET;
}
/** Unix nanoseconds (from fs.stat bigint) -> FILETIME. */
export function nsToFiletime(ns: bigint): bigint {
  return ns / 100n + FILETIME_EPOCH_OFFSET;
}
/** FILETIME -> Unix seconds (fractional) for fs.utimes. */
export function filetimeToUnixSeconds(ft: bigint): number {
  return Number(ft - FILETIME_EPOCH_OFFSET) / 1e7;
}
/** FILETIME for "now". */
export function nowFiletime(): bigint {
  return msToFiletime(Date.now());
}

export { NtStatus };
