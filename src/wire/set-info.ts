// SET_INFO request/response (MS-SMB2 2.2.39 / 2.2.40). Payloads: fscc-info.ts, security.ts.
import { Writer } from './buf.js';
import { bodyReader, msgView, hdrOff, readFileId, writeFileId, type FileId } from './common.js';

export interface SetInfoRequest {
  infoType: number;
  fileInfoClass: number;
  /** The information to set (view on decode). */
  buffer: Buffer;
  additionalInformation: number;
  fileId: FileId;
}
export type SetInfoResponse = Record<string, never>;

// StructureSize 33 | InfoType(1) | FileInfoClass(1) | BufferLength(4) | BufferOffset(2)
// | Reserved(2) | AdditionalInformation(4) | FileId(16) | Buffer
export function encodeSetInfoRequest(req: SetInfoRequest): Buffer {
  const w = new Writer(33 + req.buffer.length);
  w.u16(33).u8(req.infoType).u8(req.fileInfoClass).u32(req.buffer.length).u16(hdrOff(32)).u16(0);
  w.u32(req.additionalInformation);
  writeFileId(w, req.fileId);
  if (req.buffer.length) w.bytes(req.buffer);
  else w.zeros(1);
  return w.finish();
}

export function decodeSetInfoRequest(msg: Buffer): SetInfoRequest {
  const r = bodyReader(msg, 33, 'SET_INFO request');
  const infoType = r.u8();
  const fileInfoClass = r.u8();
  const len = r.u32();
  const off = r.u16();
  r.skip(2);
  const additionalInformation = r.u32();
  const fileId = readFileId(r);
  return { infoType, fileInfoClass, additionalInformation, fileId, buffer: msgView(msg, off, len, 'SET_INFO buffer') };
}

// StructureSize 2
export function encodeSetInfoResponse(_res: SetInfoResponse = {}): Buffer {
  return new Writer(2).u16(2).finish();
}
export function decodeSetInfoResponse(msg: Buffer): SetInfoResponse {
  bodyReader(msg, 2, 'SET_INFO response');
  return {};
}
