// FSCTL payloads carried in IOCTL input/output buffers:
//   VALIDATE_NEGOTIATE_INFO (MS-SMB2 2.2.31.4 / 2.2.32.6), NETWORK_INTERFACE_INFO (2.2.32.5),
//   SRV_COPYCHUNK_COPY / SRV_COPYCHUNK_RESPONSE (2.2.31.1 / 2.2.32.1), SRV_REQUEST_RESUME_KEY
//   response (2.2.32.3), FILE_ZERO_DATA_INFORMATION and FILE_ALLOCATED_RANGE_BUFFER (MS-FSCC 2.3),
//   DFS referral messages (MS-DFSC): see dfs.ts.
import { Reader, Writer, WireError, utf16 } from './buf.js';

// ---- VALIDATE_NEGOTIATE_INFO
export interface ValidateNegotiateInfoRequest {
  capabilities: number;
  guid: Buffer;
  securityMode: number;
  dialects: number[];
}
export interface ValidateNegotiateInfoResponse {
  capabilities: number;
  guid: Buffer;
  securityMode: number;
  dialect: number;
}
// Capabilities(4) | Guid(16) | SecurityMode(2) | DialectCount(2) | Dialects
export function encodeValidateNegotiateInfoRequest(v: ValidateNegotiateInfoRequest): Buffer {
  const w = new Writer(24 + v.dialects.length * 2).u32(v.capabilities).bytes(v.guid.subarray(0, 16)).u16(v.securityMode).u16(v.dialects.length);
  for (const d of v.dialects) w.u16(d);
  return w.finish();
}
export function decodeValidateNegotiateInfoRequest(b: Buffer): ValidateNegotiateInfoRequest {
  const r = new Reader(b);
  const capabilities = r.u32();
  const guid = r.guid();
  const securityMode = r.u16();
  const n = r.u16();
  r.need(n * 2, 'dialects');
  const dialects: number[] = [];
  for (let i = 0; i < n; i++) dialects.push(r.u16());
  return { capabilities, guid, securityMode, dialects };
}
// Capabilities(4) | Guid(16) | SecurityMode(2) | Dialect(2)
export function encodeValidateNegotiateInfoResponse(v: ValidateNegotiateInfoResponse): Buffer {
  return new Writer(24).u32(v.capabilities).bytes(v.guid.subarray(0, 16)).u16(v.securityMode).u16(v.dialect).finish();
}
export function decodeValidateNegotiateInfoResponse(b: Buffer): ValidateNegotiateInfoResponse {
  const r = new Reader(b);
  return { capabilities: r.u32(), guid: r.guid(), securityMode: r.u16(), dialect: r.u16() };
}

// ---- NETWORK_INTERFACE_INFO: Next(4) | IfIndex(4) | Capability(4) | Reserved(4) | LinkSpeed(8)
//      | SockAddr_Storage(128): Family(2) then IPv4: Port(2, network order) Addr(4) Reserved(8)
//                                          or IPv6: Port(2) FlowInfo(4) Addr(16) ScopeId(4)
export const InterfaceCapability = { RSS: 0x1, RDMA: 0x2 } as const;
const AF_INET = 0x2;
const AF_INET6 = 0x17;
const NIC_ENTRY_SIZE = 152;

export interface NetworkInterfaceInfo {
  ifIndex: number;
  capability: number;
  /** bits per second */
  linkSpeed: bigint;
  /** 'ipv4' or 'ipv6' dotted/colon text address. */
  family: 'ipv4' | 'ipv6';
  address: string;
  port?: number;
  flowInfo?: number;
  scopeId?: number;
}

function ipv4ToBytes(a: string): Buffer {
  const p = a.split('.').map(Number);
  if (p.length !== 4 || p.some((x) => !Number.isInteger(x) || x < 0 || x > 255)) throw new WireError(`bad IPv4 address ${a}`);
  return Buffer.from(p);
}

