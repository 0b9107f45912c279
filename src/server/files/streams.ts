// Named streams (MS-FSCC 2.1.4) at the server level: opens of a file's streams, deferred delete of
// a file whose streams are still open, and stream renames (FileRenameInformation ":name").
//
// Opens of a stream have path 'dir/file:stream' (the VFS spelling), so share modes, oplocks and
// byte-range locks are per stream for free (ServerState.opensByPath compares whole paths).
import type { Open, RequestContext, ServerState, SessionView, ShareTree } from '../types.js';
import { Status } from '../../wire/status.js';
import { foldCase, parseSmbPath, splitStream } from '../../vfs/path.js';
import { VfsError } from '../../vfs/types.js';
import { stateOf, opensOfFile, reportChange, FileAction, NotifyFilter } from '../open-file.js';
import { fail } from './util.js';

/** Files (share + folded base path) whose delete waits for their open streams (MS-FSA 2.1.5.4). */
const pendingDeletes = new WeakMap<ServerState, Map<string, { tree: ShareTree; path: string; isDirectory: boolean }>>();

function key(tree: ShareTree, path: string): string {
  return `${tree.share.name.toLowerCase()}\0${foldCase(path)}`;
}

/** Every live open of a share: ServerState.opensOfShare when offered, else the session's own. */
export function opensOfShareOr(server: ServerState, tree: ShareTree, session: SessionView | undefined): Open[] {
  const all = server.opensOfShare?.(tree.share.name) ?? [...(session?.opens.values() ?? [])];
  return all.filter((o) => !o.pipe && !stateOf(o).closed && o.tree.share.name === tree.share.name);
}

/** Opens of the named streams of `base` (not of the file itself). */
export function streamOpensOf(server: ServerState, tree: ShareTree, base: string, session: SessionView | undefined): Open[] {
  const pre = foldCase(base) + ':';
  return opensOfShareOr(server, tree, session).filter((o) => foldCase(o.path).startsWith(pre));
}

/** Is `base` deleted but not yet removed because some of its streams are open? */
export function baseDeletePending(server: ServerState, tree: ShareTree, base: string): boolean {
  return pendingDeletes.get(server)?.has(key(tree, base)) ?? false;
}

/**
 * Last close of a delete-pending file whose streams are still open: record the delete and return
 * true (the caller must not remove it now); it happens when the last stream open goes.
 */
export function deferDeleteForStreams(server: ServerState, open: Open): boolean {
  if (splitStream(open.path).stream !== undefined) return false;
  if (streamOpensOf(server, open.tree, open.path, open.session).filter((o) => o !== open).length === 0) return false;
  let m = pendingDeletes.get(server);
  if (!m) pendingDeletes.set(server, (m = new Map()));
  m.set(key(open.tree, open.path), { tree: open.tree, path: open.path, isDirectory: open.isDirectory });
  return true;
}

/** After an open closed: if it was the last open of a deferred-delete file's streams, delete the file. */
export async function afterStreamClose(server: ServerState, open: Open): Promise<void> {
  const { base, stream } = splitStream(open.path);
  if (stream === undefined) return;
  const m = pendingDeletes.get(server);
  const k = key(open.tree, base);
  const p = m?.get(k);
  if (!m || !p) return;
  if (streamOpensOf(server, open.tree, base, open.session).length || opensOfFile(server, open.tree, base, open.fileKey).length) return;
  m.delete(k);
  const vfs = open.tree.vfs;
  if (!vfs) return;
  try {
    if (p.isDirectory) await vfs.rmdir(p.path);
    else await vfs.unlink(p.path);
    reportChange(server, open.tree, p.path, FileAction.REMOVED, p.isDirectory ? NotifyFilter.DIR_NAME : NotifyFilter.FILE_NAME);
  } catch (e) {
    void (e instanceof VfsError); // already gone / not empty: nothing the closer can do
  }
}

/**
 * FileRenameInformation on a stream open or with a ':stream' target (MS-FSA 2.1.5.14.11: a stream
 * may only be renamed to another stream of the same file). Returns false when `name` is a plain
 * rename of a plain open (the caller handles it).
 */
export async function renameStream(ctx: RequestContext, open: Open, name: string, replace: boolean): Promise<boolean> {
  const cur = splitStream(open.path);
  if (!name.startsWith(':')) {
    if (cur.stream === undefined) {
      // A file cannot be renamed into a stream.
      if (parseSmbPath(name).stream !== undefined) fail(Status.INVALID_PARAMETER);
      return false;
    }
    // '<base>:<stream>' (or a plain path) as the new name of a stream: Samba answers a sharing
    // violation for the stream form (smb2.streams.rename2); a plain path is invalid.
    const t = parseSmbPath(name);
    fail(t.stream !== undefined ? Status.SHARING_VIOLATION : Status.INVALID_PARAMETER);
  }
  const vfs = open.tree.vfs;
  if (!vfs || !vfs.renameStream) fail(Status.INVALID_PARAMETER);
  const t = parseSmbPath(`x_${name}`); // validates ':s', ':s:$DATA', '::$DATA'
  if (cur.stream === undefined) {
    // '::$DATA' onto itself is a no-op; the main stream cannot become a named stream.
    if (t.stream === undefined) return true;
    fail(Status.INVALID_PARAMETER);
  }
  const base = cur.base;
  if (t.stream === undefined) {
    // Rename to the main data stream: allowed when the main stream is empty (NTFS); the stream's
    // data becomes the file's.
    const main = await vfs.stat(base);
    if (main.isDirectory) fail(Status.INVALID_PARAMETER);
    if (main.size !== 0n && !replace) fail(Status.OBJECT_NAME_COLLISION);
    if (opensOfFile(ctx.server, open.tree, base, open.fileKey).length) fail(Status.SHARING_VIOLATION);
    const src = open.handle;
    if (!src) fail(Status.INVALID_HANDLE);
    const { handle: dst } = await vfs.open(base, { create: 'overwrite', read: true, write: true });
    try {
      const st = await src.stat();
      const buf = Buffer.alloc(1 << 20);
      for (let pos = 0n; pos < st.size; ) {
        const n = await src.read(buf, 0, buf.length, pos);
        if (n === 0) break;
        await dst.write(buf.subarray(0, n), pos);
        pos += BigInt(n);
      }
    } finally {
      await dst.close().catch(() => {});
    }
    await vfs.unlink(open.path).catch(() => {});
    return true;
  }
  if (foldCase(t.stream) === foldCase(cur.stream!) && t.stream === cur.stream) return true;
  // An open target stream cannot be replaced.
  if (foldCase(t.stream) !== foldCase(cur.stream!)) {
    const target = `${base}:${t.stream}`;
    if (opensOfFile(ctx.server, open.tree, target, open.fileKey).length) fail(Status.ACCESS_DENIED);
  }
  await vfs.renameStream(base, cur.stream!, t.stream, replace);
  const from = open.path;
  // Every open of the stream, whichever name of the file it came through, follows the rename.
  for (const o of opensOfFile(ctx.server, open.tree, from, open.fileKey)) o.path = `${splitStream(o.path).base}:${t.stream}`;
  reportChange(ctx.server, open.tree, base, FileAction.MODIFIED, NotifyFilter.STREAM_NAME);
  return true;
}
