// SMB2 SET_INFO (MS-SMB2 3.3.5.21; behaviour per MS-FSA 2.1.5.14).
import { clusterOf, SET_DELETE_PENDING } from '../cluster/hooks.js';
import type { Open, Reply, RequestContext } from '../types.js';
import { withChannelSequence } from '../replay.js';
import { Status } from '../../wire/status.js';
import { decodeSetInfoRequest, encodeSetInfoResponse, type SetInfoRequest } from '../../wire/set-info.js';
import * as I from '../../wire/fscc-info.js';
import { Access, InfoType, FileInfoClass as C, OplockLevel, ShareAccess } from '../../wire/constants.js';
import { shareConflict } from '../share-modes.js';
import { FileAttribute, type TimesUpdate } from '../../vfs/types.js';
import { normalizeSmbPath, foldCase, parentPath } from '../../vfs/path.js';
import { handlerOf, requireOpen, fail, statOpen } from '../files/util.js';
import { stateOf, opensOf, isUnder, samePath, reportChange, FileAction, NotifyFilter } from '../open-file.js';
import { ioAllowed } from '../locks.js';
import { breakLevelII, startBreak } from '../oplocks.js';
import { breakHandleLeasesForRename, leasesBreaking, waitForLeaseBreaks } from '../leases.js';
import { setAccessNeeded } from '../security.js';
import { tokenOf, parseStored, defaultSd, mergeSd, decodeSecurityDescriptor, encodeSecurityDescriptor } from '../acl.js';
import type { SecurityDescriptor } from '../../wire/security.js';
import { renameStream } from '../files/streams.js';
import { decodeFullEaList } from '../../wire/ea.js';
import { flushWriteTime, modifiedNow, setStickyWriteTime } from '../write-time.js';

const NO_CHANGE_A = 0xffffffffffffffffn; // -1: don't change, stop automatic updates
const NO_CHANGE_B = 0xfffffffffffffffen; // -2: resume automatic updates

function need(open: Open, access: number): void {
  if (!(open.grantedAccess & access)) fail(Status.ACCESS_DENIED);
}

function exact(buf: Buffer, min: number): void {
  if (buf.length < min) fail(Status.INFO_LENGTH_MISMATCH);
}

async function setBasic(ctx: RequestContext, open: Open, buf: Buffer): Promise<void> {
  exact(buf, 40);
  need(open, Access.FILE_WRITE_ATTRIBUTES);
  const b = I.decodeFileBasicInformation(buf);
  if (!open.handle) fail(Status.INVALID_HANDLE);
  const t: TimesUpdate = {};
  const pick = (v: bigint): bigint | undefined => (v === 0n || v === NO_CHANGE_A || v === NO_CHANGE_B ? undefined : v);
  const ct = pick(b.creationTime), at = pick(b.lastAccessTime), wt = pick(b.lastWriteTime), ch = pick(b.changeTime);
  if (ct !== undefined) t.creationTime = ct;
  if (at !== undefined) t.lastAccessTime = at;
  if (wt !== undefined) t.lastWriteTime = wt;
  if (ch !== undefined) t.changeTime = ch;
  let filter = 0;
  if (b.fileAttributes !== 0) {
    // MS-FSA 2.1.5.14.2: DIRECTORY on a file / TEMPORARY on a directory are invalid.
    if (!open.isDirectory && (b.fileAttributes & FileAttribute.DIRECTORY)) fail(Status.INVALID_PARAMETER);
    if (open.isDirectory && (b.fileAttributes & FileAttribute.TEMPORARY)) fail(Status.INVALID_PARAMETER);
    await open.handle.setAttributes(b.fileAttributes);
    filter |= NotifyFilter.ATTRIBUTES;
  }
  if (Object.keys(t).length) {
    await open.handle.setTimes(t);
    if (t.lastWriteTime !== undefined) filter |= NotifyFilter.LAST_WRITE;
    if (t.creationTime !== undefined) filter |= NotifyFilter.CREATION;
    if (t.lastAccessTime !== undefined) filter |= NotifyFilter.LAST_ACCESS;
  }
  // An explicit write time sticks (writes and closes leave it); any FileBasicInformation does a
  // pending write-time update now (smb2.timestamps.delayed-write-vs-setbasic, as Windows).
  if (t.lastWriteTime !== undefined) setStickyWriteTime(open, t.lastWriteTime);
  else await flushWriteTime(open);
  if (filter) reportChange(ctx.server, open.tree, open.path, FileAction.MODIFIED, filter);
}

