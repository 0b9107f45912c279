// Delayed LastWriteTime updates, as Windows and Samba report them (MS-FSA 2.1.4.17 and its note
// <43>: the object store may note a modification lazily; smbtorture smb2.timestamps.delayed-*):
// - the first WRITE through an open leaves the LastWriteTime clients see as it was; about 2 s later
//   it becomes the current time, once; later writes through that open leave it until the open's
//   CLOSE, which sets it to the close time;
// - SET_INFO EndOfFile / AllocationSize / Basic (whatever fields) and FLUSH on an open that wrote
//   do the pending update at once;
// - a LastWriteTime set explicitly through SET_INFO FileBasicInformation is sticky: no write or
//   close moves it while the file stays open, and the disk keeps it after the last close.
// The kernel moves mtime on every write(2), so while a file is open the time clients see is kept
// on its FileNode (shared by the opens of the file's main stream) and written to the disk
// (VfsHandle.setTimes) whenever it changes. The data path pays one flag check per WRITE, and one
// fstat on the first WRITE of a file that no open has written yet.
import type { FileStat } from '../vfs/types.js';
import { msToFiletime } from '../wire/buf.js';
import type { Open, ServerState } from './types.js';
import { stateOf as fileStateOf, type FileNode } from './open-file.js';
import { afterQueuedWrites } from './write-queue.js';

/** Samba's default (smbd:writetimeupdatedelay = 2 s). */
export const WRITE_TIME_DELAY_MS = 2000;

/** The LastWriteTime clients see for an open file, over the disk's mtime (FileNode.writeTime). */
export interface FileWriteTime {
  /** undefined until the first write's fstat answered: report the disk's. */
  time: bigint | undefined;
  /** Set explicitly by SET_INFO FileBasicInformation: writes and closes leave it. */
  sticky: boolean;
}

interface OpenWriteTime {
  /** Something was written through this open (FLUSH and a same-size EndOfFile update only then). */
  wrote: boolean;
  /** The first write's delayed update is scheduled or done: later writes wait for the CLOSE. */
  triggered: boolean;
  /** The disk's mtime moved through this open since the time was last written there. */
  dirty: boolean;
  timer: NodeJS.Timeout | undefined;
  /** A write to a named stream: not tracked (the file's time is the main stream's). */
  ignored: boolean;
}

const byOpen = new WeakMap<Open, OpenWriteTime>();
/** FileNodes carrying a writeTime, process-wide: QUERY_DIRECTORY looks no further while 0. */
let tracked = 0;

/**
 * "Now" as FILETIME with sub-millisecond resolution (a close time must come after the moment the
 * client sent the CLOSE), kept within the wall clock's current millisecond.
 */
export function nowWriteTime(): bigint {
  const wall = Date.now();
  let ms = performance.timeOrigin + performance.now();
  if (ms < wall) ms = wall;
  else if (ms >= wall + 1) ms = wall + 0.9999;
  return msToFiletime(ms);
}

function nodeOf(open: Open): FileNode {
  return fileStateOf(open).node;
}

/** An open of a named stream: not tracked (the file's write time is its main stream's). */
function isStream(open: Open): boolean {
  return open.path.includes(':');
}

function openState(open: Open): OpenWriteTime {
  let w = byOpen.get(open);
  if (!w) byOpen.set(open, (w = { wrote: false, triggered: false, dirty: false, timer: undefined, ignored: false }));
  return w;
}

function fileState(node: FileNode): FileWriteTime {
  if (!node.writeTime) {
    node.writeTime = { time: undefined, sticky: false };
    tracked++;
  }
  return node.writeTime;
}

/**
 * Called for every data write before it is issued (write-queue.ts): returns undefined on the fast
 * path, or a promise the write must wait for (the fstat that keeps the time as it was).
 */
export function beforeWrite(open: Open, node: FileNode): Promise<void> | undefined {
  const w = byOpen.get(open);
  if (w?.dirty) return undefined;
  return noteWrite(open, node, w ?? openState(open));
}

