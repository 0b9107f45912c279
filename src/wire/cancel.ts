// CANCEL request (MS-SMB2 2.2.30): StructureSize 4, Reserved. There is no CANCEL response; the
// target request is identified by the header (MessageId, or AsyncId with ASYNC_COMMAND).
import { Writer } from './buf.js';
import { bodyReader } from './common.js';

export type CancelRequest = Record<string, never>;

export function encodeCancelRequest(_req: CancelRequest = {}): Buffer {
  return new Writer(4).u16(4).u16(0).finish();
}
export function decodeCancelRequest(msg: Buffer): CancelRequest {
  bodyReader(msg, 4, 'CANCEL request');
  return {};
}
