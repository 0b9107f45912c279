// QUERY_INFO request/response (MS-SMB2 2.2.37 / 2.2.38). Payloads: fscc-info.ts, security.ts.
import { Writer } from './buf.js';
import { bodyReader, msgView, hdrOff, readFileId, writeFileId, type FileId } from './common.js';

export interface QueryInfoRequest {
  infoType: number;
  fileInfoClass: number;
  outputBufferLength: number;
  /** Input buffer (e.g. FILE_GET_EA_INFORMATION list, quota SIDs); view on decode. */
  inputBuffer: Buffer;
  /** Security information flags for InfoType SECURITY; EA index etc. otherwise. */
  additionalInformation: number;
  /** SL_RESTART_SCAN 0x1, SL_RETURN_SINGLE_ENTRY 0x2, SL_INDEX_SPECIFIED 0x4. */
  flags: number;
  fileId: FileId;
}

export interface QueryInfoResponse {
  buffer: Buffer;
}

// StructureSize 41 | InfoType(1) | FileInfoClass(1) | OutputBufferLength(4) | InputBufferOffset(2)
// | Reserved(2) | InputBufferLength(4) | AdditionalInformation(4) | Flags(4) | FileId(16) | Buffer
export function encodeQueryInfoRequest(req: QueryInfoRequest): Buffer {
  const w = new Writer(41 + req.inputBuffer.length);
  w.u16(41).u8(req.infoType).u8(req.fileInfoClass).u32(req.outputBufferLength);
  w.u16(req.inputBuffer.length ? hdrOff(40) : 0).u16(0).u32(req.inputBuffer.length);
  w.u32(req.additionalInformation).u32(req.flags);
  writeFileId(w, req.fileId);
  if (req.inputBuffer.length) w.bytes(req.inputBuffer);
  else w.zeros(1);
  return w.finish();
}

export function decodeQueryInfoRequest(msg: Buffer): QueryInfoRequest {
  const r = bodyReader(msg, 41, 'QUERY_INFO request');
  const infoType = r.u8();
  const fileInfoClass = r.u8();
  const outputBufferLength = r.u32();
  const inOff = r.u16();
  r.skip(2);
  const inLen = r.u32();
  const additionalInformation = r.u32();
  const flags = r.u32();
  const fileId = readFileId(r);
  return {
    infoType, fileInfoClass, outputBufferLength, additionalInformation, flags, fileId,
    inputBuffer: msgView(msg, inOff, inLen, 'QUERY_INFO input buffer'),
  };
}

// StructureSize 9 | OutputBufferOffset(2) | OutputBufferLength(4) | Buffer
export function encodeQueryInfoResponse(res: QueryInfoResponse): Buffer {
  const w = new Writer(9 + res.buffer.length);
  w.u16(9).u16(hdrOff(8)).u32(res.buffer.length);
  if (res.buffer.length) w.bytes(res.buffer);
  else w.zeros(1);
  return w.finish();
}

export function decodeQueryInfoResponse(msg: Buffer): QueryInfoResponse {
  const r = bodyReader(msg, 9, 'QUERY_INFO response');
  const off = r.u16();
  const len = r.u32();
  return { buffer: msgView(msg, off, len, 'QUERY_INFO output') };
}
