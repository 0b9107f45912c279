// CLOSE request/response (MS-SMB2 2.2.15 / 2.2.16). With SMB2_CLOSE_FLAG_POSTQUERY_ATTRIB the
// response carries the attributes; otherwise they are zero.
import { Writer } from './buf.js';
import { bodyReader, readFileId, writeFileId, type FileId } from './common.js';

export interface CloseRequest {
  flags: number;
  fileId: FileId;
}

export interface CloseResponse {
  flags: number;
  creationTime: bigint;
  lastAccessTime: bigint;
  lastWriteTime: bigint;
  changeTime: bigint;
  allocationSize: bigint;
  endOfFile: bigint;
  fileAttributes: number;
}

// StructureSize 24 | Flags(2) | Reserved(4) | FileId(16)
export function encodeCloseRequest(req: CloseRequest): Buffer {
  return writeFileId(new Writer(24).u16(24).u16(req.flags).u32(0), req.fileId).finish();
}
export function decodeCloseRequest(msg: Buffer): CloseRequest {
  const r = bodyReader(msg, 24, 'CLOSE request');
  const flags = r.u16();
  r.skip(4);
  return { flags, fileId: readFileId(r) };
}

// StructureSize 60 | Flags(2) | Reserved(4) | 4 times (8) | AllocationSize(8) | EndofFile(8) | FileAttributes(4)
export function encodeCloseResponse(res: CloseResponse): Buffer {
  return new Writer(60).u16(60).u16(res.flags).u32(0)
    .u64(res.creationTime).u64(res.lastAccessTime).u64(res.lastWriteTime).u64(res.changeTime)
    .u64(res.allocationSize).u64(res.endOfFile).u32(res.fileAttributes).finish();
}
export function decodeCloseResponse(msg: Buffer): CloseResponse {
  const r = bodyReader(msg, 60, 'CLOSE response');
  const flags = r.u16();
  r.skip(4);
  return {
    flags, creationTime: r.u64(), lastAccessTime: r.u64(), lastWriteTime: r.u64(), changeTime: r.u64(),
    allocationSize: r.u64(), endOfFile: r.u64(), fileAttributes: r.u32(),
  };
}

/** A response without POSTQUERY_ATTRIB: all attribute fields zero. */
export const EMPTY_CLOSE_RESPONSE: CloseResponse = Object.freeze({
  flags: 0, creationTime: 0n, lastAccessTime: 0n, lastWriteTime: 0n, changeTime: 0n, allocationSize: 0n, endOfFile: 0n, fileAttributes: 0,
});
