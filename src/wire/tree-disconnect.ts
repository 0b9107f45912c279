// TREE_DISCONNECT request/response (MS-SMB2 2.2.11 / 2.2.12): StructureSize 4, Reserved.
import { Writer } from './buf.js';
import { bodyReader } from './common.js';

export type TreeDisconnectRequest = Record<string, never>;
export type TreeDisconnectResponse = Record<string, never>;

export function encodeTreeDisconnectRequest(_req: TreeDisconnectRequest = {}): Buffer {
  return new Writer(4).u16(4).u16(0).finish();
}
export function decodeTreeDisconnectRequest(msg: Buffer): TreeDisconnectRequest {
  bodyReader(msg, 4, 'TREE_DISCONNECT');
  return {};
}
export const encodeTreeDisconnectResponse: (res?: TreeDisconnectResponse) => Buffer = encodeTreeDisconnectRequest;
export const decodeTreeDisconnectResponse: (msg: Buffer) => TreeDisconnectResponse = decodeTreeDisconnectRequest;