async function setDisposition(ctx: RequestContext, open: Open, del: boolean): Promise<void> {
  need(open, Access.DELETE);
  const node = stateOf(open).node;
  if (del) {
    if (open.path === '') fail(Status.CANNOT_DELETE);
    const st = await statOpen(open);
    if (!st.isDirectory && (st.attributes & FileAttribute.READONLY)) fail(Status.CANNOT_DELETE);
    if (st.isDirectory) {
      const list = await open.tree.vfs!.readdir(open.path);
      if (list.length) fail(Status.DIRECTORY_NOT_EMPTY);
    }
  } else {
    open.deleteOnClose = false;
  }
  node.deletePending = del;
  // Cluster mode: the other nodes see the file delete-pending before the client hears of it.
  const cluster = clusterOf(ctx.server);
  if (cluster) {
    open.extra.set(SET_DELETE_PENDING, del);
    await cluster.publish(open, false);
  }
}

async function setEof(ctx: RequestContext, open: Open, size: bigint): Promise<void> {
  need(open, Access.FILE_WRITE_DATA);
  if (open.isDirectory || !open.handle) fail(Status.INVALID_PARAMETER);
  if (size > 0x7fffffffffffffffn) fail(Status.INVALID_PARAMETER);
  const st = await open.handle.stat();
  if (size !== st.size) {
    const lo = size < st.size ? size : st.size;
    const hi = size < st.size ? st.size : size;
    if (!ioAllowed(open, lo, hi - lo, true)) fail(Status.FILE_LOCK_CONFLICT);
  }
  breakLevelII(ctx.server, open);
  await open.handle.truncate(size);
  // A new size is seen as a write at once; the same size only does a pending update (as Samba).
  if (size !== st.size) await modifiedNow(open);
  else await flushWriteTime(open);
  reportChange(ctx.server, open.tree, open.path, FileAction.MODIFIED, NotifyFilter.SIZE | NotifyFilter.LAST_WRITE);
}

async function setAllocation(ctx: RequestContext, open: Open, size: bigint): Promise<void> {
  need(open, Access.FILE_WRITE_DATA);
  if (open.isDirectory || !open.handle) fail(Status.INVALID_PARAMETER);
  breakLevelII(ctx.server, open);
  await open.handle.setAllocation(size);
  await modifiedNow(open);
  reportChange(ctx.server, open.tree, open.path, FileAction.MODIFIED, NotifyFilter.SIZE);
}

async function setRename(ctx: RequestContext, open: Open, buf: Buffer): Promise<void> {
  exact(buf, 20);
  const r = I.decodeFileRenameInformation(buf);
  need(open, Access.DELETE);
  const vfs = open.tree.vfs;
  if (!vfs) fail(Status.INVALID_PARAMETER);
  if (r.rootDirectory !== 0n) fail(Status.INVALID_PARAMETER);
  let name = r.fileName;
  if (name.startsWith('\\')) name = name.slice(1);
  // Stream renames (":name", or any rename of a stream open): files/streams.ts.
  if (await renameStream(ctx, open, name, r.replaceIfExists)) return;
  const target = normalizeSmbPath(name);
  const from = open.path;
  if (from === '' || target === '') fail(Status.ACCESS_DENIED);
  if (isUnder(target, from)) fail(Status.INVALID_PARAMETER);
  const server = ctx.server;
  // Windows: a directory with open handles below it cannot be renamed (ACCESS_DENIED).
  if (open.isDirectory) {
    const prefix = foldCase(from) + '/';
    for (const o of allOpensOfShare(ctx, open)) {
      if (foldCase(o.path).startsWith(prefix)) fail(Status.ACCESS_DENIED);
    }
  }
  // The rename opens the target's parent for FILE_ADD_FILE sharing read+write (MS-FSA 2.1.5.14.11;
  // Samba smbd_smb2_setinfo_rename_dst_parent_check): a parent open with DELETE access, or one
  // not sharing write, is a sharing violation; a delete-pending parent is DELETE_PENDING.
  // Samba 4.17 makes the share-mode part of that check for files only: a directory renamed inside
  // a parent that another client holds open with DELETE access succeeds (smb2.notify-inotify).
  for (const o of opensOf(server, open.tree, parentPath(target))) {
    if (stateOf(o).node.deletePending) fail(Status.DELETE_PENDING);
    if (!open.isDirectory && shareConflict(o, Access.FILE_WRITE_DATA | Access.SYNCHRONIZE, ShareAccess.READ | ShareAccess.WRITE)) {
      fail(Status.SHARING_VIOLATION);
    }
  }
  const sameName = samePath(from, target);
  if (!sameName) {
    // An existing target that is open cannot be replaced (MS-FSA 2.1.5.14.11).
    const targetOpens = opensOf(server, open.tree, target);
    let exists = true;
    try { await vfs.stat(target); } catch { exists = false; }
    if (exists) {
      if (!r.replaceIfExists) fail(Status.OBJECT_NAME_COLLISION);
      if (targetOpens.length) fail(Status.ACCESS_DENIED);
    }
  }
  // Other opens of the same file holding batch oplocks must let go first (Samba breaks them).
  for (const o of opensOf(server, open.tree, from)) {
    if (o !== open && (o.oplockLevel === OplockLevel.BATCH || o.oplockLevel === OplockLevel.EXCLUSIVE)) {
      startBreak(server, o, OplockLevel.NONE);
    }
  }
  // Other leases' HANDLE caching goes before the name changes; the rename waits for the acks.
  if (!open.isDirectory) {
    const leaseWait = breakHandleLeasesForRename(server, opensOf(server, open.tree, from).filter((o) => o !== open), open);
    if (leasesBreaking(leaseWait)) {
      const signal = ctx.goAsync().signal;
      await waitForLeaseBreaks(leaseWait, signal);
      if (signal.aborted) fail(Status.CANCELLED);
    }
  }
  await vfs.rename(from, target, r.replaceIfExists);
  // Re-point every open at or below the old path (opensByPath scans current paths).
  const newPath = open.handle?.path && samePath(open.handle.path, target) ? open.handle.path : target;
  const fromFold = foldCase(from);
  for (const o of allOpensOfShare(ctx, open)) {
    const f = foldCase(o.path);
    if (f === fromFold) o.path = newPath;
    else if (f.startsWith(fromFold + '/') || f.startsWith(fromFold + ':')) o.path = newPath + o.path.slice(from.length); // below it, or its streams
  }
  const filter = open.isDirectory ? NotifyFilter.DIR_NAME : NotifyFilter.FILE_NAME;
  if (parentPath(from) === parentPath(target)) {
    reportChange(server, open.tree, from, FileAction.RENAMED_OLD_NAME, filter);
    reportChange(server, open.tree, newPath, FileAction.RENAMED_NEW_NAME, filter);
  } else {
    reportChange(server, open.tree, from, FileAction.REMOVED, filter);
    reportChange(server, open.tree, newPath, FileAction.ADDED, filter);
  }
}

