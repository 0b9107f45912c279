// READ request/response (MS-SMB2 2.2.19 / 2.2.20).
// Zero-copy path for the server: allocate HEADER + READ_RESPONSE_HEADER_SIZE + n bytes, read file
// data straight to offset READ_DATA_OFFSET, then writeReadResponseHeader(buf, 64, got, 0).
import { Writer } from './buf.js';
import { bodyReader, msgView, hdrOff, readFileId, writeFileId, type FileId } from './common.js';

export const READ_RESPONSE_HEADER_SIZE = 16;
/** DataOffset of a read response: 64-byte SMB2 header + 16-byte fixed part. */
export const READ_DATA_OFFSET = 80;

export interface ReadRequest {
  /** Padding: requested offset of data in the response (usually 0x50). */
  padding: number;
  /** SMB2_READFLAG_READ_UNBUFFERED 0x1, SMB2_READFLAG_REQUEST_COMPRESSED 0x2. */
  flags: number;
  length: number;
  offset: bigint;
  fileId: FileId;
  minimumCount: number;
  channel: number;
  remainingBytes: number;
  readChannelInfo: Buffer;
}

export interface ReadResponse {
  data: Buffer;
  dataRemaining: number;
  /** SMB2_READFLAG_RESPONSE_RDMA_TRANSFORM 0x1 (3.1.1), else 0. */
  flags?: number;
}

// StructureSize 49 | Padding(1) | Flags(1) | Length(4) | Offset(8) | FileId(16) | MinimumCount(4)
// | Channel(4) | RemainingBytes(4) | ReadChannelInfoOffset(2) | ReadChannelInfoLength(2) | Buffer
export function encodeReadRequest(req: ReadRequest): Buffer {
  const w = new Writer(49 + req.readChannelInfo.length);
  w.u16(49).u8(req.padding).u8(req.flags).u32(req.length).u64(req.offset);
  writeFileId(w, req.fileId);
  w.u32(req.minimumCount).u32(req.channel).u32(req.remainingBytes);
  w.u16(req.readChannelInfo.length ? hdrOff(48) : 0).u16(req.readChannelInfo.length);
  if (req.readChannelInfo.length) w.bytes(req.readChannelInfo);
  else w.zeros(1); // Buffer is at least one byte
  return w.finish();
}

export function decodeReadRequest(msg: Buffer): ReadRequest {
  const r = bodyReader(msg, 49, 'READ request');
  const padding = r.u8();
  const flags = r.u8();
  const length = r.u32();
  const offset = r.u64();
  const fileId = readFileId(r);
  const minimumCount = r.u32();
  const channel = r.u32();
  const remainingBytes = r.u32();
  const ciOff = r.u16();
  const ciLen = r.u16();
  return {
    padding, flags, length, offset, fileId, minimumCount, channel, remainingBytes,
    readChannelInfo: msgView(msg, ciOff, ciLen, 'ReadChannelInfo'),
  };
}

/**
 * Writes the 16-byte fixed part of a READ response at `out[at]` (`at` is normally 64, right after
 * the SMB2 header): StructureSize 17 | DataOffset(1)=80 | Reserved(1) | DataLength(4)
 * | DataRemaining(4) | Reserved2(4).
 */
export function writeReadResponseHeader(out: Buffer, at: number, dataLength: number, dataRemaining: number): void {
  out.writeUInt16LE(17, at);
  out[at + 2] = READ_DATA_OFFSET;
  out[at + 3] = 0;
  out.writeUInt32LE(dataLength >>> 0, at + 4);
  out.writeUInt32LE(dataRemaining >>> 0, at + 8);
  out.writeUInt32LE(0, at + 12);
}

export function encodeReadResponse(res: ReadResponse): Buffer {
  const out = Buffer.alloc(READ_RESPONSE_HEADER_SIZE + Math.max(res.data.length, 1));
  writeReadResponseHeader(out, 0, res.data.length, res.dataRemaining);
  out.writeUInt32LE(res.flags ?? 0, 12);
  res.data.copy(out, READ_RESPONSE_HEADER_SIZE);
  return res.data.length ? out : out.subarray(0, READ_RESPONSE_HEADER_SIZE + 1);
}

export function decodeReadResponse(msg: Buffer): ReadResponse {
  const r = bodyReader(msg, 17, 'READ response');
  const dataOffset = r.u8();
  r.skip(1);
  const dataLength = r.u32();
  const dataRemaining = r.u32();
  const flags = r.u32();
  return { data: msgView(msg, dataOffset, dataLength, 'READ data'), dataRemaining, flags };
}
