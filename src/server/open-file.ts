// Per-open and per-file state for the file handlers, and last-close processing.
//
// A FileNode is the state shared by every open of one file (MS-FSA 2.1.1.x File / Stream):
// delete-pending, byte-range locks, waiters. It is found through the other opens of the same file
// identity (ServerState.opensByFile, never a name), so it lives exactly as long as some open of it does.
//
// Teardown: anything that drops an open (CLOSE, TREE_DISCONNECT, LOGOFF, connection loss) must go
// through closeOpen() so delete-on-close, locks, oplocks and change-notify are processed.
import type { Open, ServerState, ShareTree } from './types.js';
import { foldCase, parentPath, splitStream } from '../vfs/path.js';
import { VfsError } from '../vfs/types.js';
import { Status } from '../wire/status.js';
import { LockTable } from './lock-table.js';
import { writeTimeAtClose, dropWriteTime, type FileWriteTime } from './write-time.js';

export type { ByteLock } from './lock-table.js';

export interface FileNode {
  deletePending: boolean;
  locks: LockTable;
  /** Woken whenever locks are released (blocking LOCK retries). */
  lockWaiters: Set<() => void>;
  /** Woken whenever an oplock changes (ack/close) for breaking CREATEs. */
  oplockWaiters: Set<() => void>;
  /**
   * Opens of this node holding a level II oplock or a lease (which may carry READ), kept in step
   * by an accessor on Open.oplockLevel (stateOf): writes skip breakLevelII while it is 0.
   */
  sharedReaders: number;
  /** The LastWriteTime clients see while the file is open, once written or set (write-time.ts). */
  writeTime?: FileWriteTime;
}

export interface OpenState {
  node: FileNode;
  closed: boolean;
  /** FilePositionInformation (MS-FSCC 2.4.35). */
  position: bigint;
  /** FileModeInformation (MS-FSCC 2.4.26). */
  mode: number;
  /** Oplock break in flight: the level we asked the client to go to. */
  breakingTo: number | undefined;
  /** Lock sequence numbers (MS-SMB2 3.3.5.14, index 1..64). */
  lockSequence: Map<number, number>;
  /** Resume key for FSCTL_SRV_REQUEST_RESUME_KEY (24 bytes hex). */
  resumeKey: string | undefined;
  /** Cleanup callbacks run at close (pending notifies, blocking locks). */
  onClose: Set<() => void>;
  /** Query directory state. */
  createdAt: number;
  /** open.oplockLevel is an accessor counting shared readers (trackOplockLevel). */
  tracked: boolean;
}

const STATE = 'files.state';

export function newNode(): FileNode {
  return { deletePending: false, locks: new LockTable(), lockWaiters: new Set(), oplockWaiters: new Set(), sharedReaders: 0 };
}

/** Levels counted in FileNode.sharedReaders: level II, and leases (their R state lives in leases.ts). */
export function isSharedReader(level: number): boolean {
  return level === 0x01 /* OplockLevel.II */ || level === 0xff /* OplockLevel.LEASE */;
}

/**
 * Make open.oplockLevel an accessor that keeps its node's sharedReaders count in step. Only opens
 * holding an oplock or lease get one: defineProperty on each open cost ~10 us per CREATE and made
 * every later property read of the open slow (a per-object shape); an open without an oplock only
 * gains one through setOplockLevel (a lease grant), which installs the accessor first.
 */
function trackOplockLevel(open: Open, s: OpenState): void {
  s.tracked = true;
  let level = open.oplockLevel;
  if (isSharedReader(level)) s.node.sharedReaders++;
  Object.defineProperty(open, 'oplockLevel', {
    configurable: true,
    enumerable: true,
    get: () => level,
    set: (v: number) => {
      const was = isSharedReader(level);
      const now = isSharedReader(v);
      if (was && !now) s.node.sharedReaders--;
      else if (!was && now) s.node.sharedReaders++;
      level = v;
    },
  });
}

