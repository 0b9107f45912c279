// WRITE request/response (MS-SMB2 2.2.21 / 2.2.22). decodeWriteRequest returns data as a view.
import { Writer, WireError } from './buf.js';
import { bodyReader, msgView, hdrOff, readFileId, writeFileId, type FileId } from './common.js';

/** Offset of write data when the request carries no channel info: 64 + 48. */
export const WRITE_DATA_OFFSET = 112;

export interface WriteRequest {
  offset: bigint;
  fileId: FileId;
  channel: number;
  remainingBytes: number;
  /** SMB2_WRITEFLAG_WRITE_THROUGH 0x1, SMB2_WRITEFLAG_WRITE_UNBUFFERED 0x2. */
  flags: number;
  data: Buffer;
  /** RDMA channel info blob (view on decode). */
  writeChannelInfo: Buffer;
}

export interface WriteResponse {
  count: number;
  remaining: number;
}

// StructureSize 49 | DataOffset(2) | Length(4) | Offset(8) | FileId(16) | Channel(4)
// | RemainingBytes(4) | WriteChannelInfoOffset(2) | WriteChannelInfoLength(2) | Flags(4) | Buffer
export function encodeWriteRequest(req: WriteRequest): Buffer {
  const w = new Writer(48 + req.data.length + req.writeChannelInfo.length + 1);
  w.u16(49).u16(hdrOff(48)).u32(req.data.length).u64(req.offset);
  writeFileId(w, req.fileId);
  w.u32(req.channel).u32(req.remainingBytes);
  const ci = req.writeChannelInfo;
  w.u16(ci.length ? hdrOff(48 + req.data.length) : 0).u16(ci.length).u32(req.flags);
  w.bytes(req.data);
  if (ci.length) w.bytes(ci);
  if (w.pos === 48) w.zeros(1);
  return w.finish();
}

export function decodeWriteRequest(msg: Buffer): WriteRequest {
  const r = bodyReader(msg, 49, 'WRITE request');
  const dataOffset = r.u16();
  const length = r.u32();
  const offset = r.u64();
  const fileId = readFileId(r);
  const channel = r.u32();
  const remainingBytes = r.u32();
  const ciOff = r.u16();
  const ciLen = r.u16();
  const flags = r.u32();
  if (length > 0 && dataOffset < hdrOff(48) && channel === 0) throw new WireError('WRITE DataOffset inside fixed part');
  return {
    offset, fileId, channel, remainingBytes, flags,
    data: msgView(msg, dataOffset, length, 'WRITE data'),
    writeChannelInfo: msgView(msg, ciOff, ciLen, 'WriteChannelInfo'),
  };
}

// StructureSize 17 | Reserved(2) | Count(4) | Remaining(4) | WriteChannelInfoOffset(2) | WriteChannelInfoLength(2)
export function encodeWriteResponse(res: WriteResponse): Buffer {
  return new Writer(16).u16(17).u16(0).u32(res.count).u32(res.remaining).u16(0).u16(0).finish();
}
export function decodeWriteResponse(msg: Buffer): WriteResponse {
  const r = bodyReader(msg, 17, 'WRITE response');
  r.skip(2);
  return { count: r.u32(), remaining: r.u32() };
}
