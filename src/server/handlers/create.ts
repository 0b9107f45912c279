// SMB2 CREATE (MS-SMB2 3.3.5.9; file system behaviour per MS-FSA 2.1.5.1, error choices as Samba/Windows).
import type { Open, RequestContext, ShareTree } from '../types.js';
import { Status } from '../../wire/status.js';
import { decodeCreateRequest, encodeCreateResponse, type CreateContext, type CreateRequest } from '../../wire/create.js';
import { CreateContextName, encodeMxAcResponse, makeDiskFileId, decodeAlSi, decodeExtA } from '../../wire/create-contexts.js';
import {
  Access, CreateDisposition as Disp, CreateOptions as Opt, CreateAction, OplockLevel, ImpersonationLevel,
} from '../../wire/constants.js';
import { parseSmbPath, foldCase, splitStream } from '../../vfs/path.js';
import { expandShortNames } from '../files/short-names.js';
import { FileAttribute, VfsError, type CreateDisposition, type FileStat } from '../../vfs/types.js';
import { fail, handlerOf, sizes } from '../files/util.js';
import { resolveAccess, conflictingOpens, isStatOpen, WRITE_ACCESS_BITS, FILE_GENERIC_WRITE } from '../share-modes.js';
import { attachState, newNode, opensOfFile, stateOf, reportChange, FileAction, NotifyFilter, parentOf } from '../open-file.js';
import { grantLevel, startBreak, waitForBreaks, anyBreaking, OPEN_CONNECTION } from '../oplocks.js';
import { leaseRequestOf, leaseKeyClash, breakLeasesForCreate, leasesBreaking, waitForLeaseBreaks, grantLease, oplockBesideLeases } from '../leases.js';
import { openPipe } from '../files/pipes.js';
import { replayableCreate } from '../replay.js';
import { durableCreate } from './create-durable.js';
import { dfsRequestName, isDfsShare, refuseDfsLink } from '../dfs/paths.js';
import { baseDeletePending } from '../files/streams.js';
import { tokenOf, accessLimit, checkAddChild, newObjectSd, encodeSecurityDescriptor } from '../acl.js';
import { reportedStat } from '../write-time.js';
import { clusterOf, type Reservation } from '../cluster/hooks.js';
import { clusterIntent, MAX_CLUSTER_RETRIES } from '../cluster/create-hook.js';

/** CreateOptions bits Windows rejects (smb2.create.gentest). */
const INVALID_OPTIONS = 0xff000000;
/** FILE_OPEN_FOR_RECOVERY (0x80)? , OPEN_BY_FILE_ID, RESERVE_OPFILTER: NOT_SUPPORTED as Windows. */
const UNSUPPORTED_OPTIONS = 0x00000080 | Opt.OPEN_BY_FILE_ID | Opt.RESERVE_OPFILTER;
/** FileAttributes a client may pass (gentest: 0xffff8048 are INVALID_PARAMETER). */
const VALID_ATTRIBUTES = 0x00007fb7;

const DISPOSITION: Record<number, CreateDisposition> = {
  [Disp.SUPERSEDE]: 'supersede', [Disp.OPEN]: 'open', [Disp.CREATE]: 'create',
  [Disp.OPEN_IF]: 'open-if', [Disp.OVERWRITE]: 'overwrite', [Disp.OVERWRITE_IF]: 'overwrite-if',
};

