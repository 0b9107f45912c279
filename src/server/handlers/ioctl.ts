// SMB2 IOCTL (MS-SMB2 3.3.5.15). FSCTLs served: VALIDATE_NEGOTIATE_INFO, QUERY_NETWORK_INTERFACE_INFO,
// PIPE_TRANSCEIVE, SRV_REQUEST_RESUME_KEY, SRV_COPYCHUNK(_WRITE), SET_SPARSE, SET_ZERO_DATA,
// QUERY_ALLOCATED_RANGES, GET_REPARSE_POINT, DFS_GET_REFERRALS(_EX). Others: as Samba.
//
// QUERY_NETWORK_INTERFACE_INFO with no `interfaces` configured reports the local address the
// request arrived on (ctx.conn has no local address on the seam, so the server's configured
// bind address or the connection's address family loopback is used), 1 Gbit/s, no RSS/RDMA:
// enough for a multichannel client to bind a second channel to the same address.
import { RELATED_FILE_ID } from '../../wire/common.js';
import { randomBytes } from 'node:crypto';
import { networkInterfaces } from 'node:os';
import type { Open, Reply, RequestContext } from '../types.js';
import { Status } from '../../wire/status.js';
import { decodeIoctlRequest, encodeIoctlResponse, type IoctlRequest } from '../../wire/ioctl.js';
import { withChannelSequence } from '../replay.js';
import * as Fs from '../../wire/fsctl.js';
import { Access, Fsctl, IoctlFlags } from '../../wire/constants.js';
import { FileAttribute } from '../../vfs/types.js';
import { handlerOf, requireOpen, fail } from '../files/util.js';
import { stateOf, onAnyClose, reportChange, FileAction, NotifyFilter } from '../open-file.js';
import { ioAllowed } from '../locks.js';
import { breakLevelII } from '../oplocks.js';
import { pipeTransceive } from '../files/pipes.js';
import { internalDisconnect } from '../files/disconnect.js';
import { answerReferral } from '../dfs/referral.js';
import { isDfsShare } from '../dfs/paths.js';
import { decodeDfsReferralRequest, decodeDfsReferralRequestEx } from '../../wire/dfs.js';

/** MS-SMB2 3.3.3: ServerSideCopyMaxNumberofChunks, MaxChunkSize, MaxDataSize. */
export const COPYCHUNK_MAX_CHUNKS = 256;
export const COPYCHUNK_MAX_CHUNK_SIZE = 1024 * 1024;
export const COPYCHUNK_MAX_TOTAL = 16 * 1024 * 1024;

const resumeKeys = new Map<string, Open>();
onAnyClose((_s, open) => {
  const k = stateOf(open).resumeKey;
  if (k) resumeKeys.delete(k);
});

function ok(ctlCode: number, open: { fileId: { persistent: bigint; volatile: bigint } } | undefined, output: Buffer, status: number = Status.SUCCESS): Reply {
  const fileId = open?.fileId ?? { persistent: 0xffffffffffffffffn, volatile: 0xffffffffffffffffn };
  return { status, body: encodeIoctlResponse({ ctlCode, fileId, input: Buffer.alloc(0), output, flags: 0 }) };
}

function validateNegotiate(ctx: RequestContext, ctlCode: number, input: Buffer): Reply {
  const n = ctx.conn.negotiate;
  // 3.3.5.15.12: any mismatch (or a malformed request) terminates the connection.
  let req: Fs.ValidateNegotiateInfoRequest;
  try {
    req = Fs.decodeValidateNegotiateInfoRequest(input);
  } catch {
    return internalDisconnect(ctx);
  }
  const dialectsMatch = req.dialects.length === n.clientDialects.length && req.dialects.every((d, i) => d === n.clientDialects[i]);
  if (ctx.conn.dialect === 0x0311 || req.capabilities !== n.clientCapabilities || req.securityMode !== n.clientSecurityMode ||
      !req.guid.equals(ctx.conn.clientGuid) || !dialectsMatch) {
    // SMB 3.1.1 must not send it (preauth integrity replaces it): also terminate.
    return internalDisconnect(ctx);
  }
  return ok(ctlCode, undefined, Fs.encodeValidateNegotiateInfoResponse({
    capabilities: n.serverCapabilities, guid: ctx.server.serverGuid, securityMode: n.serverSecurityMode, dialect: ctx.conn.dialect,
  }));
}

