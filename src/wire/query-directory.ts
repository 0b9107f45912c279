// QUERY_DIRECTORY request/response (MS-SMB2 2.2.33 / 2.2.34). Entries: see fscc-dir.ts.
import { Writer, utf16, fromUtf16 } from './buf.js';
import { bodyReader, msgView, hdrOff, readFileId, writeFileId, type FileId } from './common.js';

export interface QueryDirectoryRequest {
  fileInformationClass: number;
  /** RESTART_SCANS 0x1, RETURN_SINGLE_ENTRY 0x2, INDEX_SPECIFIED 0x4, REOPEN 0x10. */
  flags: number;
  fileIndex: number;
  fileId: FileId;
  /** Search pattern, e.g. "*". */
  fileName: string;
  outputBufferLength: number;
}

export interface QueryDirectoryResponse {
  /** The encoded entries (view on decode); parse with fscc-dir.decodeDirEntries. */
  buffer: Buffer;
}

// StructureSize 33 | FileInformationClass(1) | Flags(1) | FileIndex(4) | FileId(16)
// | FileNameOffset(2) | FileNameLength(2) | OutputBufferLength(4) | Buffer
export function encodeQueryDirectoryRequest(req: QueryDirectoryRequest): Buffer {
  const name = utf16(req.fileName);
  const w = new Writer(33 + name.length);
  w.u16(33).u8(req.fileInformationClass).u8(req.flags).u32(req.fileIndex);
  writeFileId(w, req.fileId);
  w.u16(name.length ? hdrOff(32) : 0).u16(name.length).u32(req.outputBufferLength);
  if (name.length) w.bytes(name);
  else w.zeros(1);
  return w.finish();
}

export function decodeQueryDirectoryRequest(msg: Buffer): QueryDirectoryRequest {
  const r = bodyReader(msg, 33, 'QUERY_DIRECTORY request');
  const fileInformationClass = r.u8();
  const flags = r.u8();
  const fileIndex = r.u32();
  const fileId = readFileId(r);
  const nameOff = r.u16();
  const nameLen = r.u16();
  const outputBufferLength = r.u32();
  const fileName = fromUtf16(msgView(msg, nameOff, nameLen, 'QUERY_DIRECTORY FileName'));
  return { fileInformationClass, flags, fileIndex, fileId, fileName, outputBufferLength };
}

// StructureSize 9 | OutputBufferOffset(2) | OutputBufferLength(4) | Buffer
export function encodeQueryDirectoryResponse(res: QueryDirectoryResponse): Buffer {
  const w = new Writer(9 + res.buffer.length);
  w.u16(9).u16(hdrOff(8)).u32(res.buffer.length);
  if (res.buffer.length) w.bytes(res.buffer);
  else w.zeros(1);
  return w.finish();
}

export function decodeQueryDirectoryResponse(msg: Buffer): QueryDirectoryResponse {
  const r = bodyReader(msg, 9, 'QUERY_DIRECTORY response');
  const off = r.u16();
  const len = r.u32();
  return { buffer: msgView(msg, off, len, 'QUERY_DIRECTORY output') };
}
