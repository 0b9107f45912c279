// SESSION_SETUP request/response (MS-SMB2 2.2.5 / 2.2.6). The security buffer is a view.
import { Writer } from './buf.js';
import { bodyReader, msgView, hdrOff } from './common.js';

export interface SessionSetupRequest {
  /** SMB2_SESSION_FLAG_BINDING (0x01) for 3.x channel binding. */
  flags: number;
  securityMode: number;
  capabilities: number;
  channel: number;
  previousSessionId: bigint;
  securityBuffer: Buffer;
}

export interface SessionSetupResponse {
  sessionFlags: number;
  securityBuffer: Buffer;
}

// StructureSize 25 | Flags(1) | SecurityMode(1) | Capabilities(4) | Channel(4)
// | SecurityBufferOffset(2) | SecurityBufferLength(2) | PreviousSessionId(8) | Buffer
export function encodeSessionSetupRequest(req: SessionSetupRequest): Buffer {
  const w = new Writer(32 + req.securityBuffer.length);
  w.u16(25).u8(req.flags).u8(req.securityMode).u32(req.capabilities).u32(req.channel);
  w.u16(hdrOff(24)).u16(req.securityBuffer.length).u64(req.previousSessionId);
  w.bytes(req.securityBuffer);
  if (req.securityBuffer.length === 0) w.zeros(1);
  return w.finish();
}

export function decodeSessionSetupRequest(msg: Buffer): SessionSetupRequest {
  const r = bodyReader(msg, 25, 'SESSION_SETUP request');
  const flags = r.u8();
  const securityMode = r.u8();
  const capabilities = r.u32();
  const channel = r.u32();
  const off = r.u16();
  const len = r.u16();
  const previousSessionId = r.u64();
  return { flags, securityMode, capabilities, channel, previousSessionId, securityBuffer: msgView(msg, off, len, 'security buffer') };
}

// StructureSize 9 | SessionFlags(2) | SecurityBufferOffset(2) | SecurityBufferLength(2) | Buffer
export function encodeSessionSetupResponse(res: SessionSetupResponse): Buffer {
  const w = new Writer(16 + res.securityBuffer.length);
  w.u16(9).u16(res.sessionFlags).u16(hdrOff(8)).u16(res.securityBuffer.length).bytes(res.securityBuffer);
  if (res.securityBuffer.length === 0) w.zeros(1);
  return w.finish();
}

export function decodeSessionSetupResponse(msg: Buffer): SessionSetupResponse {
  const r = bodyReader(msg, 9, 'SESSION_SETUP response');
  const sessionFlags = r.u16();
  const off = r.u16();
  const len = r.u16();
  return { sessionFlags, securityBuffer: msgView(msg, off, len, 'security buffer') };
}