function interfaceList(ctx: RequestContext): Fs.NetworkInterfaceInfo[] {
  const cfg = ctx.server.config.interfaces;
  const out: Fs.NetworkInterfaceInfo[] = [];
  let idx = 1;
  for (const i of cfg) {
    out.push({
      ifIndex: idx++, capability: (i.rss ? Fs.InterfaceCapability.RSS : 0) | (i.rdma ? Fs.InterfaceCapability.RDMA : 0),
      linkSpeed: BigInt(i.speed ?? 1_000_000_000), family: i.address.includes(':') ? 'ipv6' : 'ipv4', address: i.address,
    });
  }
  if (out.length) return out;
  // Nothing configured: the host's non-internal addresses (or loopback when the client is local).
  // remoteAddress is "ip:port" (connection.ts): drop the port, then the v4-mapped prefix.
  const remote = ctx.conn.remoteAddress.replace(/:\d+$/, '').replace(/^::ffff:/, '');
  const loop = remote === '127.0.0.1' || remote === '::1';
  for (const [, addrs] of Object.entries(networkInterfaces())) {
    for (const a of addrs ?? []) {
      if (a.internal !== loop) continue;
      if (a.family === 'IPv6' && a.address.startsWith('fe80')) continue;
      out.push({ ifIndex: idx++, capability: 0, linkSpeed: 1_000_000_000n, family: a.family === 'IPv4' ? 'ipv4' : 'ipv6', address: a.address });
    }
  }
  if (!out.length) out.push({ ifIndex: 1, capability: 0, linkSpeed: 1_000_000_000n, family: 'ipv4', address: '127.0.0.1' });
  return out;
}

async function copyChunk(ctx: RequestContext, ctlCode: number, open: Open, input: Buffer, maxOut: number): Promise<Reply> {
  if (maxOut < 12) fail(Status.INVALID_PARAMETER);
  let req: Fs.CopyChunkCopy;
  try {
    req = Fs.decodeCopyChunkCopy(input);
  } catch {
    fail(Status.INVALID_PARAMETER);
  }
  const limits = (): Reply => ({
    status: Status.INVALID_PARAMETER,
    body: encodeIoctlResponse({
      ctlCode, fileId: open.fileId, input: Buffer.alloc(0), flags: 0,
      output: Fs.encodeCopyChunkResponse({ chunksWritten: COPYCHUNK_MAX_CHUNKS, chunkBytesWritten: COPYCHUNK_MAX_CHUNK_SIZE, totalBytesWritten: COPYCHUNK_MAX_TOTAL }),
    }),
  });
  if (req.chunks.length > COPYCHUNK_MAX_CHUNKS) return limits();
  let total = 0;
  for (const c of req.chunks) {
    if (c.length === 0 || c.length > COPYCHUNK_MAX_CHUNK_SIZE) return limits();
    total += c.length;
  }
  if (total > COPYCHUNK_MAX_TOTAL) return limits();
  const src = resumeKeys.get(req.sourceKey.toString('hex'));
  if (!src || stateOf(src).closed || src.session !== open.session) fail(Status.OBJECT_NAME_NOT_FOUND);
  if (!open.handle || !src.handle || open.isDirectory || src.isDirectory) fail(Status.INVALID_PARAMETER);
  // 3.3.5.15.6: source needs read (or execute, as Windows and Samba allow: smb2.ioctl
  // copy_chunk_bad_access); target needs write (and read for COPYCHUNK, not _WRITE).
  if (!(src.grantedAccess & (Access.FILE_READ_DATA | Access.FILE_EXECUTE))) fail(Status.ACCESS_DENIED);
  if (!(open.grantedAccess & Access.FILE_WRITE_DATA)) fail(Status.ACCESS_DENIED);
  if (ctlCode === Fsctl.SRV_COPYCHUNK && !(open.grantedAccess & Access.FILE_READ_DATA)) fail(Status.ACCESS_DENIED);
  let written = 0;
  let chunks = 0;
  // A chunk that cannot be copied ends the copy; the answer still carries SRV_COPYCHUNK_RESPONSE
  // with what was written before it (2.2.32.1; smb2.ioctl copy_chunk_src_exceed_multi, _src_lock).
  const stopped = (status: number): Reply => {
    if (written) reportChange(ctx.server, open.tree, open.path, FileAction.MODIFIED, NotifyFilter.LAST_WRITE | NotifyFilter.SIZE);
    return {
      status,
      body: encodeIoctlResponse({
        ctlCode, fileId: open.fileId, input: Buffer.alloc(0), flags: 0,
        output: Fs.encodeCopyChunkResponse({ chunksWritten: chunks, chunkBytesWritten: 0, totalBytesWritten: written }),
      }),
    };
  };
  breakLevelII(ctx.server, open);
  for (const c of req.chunks) {
    if (!ioAllowed(src, c.sourceOffset, BigInt(c.length), false) || !ioAllowed(open, c.targetOffset, BigInt(c.length), true)) {
      return stopped(Status.FILE_LOCK_CONFLICT);
    }
    const srcSize = (await src.handle.stat()).size;
    if (c.sourceOffset + BigInt(c.length) > srcSize) return stopped(Status.INVALID_VIEW_SIZE);
    const n = await open.handle.copyRange(src.handle, c.sourceOffset, c.targetOffset, c.length);
    written += n;
    chunks++;
    if (n < c.length) break;
  }
  if (written) reportChange(ctx.server, open.tree, open.path, FileAction.MODIFIED, NotifyFilter.LAST_WRITE | NotifyFilter.SIZE);
  return ok(ctlCode, open, Fs.encodeCopyChunkResponse({ chunksWritten: chunks, chunkBytesWritten: 0, totalBytesWritten: written }));
}

