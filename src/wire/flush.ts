// FLUSH request/response (MS-SMB2 2.2.17 / 2.2.18).
import { Writer } from './buf.js';
import { bodyReader, readFileId, writeFileId, type FileId } from './common.js';

export interface FlushRequest {
  fileId: FileId;
}
export type FlushResponse = Record<string, never>;

// StructureSize 24 | Reserved1(2) | Reserved2(4) | FileId(16)
export function encodeFlushRequest(req: FlushRequest): Buffer {
  return writeFileId(new Writer(24).u16(24).u16(0).u32(0), req.fileId).finish();
}
export function decodeFlushRequest(msg: Buffer): FlushRequest {
  const r = bodyReader(msg, 24, 'FLUSH request');
  r.skip(6);
  return { fileId: readFileId(r) };
}
// StructureSize 4 | Reserved(2)
export function encodeFlushResponse(_res: FlushResponse = {}): Buffer {
  return new Writer(4).u16(4).u16(0).finish();
}
export function decodeFlushResponse(msg: Buffer): FlushResponse {
  bodyReader(msg, 4, 'FLUSH response');
  return {};
}
