// CREATE request/response (MS-SMB2 2.2.13 / 2.2.14) and the create context chain (2.2.13.2).
// Context names are returned as latin1 strings so 4-char tags ("MxAc") and 16-byte binary GUID
// tags (POSIX, APP_INSTANCE_ID) both round-trip; context data are views.
import { Reader, Writer, WireError, utf16, fromUtf16 } from './buf.js';
import { bodyReader, msgView, hdrOff, align8, readFileId, writeFileId, type FileId } from './common.js';

export interface CreateContext {
  name: string;
  data: Buffer;
}

export interface CreateRequest {
  securityFlags: number;
  requestedOplockLevel: number;
  impersonationLevel: number;
  smbCreateFlags: bigint;
  desiredAccess: number;
  fileAttributes: number;
  shareAccess: number;
  createDisposition: number;
  createOptions: number;
  /** Share-relative path with backslashes, no leading backslash. */
  name: string;
  contexts: CreateContext[];
}

export interface CreateResponse {
  oplockLevel: number;
  /** SMB2_CREATE_FLAG_REPARSEPOINT = 0x01 (3.x). */
  flags: number;
  createAction: number;
  creationTime: bigint;
  lastAccessTime: bigint;
  lastWriteTime: bigint;
  changeTime: bigint;
  allocationSize: bigint;
  endOfFile: bigint;
  fileAttributes: number;
  fileId: FileId;
  contexts: CreateContext[];
}

/** Encodes a create context chain: each entry 8-byte aligned, Next = offset to the next entry. */
export function encodeCreateContexts(list: CreateContext[]): Buffer {
  const w = new Writer(128);
  list.forEach((c, i) => {
    const start = w.pos;
    const name = Buffer.from(c.name, 'latin1');
    const dataOff = c.data.length ? align8(16 + name.length) : 0;
    w.u32(0).u16(16).u16(name.length).u16(0).u16(dataOff).u32(c.data.length).bytes(name);
    if (c.data.length) {
      w.zeros(start + dataOff - w.pos);
      w.bytes(c.data);
    }
    if (i < list.length - 1) {
      w.align(8);
      w.setU32(start, w.pos - start);
    }
  });
  return w.finish();
}

/** Decodes a chain held in `buf` (the CreateContexts region). */
export function decodeCreateContexts(buf: Buffer): CreateContext[] {
  const out: CreateContext[] = [];
  const r = new Reader(buf);
  let off = 0;
  for (let i = 0; buf.length > 0; i++) {
    if (i >= 256) throw new WireError('too many create contexts');
    r.at(off);
    r.need(16, 'create context');
    const next = r.u32();
    const nameOff = r.u16();
    const nameLen = r.u16();
    r.skip(2);
    const dataOff = r.u16();
    const dataLen = r.u32();
    const end = next ? off + next : buf.length;
    if (end > buf.length) throw new WireError('create context Next beyond end');
    if (next && (next < 16 || next % 8)) throw new WireError('bad create context Next');
    if (nameLen === 0 || nameOff < 16 || off + nameOff + nameLen > end) throw new WireError('create context name out of range');
    if (dataLen && (dataOff < 16 || off + dataOff + dataLen > end)) throw new WireError('create context data out of range');
    out.push({
      name: buf.toString('latin1', off + nameOff, off + nameOff + nameLen),
      data: dataLen ? buf.subarray(off + dataOff, off + dataOff + dataLen) : buf.subarray(0, 0),
    });
    if (!next) break;
    off += next;
  }
  return out;
}

export function findCreateContext(list: CreateContext[], name: string): CreateContext | undefined {
  return list.find((c) => c.name === name);
}

