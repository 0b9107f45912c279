// SMB2 WRITE (MS-SMB2 3.3.5.13; MS-FSA 2.1.5.3 for offset -1 = end of file).
import { Status } from '../../wire/status.js';
import { decodeWriteRequest, encodeWriteResponse } from '../../wire/write.js';
import { Access } from '../../wire/constants.js';
import { handlerOf, requireOpen, fail } from '../files/util.js';
import { ioAllowed } from '../locks.js';
import { breakLevelII } from '../oplocks.js';
import { reportChange, FileAction, NotifyFilter } from '../open-file.js';
import { pipeWrite } from '../files/pipes.js';

const WRITE_TO_EOF = 0xffffffffffffffffn;

export const handler = handlerOf(async (ctx) => {
  const req = decodeWriteRequest(ctx.msg);
  const open = requireOpen(ctx, req.fileId);
  if (req.data.length > ctx.conn.maxWriteSize) fail(Status.INVALID_PARAMETER, 'write larger than MaxWriteSize');
  if (open.pipe) return pipeWrite(ctx, open, req.data);
  if (open.isDirectory || !open.handle) fail(Status.INVALID_DEVICE_REQUEST);
  if (!(open.grantedAccess & (Access.FILE_WRITE_DATA | Access.FILE_APPEND_DATA))) fail(Status.ACCESS_DENIED);
  let offset = req.offset;
  const appendOnly = !(open.grantedAccess & Access.FILE_WRITE_DATA);
  if (offset === WRITE_TO_EOF || appendOnly) {
    // Append-only opens always write at end of file (MS-FSA 2.1.5.3).
    offset = (await open.handle.stat()).size;
  } else if (offset > 0x7fffffffffffffffn) {
    fail(Status.INVALID_PARAMETER);
  }
  const len = BigInt(req.data.length);
  if (!ioAllowed(open, offset, len, true)) fail(Status.FILE_LOCK_CONFLICT);
  breakLevelII(ctx.server, open);
  let n = 0;
  while (n < req.data.length) {
    const w = await open.handle.write(req.data.subarray(n), offset + BigInt(n));
    if (w <= 0) break;
    n += w;
  }
  if (req.flags & 0x1 /* WRITE_THROUGH */) await open.handle.flush().catch(() => {});
  if (n > 0) reportChange(ctx.server, open.tree, open.path, FileAction.MODIFIED, NotifyFilter.LAST_WRITE | NotifyFilter.SIZE);
  return { status: Status.SUCCESS, body: encodeWriteResponse({ count: n, remaining: 0 }) };
});