function validate(req: CreateRequest): void {
  // Access mask errors come first (smb2.create.gentest: reserved access bits with a bad attribute).
  const acc = resolveAccess({ desired: req.desiredAccess, maximal: 0xffffffff });
  if (acc.status) fail(acc.status);
  if (req.createOptions & INVALID_OPTIONS) fail(Status.INVALID_PARAMETER, 'reserved CreateOptions');
  if (req.createOptions & UNSUPPORTED_OPTIONS) fail(Status.NOT_SUPPORTED);
  if (req.impersonationLevel > ImpersonationLevel.DELEGATE) fail(Status.BAD_IMPERSONATION_LEVEL);
  if (!(req.createDisposition in DISPOSITION)) fail(Status.INVALID_PARAMETER, 'bad CreateDisposition');
  if (req.fileAttributes & ~VALID_ATTRIBUTES) fail(Status.INVALID_PARAMETER, 'bad FileAttributes');
  if ((req.createOptions & Opt.DIRECTORY_FILE) && (req.createOptions & Opt.NON_DIRECTORY_FILE)) {
    fail(Status.INVALID_PARAMETER, 'directory and non-directory');
  }
  const ol = req.requestedOplockLevel;
  if (ol !== OplockLevel.NONE && ol !== OplockLevel.II && ol !== OplockLevel.EXCLUSIVE &&
      ol !== OplockLevel.BATCH && ol !== OplockLevel.LEASE) fail(Status.INVALID_PARAMETER, 'bad oplock level');
  for (const c of req.contexts) if (c.name.length < 4) fail(Status.INVALID_PARAMETER, 'short create context tag');
  // MS-SMB2 3.3.5.9: a name starting with '\' is invalid.
  if (req.name.startsWith('\\')) fail(Status.INVALID_PARAMETER, 'leading backslash');
}

/** The DesiredAccess bits asked for, GENERIC_* mapped (for pre-checks before the full access logic). */
function acc0(req: CreateRequest): number {
  const r = resolveAccess({ desired: req.desiredAccess, maximal: 0xffffffff });
  return r.granted;
}

function ctxByName(list: CreateContext[], name: string): CreateContext | undefined {
  return list.find((c) => c.name === name);
}

async function statOrUndefined(tree: ShareTree, path: string): Promise<FileStat | undefined> {
  try {
    return await tree.vfs!.stat(path);
  } catch (e) {
    if (e instanceof VfsError && e.status === Status.OBJECT_NAME_NOT_FOUND) return undefined;
    throw e;
  }
}

/** Maximal access on an object (Samba smbd_calculate_maximum_allowed_access for a share without ACLs). */
function maximalFor(tree: ShareTree, st: FileStat | undefined, path: string): number {
  let m = tree.maximalAccess >>> 0;
  if (st && !st.isDirectory && (st.attributes & FileAttribute.READONLY)) m &= ~(FILE_GENERIC_WRITE | Access.DELETE) | Access.SYNCHRONIZE | Access.READ_CONTROL;
  if (path === '') m &= ~Access.DELETE;
  return m >>> 0;
}

const TRUNCATING = new Set<CreateDisposition>(['overwrite', 'overwrite-if', 'supersede']);

/** NEGOTIATE advertises SMB2_GLOBAL_CAP_LEASING (leases.ts). */
export const SUPPORTS_LEASING = true;

