// Durable handle create contexts around the CREATE handler (MS-SMB2 3.3.5.9.6 DHnQ, 3.3.5.9.7 DHnC,
// 3.3.5.9.10 DH2Q, 3.3.5.9.12 DH2C). A reconnect is answered here from the disconnected open
// (server/durable.ts); a durable request runs the normal CREATE and then grants durability when the
// rules allow, adding the response context.
import type { Handler, Open, Reply, RequestContext } from '../types.js';
import { Status } from '../../wire/status.js';
import {
  decodeCreateRequest, decodeCreateResponse, encodeCreateResponse, type CreateContext, type CreateRequest,
} from '../../wire/create.js';
import {
  CreateContextName, decodeDH2C, decodeDH2QRequest, decodeDHnC, encodeDH2QResponse, encodeDHnQResponse,
  encodeLease, DurableV2Flags, LeaseFlags,
} from '../../wire/create-contexts.js';
import { CreateAction, CreateDisposition as Disp, HeaderFlags, LeaseState, OplockLevel } from '../../wire/constants.js';
import { parseSmbPath } from '../../vfs/path.js';
import { handlerOf, sizes } from '../files/util.js';
import { stateOf } from '../open-file.js';
import { grantLease, leaseOf, leaseRequestOf } from '../leases.js';
import {
  breakDisconnected, continuouslyAvailable, durableAllowed, durableById, durableByCreateGuid, durableFromStore, durableOf, isDisconnected,
  makeDurable, persist, reattach, v1TimeoutMs, v2TimeoutMs,
} from '../durable.js';
import type { LeaseRecord } from '../store/types.js';

const ZERO_GUID = Buffer.alloc(16);
const find = (list: CreateContext[], name: string): CreateContext | undefined => list.find((c) => c.name === name);

/** Wraps the CREATE handler with durable requests and reconnects. */
export function durableCreate(inner: Handler): Handler {
  const reconnectHandler = handlerOf(async (ctx) => {
    const req = decodeCreateRequest(ctx.msg);
    return reconnect(ctx, req);
  });
  return async (ctx) => {
    let req: CreateRequest;
    try {
      req = decodeCreateRequest(ctx.msg);
    } catch {
      return inner(ctx); // the handler reports malformed input
    }
    if (!ctx.tree || ctx.tree.isIpc || !ctx.session) return inner(ctx);
    const c = req.contexts;
    const dhnq = find(c, CreateContextName.DURABLE_HANDLE_REQUEST);
    const dhnc = find(c, CreateContextName.DURABLE_HANDLE_RECONNECT);
    const v3 = ctx.conn.dialect >= 0x0300;
    const dh2q = v3 ? find(c, CreateContextName.DURABLE_HANDLE_REQUEST_V2) : undefined;
    const dh2c = v3 ? find(c, CreateContextName.DURABLE_HANDLE_RECONNECT_V2) : undefined;
    // 3.3.5.9.6 / .7 / .10 / .12: v1 and v2 contexts together, or a request with its reconnect.
    if ((dhnq || dhnc) && (dh2q || dh2c)) return { status: Status.INVALID_PARAMETER };
    if (dh2q && dh2c) return { status: Status.INVALID_PARAMETER };
    if (dhnc || dh2c) return reconnectHandler(ctx);

    let v2: ReturnType<typeof decodeDH2QRequest> | undefined;
    try {
      if (dh2q) v2 = decodeDH2QRequest(dh2q.data);
      else if (dhnq && dhnq.data.length < 16) return { status: Status.INVALID_PARAMETER };
    } catch {
      return { status: Status.INVALID_PARAMETER };
    }
    // A CreateGuid still in use by a durable open of this client (disconnected ones included):
    // a replay gets the open back (replay.ts handles connected ones), anything else a clash.
    // Checked before breakDisconnected: the owner's own replay must not break its open.
    if (v2 && !v2.createGuid.every((b) => b === 0)) {
      // Cluster mode: a replay may come to another node after the first one died (its record is
      // in the shared store); looked up only for replays, so plain creates cost no etcd read.
      const prior = durableByCreateGuid(ctx.server, ctx.conn.clientGuid, v2.createGuid) ??
        (ctx.header.flags & HeaderFlags.REPLAY_OPERATION
          ? await durableFromStore(ctx.server, ctx.tree, undefined, { clientGuid: ctx.conn.clientGuid, createGuid: v2.createGuid })
          : undefined);
      if (prior && isDisconnected(prior)) {
        if (!(ctx.header.flags & HeaderFlags.REPLAY_OPERATION)) return { status: Status.DUPLICATE_OBJECTID };
        return asReplayed(prior, await reconnectOpen(ctx, req, prior, 'v2', v2.createGuid));
      }
    }
    const parsed = safePath(req.name);
    if (parsed !== undefined) {
      const truncating = req.createDisposition === Disp.OVERWRITE || req.createDisposition === Disp.OVERWRITE_IF || req.createDisposition === Disp.SUPERSEDE;
      await breakDisconnected(ctx.server, ctx.tree, parsed, req.desiredAccess, truncating);
    }
    if (!dhnq && !dh2q) return inner(ctx);

    const reply = await inner(ctx);
    if (reply.status !== Status.SUCCESS || reply.body === undefined) return reply;
    return grant(ctx, req, reply, v2);
  };
}