function ipv6ToBytes(a: string): Buffer {
  let s = a.replace(/%.*$/, ''); // drop a zone id
  let tail: number[] = [];
  const v4 = /^(.*:)(\d+\.\d+\.\d+\.\d+)$/.exec(s); // embedded IPv4, e.g. ::ffff:1.2.3.4
  if (v4) {
    const b = ipv4ToBytes(v4[2]!);
    tail = [(b[0]! << 8) | b[1]!, (b[2]! << 8) | b[3]!];
    s = v4[1]!.endsWith('::') ? v4[1]! : v4[1]!.slice(0, -1);
  }
  const halves = s.split('::');
  if (halves.length > 2) throw new WireError(`bad IPv6 address ${a}`);
  const parse = (x: string) => (x ? x.split(':').map((h) => { const v = parseInt(h, 16); if (!/^[0-9a-f]{1,4}$/i.test(h)) throw new WireError(`bad IPv6 address ${a}`); return v; }) : []);
  const head = parse(halves[0]!);
  const rest = halves.length === 2 ? parse(halves[1]!) : [];
  const fill = halves.length === 2 ? 8 - head.length - rest.length - tail.length : 0;
  if (fill < 0) throw new WireError(`bad IPv6 address ${a}`);
  const groups = [...head, ...new Array<number>(fill).fill(0), ...rest, ...tail];
  if (groups.length !== 8) throw new WireError(`bad IPv6 address ${a}`);
  const out = Buffer.alloc(16);
  groups.forEach((g, i) => out.writeUInt16BE(g, i * 2));
  return out;
}

function bytesToIpv6(b: Buffer): string {
  const g: string[] = [];
  for (let i = 0; i < 16; i += 2) g.push(b.readUInt16BE(i).toString(16));
  // compress the longest run of zero groups
  let best = -1, bestLen = 0;
  for (let i = 0; i < 8;) {
    if (g[i] !== '0') { i++; continue; }
    let j = i;
    while (j < 8 && g[j] === '0') j++;
    if (j - i > bestLen && j - i > 1) { best = i; bestLen = j - i; }
    i = j;
  }
  if (best < 0) return g.join(':');
  return g.slice(0, best).join(':') + '::' + g.slice(best + bestLen).join(':');
}

export function encodeNetworkInterfaceInfo(list: NetworkInterfaceInfo[]): Buffer {
  const out = Buffer.alloc(NIC_ENTRY_SIZE * list.length);
  list.forEach((n, i) => {
    const o = i * NIC_ENTRY_SIZE;
    out.writeUInt32LE(i < list.length - 1 ? NIC_ENTRY_SIZE : 0, o);
    out.writeUInt32LE(n.ifIndex >>> 0, o + 4);
    out.writeUInt32LE(n.capability >>> 0, o + 8);
    out.writeBigUInt64LE(n.linkSpeed, o + 16);
    const sa = o + 24;
    if (n.family === 'ipv4') {
      out.writeUInt16LE(AF_INET, sa);
      out.writeUInt16BE(n.port ?? 0, sa + 2);
      ipv4ToBytes(n.address).copy(out, sa + 4);
    } else {
      out.writeUInt16LE(AF_INET6, sa);
      out.writeUInt16BE(n.port ?? 0, sa + 2);
      out.writeUInt32LE(n.flowInfo ?? 0, sa + 4);
      ipv6ToBytes(n.address).copy(out, sa + 8);
      out.writeUInt32LE(n.scopeId ?? 0, sa + 24);
    }
  });
  return out;
}

export function decodeNetworkInterfaceInfo(b: Buffer): NetworkInterfaceInfo[] {
  const out: NetworkInterfaceInfo[] = [];
  let off = 0;
  while (b.length > 0) {
    if (out.length >= 1024) throw new WireError('too many interfaces');
    if (off + NIC_ENTRY_SIZE > b.length) throw new WireError('truncated NETWORK_INTERFACE_INFO');
    const next = b.readUInt32LE(off);
    const ifIndex = b.readUInt32LE(off + 4);
    const capability = b.readUInt32LE(off + 8);
    const linkSpeed = b.readBigUInt64LE(off + 16);
    const sa = off + 24;
    const fam = b.readUInt16LE(sa);
    const port = b.readUInt16BE(sa + 2);
    if (fam === AF_INET) {
      out.push({ ifIndex, capability, linkSpeed, family: 'ipv4', address: [...b.subarray(sa + 4, sa + 8)].join('.'), port });
    } else if (fam === AF_INET6) {
      out.push({
        ifIndex, capability, linkSpeed, family: 'ipv6', port, flowInfo: b.readUInt32LE(sa + 4),
        address: bytesToIpv6(b.subarray(sa + 8, sa + 24)), scopeId: b.readUInt32LE(sa + 24),
      });
    } else {
      throw new WireError(`unknown address family ${fam}`);
    }
    if (!next) break;
    if (next < NIC_ENTRY_SIZE) throw new WireError('bad NETWORK_INTERFACE_INFO Next');
    off += next;
  }
  return out;
}

