// LOGOFF request/response (MS-SMB2 2.2.7 / 2.2.8): StructureSize 4, Reserved.
import { Writer } from './buf.js';
import { bodyReader } from './common.js';

export type LogoffRequest = Record<string, never>;
export type LogoffResponse = Record<string, never>;

export function encodeLogoffRequest(_req: LogoffRequest = {}): Buffer {
  return new Writer(4).u16(4).u16(0).finish();
}
export function decodeLogoffRequest(msg: Buffer): LogoffRequest {
  bodyReader(msg, 4, 'LOGOFF');
  return {};
}
export const encodeLogoffResponse: (res?: LogoffResponse) => Buffer = encodeLogoffRequest;
export const decodeLogoffResponse: (msg: Buffer) => LogoffResponse = decodeLogoffRequest;