/** FileLinkInformation (MS-FSCC 2.4.27.2, MS-FSA 2.1.5.14.6): a new name for the open file. */
async function setLink(ctx: RequestContext, open: Open, buf: Buffer): Promise<void> {
  exact(buf, 20);
  const r = I.decodeFileLinkInformation(buf);
  const vfs = open.tree.vfs;
  if (!vfs?.link) fail(Status.NOT_SUPPORTED);
  if (r.rootDirectory !== 0n) fail(Status.INVALID_PARAMETER);
  if (open.isDirectory) fail(Status.FILE_IS_A_DIRECTORY);
  let name = r.fileName;
  if (name.startsWith('\\')) name = name.slice(1);
  const target = normalizeSmbPath(name);
  // Links are names of files, never of streams (either side).
  if (target === '' || target.includes(':') || open.path.includes(':')) fail(Status.INVALID_PARAMETER);
  const server = ctx.server;
  for (const o of opensOf(server, open.tree, parentPath(target))) {
    if (stateOf(o).node.deletePending) fail(Status.DELETE_PENDING);
  }
  if (!samePath(open.path, target)) {
    let exists = true;
    try { await vfs.stat(target); } catch { exists = false; }
    if (exists) {
      if (!r.replaceIfExists) fail(Status.OBJECT_NAME_COLLISION);
      // An open target cannot be replaced (as for rename, MS-FSA 2.1.5.14.6).
      if (opensOf(server, open.tree, target).length) fail(Status.ACCESS_DENIED);
    }
  }
  await vfs.link(open.path, target, r.replaceIfExists);
  reportChange(server, open.tree, target, FileAction.ADDED, NotifyFilter.FILE_NAME);
}

/** Every open on the same share (all sessions), found via the paths of the share's opens. */
function allOpensOfShare(ctx: RequestContext, open: Open): Open[] {
  const seen = new Set<Open>();
  const sessions = new Set([open.session, ctx.session].filter((s) => s !== undefined));
  // The seam only offers lookups by path; walk the opens we can see from sessions we know plus
  // opensByPath for each of their paths to reach other sessions' opens of those paths.
  for (const s of sessions) {
    for (const o of s!.opens.values()) {
      if (o.tree.share.name !== open.tree.share.name) continue;
      for (const p of ctx.server.opensByPath(open.tree.share.name, o.path)) seen.add(p);
    }
  }
  for (const p of ctx.server.opensByPath(open.tree.share.name, open.path)) seen.add(p);
  for (const o of ctx.server.opensOfShare?.(open.tree.share.name) ?? []) seen.add(o);
  return [...seen].filter((o) => !stateOf(o).closed && !o.pipe);
}

export const handler = handlerOf(async (ctx) => {
  const req = decodeSetInfoRequest(ctx.msg);
  const open = requireOpen(ctx, req.fileId);
  // 3.3.5.2.10: a multichannel replay must not run while the original may still be in progress.
  return withChannelSequence(ctx, open, () => setInfo(ctx, req, open));
});