function safePath(name: string): string | undefined {
  try {
    return parseSmbPath(name).path;
  } catch {
    return undefined;
  }
}

function openOfReply(ctx: RequestContext, body: Buffer): Open | undefined {
  const fileId = decodeCreateResponse(Buffer.concat([Buffer.alloc(64), body])).fileId;
  return ctx.session?.opens.get(fileId.volatile);
}

/** Grants durability to a new open when the rules allow, adding DHnQ / DH2Q to the response. */
async function grant(ctx: RequestContext, req: CreateRequest, reply: Reply, v2: { timeout: number; flags: number; createGuid: Buffer } | undefined): Promise<Reply> {
  const body = Array.isArray(reply.body) ? Buffer.concat(reply.body) : reply.body!;
  const open = openOfReply(ctx, body);
  const tree = ctx.tree!;
  if (!open || open.pipe || !durableAllowed(tree.share)) return reply;
  // Persistent: asked for on a CA share (3.3.5.9.10); granted whatever oplock/lease the open got.
  const persistent = !!v2 && (v2.flags & DurableV2Flags.PERSISTENT) !== 0 && continuouslyAvailable(tree.share) && !open.isDirectory;
  // Durable otherwise only with a batch oplock or a lease with HANDLE caching (3.3.5.9.6, .10).
  const lease = leaseOf(open);
  const cached = lease ? (lease.state & LeaseState.HANDLE) !== 0 : open.oplockLevel === OplockLevel.BATCH;
  if (!persistent && (!cached || open.isDirectory)) return reply;
  const timeoutMs = v2 ? v2TimeoutMs(ctx.server.config, v2.timeout) : v1TimeoutMs(ctx.server.config);
  const session = ctx.session!;
  try {
    await makeDurable(ctx.server, open, {
      version: v2 ? 2 : 1, persistent, resilient: false, timeoutMs,
      createGuid: v2 ? Buffer.from(v2.createGuid) : undefined, clientGuid: Buffer.from(ctx.conn.clientGuid),
      user: session.user, domain: session.domain,
    });
  } catch {
    // The state could not be written: the open stays, not durable (never claim what is not kept).
    open.extra.delete('durable');
    return reply;
  }
  const res = decodeCreateResponse(Buffer.concat([Buffer.alloc(64), body]));
  open.extra.set(CREATE_ACTION, res.createAction);
  const ctxOut = v2
    ? { name: CreateContextName.DURABLE_HANDLE_REQUEST_V2, data: encodeDH2QResponse({ timeout: timeoutMs, flags: persistent ? DurableV2Flags.PERSISTENT : 0 }) }
    : { name: CreateContextName.DURABLE_HANDLE_REQUEST, data: encodeDHnQResponse() };
  return { status: Status.SUCCESS, body: encodeCreateResponse(Object.assign({}, res, { contexts: [...res.contexts, ctxOut] })) };
}

/** The CreateAction of the CREATE that made a durable open (a replay after a disconnect repeats it). */
const CREATE_ACTION = 'durable.createAction';

/**
 * A replayed DH2Q CREATE that reclaims a disconnected open (3.3.5.9.10: "the server MUST ... as
 * if it were a reconnect", smb2.replay.replay5 on a CA share): answered as the original CREATE
 * was, with its CreateAction and the DH2Q response context, unlike a DH2C reconnect.
 */
