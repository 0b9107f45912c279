// SMB2 READ (MS-SMB2 3.3.5.12). The file is read straight into the response body: the 16-byte
// fixed part followed by the data, one buffer, no copy.
import { Status } from '../../wire/status.js';
import { decodeReadRequest, writeReadResponseHeader, READ_RESPONSE_HEADER_SIZE, encodeReadResponse } from '../../wire/read.js';
import { Access } from '../../wire/constants.js';
import { handlerOf, requireOpen, fail } from '../files/util.js';
import { ioAllowed } from '../locks.js';
import { pipeRead } from '../files/pipes.js';
import { stateOf } from '../open-file.js';
import { ioPool } from '../../transport/bufpool.js';
import { invalidateWith, rdmaRequest } from '../rdma-io.js';

export const handler = handlerOf(async (ctx) => {
  const req = decodeReadRequest(ctx.msg);
  const open = requireOpen(ctx, req.fileId);
  if (req.length > ctx.conn.maxReadSize) fail(Status.INVALID_PARAMETER, 'read larger than MaxReadSize');
  const rdma = rdmaRequest(ctx.conn.rdma, ctx.conn.dialect, req.channel, req.readChannelInfo, req.length);
  if (open.pipe) return pipeRead(ctx, open, req.length);
  if (open.isDirectory || !open.handle) fail(Status.INVALID_DEVICE_REQUEST);
  if (!(open.grantedAccess & (Access.FILE_READ_DATA | Access.FILE_EXECUTE))) fail(Status.ACCESS_DENIED);
  if (req.offset > 0x7fffffffffffffffn) fail(Status.INVALID_PARAMETER);
  if (!ioAllowed(open, req.offset, BigInt(req.length), false)) fail(Status.FILE_LOCK_CONFLICT);
  if (req.length === 0) {
    // Zero-length read: success unless a minimum count was asked for (smb2.read.eof).
    if (req.minimumCount > 0) fail(Status.END_OF_FILE);
    return { status: Status.SUCCESS, body: encodeReadResponse({ data: Buffer.alloc(0), dataRemaining: 0 }) };
  }
  // A pooled buffer (no page faults, no GC of external memory); the connection gives it back once
  // the response is on the socket. Data lands at offset 16, not page-aligned: on this CPU a
  // page-aligned destination takes a much slower kernel copy path.
  const body = ioPool.get(READ_RESPONSE_HEADER_SIZE + req.length);
  let n = 0;
  try {
    while (n < req.length) {
      const got = await open.handle.read(body, READ_RESPONSE_HEADER_SIZE + n, req.length - n, req.offset + BigInt(n));
      if (got <= 0) break;
      n += got;
    }
  } catch (e) {
    ioPool.release(body);
    throw e;
  }
  if (n === 0 || n < req.minimumCount) {
    ioPool.release(body);
    fail(Status.END_OF_FILE);
  }
  // Samba keeps FilePositionInformation at the end of the last read.
  stateOf(open).position = req.offset + BigInt(n);
  if (rdma) {
    // 3.3.5.12: the data goes into the client's buffers; the response carries DataRemaining = n
    try {
      await rdma.rdma.push(body.subarray(READ_RESPONSE_HEADER_SIZE, READ_RESPONSE_HEADER_SIZE + n), rdma.descs);
    } finally {
      ioPool.release(body);
    }
    const res = encodeReadResponse({ data: Buffer.alloc(0), dataRemaining: n });
    return { status: Status.SUCCESS, body: invalidateWith(res, rdma.invalidate) };
  }
  writeReadResponseHeader(body, 0, n, 0);
  return { status: Status.SUCCESS, body: body.subarray(0, READ_RESPONSE_HEADER_SIZE + n) };
});
