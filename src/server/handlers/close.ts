// SMB2 CLOSE (MS-SMB2 3.3.5.10): last-close processing lives in open-file.ts closeOpen().
import { Status } from '../../wire/status.js';
import { decodeCloseRequest, encodeCloseResponse, EMPTY_CLOSE_RESPONSE } from '../../wire/close.js';
import { CloseFlags } from '../../wire/constants.js';
import { clusterOf } from "../cluster/hooks.js";
import { closeOpen as closeOpenFile, stateOf, opensLike } from "../open-file.js";
import type { Open, OpenCloser, ServerState } from "../types.js";
import { afterStreamClose, deferDeleteForStreams } from '../files/streams.js';
import { handlerOf, requireOpen, sizes } from '../files/util.js';
import { writeTimeAtClose, reportedStat } from '../write-time.js';

export const handler = handlerOf(async (ctx) => {
  const req = decodeCloseRequest(ctx.msg);
  const open = requireOpen(ctx, req.fileId);
  let body = encodeCloseResponse(EMPTY_CLOSE_RESPONSE);
  if ((req.flags & CloseFlags.POSTQUERY_ATTRIB) && open.handle) {
    // Attributes as of the close (3.3.5.10: after the close takes effect, before any deletion),
    // with the write time the close sets (write-time.ts).
    await writeTimeAtClose(open);
    const raw = await open.handle.stat().catch(() => undefined);
    const st = raw && reportedStat(open, raw);
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
  // Cluster mode: the other nodes see the open gone before its client hears of the close.
  const cluster = clusterOf(ctx.server);
  if (cluster) await cluster.closed(open);
  return { status: Status.SUCCESS, body };
});

/**
 * closeOpen plus named-stream rules (MS-FSA 2.1.5.4): the last close of a delete-pending file whose
 * streams are still open leaves the file in place (new opens get DELETE_PENDING) until the last
 * stream open goes; then the file is removed.
 */
async function closeOpen(server: ServerState, open: Open): Promise<void> {
  const st = stateOf(open);
  if (!st.closed && (open.deleteOnClose || st.node.deletePending) && !open.pipe &&
      opensLike(server, open).every((o) => o === open) && deferDeleteForStreams(server, open)) {
    open.deleteOnClose = false;
    st.node.deletePending = false;
  }
  await closeOpenFile(server, open);
  await afterStreamClose(server, open);
}

/** Teardown of opens that die without CLOSE (tree disconnect, logoff, lost connection): types.ts OpenCloser. */
export const closeOpenForTeardown: OpenCloser = async (open, server) => {
  await closeOpen(server, open);
};
export { closeOpenForTeardown as closeOpen };
