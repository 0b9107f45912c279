// Directory listing (QUERY_DIRECTORY, MS-SMB2 3.2.4.17) and the QUERY_INFO/SET_INFO uses of the
// client: stat of an open handle, truncate, delete-on-close, rename.
import { Command, FileInfoClass, InfoType, QueryDirectoryFlags } from '../wire/constants.js';
import { decodeQueryDirectoryResponse, encodeQueryDirectoryRequest } from '../wire/query-directory.js';
import { decodeQueryInfoResponse, encodeQueryInfoRequest } from '../wire/query-info.js';
import { encodeSetInfoRequest } from '../wire/set-info.js';
import { decodeDirEntries } from '../wire/fscc-dir.js';
import {
  decodeFileNetworkOpenInformation, encodeFileBasicInformation, encodeFileDispositionInformation, encodeFileEndOfFileInformation,
  encodeFileRenameInformation,
} from '../wire/fscc-info.js';
import { Status } from '../wire/status.js';
import { msToFiletime } from '../wire/buf.js';
import { parse } from './errors.js';
import type { FileId } from '../wire/common.js';
import type { SmbRequest, SmbResponse } from './connection.js';
import type { FileTimesAndSize } from './stats.js';
import { displayPath, statsFrom, toSmbPath, type FileHandle, type Stats } from './file.js';

export interface DirEntry extends FileTimesAndSize {
  name: string;
}

/**
 * Lists a directory by repeated QUERY_DIRECTORY until STATUS_NO_MORE_FILES; each response holds
 * as many entries as fit in OutputBufferLength (up to MaxTransactSize, multi-credit).
 */
export async function listDirectory(h: FileHandle, pattern = '*'): Promise<DirEntry[]> {
  const out: DirEntry[] = [];
  const outLen = listBufferLength(h);
  for (let round = 0; ; round++) {
    const res = await h.tree.request(queryDirectoryRequest(h.fileId, round === 0, outLen, pattern), { allow: [Status.NO_MORE_FILES], path: displayPath(h.path) });
    if (res.header.status === Status.NO_MORE_FILES) return out;
    if (addEntries(res, out) === 0) return out;
  }
}

/** OutputBufferLength of our QUERY_DIRECTORY requests: MaxTransactSize, at most 1 MiB (multi-credit). */
export function listBufferLength(h: { tree: FileHandle['tree'] }): number {
  return Math.min(h.tree.session.channel().connection.params.maxTransactSize, 1024 * 1024);
}

/** QUERY_DIRECTORY FileDirectoryInformation for `fileId` (RELATED_FILE_ID inside a compound). */
export function queryDirectoryRequest(fileId: FileId, restart: boolean, outLen: number, pattern = '*'): SmbRequest {
  return {
    command: Command.QUERY_DIRECTORY,
    body: encodeQueryDirectoryRequest({
      fileInformationClass: FileInfoClass.FileDirectoryInformation, flags: restart ? QueryDirectoryFlags.RESTART_SCANS : 0, fileIndex: 0,
      fileId, fileName: pattern, outputBufferLength: outLen,
    }),
    payloadSize: outLen,
  };
}

/** Appends the entries of a successful QUERY_DIRECTORY response to `out`; returns how many. */
export function addEntries(res: SmbResponse, out: DirEntry[]): number {
  const entries = parse(() => decodeDirEntries(FileInfoClass.FileDirectoryInformation, decodeQueryDirectoryResponse(res.msg).buffer));
  for (const e of entries) {
    out.push({
      name: e.name, creationTime: e.creationTime, lastAccessTime: e.lastAccessTime, lastWriteTime: e.lastWriteTime,
      changeTime: e.changeTime, endOfFile: e.endOfFile, allocationSize: e.allocationSize, fileAttributes: e.attributes,
    });
  }
  return entries.length;
}

function setInfoRequest(fileId: FileId, infoClass: number, buffer: Buffer): SmbRequest {
  return {
    command: Command.SET_INFO,
    body: encodeSetInfoRequest({ infoType: InfoType.FILE, fileInfoClass: infoClass, buffer, additionalInformation: 0, fileId }),
  };
}

async function setInfo(h: FileHandle, infoClass: number, buffer: Buffer): Promise<void> {
  await h.tree.request(setInfoRequest(h.fileId, infoClass, buffer), { path: displayPath(h.path) });
}

/** SET_INFO FileDispositionInformation DeletePending for `fileId` (RELATED_FILE_ID inside a compound). */
export function deletePendingRequest(fileId: FileId): SmbRequest {
  return setInfoRequest(fileId, FileInfoClass.FileDispositionInformation, encodeFileDispositionInformation({ deletePending: true }));
}

/** FileNetworkOpenInformation (MS-FSCC 2.4.29) of an open handle. */
export async function queryNetworkOpen(h: FileHandle): Promise<Stats> {
  const res = await h.tree.request({
    command: Command.QUERY_INFO,
    body: encodeQueryInfoRequest({
      infoType: InfoType.FILE, fileInfoClass: FileInfoClass.FileNetworkOpenInformation, outputBufferLength: 56,
      inputBuffer: Buffer.alloc(0), additionalInformation: 0, flags: 0, fileId: h.fileId,
    }),
  }, { path: displayPath(h.path) });
  const v = parse(() => decodeFileNetworkOpenInformation(decodeQueryInfoResponse(res.msg).buffer));
  h.size = Number(v.endOfFile);
  return statsFrom(displayPath(h.path), v);
}

/** FileEndOfFileInformation (MS-FSCC 2.4.14). */
export async function setEndOfFile(h: FileHandle, length: number): Promise<void> {
  await setInfo(h, FileInfoClass.FileEndOfFileInformation, encodeFileEndOfFileInformation({ endOfFile: BigInt(length) }));
}

/** FileDispositionInformation DeletePending (MS-FSCC 2.4.11): removed at the last close. */
export async function setDeleteOnClose(h: FileHandle): Promise<void> {
  await setInfo(h, FileInfoClass.FileDispositionInformation, encodeFileDispositionInformation({ deletePending: true }));
}

/** FileRenameInformation, SMB2 form (MS-FSCC 2.4.37.2): RootDirectory 0, full share-relative name. */
export async function renamePath(h: FileHandle, to: string, replace: boolean): Promise<void> {
  await setInfo(h, FileInfoClass.FileRenameInformation,
    encodeFileRenameInformation({ replaceIfExists: replace, rootDirectory: 0n, fileName: toSmbPath(to) }));
}

/**
 * FileBasicInformation (MS-FSCC 2.4.7) with only LastAccessTime and LastWriteTime set: a time of
 * 0 and FileAttributes 0 mean "leave unchanged".
 */
export async function setTimes(h: FileHandle, atimeMs: number, mtimeMs: number): Promise<void> {
  await setInfo(h, FileInfoClass.FileBasicInformation, encodeFileBasicInformation({
    creationTime: 0n, lastAccessTime: msToFiletime(atimeMs), lastWriteTime: msToFiletime(mtimeMs), changeTime: 0n, fileAttributes: 0,
  }));
}
