// Small helpers shared by the file-command handlers.
import type { FileId, Handler, Open, Reply, RequestContext } from '../types.js';
import { NtStatusError, Status } from '../../wire/status.js';
import { WireError } from '../../wire/buf.js';
import { VfsError, type FileStat } from '../../vfs/types.js';
import { stateOf } from '../open-file.js';
import { handleUsed } from '../channel-sequence.js';

/** Throw an NTSTATUS out of a handler. */
export function fail(status: number, why?: string): never {
  throw new NtStatusError(status, why);
}

/** NTSTATUS of anything thrown by codecs, the VFS or handlers. */
export function statusOf(err: unknown): number {
  if (err instanceof NtStatusError) return err.status;
  if (err instanceof VfsError) return err.status;
  if (err instanceof WireError) return err.status;
  const code = (err as NodeJS.ErrnoException | undefined)?.code;
  if (code) return VfsError.from(err).status;
  return Status.INTERNAL_ERROR;
}

/** Wraps a handler body so thrown statuses become error replies. */
export function handlerOf(fn: (ctx: RequestContext) => Promise<Reply>): Handler {
  // (a .then instead of an async wrapper with try/await: fewer promise hops per request)
  return (ctx) => {
    try {
      return fn(ctx).then(undefined, errorReply);
    } catch (e) {
      return Promise.resolve(errorReply(e)); // a body that is not async and threw
    }
  };
}

function errorReply(e: unknown): Reply {
  const status = statusOf(e);
  if (status === Status.INTERNAL_ERROR && process.env.SMBTS_DEBUG) console.error(e);
  return { status };
}

/** The open a request names, or FILE_CLOSED (MS-SMB2 3.3.5.x "If the Open is not found"). */
export function requireOpen(ctx: RequestContext, fileId: FileId): Open {
  const open = ctx.lookupOpen(fileId);
  if (!open || stateOf(open).closed) fail(Status.FILE_CLOSED);
  if (ctx.tree && open.tree !== ctx.tree && open.tree.id !== ctx.tree.id) fail(Status.FILE_CLOSED);
  handleUsed(ctx, open);
  return open;
}

/** Stat through the handle when there is one. */
export function statOpen(open: Open): Promise<FileStat> {
  // (not async: the handle's promise is returned as is, no extra promise to adopt it)
  if (open.handle) return open.handle.stat();
  if (!open.tree.vfs) return Promise.reject(new NtStatusError(Status.INVALID_DEVICE_REQUEST));
  return open.tree.vfs.stat(open.path);
}

/** Size fields as reported: directories are 0/0 (as Windows/Samba). */
export function sizes(st: FileStat): { endOfFile: bigint; allocationSize: bigint } {
  if (st.isDirectory) return { endOfFile: 0n, allocationSize: 0n };
  return { endOfFile: st.size, allocationSize: st.allocationSize };
}

/**
 * Did the client CANCEL this async request (MS-SMB2 3.3.5.16)? Otherwise it was dropped because its
 * session, tree or connection went away (the request path aborts with another reason).
 */
export function cancelledByClient(signal: AbortSignal): boolean {
  const reason: unknown = signal.reason;
  return reason instanceof Error && /cancelled by client/i.test(reason.message);
}
