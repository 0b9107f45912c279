// SMB2 QUERY_DIRECTORY (MS-SMB2 3.3.5.18). The listing is snapshotted at the first call (or at
// RESTART_SCANS / REOPEN) with "." and ".." first; later calls resume where the last one stopped.
// First call with no match -> NO_SUCH_FILE, afterwards -> NO_MORE_FILES (Windows).
import { markDfsLinks } from '../dfs/paths.js';
import { Status } from '../../wire/status.js';
import { decodeQueryDirectoryRequest, encodeQueryDirectoryResponse } from '../../wire/query-directory.js';
import { encodeDirEntries, isDirInfoClass, matchWildcard, type DirEntryInfo } from '../../wire/fscc-dir.js';
import { Access, QueryDirectoryFlags as F } from '../../wire/constants.js';
import type { DirEntry, FileStat, Vfs } from '../../vfs/types.js';
import { foldCase, parentPath } from '../../vfs/path.js';
import { handlerOf, requireOpen, fail } from '../files/util.js';
import { shortName } from '../files/short-names.js';
import { dirGeneration } from '../open-file.js';
import { reportedWriteTime } from '../write-time.js';
import type { Open, ServerState } from '../types.js';

interface DirCursor {
  pattern: string;
  entries: DirEntryInfo[] | undefined;
  index: number;
  returnedAny: boolean;
  /** dirGeneration() when the listing was (re)validated. */
  generation: number;
}

/**
 * Told after each answer whether the open's listing snapshot still has entries to return
 * (server/workers/: names other workers remove meanwhile must reach dirGeneration, smb2.dir.fixed).
 */
let snapshotListener: ((server: ServerState, open: Open, pending: boolean) => void) | undefined;
export function setSnapshotListener(l: ((server: ServerState, open: Open, pending: boolean) => void) | undefined): void {
  snapshotListener = l;
}

function toEntry(server: ServerState, name: string, st: FileStat): DirEntryInfo {
  const dir = st.isDirectory;
  return {
    name, fileIndex: 0, creationTime: st.creationTime, lastAccessTime: st.lastAccessTime,
    // An open file's as its opens see it (write-time.ts).
    lastWriteTime: reportedWriteTime(server, st), changeTime: st.changeTime,
    endOfFile: dir ? 0n : st.size, allocationSize: dir ? 0n : st.allocationSize,
    attributes: st.attributes, eaSize: st.eaSize ?? 0, fileId: st.fileId, shortName: shortName(name),
  };
}

/**
 * The directory entries that may match `pattern`: a pattern without wildcards names one entry, so
 * only that name is looked up (Vfs.readdirMatch) instead of listing and stat-ing the directory.
 * "." and ".." never come from the VFS; callers still filter with matchWildcard.
 */
function listing(vfs: Vfs, path: string, pattern: string): Promise<DirEntry[]> {
  if (vfs.readdirMatch && !/[*?<>"]/.test(pattern)) {
    if (pattern === '.' || pattern === '..') return Promise.resolve([]);
    return vfs.readdirMatch(path, pattern);
  }
  return vfs.readdir(path);
}

export const handler = handlerOf(async (ctx) => {
  const req = decodeQueryDirectoryRequest(ctx.msg);
  const open = requireOpen(ctx, req.fileId);
  if (!open.isDirectory || !open.tree.vfs) fail(Status.INVALID_PARAMETER);
  if (!isDirInfoClass(req.fileInformationClass)) fail(Status.INVALID_INFO_CLASS);
  if (!(open.grantedAccess & Access.FILE_LIST_DIRECTORY)) fail(Status.ACCESS_DENIED);
  if (req.outputBufferLength > ctx.conn.maxTransactSize) fail(Status.INVALID_PARAMETER);
  if (req.fileName.length === 0 && !open.dirCursor) fail(Status.INVALID_PARAMETER);
  if (/[\\/]/.test(req.fileName)) fail(Status.OBJECT_NAME_INVALID);

  let cur = open.dirCursor as DirCursor | undefined;
  if (!cur || (req.flags & (F.RESTART_SCANS | F.REOPEN))) {
    cur = { pattern: req.fileName || cur?.pattern || '*', entries: undefined, index: 0, returnedAny: false, generation: 0 };
    open.dirCursor = cur;
  } else if (req.fileName && req.fileName !== cur.pattern && (req.flags & F.INDEX_SPECIFIED) === 0) {
    // Windows keeps the first pattern for the life of the handle unless restarted.
  }
  if (!cur.entries) {
    const vfs = open.tree.vfs;
    const ci = !vfs.caseSensitive;
    const list: DirEntryInfo[] = [];
    // "." and "..": stat the directory and its parent only when the pattern wants them (a single
    // name, as smbclient's `del` sends, does not).
    const wantSelf = matchWildcard(cur.pattern, '.', ci);
    const wantParent = matchWildcard(cur.pattern, '..', ci);
    if (wantSelf || wantParent) {
      const self = await vfs.stat(open.path);
      const parent = !wantParent || open.path === '' ? self : await vfs.stat(parentPath(open.path)).catch(() => self);
      if (wantSelf) list.push(toEntry(ctx.server, '.', self));
      if (wantParent) list.push(toEntry(ctx.server, '..', parent));
    }
    const links = new Set<string>();
    for (const e of await listing(vfs, open.path, cur.pattern)) {
      if (!matchWildcard(cur.pattern, e.name, ci)) continue;
      list.push(toEntry(ctx.server, e.name, e.stat));
      if (e.stat.isSymlink) links.add(e.name);
    }
    if (links.size) await markDfsLinks(open.tree.share, open.path, list, (n) => links.has(n));
    cur.entries = list;
    cur.index = 0;
    cur.generation = dirGeneration(ctx.server, open.tree, open.path);
  } else if (dirGeneration(ctx.server, open.tree, open.path) !== cur.generation) {
    // Names changed since the snapshot: entries removed meanwhile are not returned (smb2.dir.fixed).
    cur.generation = dirGeneration(ctx.server, open.tree, open.path);
    const ci = !open.tree.vfs.caseSensitive;
    const key = (n: string): string => (ci ? foldCase(n) : n);
    const now = new Set((await listing(open.tree.vfs, open.path, cur.pattern)).map((e) => key(e.name)));
    const done = cur.entries.slice(0, cur.index);
    const rest = cur.entries.slice(cur.index).filter((e) => e.name === '.' || e.name === '..' || now.has(key(e.name)));
    cur.entries = done.concat(rest);
  }
  const max = Math.min(req.outputBufferLength, ctx.maxResponseSize - 8);
  // Only the entries that can fit (each takes at least 16 bytes: 8-aligned, a name of 1+ chars),
  // not a copy of the whole rest of a big listing on every call.
  const upTo = (req.flags & F.RETURN_SINGLE_ENTRY) ? cur.index + 1 : cur.index + Math.floor(Math.max(max, 0) / 16) + 1;
  const remaining = cur.entries.slice(cur.index, upTo);
  if (remaining.length === 0) {
    snapshotListener?.(ctx.server, open, false);
    return { status: cur.returnedAny ? Status.NO_MORE_FILES : Status.NO_SUCH_FILE };
  }
  const { buf, count } = encodeDirEntries(req.fileInformationClass, remaining, max);
  if (count === 0) fail(Status.INFO_LENGTH_MISMATCH);
  cur.index += count;
  cur.returnedAny = true;
  snapshotListener?.(ctx.server, open, cur.index < cur.entries.length);
  return { status: Status.SUCCESS, body: encodeQueryDirectoryResponse({ buffer: buf }) };
});