export const handler = handlerOf(async (ctx) => {
  const req = decodeIoctlRequest(ctx.msg);
  const code = req.ctlCode >>> 0;
  if (req.flags !== IoctlFlags.IS_FSCTL) fail(Status.NOT_SUPPORTED);
  if (req.maxOutputResponse > ctx.conn.maxTransactSize || req.input.length > ctx.conn.maxTransactSize) fail(Status.INVALID_PARAMETER);
  const maxOut = Math.min(req.maxOutputResponse, Math.max(0, ctx.maxResponseSize - 48));
  const fid = req.fileId;

  switch (code) {
    case Fsctl.VALIDATE_NEGOTIATE_INFO:
      return validateNegotiate(ctx, code, req.input);
    case Fsctl.QUERY_NETWORK_INTERFACE_INFO: {
      // Not about a file: the FileId must be all ones, and the request carries no input (MS-SMB2
      // 3.3.5.15.11); anything else is INVALID_PARAMETER before any size check, as Samba (bug 14788).
      if (fid.persistent !== RELATED_FILE_ID.persistent || fid.volatile !== RELATED_FILE_ID.volatile || req.input.length !== 0) fail(Status.INVALID_PARAMETER);
      const out = Fs.encodeNetworkInterfaceInfo(interfaceList(ctx));
      if (out.length > maxOut) fail(Status.BUFFER_TOO_SMALL);
      return ok(code, undefined, out);
    }
    case Fsctl.DFS_GET_REFERRALS:
    case Fsctl.DFS_GET_REFERRALS_EX: {
      // No DFS share: Samba answers NOT_FOUND on an IPC$ tree, FS_DRIVER_REQUIRED elsewhere.
      if (!ctx.server.config.shares.some(isDfsShare)) fail(ctx.tree?.isIpc ? Status.NOT_FOUND : Status.FS_DRIVER_REQUIRED);
      const dreq = code === Fsctl.DFS_GET_REFERRALS ? decodeDfsReferralRequest(req.input) : decodeDfsReferralRequestEx(req.input);
      const r = await answerReferral(ctx.server.config, dreq, maxOut);
      if (r.status !== Status.SUCCESS) fail(r.status);
      return ok(code, undefined, r.output!);
    }
  }
  // An all-0xFF FileId is the previous CREATE's in a related compound (smb2.compound.related3), else FILE_CLOSED.
  const open = requireOpen(ctx, fid);
  // 3.3.5.2.10: a multichannel replay must not run while the original may still be in progress.
  return withChannelSequence(ctx, open, () => onOpen(ctx, req, code, maxOut, open));
});

