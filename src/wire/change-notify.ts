// CHANGE_NOTIFY request/response (MS-SMB2 2.2.35 / 2.2.36) and FILE_NOTIFY_INFORMATION
// entries (MS-FSCC 2.7.1: NextEntryOffset(4) | Action(4) | FileNameLength(4) | FileName,
// each entry padded to a 4-byte boundary).
import { Reader, Writer, WireError, utf16, fromUtf16 } from './buf.js';
import { bodyReader, msgView, hdrOff, readFileId, writeFileId, type FileId } from './common.js';

export const CompletionFilter = {
  FILE_NAME: 0x1, DIR_NAME: 0x2, ATTRIBUTES: 0x4, SIZE: 0x8, LAST_WRITE: 0x10, LAST_ACCESS: 0x20,
  CREATION: 0x40, EA: 0x80, SECURITY: 0x100, STREAM_NAME: 0x200, STREAM_SIZE: 0x400, STREAM_WRITE: 0x800,
} as const;

export const NotifyAction = {
  ADDED: 1, REMOVED: 2, MODIFIED: 3, RENAMED_OLD_NAME: 4, RENAMED_NEW_NAME: 5, ADDED_STREAM: 6,
  REMOVED_STREAM: 7, MODIFIED_STREAM: 8,
} as const;

export interface ChangeNotifyRequest {
  /** SMB2_WATCH_TREE = 0x1. */
  flags: number;
  outputBufferLength: number;
  fileId: FileId;
  completionFilter: number;
}

export interface ChangeNotifyResponse {
  /** Encoded FILE_NOTIFY_INFORMATION entries (view on decode). */
  buffer: Buffer;
}

export interface NotifyEntry {
  action: number;
  /** Path relative to the watched directory, backslash-separated. */
  fileName: string;
}

// StructureSize 32 | Flags(2) | OutputBufferLength(4) | FileId(16) | CompletionFilter(4) | Reserved(4)
export function encodeChangeNotifyRequest(req: ChangeNotifyRequest): Buffer {
  const w = new Writer(32).u16(32).u16(req.flags).u32(req.outputBufferLength);
  return writeFileId(w, req.fileId).u32(req.completionFilter).u32(0).finish();
}

export function decodeChangeNotifyRequest(msg: Buffer): ChangeNotifyRequest {
  const r = bodyReader(msg, 32, 'CHANGE_NOTIFY request');
  const flags = r.u16();
  const outputBufferLength = r.u32();
  const fileId = readFileId(r);
  return { flags, outputBufferLength, fileId, completionFilter: r.u32() };
}

// StructureSize 9 | OutputBufferOffset(2) | OutputBufferLength(4) | Buffer
export function encodeChangeNotifyResponse(res: ChangeNotifyResponse): Buffer {
  const w = new Writer(9 + res.buffer.length);
  w.u16(9).u16(hdrOff(8)).u32(res.buffer.length);
  if (res.buffer.length) w.bytes(res.buffer);
  else w.zeros(1);
  return w.finish();
}

export function decodeChangeNotifyResponse(msg: Buffer): ChangeNotifyResponse {
  const r = bodyReader(msg, 9, 'CHANGE_NOTIFY response');
  const off = r.u16();
  const len = r.u32();
  return { buffer: msgView(msg, off, len, 'CHANGE_NOTIFY output') };
}

/** Encodes entries; `needed` > maxBytes tells the server to answer STATUS_NOTIFY_ENUM_DIR. */
export function encodeNotifyEntries(entries: NotifyEntry[], maxBytes = Infinity): { buf: Buffer; needed: number; fits: boolean } {
  const w = new Writer(64);
  entries.forEach((e, i) => {
    const start = w.pos;
    const n = utf16(e.fileName);
    w.u32(0).u32(e.action).u32(n.length).bytes(n);
    if (i < entries.length - 1) { w.align(4); w.setU32(start, w.pos - start); }
  });
  const buf = w.finish();
  return { buf, needed: buf.length, fits: buf.length <= maxBytes };
}

export function decodeNotifyEntries(buf: Buffer): NotifyEntry[] {
  const out: NotifyEntry[] = [];
  const r = new Reader(buf);
  let off = 0;
  while (buf.length > 0) {
    if (out.length >= 65536) throw new WireError('too many notify entries');
    r.at(off);
    const next = r.u32();
    const action = r.u32();
    const len = r.u32();
    out.push({ action, fileName: fromUtf16(r.bytes(len)) });
    if (!next) break;
    if (next % 4 || next < 12) throw new WireError('bad FILE_NOTIFY_INFORMATION NextEntryOffset');
    off += next;
  }
  return out;
}
