// ECHO request/response (MS-SMB2 2.2.28, 2.2.29): StructureSize 4, Reserved.
// This file shows the codec convention every command module in wire/ follows:
//  - `encodeXRequest(req)` / `encodeXResponse(res)` return the BODY (bytes after the 64-byte header);
//    offsets inside the body are computed as if the body starts at HEADER_SIZE (MS-SMB2 offsets
//    are from the start of the header).
//  - `decodeXRequest(msg)` / `decodeXResponse(msg)` take the WHOLE message (header at 0, body at 64)
//    so offsets resolve directly; they validate StructureSize, every offset and length, and return
//    views (subarray) of the input, never copies. Malformed input throws WireError.
import { HEADER_SIZE } from './header.js';
import { Reader, Writer, WireError } from './buf.js';

export type EchoRequest = Record<string, never>;
export type EchoResponse = Record<string, never>;

export function encodeEchoRequest(): Buffer {
  return new Writer(4).u16(4).u16(0).finish();
}
export const encodeEchoResponse = encodeEchoRequest;

export function decodeEchoRequest(msg: Buffer): EchoRequest {
  const r = new Reader(msg, HEADER_SIZE);
  if (r.u16() !== 4) throw new WireError('bad ECHO StructureSize');
  return {};
}
export const decodeEchoResponse = decodeEchoRequest;