export function stateOf(open: Open): OpenState {
  let s = open.extra.get(STATE) as OpenState | undefined;
  if (!s) {
    s = {
      node: newNode(), closed: false, position: 0n, mode: 0, breakingTo: undefined,
      lockSequence: new Map(), resumeKey: undefined, onClose: new Set(), createdAt: Date.now(), tracked: false,
    };
    open.extra.set(STATE, s);
    if (open.oplockLevel !== 0 /* OplockLevel.NONE */) trackOplockLevel(open, s);
  }
  return s;
}

/** Sets open.oplockLevel where it may go from none to a shared level (lease grant, break ack). */
export function setOplockLevel(open: Open, level: number): void {
  const s = stateOf(open);
  if (!s.tracked && level !== 0) trackOplockLevel(open, s);
  open.oplockLevel = level;
}

export function attachState(open: Open, node: FileNode): OpenState {
  const s = stateOf(open);
  if (s.node !== node && isSharedReader(open.oplockLevel)) {
    s.node.sharedReaders--;
    node.sharedReaders++;
  }
  s.node = node;
  return s;
}

/** Folded named stream of a share-relative path ('' for the main stream). */
function streamOfPath(path: string): string {
  const s = splitStream(path).stream;
  return s === undefined ? '' : foldCase(s);
}

/**
 * Live opens of one stream of the file with identity `fileKey` (FileStat.identity), whatever name,
 * share or session they were opened through: what share modes, locks, oplocks/leases and
 * delete-pending are checked against. `path` names the stream (only its ':stream' part counts).
 */
export function opensOfFile(server: ServerState, tree: ShareTree, path: string, fileKey: string | undefined): Open[] {
  if (fileKey === undefined || !server.opensByFile) return opensOf(server, tree, path);
  const want = streamOfPath(path);
  return server.opensByFile(fileKey).filter((o) => !o.pipe && !stateOf(o).closed && streamOfPath(o.path) === want);
}

/** Live opens of the same file stream as `open` (itself included while it is live). */
export function opensLike(server: ServerState, open: Open): Open[] {
  return opensOfFile(server, open.tree, open.path, open.fileKey);
}

/**
 * Opens of the same path on the same share (excluding pipes), across all sessions: for name-based
 * rules only (rename targets, a directory's children); what guards a file uses opensOfFile.
 */
export function opensOf(server: ServerState, tree: ShareTree, path: string): Open[] {
  return server.opensByPath(tree.share.name, path).filter((o) => !o.pipe && !stateOf(o).closed);
}

/** Is `path` (or one of its ancestors) inside `dir`? both share-relative. */
export function isUnder(path: string, dir: string): boolean {
  if (dir === '') return path !== '';
  const p = foldCase(path);
  const d = foldCase(dir);
  return p.startsWith(d + '/');
}

export function samePath(a: string, b: string): boolean {
  return foldCase(a) === foldCase(b);
}

/** Hooks other modules register for close processing (change-notify, oplocks, resume keys). */
const closeHooks: Array<(server: ServerState, open: Open) => void> = [];
export function onAnyClose(hook: (server: ServerState, open: Open) => void): void {
  closeHooks.push(hook);
}

/** Change notification sink; set by change-notify so other handlers report changes without importing it. */
export type ChangeReporter = (server: ServerState, tree: ShareTree, path: string, action: number, filter: number) => void;
let reporter: ChangeReporter = () => {};
export function setChangeReporter(r: ChangeReporter): void {
  reporter = r;
}
/** The current sink (server/workers/ chains a relay to the other worker processes after it). */
export function changeReporter(): ChangeReporter {
  return reporter;
}
/** FILE_ACTION_* (MS-FSCC 2.4.42). */
export const FileAction = { ADDED: 1, REMOVED: 2, MODIFIED: 3, RENAMED_OLD_NAME: 4, RENAMED_NEW_NAME: 5 } as const;
/** FILE_NOTIFY_CHANGE_* (MS-SMB2 2.2.35). */
export const NotifyFilter = {
  FILE_NAME: 0x1, DIR_NAME: 0x2, ATTRIBUTES: 0x4, SIZE: 0x8, LAST_WRITE: 0x10, LAST_ACCESS: 0x20,
  CREATION: 0x40, EA: 0x80, SECURITY: 0x100, STREAM_NAME: 0x200, STREAM_SIZE: 0x400, STREAM_WRITE: 0x800,
} as const;
export function reportChange(server: ServerState, tree: ShareTree, path: string, action: number, filter: number): void {
  if (action !== FileAction.MODIFIED) bumpDirGeneration(server, tree, parentPath(path));
  try {
    reporter(server, tree, path, action, filter);
  } catch {
    /* never let notification break the operation */
  }
}