// Replays of a CREATE with the same CreateGuid return the original open (replay.ts, 3.3.5.9.10).
export const handler = replayableCreate(durableCreate(handlerOf(async (ctx: RequestContext) => {
  const tree = ctx.tree;
  const session = ctx.session;
  if (!tree || !session) return { status: Status.NETWORK_NAME_DELETED };
  const req = decodeCreateRequest(ctx.msg);
  if (!tree.isIpc) req.name = dfsRequestName(tree.share, ctx.header.flags, req.name);
  validate(req);

  if (tree.isIpc) return openPipe(ctx, req);
  if (isDfsShare(tree.share) && !tree.vfs) await refuseDfsLink(tree.share, ''); // msdfs proxy
  const vfs = tree.vfs;
  if (!vfs) fail(Status.INVALID_DEVICE_REQUEST);

  // Snapshots are not offered (Samba answers OBJECT_NAME_NOT_FOUND for an unknown TWrp).
  if (ctxByName(req.contexts, CreateContextName.TIMEWARP_TOKEN)) fail(Status.OBJECT_NAME_NOT_FOUND);

  let parsed = parseSmbPath(req.name);
  // A mangled 8.3 name handed out earlier names its long name (files/short-names.ts).
  const expanded = await expandShortNames(vfs, parsed.path);
  if (expanded !== parsed.path) parsed = Object.assign({}, parsed, { path: expanded, base: splitStream(expanded).base });
  const path = parsed.path;
  if (isDfsShare(tree.share)) await refuseDfsLink(tree.share, parsed.base); // a DFS link is a referral, never a local path
  const disposition = DISPOSITION[req.createDisposition]!;
  const wantDir = !!(req.createOptions & Opt.DIRECTORY_FILE);
  const wantNonDir = !!(req.createOptions & Opt.NON_DIRECTORY_FILE);
  // Streams (MS-FSCC 2.1.4): a data stream is never a directory; 'dir::$DATA' names a directory's
  // (absent) main data stream.
  if (wantDir && (parsed.stream !== undefined || parsed.explicitData)) fail(Status.NOT_A_DIRECTORY);
  if (parsed.stream !== undefined && parsed.base === '') fail(Status.OBJECT_NAME_INVALID);
  let wentAsync: AbortSignal | undefined;
  // Lease request (RqLs, 3.3.5.9.8/11): only with OplockLevel LEASE; a key of another file is refused.
  const leaseReq = req.requestedOplockLevel === OplockLevel.LEASE ? leaseRequestOf(req.contexts, ctx.conn.dialect) : undefined;
  if (leaseReq && leaseKeyClash(ctx.server, ctx.conn.clientGuid, leaseReq, tree.share.name, path)) fail(Status.INVALID_PARAMETER);

  const cluster = clusterOf(ctx.server);
  let clusterRetries = 0;
  /** Cluster: this file's mirror was re-read before breaking another node's caching (below). */
  let refreshed = false;
  for (let attempt = 0; ; attempt++) {
    const st = await statOrUndefined(tree, path);
    const exists = !!st;
    if (st?.isDirectory && parsed.explicitData) fail(Status.FILE_IS_A_DIRECTORY);
    // A file deleted while its streams are open, or any stream of it, cannot be opened (MS-FSA 2.1.5.1.2).
    if (baseDeletePending(ctx.server, tree, parsed.base)) fail(Status.DELETE_PENDING);
    // A stream's FileStat is its file's: the same identity.
    const baseSt = parsed.stream === undefined || st ? st : await statOrUndefined(tree, parsed.base);
    if (parsed.stream !== undefined) {
      if (opensOfFile(ctx.server, tree, parsed.base, baseSt?.identity).some((o) => stateOf(o).node.deletePending)) fail(Status.DELETE_PENDING);
    } else if (exists && (acc0(req) & Access.DELETE)) {
      // Opening a file for DELETE conflicts with its streams' opens that do not share delete.
      for (const o of streamOpensOfFile(ctx, tree, path, st.identity)) {
        if (!isStatOpen(o.grantedAccess) && !(o.shareAccess & 0x4 /* FILE_SHARE_DELETE */)) fail(Status.SHARING_VIOLATION);
      }
    }
    // Disposition/type checks before access and sharing (MS-FSA 2.1.5.1.2).
    if (exists) {
      if (disposition === 'create') fail(Status.OBJECT_NAME_COLLISION);
      if (st.isDirectory && wantNonDir) fail(Status.FILE_IS_A_DIRECTORY);
      if (!st.isDirectory && wantDir) fail(Status.NOT_A_DIRECTORY);
      if (st.isDirectory && TRUNCATING.has(disposition)) fail(Status.INVALID_PARAMETER);
    } else {
      if (disposition === 'open' || disposition === 'overwrite') fail(Status.OBJECT_NAME_NOT_FOUND);
      if (wantDir && TRUNCATING.has(disposition)) fail(Status.INVALID_PARAMETER);
      if (tree.readOnly) fail(Status.ACCESS_DENIED);
      // No EFS: a standalone server refuses FILE_ATTRIBUTE_ENCRYPTED (as Samba).
      if (req.fileAttributes & FileAttribute.ENCRYPTED) fail(Status.ACCESS_DENIED);
    }
    const isDir = exists ? st.isDirectory : wantDir;

    // Per-file ACLs (acl.ts): a stored descriptor limits access to an existing object; a new one
    // needs FILE_ADD_FILE / FILE_ADD_SUBDIRECTORY on a parent that has one.
    const token = tokenOf(session);
    const baseExists = !!baseSt;
    let sdLimit: number | undefined;
    let parentSd: Awaited<ReturnType<typeof checkAddChild>>['parent'];
    // `admin users` are not limited by per-file ACLs (Samba runs them as root); read only still holds.
    if (baseExists) {
      if (!tree.admin) sdLimit = await accessLimit(vfs, parsed.base, token);
    } else {
      const add = await checkAddChild(vfs, parsed.base, isDir, token);
      if (!add.ok && !tree.admin) fail(Status.ACCESS_DENIED);
      parentSd = add.parent;
    }
    const withSd = (m: number) => (sdLimit === undefined ? m : (m & sdLimit) >>> 0);

    // Access (3.3.5.9: MAXIMUM_ALLOWED / GENERIC_* mapping; share maximal access).
    const acc = resolveAccess({ desired: req.desiredAccess, maximal: withSd(maximalFor(tree, st, path)), limit: withSd(tree.maximalAccess) });
    if (acc.status) fail(acc.status);
    let granted = acc.granted;
    const readOnlyFile = exists && !st.isDirectory && (st.attributes & FileAttribute.READONLY) !== 0;
    // An explicit data write on a READONLY file: ACCESS_DENIED as NTFS.
    if (readOnlyFile && (granted & (Access.FILE_WRITE_DATA | Access.FILE_APPEND_DATA))) fail(Status.ACCESS_DENIED);
    // Overwriting needs FILE_WRITE_DATA, whatever was asked for (as Samba open_access_mask).
    const openAccess = exists && TRUNCATING.has(disposition) ? granted | Access.FILE_WRITE_DATA : granted;
    if (sdLimit !== undefined && (openAccess & ~sdLimit & ~Access.SYNCHRONIZE)) fail(Status.ACCESS_DENIED);
    // A read-only share refuses every open that could modify, judged on the access the open is
    // made with (a truncating disposition adds FILE_WRITE_DATA) and DELETE_ON_CLOSE, before
    // anything touches the disk (MS-SMB2 3.3.5.9; Samba open_file: !CAN_WRITE -> ACCESS_DENIED).
    const deleteOnClose = !!(req.createOptions & Opt.DELETE_ON_CLOSE);
    if (tree.readOnly && ((openAccess & WRITE_ACCESS_BITS) || deleteOnClose)) {
      // DELETE_ON_CLOSE without DELETE stays a bad request (as Samba answers there).
      fail(deleteOnClose && !(granted & Access.DELETE) ? Status.INVALID_PARAMETER : Status.ACCESS_DENIED);
    }
    if (exists && TRUNCATING.has(disposition)) {
      if (req.desiredAccess === 0) fail(Status.ACCESS_DENIED);
      // MS-FSA 2.1.5.1.2.1: overwriting a HIDDEN/SYSTEM file must keep those attributes.
      const keep = st.attributes & (FileAttribute.HIDDEN | FileAttribute.SYSTEM);
      if (keep & ~req.fileAttributes) fail(Status.ACCESS_DENIED);
      if (st.attributes & FileAttribute.READONLY) fail(Status.ACCESS_DENIED);
    }
    if (deleteOnClose) {
      if (!(granted & Access.DELETE)) fail(Status.INVALID_PARAMETER, 'DELETE_ON_CLOSE without DELETE');
      if (exists && (st.attributes & FileAttribute.READONLY)) fail(Status.CANNOT_DELETE);
      if (path === '') fail(Status.ACCESS_DENIED);
    }
    if (!exists && (req.fileAttributes & FileAttribute.READONLY) && deleteOnClose) fail(Status.CANNOT_DELETE);

    // Sharing and oplocks against the other opens of this file.
    const others = exists ? opensOfFile(ctx.server, tree, path, st.identity) : [];
    // Cluster: what other nodes' opens decide here (a refusal, a lower oplock, a break their client
    // sees) is decided on the file's state read once from the store, not only on the watched
    // mirror, which may still show an open that node closed or miss a delete-pending it set
    // (smb2.oplock.doc and stream1 across nodes under load).
    if (cluster && exists && !refreshed && others.some((o) => cluster.isRemote(o))) {
      refreshed = true;
      await cluster.refresh(st.identity);
      continue;
    }
    const node = others.length ? stateOf(others[0]!).node : newNode();
    if (exists && node.deletePending) fail(Status.DELETE_PENDING);
    const conflicts = conflictingOpens(others, openAccess, req.shareAccess);
    const truncating = exists && TRUNCATING.has(disposition);
    // Only SYNCHRONIZE/READ_ATTRIBUTES/WRITE_ATTRIBUTES opens leave oplocks alone (Samba
    // is_oplock_stat_open); a truncating open always breaks.
    const oplockStat = (granted & ~(Access.SYNCHRONIZE | Access.FILE_READ_ATTRIBUTES | Access.FILE_WRITE_ATTRIBUTES)) === 0;
    if ((!oplockStat || TRUNCATING.has(disposition)) && attempt < (refreshed ? 4 : 3)) {
      // Batch holders are broken when they stand in the way of the open (MS-FSA 2.1.5.17.2 / Samba
      // delay_for_oplock); without a sharing conflict exclusive holders go to level II.
      const breakTo = truncating ? OplockLevel.NONE : OplockLevel.II;
      const toBreak: Open[] = [];
      for (const o of others) {
        const lvl = o.oplockLevel;
        if (lvl !== OplockLevel.BATCH && lvl !== OplockLevel.EXCLUSIVE) continue;
        if (conflicts.length && lvl !== OplockLevel.BATCH) continue;
        toBreak.push(o);
      }
      const leaseWait = breakLeasesForCreate(ctx.server, others, ctx.conn.clientGuid, leaseReq,
        { statOnly: (granted & ~(Access.SYNCHRONIZE | Access.FILE_READ_ATTRIBUTES | Access.FILE_WRITE_ATTRIBUTES | Access.READ_CONTROL)) === 0, sharingConflict: conflicts.length > 0, truncating, waited: wentAsync !== undefined });
      if (toBreak.length || leaseWait.length) {
        for (const o of toBreak) startBreak(ctx.server, o, breakTo);
        if (anyBreaking(toBreak) || leasesBreaking(leaseWait)) {
          wentAsync ??= ctx.goAsync().signal;
          await Promise.all([waitForBreaks(toBreak, wentAsync), waitForLeaseBreaks(leaseWait, wentAsync)]);
          if (wentAsync.aborted) fail(Status.CANCELLED);
        }
        continue; // re-evaluate: the holder may have closed or deleted the file
      }
    }
    if (conflicts.length) fail(Status.SHARING_VIOLATION);
    if (truncating) {
      for (const o of others) if (o.oplockLevel === OplockLevel.II) startBreak(ctx.server, o, OplockLevel.NONE);
    }

    // Cluster mode: the open is published (compared against the file's cluster revision) before
    // it is granted; another node's change meanwhile means evaluating again (cluster/coordinator.ts).
    let reservation: Reservation | undefined;
    if (cluster && exists) {
      const r = await cluster.reserve(clusterIntent(tree, path, st.identity, openAccess, req.shareAccess, leaseReq?.leaseState,
        grantLevel(req.requestedOplockLevel, others, isDir, oplockStat && !truncating)));
      if (!r) {
        if (++clusterRetries > MAX_CLUSTER_RETRIES) fail(Status.INSUFFICIENT_RESOURCES, 'cluster contention');
        continue;
      }
      reservation = r;
    }

    // Open through the VFS.
    const wantsWrite = !!(granted & (Access.FILE_WRITE_DATA | Access.FILE_APPEND_DATA));
    const opening = vfs.open(path, {
      create: disposition,
      directory: wantDir || (exists && st.isDirectory) ? isDir : undefined,
      nonDirectory: wantNonDir,
      read: true,
      write: wantsWrite && !isDir,
      attributes: req.fileAttributes,
      known: parsed.stream === undefined ? st ?? null : undefined,
    });
    const held = reservation;
    const { handle, action } = held ? await opening.catch(async (e: unknown) => { await held.drop(); throw e; }) : await opening;
    let fst: FileStat;
    try {
      const alsi = ctxByName(req.contexts, CreateContextName.ALLOCATION_SIZE);
      if (alsi && !isDir && action !== 'opened') {
        const size = decodeAlSi(alsi.data);
        if (size > 0n) await handle.setAllocation(size).catch(() => {});
      }
      // ExtA (MS-SMB2 2.2.13.2.1): EAs of a created / overwritten file.
      const exta = ctxByName(req.contexts, CreateContextName.EA_BUFFER);
      if (exta && action !== 'opened') {
        if (!handle.setEas) fail(0xc000004f /* STATUS_EAS_NOT_SUPPORTED */);
        let list;
        try {
          list = decodeExtA(exta.data);
        } catch {
          fail(0x80000014 /* STATUS_EA_LIST_INCONSISTENT */);
        }
        await handle.setEas(list.filter((e) => e.value.length > 0));
      }
      // SecD (MS-SMB2 2.2.13.2.2) or the parent's inheritable ACEs: the new object's descriptor.
      if (action === 'created' || (action !== 'opened' && parsed.stream === undefined)) {
        const secd = ctxByName(req.contexts, CreateContextName.SD_BUFFER);
        if (handle.setSecurity && (secd || (action === 'created' && parsed.stream === undefined))) {
          let sd;
          try {
            sd = newObjectSd(secd?.data, parentSd, token, isDir);
          } catch {
            fail(Status.INVALID_SECURITY_DESCR);
          }
          if (sd) {
            await handle.setSecurity(encodeSecurityDescriptor(sd));
            if (!exists && !tree.admin) sdLimit = await accessLimit(vfs, handle.path, token, sd);
          }
        }
      }
      fst = await handle.stat();
      if (alsi && !isDir && action !== 'opened') {
        const size = decodeAlSi(alsi.data);
        // The VFS cannot preallocate; report what was asked for, as Samba does (rounded by the FS).
        if (size > fst.allocationSize) fst = Object.assign({}, fst, { allocationSize: size });
      }
      if (cluster && !exists) {
        // A new file: published once it has an identity; another node that opened it meanwhile
        // means evaluating again as an existing file.
        const r = await cluster.reserve(clusterIntent(tree, path, fst.identity, openAccess, req.shareAccess, leaseReq?.leaseState, req.requestedOplockLevel));
        if (r && opensOfFile(ctx.server, tree, path, fst.identity).some((o) => cluster.isRemote(o))) await r.drop();
        else if (r) reservation = r;
        if (!reservation) {
          await handle.close().catch(() => {});
          if (++clusterRetries > MAX_CLUSTER_RETRIES) fail(Status.INSUFFICIENT_RESOURCES, 'cluster contention');
          continue;
        }
      }
    } catch (e) {
      await handle.close().catch(() => {});
      if (reservation) await reservation.drop();
      throw e;
    }
    if (!exists && deleteOnClose && (fst.attributes & FileAttribute.READONLY)) {
      await handle.close().catch(() => {});
      if (reservation) await reservation.drop();
      fail(Status.CANNOT_DELETE);
    }
    // MAXIMUM_ALLOWED on a freshly created file grants the share maximum.
    if (!exists && (req.desiredAccess & Access.MAXIMUM_ALLOWED)) granted |= tree.maximalAccess;

    let oplock = oplockBesideLeases(grantLevel(req.requestedOplockLevel, others, isDir, exists && oplockStat && !truncating), others);
    const fileId = ctx.server.newFileId();
    const open: Open = {
      fileId, tree, session, path: handle.path, isDirectory: fst.isDirectory, handle, pipe: undefined,
      grantedAccess: granted >>> 0, shareAccess: req.shareAccess, createOptions: req.createOptions,
      oplockLevel: oplock, deleteOnClose, dirCursor: undefined, extra: new Map(), fileKey: fst.identity,
    };
    attachState(open, node);
    ctx.server.registerOpen(open);
    // Open.Connection (3.3.4.6): breaks go to the channel the open was made on while it lives.
    open.extra.set(OPEN_CONNECTION, ctx.conn.id);
    ctx.setRelatedFileId(fileId);
    // Lease grant (no directory leases); the response carries the lease state.
    const leaseCtx = leaseReq && !open.isDirectory
      ? grantLease(ctx.server, open, ctx.conn.clientGuid, leaseReq, others, node) : undefined;
    if (leaseCtx) oplock = OplockLevel.LEASE;
    if (reservation) await reservation.bind(open);

    if (action === 'created') {
      reportChange(ctx.server, tree, open.path, FileAction.ADDED, open.isDirectory ? NotifyFilter.DIR_NAME : NotifyFilter.FILE_NAME);
    } else if (action !== 'opened') {
      reportChange(ctx.server, tree, open.path, FileAction.MODIFIED, NotifyFilter.SIZE | NotifyFilter.LAST_WRITE | NotifyFilter.ATTRIBUTES);
    }

    // Response create contexts.
    const out: CreateContext[] = [];
    if (ctxByName(req.contexts, CreateContextName.QUERY_MAXIMAL_ACCESS)) {
      out.push({ name: CreateContextName.QUERY_MAXIMAL_ACCESS, data: encodeMxAcResponse({ queryStatus: 0, maximalAccess: withSd(maximalFor(tree, fst, path)) }) });
    }
    if (ctxByName(req.contexts, CreateContextName.QUERY_ON_DISK_ID)) {
      out.push({ name: CreateContextName.QUERY_ON_DISK_ID, data: makeDiskFileId(fst.fileId, BigInt(hashName(tree.share.name))) });
    }
    if (leaseCtx) out.push(leaseCtx);
    const sz = sizes(fst);
    const createAction = action === 'created' ? CreateAction.CREATED : action === 'overwritten' ? CreateAction.OVERWRITTEN
      : action === 'superseded' ? CreateAction.SUPERSEDED : CreateAction.OPENED;
    void parentOf;
    return {
      status: Status.SUCCESS,
      body: encodeCreateResponse({
        oplockLevel: oplock, flags: 0, createAction,
        creationTime: fst.creationTime, lastAccessTime: fst.lastAccessTime, lastWriteTime: reportedStat(open, fst).lastWriteTime,
        changeTime: fst.changeTime, allocationSize: sz.allocationSize, endOfFile: sz.endOfFile,
        fileAttributes: fst.attributes, fileId, contexts: out,
      }),
    };
  }
})));

function hashName(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 0x01000193) >>> 0;
  return h;
}

/** Live opens of the named streams of a file (by identity; the session's own when the server keeps no file index). */
function streamOpensOfFile(ctx: RequestContext, tree: ShareTree, path: string, identity: string): Open[] {
  const all = ctx.server.opensByFile?.(identity) ??
    [...ctx.session!.opens.values()].filter((o) => o.tree.share.name === tree.share.name && foldCase(o.path).startsWith(foldCase(path) + ':'));
  return all.filter((o) => !o.pipe && !stateOf(o).closed && splitStream(o.path).stream !== undefined);
}
