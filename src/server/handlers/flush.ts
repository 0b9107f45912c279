// SMB2 FLUSH (MS-SMB2 3.3.5.11): needs write or append access on files.
import { Status } from '../../wire/status.js';
import { decodeFlushRequest, encodeFlushResponse } from '../../wire/flush.js';
import { Access } from '../../wire/constants.js';
import { handlerOf, requireOpen, fail } from '../files/util.js';
import { flushWriteTime } from '../write-time.js';

export const handler = handlerOf(async (ctx) => {
  const req = decodeFlushRequest(ctx.msg);
  const open = requireOpen(ctx, req.fileId);
  if (open.pipe) return { status: Status.SUCCESS, body: encodeFlushResponse() };
  if (!open.isDirectory && !(open.grantedAccess & (Access.FILE_WRITE_DATA | Access.FILE_APPEND_DATA))) {
    fail(Status.ACCESS_DENIED);
  }
  if (open.handle && !open.isDirectory) {
    await open.handle.flush();
    // A pending write-time update is done now (as Windows and Samba: smb2.timestamps.delayed-write-vs-flush).
    await flushWriteTime(open);
  }
  return { status: Status.SUCCESS, body: encodeFlushResponse() };
});