/**
 * Name-change generations of directories (entries added, removed, renamed through this server), so
 * a resumed QUERY_DIRECTORY can drop entries deleted since its snapshot (smb2.dir.fixed). Values
 * come from one monotonic counter; when the map is trimmed every directory reads as changed once.
 */
interface DirGenerations { counter: number; floor: number; byDir: Map<string, number> }
const dirGens = new WeakMap<ServerState, DirGenerations>();
function gens(server: ServerState): DirGenerations {
  let g = dirGens.get(server);
  if (!g) dirGens.set(server, g = { counter: 0, floor: 0, byDir: new Map() });
  return g;
}
function bumpDirGeneration(server: ServerState, tree: ShareTree, dir: string): void {
  const g = gens(server);
  if (g.byDir.size >= 20_000) {
    g.byDir.clear();
    g.floor = g.counter + 1;
  }
  g.byDir.set(tree.share.name + '\0' + foldCase(dir), ++g.counter);
}
/** Current change generation of `dir`; compare with a later value to see whether names changed. */
export function dirGeneration(server: ServerState, tree: ShareTree, dir: string): number {
  const g = gens(server);
  return g.byDir.get(tree.share.name + '\0' + foldCase(dir)) ?? g.floor;
}

/**
 * Close an open (MS-SMB2 3.3.5.10, MS-FSA 2.1.5.4 Server Requests Closing an Open).
 * Idempotent. Runs delete-on-close when this was the last open of a delete-pending file.
 */
export async function closeOpen(server: ServerState, open: Open): Promise<void> {
  const st = stateOf(open);
  if (st.closed) return;
  st.closed = true;
  for (const cb of [...st.onClose]) {
    try { cb(); } catch { /* ignore */ }
  }
  st.onClose.clear();
  for (const hook of closeHooks) {
    try { hook(server, open); } catch { /* ignore */ }
  }
  const node = st.node;
  // Release this open's byte-range locks and wake blocked lockers.
  node.locks.removeOpen(open);
  wake(node.lockWaiters);
  if (open.deleteOnClose) node.deletePending = true;
  if (open.handle) await writeTimeAtClose(open);
  const handle = open.handle;
  open.handle = undefined;
  if (handle) await handle.close().catch(() => {});
  server.unregisterOpen(open);
  if (node.writeTime && opensLike(server, open).length === 0) dropWriteTime(node);
  wake(node.oplockWaiters);
  if (open.pipe) {
    const pipe = open.pipe as { close?: () => unknown };
    try { await pipe.close?.(); } catch { /* ignore */ }
    return;
  }
  const vfs = open.tree.vfs;
  if (node.deletePending && vfs && opensLike(server, open).length === 0) {
    node.deletePending = false;
    try {
      if (open.isDirectory) await vfs.rmdir(open.path);
      else await vfs.unlink(open.path);
      reportChange(server, open.tree, open.path, FileAction.REMOVED,
        open.isDirectory ? NotifyFilter.DIR_NAME : NotifyFilter.FILE_NAME);
    } catch (e) {
      // Directory no longer empty or already gone: nothing the closer can do (Windows ignores it too).
      void (e instanceof VfsError ? e.status : Status.UNSUCCESSFUL);
    }
  }
}

export function wake(set: Set<() => void>): void {
  for (const w of [...set]) {
    try { w(); } catch { /* ignore */ }
  }
}

/** The parent directory of an open's path (for change notification). */
export function parentOf(path: string): string {
  return parentPath(path);
}