function asReplayed(open: Open, reply: Reply): Reply {
  const d = durableOf(open);
  if (reply.status !== Status.SUCCESS || reply.body === undefined || !d) return reply;
  const res = decodeCreateResponse(Buffer.concat([Buffer.alloc(64), Array.isArray(reply.body) ? Buffer.concat(reply.body) : reply.body]));
  const createAction = (open.extra.get(CREATE_ACTION) as number | undefined) ?? res.createAction;
  const dh2q = { name: CreateContextName.DURABLE_HANDLE_REQUEST_V2, data: encodeDH2QResponse({ timeout: d.timeoutMs, flags: d.persistent ? DurableV2Flags.PERSISTENT : 0 }) };
  return { status: Status.SUCCESS, body: encodeCreateResponse(Object.assign({}, res, { createAction, contexts: [...res.contexts, dh2q] })) };
}

/** DHnC / DH2C: find the open and check it may be reclaimed (3.3.5.9.7, 3.3.5.9.12). */
async function reconnect(ctx: RequestContext, req: CreateRequest): Promise<Reply> {
  const dhnc = find(req.contexts, CreateContextName.DURABLE_HANDLE_RECONNECT);
  let fileId: bigint;
  let createGuid: Buffer | undefined;
  let kind: 'v1' | 'v2';
  if (dhnc) {
    fileId = decodeDHnC(dhnc.data).fileId.persistent;
    kind = 'v1';
  } else {
    const c = decodeDH2C(find(req.contexts, CreateContextName.DURABLE_HANDLE_RECONNECT_V2)!.data);
    fileId = c.fileId.persistent;
    createGuid = c.createGuid;
    kind = 'v2';
  }
  const open = durableById(ctx.server, fileId) ?? await durableFromStore(ctx.server, ctx.tree!, fileId);
  if (!open) return { status: Status.OBJECT_NAME_NOT_FOUND };
  return reconnectOpen(ctx, req, open, kind, createGuid);
}

async function reconnectOpen(ctx: RequestContext, req: CreateRequest, open: Open, kind: 'v1' | 'v2', createGuid: Buffer | undefined): Promise<Reply> {
  const NOT_FOUND = { status: Status.OBJECT_NAME_NOT_FOUND };
  const d = durableOf(open)!;
  const session = ctx.session!;
  const tree = ctx.tree!;
  // DH2C names the CreateGuid; a v1 open has none (all zero), so DH2C with a zero CreateGuid
  // reclaims it too (as Samba: smb2.durable-open.reopen2-lease). DHnC names no CreateGuid and
  // reclaims v2 opens as well (smb2.durable-v2-open.reopen2b).
  if (kind === 'v2' && (!createGuid || !createGuid.equals(d.createGuid ?? ZERO_GUID))) return NOT_FOUND;
  // Open.DurableOwner (3.3.5.9.7 / .12): only the user who opened it (before the lease checks, as Samba).
  if (session.user.toLowerCase() !== d.user.toLowerCase() || session.domain.toLowerCase() !== d.domain.toLowerCase()) {
    return { status: Status.ACCESS_DENIED };
  }
  // Still connected.
  if (!isDisconnected(open)) return NOT_FOUND;
  // The ClientGUID is not compared (a reconnecting client may come back with a new one; Windows
  // and Samba accept it): the CreateGuid and the owner are what bind the open.
  if (open.tree.share.name.toLowerCase() !== tree.share.name.toLowerCase()) return NOT_FOUND;
  // The lease must be named again, with the same key (3.3.5.9.7 / .12); every other field of the
  // request, RequestedOplockLevel included, is ignored.
  let leaseReq: ReturnType<typeof leaseRequestOf>;
  try {
    leaseReq = leaseRequestOf(req.contexts, ctx.conn.dialect);
  } catch {
    return { status: Status.INVALID_PARAMETER };
  }
  const restored = open.extra.get('durable.restoredLease') as LeaseRecord | undefined;
  const heldKey = leaseOf(open)?.key ?? (restored ? Buffer.from(restored.key, 'hex') : undefined);
  if (heldKey && !leaseReq) return NOT_FOUND;
  if (!heldKey && leaseReq) return NOT_FOUND;
  if (heldKey && leaseReq && !heldKey.equals(leaseReq.leaseKey)) return NOT_FOUND;
  // A lease belongs to ClientGUID + LeaseKey: only its client can take it back (smb2.durable-open.reopen1a-lease).
  if (heldKey && !d.clientGuid.equals(ctx.conn.clientGuid)) return NOT_FOUND;
  // With a lease the name must match too (3.3.5.9.7: Open.Lease.FileName).
  if (heldKey) {
    const p = safePath(req.name);
    if (p === undefined || p.toLowerCase() !== open.path.toLowerCase()) return { status: Status.INVALID_PARAMETER };
  }
  const handle = open.handle;
  if (!handle) return NOT_FOUND;
  const st = await handle.stat();

  reattach(ctx.server, open, session, tree, ctx.conn.id);
  if (restored && leaseReq) {
    // After a restart the lease comes back as it was recorded (the client still caches under it).
    grantLease(ctx.server, open, ctx.conn.clientGuid, Object.assign({}, leaseReq, { leaseState: restored.state }), [], stateOf(open).node);
    open.extra.delete('durable.restoredLease');
  }
  await persist(ctx.server, open).catch(() => undefined);
  ctx.setRelatedFileId(open.fileId);
  const out: CreateContext[] = [];
  const lease = leaseOf(open);
  if (lease) {
    const flags = (lease.breakingTo !== undefined ? LeaseFlags.BREAK_IN_PROGRESS : 0) | (lease.version === 2 && lease.parentKey ? LeaseFlags.PARENT_LEASE_KEY_SET : 0);
    out.push({
      name: CreateContextName.REQUEST_LEASE,
      data: encodeLease(lease.version === 2
        ? { version: 2, leaseKey: lease.key, leaseState: lease.state, leaseFlags: flags, leaseDuration: 0n, parentLeaseKey: lease.parentKey ?? Buffer.alloc(16), epoch: lease.epoch }
        : { version: 1, leaseKey: lease.key, leaseState: lease.state, leaseFlags: flags, leaseDuration: 0n }),
    });
  }
  // No DHnQ/DH2Q response on a reconnect (as Windows and Samba; smb2.durable-v2-open.reopen2).
  const sz = sizes(st);
  return {
    status: Status.SUCCESS,
    body: encodeCreateResponse({
      oplockLevel: lease ? OplockLevel.LEASE : open.oplockLevel, flags: 0, createAction: CreateAction.OPENED,
      creationTime: st.creationTime, lastAccessTime: st.lastAccessTime, lastWriteTime: st.lastWriteTime,
      changeTime: st.changeTime, allocationSize: sz.allocationSize, endOfFile: sz.endOfFile,
      fileAttributes: st.attributes, fileId: open.fileId, contexts: out,
    }),
  };
}