// ---- SRV_REQUEST_RESUME_KEY response: ResumeKey(24) | ContextLength(4) | Context
export function encodeResumeKeyResponse(resumeKey: Buffer): Buffer {
  // ContextLength 0 followed by 4 zero bytes of Context, as Windows sends.
  return new Writer(32).bytes(resumeKey.subarray(0, 24)).zeros(Math.max(0, 24 - resumeKey.length)).u32(0).u32(0).finish();
}
export function decodeResumeKeyResponse(b: Buffer): { resumeKey: Buffer } {
  const r = new Reader(b);
  const resumeKey = r.bytes(24);
  r.u32();
  return { resumeKey };
}

// ---- SRV_COPYCHUNK_COPY: SourceKey(24) | ChunkCount(4) | Reserved(4) | Chunks:
//      SourceOffset(8) | TargetOffset(8) | Length(4) | Reserved(4)
export interface CopyChunk { sourceOffset: bigint; targetOffset: bigint; length: number }
export interface CopyChunkCopy { sourceKey: Buffer; chunks: CopyChunk[] }
export function encodeCopyChunkCopy(v: CopyChunkCopy): Buffer {
  const w = new Writer(32 + 24 * v.chunks.length).bytes(v.sourceKey.subarray(0, 24)).u32(v.chunks.length).u32(0);
  for (const c of v.chunks) w.u64(c.sourceOffset).u64(c.targetOffset).u32(c.length).u32(0);
  return w.finish();
}
export function decodeCopyChunkCopy(b: Buffer): CopyChunkCopy {
  const r = new Reader(b);
  const sourceKey = r.bytes(24);
  const n = r.u32();
  r.skip(4);
  r.need(n * 24, 'copychunk list');
  const chunks: CopyChunk[] = [];
  for (let i = 0; i < n; i++) {
    const sourceOffset = r.u64();
    const targetOffset = r.u64();
    const length = r.u32();
    r.skip(4);
    chunks.push({ sourceOffset, targetOffset, length });
  }
  return { sourceKey, chunks };
}
// SRV_COPYCHUNK_RESPONSE: ChunksWritten(4) | ChunkBytesWritten(4) | TotalBytesWritten(4)
export interface CopyChunkResponse { chunksWritten: number; chunkBytesWritten: number; totalBytesWritten: number }
export function encodeCopyChunkResponse(v: CopyChunkResponse): Buffer {
  return new Writer(12).u32(v.chunksWritten).u32(v.chunkBytesWritten).u32(v.totalBytesWritten).finish();
}
export function decodeCopyChunkResponse(b: Buffer): CopyChunkResponse {
  const r = new Reader(b);
  return { chunksWritten: r.u32(), chunkBytesWritten: r.u32(), totalBytesWritten: r.u32() };
}

// ---- FILE_ZERO_DATA_INFORMATION: FileOffset(8) | BeyondFinalZero(8)
export interface ZeroDataInformation { fileOffset: bigint; beyondFinalZero: bigint }
export function encodeZeroDataInformation(v: ZeroDataInformation): Buffer {
  return new Writer(16).u64(v.fileOffset).u64(v.beyondFinalZero).finish();
}
export function decodeZeroDataInformation(b: Buffer): ZeroDataInformation {
  const r = new Reader(b);
  return { fileOffset: r.u64(), beyondFinalZero: r.u64() };
}

// ---- FILE_ALLOCATED_RANGE_BUFFER: FileOffset(8) | Length(8); QUERY_ALLOCATED_RANGES input is one, output a list.
export interface AllocatedRange { fileOffset: bigint; length: bigint }
export function encodeAllocatedRanges(list: AllocatedRange[]): Buffer {
  const w = new Writer(16 * Math.max(1, list.length));
  for (const x of list) w.u64(x.fileOffset).u64(x.length);
  return w.finish();
}
export function decodeAllocatedRanges(b: Buffer): AllocatedRange[] {
  if (b.length % 16) throw new WireError('FILE_ALLOCATED_RANGE_BUFFER list length not a multiple of 16');
  const r = new Reader(b);
  const out: AllocatedRange[] = [];
  while (r.remaining >= 16) out.push({ fileOffset: r.u64(), length: r.u64() });
  return out;
}

// ---- DFS referral messages live in dfs.ts (MS-DFSC); re-exported for existing callers.
export * from './dfs.js';
