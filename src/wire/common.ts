// Small helpers shared by the command codecs in wire/ (see echo.ts for the codec convention).
import { HEADER_SIZE } from './header.js';
import { Reader, Writer, WireError } from './buf.js';

/** SMB2_FILEID (2.2.14.1): Persistent then Volatile, 8 bytes each. */
export interface FileId {
  persistent: bigint;
  volatile: bigint;
}

/** The "related" FileId used by compounded requests (3.2.4.1.4). */
export const RELATED_FILE_ID: FileId = { persistent: 0xffffffffffffffffn, volatile: 0xffffffffffffffffn };

export function readFileId(r: Reader): FileId {
  const persistent = r.u64();
  const volatile = r.u64();
  return { persistent, volatile };
}

export function writeFileId(w: Writer, id: FileId): Writer {
  return w.u64(id.persistent).u64(id.volatile);
}

/** Starts decoding a body: positions a Reader at the body and checks StructureSize. */
export function bodyReader(msg: Buffer, structureSize: number, what: string): Reader {
  const r = new Reader(msg, HEADER_SIZE);
  if (msg.length < HEADER_SIZE + 2) throw new WireError(`truncated ${what}`);
  const ss = r.u16();
  if (ss !== structureSize) throw new WireError(`bad ${what} StructureSize ${ss}`);
  // The fixed part is StructureSize rounded down to even (odd sizes count one byte of Buffer).
  r.need((structureSize & ~1) - 2, what);
  return r;
}

/**
 * A view of [offset, offset+length) of the whole message, where offset counts from the header
 * start (MS-SMB2 convention). A zero length yields an empty view whatever the offset.
 */
export function msgView(msg: Buffer, offset: number, length: number, what: string): Buffer {
  if (length === 0) return msg.subarray(0, 0);
  if (offset < HEADER_SIZE || offset + length > msg.length) throw new WireError(`${what} out of range`);
  return msg.subarray(offset, offset + length);
}

/** Offset (from header start) of the body byte at writer position `pos`. */
export function hdrOff(pos: number): number {
  return HEADER_SIZE + pos;
}

/** Pads a body so that its length reaches StructureSize when the variable part is empty. */
export function padToStructureSize(w: Writer, structureSize: number): void {
  if (w.pos < structureSize) w.zeros(structureSize - w.pos);
}

export function align8(n: number): number {
  return (n + 7) & ~7;
}

export const EMPTY = Buffer.alloc(0);
