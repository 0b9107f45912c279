// ERROR response (MS-SMB2 2.2.2): StructureSize 9 | ErrorContextCount(1) | Reserved(1)
// | ByteCount(4) | ErrorData. An empty ErrorData is sent as one zero byte (ByteCount 0), as Windows does.
// With 3.1.1 and ErrorContextCount > 0, ErrorData is a list of SMB2 ERROR Context Responses (2.2.2.1),
// each 8-byte aligned: ErrorDataLength(4) | ErrorId(4) | ErrorContextData.
import { Reader, Writer, WireError, utf16, fromUtf16 } from './buf.js';
import { bodyReader, msgView, hdrOff, align8 } from './common.js';

export interface ErrorResponse {
  errorContextCount: number;
  /** Raw ErrorData (view on decode). */
  errorData: Buffer;
}

export interface ErrorContext {
  /** 0 = SMB2_ERROR_ID_DEFAULT, 0x72645253 = SMB2_ERROR_ID_SHARE_REDIRECT. */
  errorId: number;
  data: Buffer;
}

export function encodeErrorResponse(res: Partial<ErrorResponse> = {}): Buffer {
  const data = res.errorData ?? Buffer.alloc(0);
  const w = new Writer(9 + data.length);
  w.u16(9).u8(res.errorContextCount ?? 0).u8(0).u32(data.length);
  if (data.length) w.bytes(data);
  else w.zeros(1);
  return w.finish();
}

export function decodeErrorResponse(msg: Buffer): ErrorResponse {
  const r = bodyReader(msg, 9, 'ERROR response');
  const errorContextCount = r.u8();
  r.skip(1);
  const byteCount = r.u32();
  return { errorContextCount, errorData: msgView(msg, hdrOff(8), byteCount, 'ErrorData') };
}

/** True when a response body is an ERROR response (StructureSize 9 is shared with a few others). */
export function isErrorResponseBody(msg: Buffer): boolean {
  return msg.length >= 64 + 8 && msg.readUInt16LE(64) === 9;
}

export function encodeErrorContexts(list: ErrorContext[]): Buffer {
  const w = new Writer(64);
  list.forEach((c, i) => {
    if (i > 0) w.align(8);
    w.u32(c.data.length).u32(c.errorId).bytes(c.data);
  });
  return w.finish();
}

export function decodeErrorContexts(errorData: Buffer, count: number): ErrorContext[] {
  const r = new Reader(errorData);
  const out: ErrorContext[] = [];
  for (let i = 0; i < count; i++) {
    if (i > 0) r.pos = Math.min(align8(r.pos), errorData.length);
    const len = r.u32();
    const errorId = r.u32();
    out.push({ errorId, data: r.bytes(len) });
  }
  return out;
}

/** ErrorData for STATUS_BUFFER_TOO_SMALL: the required buffer length (2.2.2.2). */
export function encodeBufferTooSmallData(required: number): Buffer {
  return new Writer(4).u32(required).finish();
}

/** Symbolic Link Error Response (2.2.2.2.1) for STATUS_STOPPED_ON_SYMLINK. */
export interface SymlinkErrorData {
  /** Bytes of the original path, counted from its end, not yet parsed when the link was met. */
  unparsedPathLength: number;
  substituteName: string;
  printName: string;
  /** SYMLINK_FLAG_RELATIVE = 0x1. */
  flags: number;
}

export const SYMLINK_ERROR_TAG = 0x4c4d5953;
export const IO_REPARSE_TAG_SYMLINK = 0xa000000c;

// SymLinkLength(4) | SymLinkErrorTag(4) | ReparseTag(4) | ReparseDataLength(2) | UnparsedPathLength(2)
// | SubstituteNameOffset(2) | SubstituteNameLength(2) | PrintNameOffset(2) | PrintNameLength(2)
// | Flags(4) | PathBuffer   (name offsets are relative to PathBuffer)
export function encodeSymlinkErrorData(s: SymlinkErrorData): Buffer {
  const sub = utf16(s.substituteName);
  const prn = utf16(s.printName);
  const w = new Writer(64 + sub.length + prn.length);
  const symLinkLength = 28 + sub.length + prn.length;
  w.u32(symLinkLength).u32(SYMLINK_ERROR_TAG).u32(IO_REPARSE_TAG_SYMLINK);
  w.u16(12 + sub.length + prn.length).u16(s.unparsedPathLength);
  w.u16(0).u16(sub.length).u16(sub.length).u16(prn.length).u32(s.flags).bytes(sub).bytes(prn);
  return w.finish();
}

export function decodeSymlinkErrorData(data: Buffer): SymlinkErrorData {
  const r = new Reader(data);
  r.u32();
  if (r.u32() !== SYMLINK_ERROR_TAG) throw new WireError('bad SymLinkErrorTag');
  if (r.u32() !== IO_REPARSE_TAG_SYMLINK) throw new WireError('bad ReparseTag');
  r.u16();
  const unparsedPathLength = r.u16();
  const subOff = r.u16();
  const subLen = r.u16();
  const prnOff = r.u16();
  const prnLen = r.u16();
  const flags = r.u32();
  const base = r.pos;
  const pb = new Reader(data);
  return {
    unparsedPathLength, flags,
    substituteName: fromUtf16(pb.slice(base + subOff, subLen, 'SubstituteName')),
    printName: fromUtf16(pb.slice(base + prnOff, prnLen, 'PrintName')),
  };
}
