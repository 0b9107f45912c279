/** Backend-independent pieces shared by LocalVfs and MemoryVfs. */
import { FileAttribute, SETTABLE_ATTRIBUTES, VfsError, type OpenOptions } from './types.js';
import { NtStatus } from './status.js';

export type OpenPlan =
  | { kind: 'open'; truncate: false }
  | { kind: 'truncate'; action: 'overwritten' | 'superseded' }
  | { kind: 'create' };

/**
 * Decide what an open does given whether the target exists (MS-SMB2 2.2.13 CreateDisposition,
 * MS-FSCC/NTFS semantics for FILE_DIRECTORY_FILE / FILE_NON_DIRECTORY_FILE).
 * Throws the NTSTATUS Windows returns for conflicts.
 */
export function planOpen(exists: boolean, isDir: boolean, attrs: number, opts: OpenOptions): OpenPlan {
  const truncating = opts.create === 'overwrite' || opts.create === 'overwrite-if' || opts.create === 'supersede';
  if (opts.directory && opts.nonDirectory) throw new VfsError(NtStatus.INVALID_PARAMETER, 'directory and non-directory');
  // MS-SMB2 3.3.5.9: FILE_DIRECTORY_FILE with a disposition other than OPEN/CREATE/OPEN_IF is invalid.
  if (opts.directory && truncating) throw new VfsError(NtStatus.INVALID_PARAMETER, 'directory with overwrite disposition');
  if (!exists) {
    if (opts.create === 'open' || opts.create === 'overwrite') throw new VfsError(NtStatus.OBJECT_NAME_NOT_FOUND);
    return { kind: 'create' };
  }
  if (opts.create === 'create') throw new VfsError(NtStatus.OBJECT_NAME_COLLISION);
  if (isDir) {
    if (opts.nonDirectory) throw new VfsError(NtStatus.FILE_IS_A_DIRECTORY);
    if (truncating) throw new VfsError(NtStatus.FILE_IS_A_DIRECTORY, 'cannot overwrite a directory');
    return { kind: 'open', truncate: false };
  }
  if (opts.directory) throw new VfsError(NtStatus.NOT_A_DIRECTORY);
  // A READONLY file cannot be opened for writing nor overwritten (NTFS behaviour).
  if ((attrs & FileAttribute.READONLY) && (opts.write || truncating)) {
    throw new VfsError(NtStatus.ACCESS_DENIED, 'file is read-only');
  }
  if (truncating) return { kind: 'truncate', action: opts.create === 'supersede' ? 'superseded' : 'overwritten' };
  return { kind: 'open', truncate: false };
}

/** Attributes stored for a newly created / overwritten object. */
export function initialAttributes(isDir: boolean, requested: number | undefined): number {
  const base = (requested ?? 0) & SETTABLE_ATTRIBUTES;
  if (isDir) return base | FileAttribute.DIRECTORY;
  return base | FileAttribute.ARCHIVE;
}

/** Normalise stored attributes for reporting: DIRECTORY fixed by type, NORMAL when nothing else. */
export function reportAttributes(isDir: boolean, stored: number): number {
  let a = stored & ~(FileAttribute.DIRECTORY | FileAttribute.NORMAL);
  if (isDir) a |= FileAttribute.DIRECTORY;
  if (a === 0) a = FileAttribute.NORMAL;
  return a;
}

/** Merge a client's FileBasicInformation attributes into stored ones (keeps SPARSE etc.). */
export function mergeSetAttributes(stored: number, requested: number): number {
  const keep = stored & ~SETTABLE_ATTRIBUTES;
  return (keep | (requested & SETTABLE_ATTRIBUTES)) & ~FileAttribute.NORMAL;
}

/** Round up to a 4 KiB cluster, as reported allocation sizes usually are. */
export function roundAlloc(size: bigint): bigint {
  return (size + 4095n) & ~4095n;
}

export const MAX_IO_CHUNK = 1 << 20;