// StructureSize 57 | SecurityFlags(1) | RequestedOplockLevel(1) | ImpersonationLevel(4)
// | SmbCreateFlags(8) | Reserved(8) | DesiredAccess(4) | FileAttributes(4) | ShareAccess(4)
// | CreateDisposition(4) | CreateOptions(4) | NameOffset(2) | NameLength(2)
// | CreateContextsOffset(4) | CreateContextsLength(4) | Buffer (name, pad8, contexts)
export function encodeCreateRequest(req: CreateRequest): Buffer {
  const name = utf16(req.name);
  const ctx = encodeCreateContexts(req.contexts);
  const w = new Writer(64 + name.length + ctx.length + 8);
  w.u16(57).u8(req.securityFlags).u8(req.requestedOplockLevel).u32(req.impersonationLevel);
  w.u64(req.smbCreateFlags).u64(0n).u32(req.desiredAccess).u32(req.fileAttributes).u32(req.shareAccess);
  w.u32(req.createDisposition).u32(req.createOptions);
  w.u16(hdrOff(56)).u16(name.length);
  const ctxAt = w.pos;
  w.u32(0).u32(0);
  w.bytes(name);
  if (ctx.length) {
    w.align(8);
    w.setU32(ctxAt, hdrOff(w.pos)).setU32(ctxAt + 4, ctx.length);
    w.bytes(ctx);
  } else if (name.length === 0) {
    w.zeros(1); // Buffer is at least one byte (StructureSize 57)
  }
  return w.finish();
}

export function decodeCreateRequest(msg: Buffer): CreateRequest {
  const r = bodyReader(msg, 57, 'CREATE request');
  const securityFlags = r.u8();
  const requestedOplockLevel = r.u8();
  const impersonationLevel = r.u32();
  const smbCreateFlags = r.u64();
  r.skip(8);
  const desiredAccess = r.u32();
  const fileAttributes = r.u32();
  const shareAccess = r.u32();
  const createDisposition = r.u32();
  const createOptions = r.u32();
  const nameOff = r.u16();
  const nameLen = r.u16();
  const ctxOff = r.u32();
  const ctxLen = r.u32();
  const name = fromUtf16(msgView(msg, nameOff, nameLen, 'CREATE name'));
  const contexts = decodeCreateContexts(msgView(msg, ctxOff, ctxLen, 'CREATE contexts'));
  return {
    securityFlags, requestedOplockLevel, impersonationLevel, smbCreateFlags, desiredAccess, fileAttributes,
    shareAccess, createDisposition, createOptions, name, contexts,
  };
}

// StructureSize 89 | OplockLevel(1) | Flags(1) | CreateAction(4) | CreationTime | LastAccessTime
// | LastWriteTime | ChangeTime | AllocationSize | EndofFile (8 each) | FileAttributes(4)
// | Reserved2(4) | FileId(16) | CreateContextsOffset(4) | CreateContextsLength(4) | Buffer
export function encodeCreateResponse(res: CreateResponse): Buffer {
  const ctx = encodeCreateContexts(res.contexts);
  const w = new Writer(96 + ctx.length);
  w.u16(89).u8(res.oplockLevel).u8(res.flags).u32(res.createAction);
  w.u64(res.creationTime).u64(res.lastAccessTime).u64(res.lastWriteTime).u64(res.changeTime);
  w.u64(res.allocationSize).u64(res.endOfFile).u32(res.fileAttributes).u32(0);
  writeFileId(w, res.fileId);
  w.u32(ctx.length ? hdrOff(88) : 0).u32(ctx.length);
  if (ctx.length) w.bytes(ctx);
  else w.zeros(1);
  return w.finish();
}

export function decodeCreateResponse(msg: Buffer): CreateResponse {
  const r = bodyReader(msg, 89, 'CREATE response');
  const oplockLevel = r.u8();
  const flags = r.u8();
  const createAction = r.u32();
  const creationTime = r.u64();
  const lastAccessTime = r.u64();
  const lastWriteTime = r.u64();
  const changeTime = r.u64();
  const allocationSize = r.u64();
  const endOfFile = r.u64();
  const fileAttributes = r.u32();
  r.skip(4);
  const fileId = readFileId(r);
  const ctxOff = r.u32();
  const ctxLen = r.u32();
  const contexts = decodeCreateContexts(msgView(msg, ctxOff, ctxLen, 'CREATE contexts'));
  return {
    oplockLevel, flags, createAction, creationTime, lastAccessTime, lastWriteTime, changeTime,
    allocationSize, endOfFile, fileAttributes, fileId, contexts,
  };
}
