// SMB2 WRITE (MS-SMB2 3.3.5.13; MS-FSA 2.1.5.3 for offset -1 = end of file).
import { Status } from '../../wire/status.js';
import type { Open, Reply, RequestContext } from '../types.js';
import { decodeWriteRequest, encodeWriteResponse, type WriteRequest } from '../../wire/write.js';
import { Access } from '../../wire/constants.js';
import { handlerOf, requireOpen, fail } from '../files/util.js';
import { ioAllowed } from '../locks.js';
import { breakLevelII } from '../oplocks.js';
import { reportChange, FileAction, NotifyFilter } from '../open-file.js';
import { pipeWrite } from '../files/pipes.js';
import { withChannelSequence } from '../replay.js';
import { ioPool } from '../../transport/bufpool.js';
import { EarlyWrite } from '../early-write.js';
import { queuedWrite } from '../write-queue.js';
import { invalidateWith, rdmaRequest } from '../rdma-io.js';

const WRITE_TO_EOF = 0xffffffffffffffffn;

export const handler = handlerOf(async (ctx) => {
  const req = decodeWriteRequest(ctx.msg);
  const open = requireOpen(ctx, req.fileId);
  if (req.data.length > ctx.conn.maxWriteSize) fail(Status.INVALID_PARAMETER, 'write larger than MaxWriteSize');
  // 3.3.5.13: with an RDMA channel the data (RemainingBytes of it) is in the client's buffers
  const rdma = rdmaRequest(ctx.conn.rdma, ctx.conn.dialect, req.channel, req.writeChannelInfo, req.remainingBytes);
  if (rdma) {
    if (req.data.length || req.remainingBytes > ctx.conn.maxWriteSize) fail(Status.INVALID_PARAMETER, 'RDMA WRITE with inline data or too large');
    // refused before the data is fetched, not after
    if (!open.pipe && (open.isDirectory || !open.handle)) fail(Status.INVALID_DEVICE_REQUEST);
    if (!open.pipe && !(open.grantedAccess & (Access.FILE_WRITE_DATA | Access.FILE_APPEND_DATA))) fail(Status.ACCESS_DENIED);
    req.data = ioPool.get(req.remainingBytes);
    await rdma.rdma.pull(req.data, rdma.descs);
    const reply = await handleData(ctx, open, req).finally(() => ioPool.release(req.data));
    return reply.body && !Array.isArray(reply.body) ? Object.assign({}, reply, { body: invalidateWith(reply.body, rdma.invalidate) }) : reply;
  }
  return handleData(ctx, open, req);
});

async function handleData(ctx: RequestContext, open: Open, req: WriteRequest): Promise<Reply> {
  // The frame may be a pooled buffer that is reused after this reply: a pipe keeps its own copy.
  if (open.pipe) return pipeWrite(ctx, open, ioPool.owns(req.data) ? Buffer.from(req.data) : req.data);
  if (open.isDirectory || !open.handle) fail(Status.INVALID_DEVICE_REQUEST);
  if (!(open.grantedAccess & (Access.FILE_WRITE_DATA | Access.FILE_APPEND_DATA))) fail(Status.ACCESS_DENIED);
  // 3.3.5.2.10: a multichannel replay must not run while the original may still be in progress.
  return withChannelSequence(ctx, open, () => writeData(ctx, open, req));
}

async function writeData(ctx: RequestContext, open: Open, req: WriteRequest): Promise<Reply> {
  const handle = open.handle!;
  let offset = req.offset;
  const appendOnly = !(open.grantedAccess & Access.FILE_WRITE_DATA);
  if (offset === WRITE_TO_EOF || appendOnly) {
    // Append-only opens always write at end of file (MS-FSA 2.1.5.3).
    offset = (await handle.stat()).size;
  } else if (offset > 0x7fffffffffffffffn) {
    fail(Status.INVALID_PARAMETER);
  }
  const len = BigInt(req.data.length);
  if (!ioAllowed(open, offset, len, true)) fail(Status.FILE_LOCK_CONFLICT);
  breakLevelII(ctx.server, open);
  // A large plain WRITE may have been going to the file while it arrived (early-write.ts).
  const early = EarlyWrite.of(req.data, open, offset);
  let n = 0;
  try {
    n = early ? await early.finish() : 0;
    if (n < req.data.length) n += await queuedWrite(open, req.data.subarray(n), offset + BigInt(n));
  } finally {
    early?.release(); // LOCKs over the range may go now (inflight-writes.ts)
  }
  if (req.flags & 0x1 /* WRITE_THROUGH */) await handle.flush().catch(() => {});
  if (n > 0) reportChange(ctx.server, open.tree, open.path, FileAction.MODIFIED, NotifyFilter.LAST_WRITE | NotifyFilter.SIZE);
  return { status: Status.SUCCESS, body: encodeWriteResponse({ count: n, remaining: 0 }) };
}
