// SMB2 CLOSE (MS-SMB2 3.3.5.10): last-close processing lives in open-file.ts closeOpen().
import { Status } from '../../wire/status.js';
import { decodeCloseRequest, encodeCloseResponse, EMPTY_CLOSE_RESPONSE } from '../../wire/close.js';
import { CloseFlags } from '../../wire/constants.js';
import { closeOpen } from "../open-file.js";
import type { OpenCloser } from "../types.js";
import { handlerOf, requireOpen, sizes } from '../files/util.js';

export const handler = handlerOf(async (ctx) => {
  const req = decodeCloseRequest(ctx.msg);
  const open = requireOpen(ctx, req.fileId);
  let body = encodeCloseResponse(EMPTY_CLOSE_RESPONSE);
  if ((req.flags & CloseFlags.POSTQUERY_ATTRIB) && open.handle) {
    // Attributes as of the close (3.3.5.10: after the close takes effect, before any deletion).
    const st = await open.handle.stat().catch(() => undefined);
    if (st) {
      const sz = sizes(st);
      body = encodeCloseResponse({
        flags: CloseFlags.POSTQUERY_ATTRIB, creationTime: st.creationTime, lastAccessTime: st.lastAccessTime,
        lastWriteTime: st.lastWriteTime, changeTime: st.changeTime, allocationSize: sz.allocationSize,
        endOfFile: sz.endOfFile, fileAttributes: st.attributes,
      });
    }
  }
  await closeOpen(ctx.server, open);
  return { status: Status.SUCCESS, body };
});

/** Teardown of opens that die without CLOSE (tree disconnect, logoff, lost connection): types.ts OpenCloser. */
export const closeOpenForTeardown: OpenCloser = async (open, server) => {
  await closeOpen(server, open);
};
export { closeOpenForTeardown as closeOpen };