/**
 * The answer to a replayed CREATE (3.3.5.9.10, as Windows and Samba: smb2.replay.replay-dhv2-*):
 * the original open's answer, with the lease as it is now; a replay asking for a lower oplock gets
 * that level (and a durable context only if that level would have made the open durable); a
 * replay that names a lease for an oplock open, or the reverse, is ACCESS_DENIED.
 */
export function replayReply(ctx: RequestContext, open: Open, body: Buffer): Reply {
  let req: CreateRequest;
  try {
    req = decodeCreateRequest(ctx.msg);
  } catch {
    return { status: Status.SUCCESS, body };
  }
  const res = decodeCreateResponse(Buffer.concat([Buffer.alloc(64), body]));
  const lease = leaseOf(open);
  const wantsLease = req.requestedOplockLevel === OplockLevel.LEASE;
  if (!!lease !== wantsLease) return { status: Status.ACCESS_DENIED };
  if (lease) {
    let asked: ReturnType<typeof leaseRequestOf>;
    try {
      asked = leaseRequestOf(req.contexts, ctx.conn.dialect);
    } catch {
      return { status: Status.INVALID_PARAMETER };
    }
    if (!asked || !asked.leaseKey.equals(lease.key)) return { status: Status.ACCESS_DENIED };
  }
  let contexts = res.contexts;
  let oplockLevel = res.oplockLevel;
  if (lease) {
    contexts = contexts.map((c) => {
      if (c.name !== CreateContextName.REQUEST_LEASE) return c;
      return {
        name: c.name,
        data: encodeLease(lease.version === 2
          ? { version: 2, leaseKey: lease.key, leaseState: lease.state, leaseFlags: 0, leaseDuration: 0n, parentLeaseKey: lease.parentKey ?? Buffer.alloc(16), epoch: lease.epoch }
          : { version: 1, leaseKey: lease.key, leaseState: lease.state, leaseFlags: 0, leaseDuration: 0n }),
      };
    });
  } else if (req.requestedOplockLevel < oplockLevel) {
    oplockLevel = req.requestedOplockLevel;
    if (oplockLevel !== OplockLevel.BATCH && !durableOf(open)?.persistent) {
      contexts = contexts.filter((c) => c.name !== CreateContextName.DURABLE_HANDLE_REQUEST_V2);
    }
  }
  return { status: Status.SUCCESS, body: encodeCreateResponse(Object.assign({}, res, { oplockLevel, contexts })) };
}