async function setInfo(ctx: RequestContext, req: SetInfoRequest, open: Open): Promise<Reply> {
  const buf = req.buffer;
  switch (req.infoType) {
    case InfoType.FILE: {
      if (open.pipe) {
        if (req.fileInfoClass === C.FilePipeInformation) return { status: Status.SUCCESS, body: encodeSetInfoResponse() };
        fail(Status.INVALID_PARAMETER);
      }
      if (open.tree.readOnly && req.fileInfoClass !== C.FilePositionInformation && req.fileInfoClass !== C.FileModeInformation) {
        fail(Status.ACCESS_DENIED);
      }
      switch (req.fileInfoClass) {
        case C.FileBasicInformation: await setBasic(ctx, open, buf); break;
        case C.FileRenameInformation: case C.FileRenameInformationEx: await setRename(ctx, open, buf); break;
        case C.FileDispositionInformation:
          exact(buf, 1);
          await setDisposition(ctx, open, buf[0] !== 0);
          break;
        case C.FileDispositionInformationEx: {
          exact(buf, 4);
          const flags = buf.readUInt32LE(0);
          await setDisposition(ctx, open, (flags & 0x1) !== 0);
          break;
        }
        case C.FileEndOfFileInformation: exact(buf, 8); await setEof(ctx, open, buf.readBigUInt64LE(0)); break;
        case C.FileAllocationInformation: exact(buf, 8); await setAllocation(ctx, open, buf.readBigUInt64LE(0)); break;
        case C.FilePositionInformation: {
          exact(buf, 8);
          const pos = buf.readBigUInt64LE(0);
          if (pos > 0x7fffffffffffffffn) fail(Status.INVALID_PARAMETER);
          stateOf(open).position = pos;
          break;
        }
        case C.FileModeInformation: {
          exact(buf, 4);
          const mode = buf.readUInt32LE(0);
          // MS-FSCC 2.4.26: only these bits may be set.
          if (mode & ~(0x2 | 0x4 | 0x10 | 0x20 | 0x1000)) fail(Status.INVALID_PARAMETER);
          stateOf(open).mode = mode;
          break;
        }
        case C.FileFullEaInformation: {
          need(open, Access.FILE_WRITE_EA);
          if (!open.handle?.setEas) fail(0xc000004f /* STATUS_EAS_NOT_SUPPORTED */);
          let list;
          try {
            list = decodeFullEaList(buf);
          } catch {
            fail(0x80000014 /* STATUS_EA_LIST_INCONSISTENT */);
          }
          await open.handle.setEas(list);
          reportChange(ctx.server, open.tree, open.path, FileAction.MODIFIED, NotifyFilter.EA);
          break;
        }
        case C.FileValidDataLengthInformation:
          exact(buf, 8);
          need(open, Access.FILE_WRITE_DATA);
          break;
        case C.FileLinkInformation: await setLink(ctx, open, buf); break;
        case C.FileShortNameInformation:
          fail(Status.NOT_SUPPORTED);
        // falls through (never reached)
        default:
          fail(Status.INVALID_INFO_CLASS);
      }
      return { status: Status.SUCCESS, body: encodeSetInfoResponse() };
    }
    case InfoType.SECURITY: {
      const needed = setAccessNeeded(req.additionalInformation);
      if ((open.grantedAccess & needed) !== needed) fail(Status.ACCESS_DENIED);
      // Stored per file, merged into the current descriptor (acl.ts); a VFS without
      // descriptor storage accepts and ignores it.
      const h = open.handle;
      if (h?.setSecurity) {
        let incoming: SecurityDescriptor;
        try {
          incoming = decodeSecurityDescriptor(req.buffer);
        } catch {
          fail(Status.INVALID_SECURITY_DESCR);
        }
        let base = parseStored(await h.getSecurity?.());
        if (!base) {
          const st = await statOpen(open);
          base = defaultSd(tokenOf(open.session), st.isDirectory);
        }
        await h.setSecurity(encodeSecurityDescriptor(mergeSd(base, incoming, req.additionalInformation)));
      }
      reportChange(ctx.server, open.tree, open.path, FileAction.MODIFIED, NotifyFilter.SECURITY);
      return { status: Status.SUCCESS, body: encodeSetInfoResponse() };
    }
    case InfoType.FILESYSTEM:
      fail(open.tree.readOnly ? Status.ACCESS_DENIED : Status.NOT_SUPPORTED);
    // falls through (never reached)
    case InfoType.QUOTA:
      fail(Status.NOT_SUPPORTED);
    // falls through (never reached)
    default:
      fail(Status.INVALID_PARAMETER);
  }
}
