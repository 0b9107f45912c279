// SMB2 CHANGE_NOTIFY (MS-SMB2 3.3.5.19). Completed by changes made through this server (other
// handlers call open-file.reportChange). The first request on a directory handle starts a watch
// that buffers changes between requests (as Windows); requests go async until a change arrives,
// and end with CANCELLED on CANCEL or NOTIFY_CLEANUP when the handle is closed.
import type { Open, Reply, ServerState, ShareTree } from '../types.js';
import { Status } from '../../wire/status.js';
import {
  decodeChangeNotifyRequest, encodeChangeNotifyResponse, encodeNotifyEntries, type NotifyEntry,
} from '../../wire/change-notify.js';
import { Access, ChangeNotifyFlags } from '../../wire/constants.js';
import { foldCase } from '../../vfs/path.js';
import { handlerOf, requireOpen, fail, cancelledByClient } from '../files/util.js';
import { onAnyClose, setChangeReporter, stateOf } from '../open-file.js';

interface Waiter {
  maxLen: number;
  resolve: (r: Reply) => void;
}

interface Watch {
  open: Open;
  filter: number;
  tree: boolean;
  pending: NotifyEntry[];
  overflow: boolean;
  /** OutputBufferLength of the first request: it bounds every later answer on the handle (Samba). */
  maxLen: number;
  waiters: Waiter[];
}

const watches = new WeakMap<ServerState, Set<Watch>>();
const byOpen = new WeakMap<Open, Watch>();

/** Told when a server's first watch starts and its last one ends (server/workers/ relays changes from other processes only meanwhile). */
let watchListener: ((server: ServerState, watching: boolean) => void) | undefined;
export function setWatchListener(l: ((server: ServerState, watching: boolean) => void) | undefined): void {
  watchListener = l;
}

function reply(entries: NotifyEntry[], overflow: boolean, maxLen: number): Reply {
  if (overflow) return { status: Status.NOTIFY_ENUM_DIR, body: encodeChangeNotifyResponse({ buffer: Buffer.alloc(0) }) };
  const enc = encodeNotifyEntries(entries, maxLen);
  if (!enc.fits) return { status: Status.NOTIFY_ENUM_DIR, body: encodeChangeNotifyResponse({ buffer: Buffer.alloc(0) }) };
  return { status: Status.SUCCESS, body: encodeChangeNotifyResponse({ buffer: enc.buf }) };
}

function flush(w: Watch): void {
  const waiter = w.waiters.shift();
  if (!waiter) return;
  const entries = w.pending;
  const overflow = w.overflow;
  w.pending = [];
  w.overflow = false;
  waiter.resolve(reply(entries, overflow, Math.min(waiter.maxLen, w.maxLen)));
}

function report(server: ServerState, tree: ShareTree, path: string, action: number, filter: number): void {
  const set = watches.get(server);
  if (!set || set.size === 0) return;
  const p = foldCase(path);
  for (const w of set) {
    if (w.open.tree.share.name !== tree.share.name || stateOf(w.open).closed) continue;
    if (!(w.filter & filter)) continue;
    const dir = foldCase(w.open.path);
    const prefix = dir === '' ? '' : dir + '/';
    if (!p.startsWith(prefix) || p === dir) continue;
    const rel = path.slice(prefix.length);
    if (!w.tree && rel.includes('/')) continue;
    if (w.pending.length >= 256) w.overflow = true;
    else w.pending.push({ action, fileName: rel.split('/').join('\\') });
    if (w.waiters.length) flush(w);
  }
}
setChangeReporter(report);

onAnyClose((server, open) => {
  // Closing a handle that leaves its directory delete-pending completes the pending notifies of the
  // directory's other handles with DELETE_PENDING (Samba close_directory; smb2.notify.rmdir1-4).
  if (open.isDirectory && (open.deleteOnClose || stateOf(open).node.deletePending)) {
    const dir = foldCase(open.path);
    for (const other of watches.get(server) ?? []) {
      if (other.open === open || other.open.tree.share.name !== open.tree.share.name) continue;
      if (foldCase(other.open.path) !== dir) continue;
      for (const waiter of other.waiters.splice(0)) waiter.resolve({ status: Status.DELETE_PENDING });
    }
  }
  const w = byOpen.get(open);
  if (!w) return;
  byOpen.delete(open);
  const set = watches.get(server);
  if (set?.delete(w) && set.size === 0) watchListener?.(server, false);
  for (const waiter of w.waiters.splice(0)) {
    waiter.resolve({ status: Status.NOTIFY_CLEANUP, body: encodeChangeNotifyResponse({ buffer: Buffer.alloc(0) }) });
  }
});

export const handler = handlerOf(async (ctx) => {
  const req = decodeChangeNotifyRequest(ctx.msg);
  const open = requireOpen(ctx, req.fileId);
  if (!open.isDirectory) fail(Status.INVALID_PARAMETER);
  if (!(open.grantedAccess & Access.FILE_LIST_DIRECTORY)) fail(Status.ACCESS_DENIED);
  if (req.outputBufferLength > ctx.conn.maxTransactSize) fail(Status.INVALID_PARAMETER);
  let w = byOpen.get(open);
  if (!w) {
    w = {
      open, filter: req.completionFilter, tree: (req.flags & ChangeNotifyFlags.WATCH_TREE) !== 0,
      pending: [], overflow: false, maxLen: req.outputBufferLength, waiters: [],
    };
    byOpen.set(open, w);
    let set = watches.get(ctx.server);
    if (!set) watches.set(ctx.server, (set = new Set()));
    set.add(w);
    if (set.size === 1) watchListener?.(ctx.server, true);
  } else {
    w.filter = req.completionFilter;
    w.tree = (req.flags & ChangeNotifyFlags.WATCH_TREE) !== 0;
  }
  const watch = w;
  if ((watch.pending.length || watch.overflow) && watch.waiters.length === 0) {
    const r = reply(watch.pending, watch.overflow, Math.min(req.outputBufferLength, watch.maxLen));
    watch.pending = [];
    watch.overflow = false;
    return r;
  }
  const op = ctx.goAsync();
  return new Promise<Reply>((resolve) => {
    const waiter: Waiter = { maxLen: req.outputBufferLength, resolve };
    const onAbort = (): void => {
      const i = watch.waiters.indexOf(waiter);
      if (i >= 0) watch.waiters.splice(i, 1);
      // CANCEL -> CANCELLED; the session or tree going away (LOGOFF, failed reauth) -> NOTIFY_CLEANUP
      // like a closed handle (Samba; smb2.notify logoff, session-reconnect, invalid-reauth).
      resolve(cancelledByClient(op.signal) ? { status: Status.CANCELLED }
        : { status: Status.NOTIFY_CLEANUP, body: encodeChangeNotifyResponse({ buffer: Buffer.alloc(0) }) });
    };
    waiter.resolve = (r) => {
      op.signal.removeEventListener('abort', onAbort);
      resolve(r);
    };
    watch.waiters.push(waiter);
    if (op.signal.aborted) onAbort();
    else op.signal.addEventListener('abort', onAbort, { once: true });
  });
});
