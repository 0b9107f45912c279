// IOCTL request/response (MS-SMB2 2.2.31 / 2.2.32). FSCTL payloads: fsctl.ts.
import { Writer } from './buf.js';
import { bodyReader, msgView, hdrOff, readFileId, writeFileId, type FileId } from './common.js';

export interface IoctlRequest {
  ctlCode: number;
  fileId: FileId;
  input: Buffer;
  /** Usually 0. */
  maxInputResponse: number;
  maxOutputResponse: number;
  /** SMB2_0_IOCTL_IS_FSCTL = 0x1. */
  flags: number;
  /** Output buffer sent by the client (rare; view on decode). */
  output?: Buffer;
}

export interface IoctlResponse {
  ctlCode: number;
  fileId: FileId;
  input: Buffer;
  output: Buffer;
  flags: number;
}

// StructureSize 57 | Reserved(2) | CtlCode(4) | FileId(16) | InputOffset(4) | InputCount(4)
// | MaxInputResponse(4) | OutputOffset(4) | OutputCount(4) | MaxOutputResponse(4) | Flags(4)
// | Reserved2(4) | Buffer
export function encodeIoctlRequest(req: IoctlRequest): Buffer {
  const out = req.output ?? Buffer.alloc(0);
  const w = new Writer(57 + req.input.length + out.length);
  w.u16(57).u16(0).u32(req.ctlCode);
  writeFileId(w, req.fileId);
  const inOff = hdrOff(56);
  const outOff = inOff + req.input.length + (out.length ? (8 - (req.input.length % 8)) % 8 : 0);
  w.u32(req.input.length ? inOff : 0).u32(req.input.length).u32(req.maxInputResponse);
  w.u32(out.length ? outOff : 0).u32(out.length).u32(req.maxOutputResponse).u32(req.flags).u32(0);
  w.bytes(req.input);
  if (out.length) { w.align(8); w.bytes(out); }
  if (w.pos === 56) w.zeros(1);
  return w.finish();
}

export function decodeIoctlRequest(msg: Buffer): IoctlRequest {
  const r = bodyReader(msg, 57, 'IOCTL request');
  r.skip(2);
  const ctlCode = r.u32();
  const fileId = readFileId(r);
  const inOff = r.u32();
  const inLen = r.u32();
  const maxInputResponse = r.u32();
  const outOff = r.u32();
  const outLen = r.u32();
  const maxOutputResponse = r.u32();
  const flags = r.u32();
  return {
    ctlCode, fileId, maxInputResponse, maxOutputResponse, flags,
    input: msgView(msg, inOff, inLen, 'IOCTL input'),
    output: msgView(msg, outOff, outLen, 'IOCTL output'),
  };
}

// StructureSize 49 | Reserved(2) | CtlCode(4) | FileId(16) | InputOffset(4) | InputCount(4)
// | OutputOffset(4) | OutputCount(4) | Flags(4) | Reserved2(4) | Buffer
// Output starts 8-byte aligned after the (usually empty) input, as Windows does.
export function encodeIoctlResponse(res: IoctlResponse): Buffer {
  const w = new Writer(49 + res.input.length + res.output.length + 8);
  w.u16(49).u16(0).u32(res.ctlCode);
  writeFileId(w, res.fileId);
  const inOff = hdrOff(48);
  const outOff = inOff + ((res.input.length + 7) & ~7);
  w.u32(inOff).u32(res.input.length).u32(outOff).u32(res.output.length).u32(res.flags).u32(0);
  w.bytes(res.input);
  if (res.output.length) { w.align(8); w.bytes(res.output); }
  return w.finish();
}

export function decodeIoctlResponse(msg: Buffer): IoctlResponse {
  const r = bodyReader(msg, 49, 'IOCTL response');
  r.skip(2);
  const ctlCode = r.u32();
  const fileId = readFileId(r);
  const inOff = r.u32();
  const inLen = r.u32();
  const outOff = r.u32();
  const outLen = r.u32();
  const flags = r.u32();
  return {
    ctlCode, fileId, flags,
    input: msgView(msg, inOff, inLen, 'IOCTL input'),
    output: msgView(msg, outOff, outLen, 'IOCTL output'),
  };
}
