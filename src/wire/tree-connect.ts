// TREE_CONNECT request/response (MS-SMB2 2.2.9 / 2.2.10).
// 3.1.1 request Flags: CLUSTER_RECONNECT 0x1, REDIRECT_TO_OWNER 0x2, EXTENSION_PRESENT 0x4. With
// EXTENSION_PRESENT the Buffer starts with SMB2_TREE_CONNECT_REQUEST_EXTENSION (2.2.9.1), but
// PathOffset still points at the path, so decoding via PathOffset/PathLength works either way.
import { Writer, utf16, fromUtf16 } from './buf.js';
import { bodyReader, msgView, hdrOff } from './common.js';

export const TreeConnectFlags = { CLUSTER_RECONNECT: 0x1, REDIRECT_TO_OWNER: 0x2, EXTENSION_PRESENT: 0x4 } as const;

export interface TreeConnectRequest {
  flags: number;
  /** UNC path, e.g. \\server\share. */
  path: string;
}

export interface TreeConnectResponse {
  shareType: number;
  shareFlags: number;
  capabilities: number;
  maximalAccess: number;
}

// StructureSize 9 | Flags(2) | PathOffset(2) | PathLength(2) | Buffer
export function encodeTreeConnectRequest(req: TreeConnectRequest): Buffer {
  const p = utf16(req.path);
  const w = new Writer(8 + p.length + 1);
  w.u16(9).u16(req.flags & ~TreeConnectFlags.EXTENSION_PRESENT).u16(hdrOff(8)).u16(p.length).bytes(p);
  if (p.length === 0) w.zeros(1);
  return w.finish();
}

export function decodeTreeConnectRequest(msg: Buffer): TreeConnectRequest {
  const r = bodyReader(msg, 9, 'TREE_CONNECT request');
  const flags = r.u16();
  const off = r.u16();
  const len = r.u16();
  return { flags, path: fromUtf16(msgView(msg, off, len, 'tree connect path')) };
}

// StructureSize 16 | ShareType(1) | Reserved(1) | ShareFlags(4) | Capabilities(4) | MaximalAccess(4)
export function encodeTreeConnectResponse(res: TreeConnectResponse): Buffer {
  return new Writer(16).u16(16).u8(res.shareType).u8(0).u32(res.shareFlags).u32(res.capabilities).u32(res.maximalAccess).finish();
}

export function decodeTreeConnectResponse(msg: Buffer): TreeConnectResponse {
  const r = bodyReader(msg, 16, 'TREE_CONNECT response');
  const shareType = r.u8();
  r.skip(1);
  return { shareType, shareFlags: r.u32(), capabilities: r.u32(), maximalAccess: r.u32() };
}