function noteWrite(open: Open, node: FileNode, w: OpenWriteTime): Promise<void> | undefined {
  w.wrote = true;
  w.dirty = true;
  if (isStream(open)) {
    w.ignored = true;
    return undefined;
  }
  let pin: Promise<void> | undefined;
  if (!node.writeTime) {
    const f = fileState(node);
    const handle = open.handle;
    pin = handle?.stat().then((st) => {
      if (f.time === undefined) f.time = st.lastWriteTime;
    }, () => {});
  }
  const f = node.writeTime!;
  if (!f.sticky && !w.triggered) {
    w.triggered = true;
    w.timer = setTimeout(() => {
      w.timer = undefined;
      void updateNow(open);
    }, WRITE_TIME_DELAY_MS);
    w.timer.unref?.();
  }
  return pin;
}

/** Write `time` to the disk through the open, after the writes queued before (write-queue.ts). */
function toDisk(open: Open, time: bigint): Promise<void> {
  return afterQueuedWrites(open, async () => {
    await open.handle?.setTimes({ lastWriteTime: time });
  }).catch(() => {});
}

/**
 * The pending update of `open`, now (Samba's trigger_write_time_update_immediate): the file's
 * time becomes the current time (a sticky one stays, and goes back on the disk).
 */
async function updateNow(open: Open): Promise<void> {
  const w = byOpen.get(open);
  if (!w || w.ignored) return;
  if (w.timer) clearTimeout(w.timer);
  w.timer = undefined;
  w.triggered = true;
  w.dirty = false;
  const f = nodeOf(open).writeTime;
  if (!f) return;
  if (!f.sticky) f.time = nowWriteTime();
  if (f.time !== undefined) await toDisk(open, f.time);
}

/** FLUSH and a same-size SET_INFO EndOfFile / FileBasicInformation: the update now if the open wrote. */
export async function flushWriteTime(open: Open): Promise<void> {
  if (byOpen.get(open)?.wrote) await updateNow(open);
}

/**
 * SET_INFO EndOfFile (size changed) / AllocationSize: "equivalent to a write", seen at once. A
 * file nobody wrote keeps reporting the disk's time, which the truncate just moved.
 */
export async function modifiedNow(open: Open): Promise<void> {
  const node = nodeOf(open);
  if (!node.writeTime || isStream(open)) return;
  openState(open);
  await updateNow(open);
}

/** SET_INFO FileBasicInformation set LastWriteTime explicitly (already on the disk): it sticks. */
export function setStickyWriteTime(open: Open, time: bigint): void {
  if (isStream(open)) return;
  const f = fileState(nodeOf(open));
  f.time = time;
  f.sticky = true;
}

/**
 * Before an open's handle goes (CLOSE, teardown): an open that wrote since the last update sets
 * the time to now (a sticky time goes back on the disk). Idempotent.
 */
export async function writeTimeAtClose(open: Open): Promise<void> {
  const w = byOpen.get(open);
  if (!w) return;
  byOpen.delete(open);
  if (w.timer) clearTimeout(w.timer);
  if (w.ignored || !w.dirty) return;
  const f = nodeOf(open).writeTime;
  if (!f) return;
  if (!f.sticky) f.time = nowWriteTime();
  if (f.time !== undefined) await toDisk(open, f.time);
}

/** After the last open of a file went: the disk has the time, nothing to keep. */
export function dropWriteTime(node: FileNode): void {
  if (!node.writeTime) return;
  node.writeTime = undefined;
  tracked--;
}

/** `st` as clients see it through `open` (QUERY_INFO, CLOSE, CREATE). */
export function reportedStat(open: Open, st: FileStat): FileStat {
  const t = nodeOf(open).writeTime?.time;
  return t === undefined || t === st.lastWriteTime ? st : Object.assign({}, st, { lastWriteTime: t });
}

/** LastWriteTime of a directory entry: the open file's, else the disk's (QUERY_DIRECTORY). */
export function reportedWriteTime(server: ServerState, st: FileStat): bigint {
  if (tracked === 0 || st.isDirectory || !server.opensByFile) return st.lastWriteTime;
  for (const o of server.opensByFile(st.identity)) {
    if (isStream(o)) continue;
    const t = nodeOf(o).writeTime?.time;
    if (t !== undefined) return t;
  }
  return st.lastWriteTime;
}