async function onOpen(ctx: RequestContext, req: IoctlRequest, code: number, maxOut: number, open: Open): Promise<Reply> {

  switch (code) {
    case Fsctl.PIPE_TRANSCEIVE: {
      if (!open.pipe) fail(Status.NOT_SUPPORTED);
      const r = pipeTransceive(open, req.input, maxOut);
      return ok(code, open, r.output, r.status);
    }
    case Fsctl.PIPE_WAIT:
    case Fsctl.PIPE_PEEK:
      if (!open.pipe) fail(Status.INVALID_DEVICE_REQUEST);
      fail(Status.NOT_SUPPORTED);
    // falls through (never reached)
    case Fsctl.SRV_REQUEST_RESUME_KEY: {
      if (open.pipe || !open.handle) fail(Status.INVALID_PARAMETER);
      if (maxOut < 32) fail(Status.INVALID_PARAMETER);
      const st = stateOf(open);
      if (!st.resumeKey) {
        st.resumeKey = randomBytes(24).toString('hex');
        resumeKeys.set(st.resumeKey, open);
      }
      return ok(code, open, Fs.encodeResumeKeyResponse(Buffer.from(st.resumeKey, 'hex')));
    }
    case Fsctl.SRV_COPYCHUNK:
    case Fsctl.SRV_COPYCHUNK_WRITE:
      if (open.pipe) fail(Status.INVALID_DEVICE_REQUEST);
      return copyChunk(ctx, code, open, req.input, req.maxOutputResponse);
    case Fsctl.SET_SPARSE: {
      if (!open.handle || open.isDirectory) fail(Status.INVALID_PARAMETER);
      if (!(open.grantedAccess & (Access.FILE_WRITE_DATA | Access.FILE_WRITE_ATTRIBUTES | Access.FILE_APPEND_DATA))) fail(Status.ACCESS_DENIED);
      const on = req.input.length === 0 ? true : req.input[0] !== 0;
      await open.handle.setSparse(on);
      return ok(code, open, Buffer.alloc(0));
    }
    case Fsctl.SET_ZERO_DATA: {
      if (!open.handle || open.isDirectory) fail(Status.INVALID_PARAMETER);
      if (!(open.grantedAccess & Access.FILE_WRITE_DATA)) fail(Status.ACCESS_DENIED);
      let z: Fs.ZeroDataInformation;
      try { z = Fs.decodeZeroDataInformation(req.input); } catch { fail(Status.INVALID_PARAMETER); }
      if (z.beyondFinalZero < z.fileOffset) fail(Status.INVALID_PARAMETER);
      const len = z.beyondFinalZero - z.fileOffset;
      if (!ioAllowed(open, z.fileOffset, len, true)) fail(Status.FILE_LOCK_CONFLICT);
      breakLevelII(ctx.server, open);
      await open.handle.zeroRange(z.fileOffset, len);
      return ok(code, open, Buffer.alloc(0));
    }
    case Fsctl.QUERY_ALLOCATED_RANGES: {
      if (!open.handle || open.isDirectory) fail(Status.INVALID_PARAMETER);
      if (!(open.grantedAccess & Access.FILE_READ_DATA)) fail(Status.ACCESS_DENIED);
      if (req.input.length < 16) fail(Status.INVALID_PARAMETER);
      const off = req.input.readBigUInt64LE(0);
      const len = req.input.readBigUInt64LE(8);
      if (off + len > 0x7fffffffffffffffn) fail(Status.INVALID_PARAMETER);
      const ranges = await open.handle.allocatedRanges(off, len);
      const out = Fs.encodeAllocatedRanges(ranges.map(([fileOffset, length]) => ({ fileOffset, length })));
      if (out.length > maxOut) {
        // Return what fits with BUFFER_OVERFLOW (MS-FSA 2.1.5.10.22).
        const fit = Math.floor(maxOut / 16) * 16;
        if (fit === 0) fail(Status.BUFFER_TOO_SMALL);
        return ok(code, open, out.subarray(0, fit), Status.BUFFER_OVERFLOW);
      }
      return ok(code, open, out);
    }
    case Fsctl.GET_REPARSE_POINT:
      if (open.pipe) fail(Status.INVALID_DEVICE_REQUEST);
      fail(Status.NOT_A_REPARSE_POINT);
    // falls through (never reached)
    case Fsctl.SET_REPARSE_POINT:
      fail(Status.ACCESS_DENIED);
    // falls through (never reached)
    case Fsctl.GET_COMPRESSION:
      if (maxOut < 2) fail(Status.INVALID_PARAMETER);
      return ok(code, open, Buffer.alloc(2));
    case Fsctl.SET_COMPRESSION:
      if (!(open.grantedAccess & (Access.FILE_WRITE_DATA | Access.FILE_WRITE_ATTRIBUTES))) fail(Status.ACCESS_DENIED);
      if (req.input.length < 2) fail(Status.INVALID_PARAMETER);
      if (req.input.readUInt16LE(0) !== 0) fail(Status.NOT_SUPPORTED);
      return ok(code, open, Buffer.alloc(0));
    case Fsctl.SRV_ENUMERATE_SNAPSHOTS:
      // No snapshot provider: NOT_SUPPORTED, as Samba answers without a shadow-copy VFS module
      // (an empty list made smbclient's `allinfo` ask a second time, one more round trip each).
      fail(Status.NOT_SUPPORTED);
    case Fsctl.CREATE_OR_GET_OBJECT_ID:
    case Fsctl.GET_OBJECT_ID: {
      if (!open.handle) fail(Status.INVALID_PARAMETER);
      const st = await open.handle.stat();
      const out = Buffer.alloc(64);
      out.writeBigUInt64LE(BigInt.asUintN(64, st.fileId), 0);
      return ok(code, open, out);
    }
    case Fsctl.IS_VOLUME_DIRTY:
      return ok(code, open, Buffer.alloc(4));
    default:
      void FileAttribute;
      // Samba: INVALID_DEVICE_REQUEST for unknown FSCTLs on pipes; NOT_SUPPORTED for file-system ones.
      fail(open.pipe ? Status.INVALID_DEVICE_REQUEST : ((code >>> 16) === 0x0009 ? Status.INVALID_DEVICE_REQUEST : Status.NOT_SUPPORTED));
  }
}
