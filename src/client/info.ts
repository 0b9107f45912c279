// Directory listing (QUERY_DIRECTORY, MS-SMB2 2.2.33) and QUERY_INFO/SET_INFO uses of the client:
// stat of an open handle, truncate, delete-on-close, rename.
//
// NOTE: the bodies below are encoded/decoded here until wire/query-directory.ts, wire/query-info.ts,
// wire/set-info.ts and wire/fscc-*.ts land; then these helpers switch to those codecs.
import { Command, FileInfoClass, InfoType, QueryDirectoryFlags } from '../wire/constants.js';
import { Reader, Writer, WireError, fromUtf16, utf16 } from '../wire/buf.js';
import { bodyReader, hdrOff, msgView, writeFileId, type FileId } from '../wire/common.js';
import { Status } from '../wire/status.js';
import { parse } from './errors.js';
import { displayPath, installInfoHooks, statsFrom, toSmbPath, type FileHandle, type Stats } from './file.js';

export interface DirEntry {
  name: string;
  creationTime: bigint;
  lastAccessTime: bigint;
  lastWriteTime: bigint;
  changeTime: bigint;
  endOfFile: bigint;
  allocationSize: bigint;
  fileAttributes: number;
}

const OUTPUT_BUFFER = 64 * 1024;

function encodeQueryDirectory(fileId: FileId, infoClass: number, flags: number, pattern: string, outLen: number): Buffer {
  const name = utf16(pattern);
  const w = new Writer(32 + name.length);
  w.u16(33).u8(infoClass).u8(flags).u32(0);
  writeFileId(w, fileId);
  w.u16(hdrOff(32)).u16(name.length).u32(outLen).bytes(name);
  if (!name.length) w.zeros(1);
  return w.finish();
}

/** QUERY_DIRECTORY / QUERY_INFO response: StructureSize 9 | OutputBufferOffset(2) | OutputBufferLength(4). */
function outputBuffer(msg: Buffer, what: string): Buffer {
  const r = bodyReader(msg, 9, what);
  const off = r.u16();
  const len = r.u32();
  return msgView(msg, off, len, `${what} output`);
}

/** FileDirectoryInformation entries (MS-FSCC 2.4.10). */
function parseDirectoryInformation(buf: Buffer, out: DirEntry[]): void {
  let off = 0;
  for (let i = 0; i < 1_000_000; i++) {
    const r = new Reader(buf, off);
    r.need(64, 'FileDirectoryInformation');
    const next = r.u32();
    r.skip(4);
    const creationTime = r.u64();
    const lastAccessTime = r.u64();
    const lastWriteTime = r.u64();
    const changeTime = r.u64();
    const endOfFile = r.u64();
    const allocationSize = r.u64();
    const fileAttributes = r.u32();
    const nameLen = r.u32();
    const name = fromUtf16(r.bytes(nameLen));
    out.push({ name, creationTime, lastAccessTime, lastWriteTime, changeTime, endOfFile, allocationSize, fileAttributes });
    if (next === 0) return;
    if (next < 64 || off + next > buf.length) throw new WireError('bad NextEntryOffset');
    off += next;
  }
}

/** Lists a directory by repeated QUERY_DIRECTORY until STATUS_NO_MORE_FILES (3.2.4.17). */
export async function listDirectory(h: FileHandle, pattern = '*'): Promise<DirEntry[]> {
  const out: DirEntry[] = [];
  const maxOut = Math.min(h.tree.session.channel().connection.params.maxTransactSize, 1024 * 1024);
  const outLen = Math.max(OUTPUT_BUFFER, maxOut);
  for (let round = 0; ; round++) {
    const res = await h.tree.request({
      command: Command.QUERY_DIRECTORY,
      body: encodeQueryDirectory(h.fileId, FileInfoClass.FileDirectoryInformation, round === 0 ? QueryDirectoryFlags.RESTART_SCANS : 0, pattern, outLen),
      payloadSize: outLen,
    }, { allow: [Status.NO_MORE_FILES], path: displayPath(h.path) });
    if (res.header.status === Status.NO_MORE_FILES) return out;
    parse(() => parseDirectoryInformation(outputBuffer(res.msg, 'QUERY_DIRECTORY response'), out));
  }
}

function encodeQueryInfo(fileId: FileId, infoType: number, infoClass: number, outLen: number): Buffer {
  const w = new Writer(48);
  w.u16(41).u8(infoType).u8(infoClass).u32(outLen).u16(0).u16(0).u32(0).u32(0).u32(0);
  writeFileId(w, fileId);
  w.zeros(1);
  return w.finish();
}

function encodeSetInfo(fileId: FileId, infoType: number, infoClass: number, data: Buffer): Buffer {
  const w = new Writer(32 + data.length);
  w.u16(33).u8(infoType).u8(infoClass).u32(data.length).u16(hdrOff(32)).u16(0).u32(0);
  writeFileId(w, fileId);
  w.bytes(data);
  if (!data.length) w.zeros(1);
  return w.finish();
}

async function setInfo(h: FileHandle, infoClass: number, data: Buffer): Promise<void> {
  await h.tree.request({ command: Command.SET_INFO, body: encodeSetInfo(h.fileId, InfoType.FILE, infoClass, data) }, { path: displayPath(h.path) });
}

/** FileNetworkOpenInformation (MS-FSCC 2.4.29) of an open handle. */
export async function queryNetworkOpen(h: FileHandle): Promise<Stats> {
  const res = await h.tree.request({
    command: Command.QUERY_INFO,
    body: encodeQueryInfo(h.fileId, InfoType.FILE, FileInfoClass.FileNetworkOpenInformation, 56),
  }, { path: displayPath(h.path) });
  const v = parse(() => {
    const r = new Reader(outputBuffer(res.msg, 'QUERY_INFO response'));
    r.need(52, 'FileNetworkOpenInformation');
    return {
      creationTime: r.u64(), lastAccessTime: r.u64(), lastWriteTime: r.u64(), changeTime: r.u64(),
      allocationSize: r.u64(), endOfFile: r.u64(), fileAttributes: r.u32(),
    };
  });
  h.size = Number(v.endOfFile);
  return statsFrom(displayPath(h.path), v);
}

/** FileEndOfFileInformation (MS-FSCC 2.4.14). */
export async function setEndOfFile(h: FileHandle, length: number): Promise<void> {
  await setInfo(h, FileInfoClass.FileEndOfFileInformation, new Writer(8).u64(BigInt(length)).finish());
}

/** FileDispositionInformation DeletePending = 1 (MS-FSCC 2.4.11): removed at close. */
export async function setDeleteOnClose(h: FileHandle): Promise<void> {
  await setInfo(h, FileInfoClass.FileDispositionInformation, Buffer.from([1]));
}

/** FileRenameInformation for SMB2 (MS-FSCC 2.4.37.2): RootDirectory 0, full share-relative name. */
export async function renamePath(h: FileHandle, to: string, replace: boolean): Promise<void> {
  const name = utf16(toSmbPath(to));
  const w = new Writer(24 + name.length);
  w.u8(replace ? 1 : 0).zeros(7).u64(0n).u32(name.length).bytes(name);
  await setInfo(h, FileInfoClass.FileRenameInformation, w.finish());
}

installInfoHooks(queryNetworkOpen, setEndOfFile);
