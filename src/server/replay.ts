// Channel sequence verification (MS-SMB2 3.3.5.2.10) for requests that modify an open (WRITE,
// SET_INFO, IOCTL). With multichannel a client retries a request whose channel failed on another
// channel, with SMB2_FLAGS_REPLAY_OPERATION and a bumped ChannelSequence; these counters let the
// server refuse (STATUS_FILE_NOT_AVAILABLE) a replay while the original may still be running, and
// refuse stale requests of an older epoch, so a request is never applied twice concurrently.
import type { Handler, Open, RequestContext } from './types.js';
import { HeaderFlags } from '../wire/constants.js';
import { decodeCreateRequest, decodeCreateResponse } from '../wire/create.js';
import { CreateContextName, decodeDH2QRequest } from '../wire/create-contexts.js';
import { onAnyClose, stateOf as openStateOf } from './open-file.js';
import { channelSequence } from '../wire/header.js';
import { NtStatusError, Status } from '../wire/status.js';
import { replayReply } from './handlers/create-durable.js';

interface SeqState {
  /** Open.ChannelSequence */
  seq: number;
  /** Open.OutstandingRequestCount: requests of the current sequence in progress. */
  outstanding: number;
  /** Open.OutstandingPreRequestCount: requests of earlier sequences still in progress. */
  pre: number;
}

const KEY = 'replay.channelSequence';

function stateOf(open: Open): SeqState {
  let s = open.extra.get(KEY) as SeqState | undefined;
  if (!s) {
    s = { seq: 0, outstanding: 0, pre: 0 };
    open.extra.set(KEY, s);
  }
  return s;
}

/** Result of enter(): a status to fail with, or a release() to call when the request is done. */
export type SequenceTicket = { status: number } | { release(): void };

/**
 * 3.3.5.2.10: verifies the request's ChannelSequence against the open. Only 3.x dialects carry a
 * ChannelSequence; 2.x requests always pass.
 */
export function enterChannelSequence(ctx: RequestContext, open: Open): SequenceTicket {
  if (ctx.conn.dialect < 0x0300) return { release: () => undefined };
  const s = stateOf(open);
  const cs = channelSequence(ctx.header);
  let counted: 'current' | 'pre';
  if (cs === s.seq) {
    s.outstanding++;
    counted = 'current';
  } else if (((cs - s.seq) & 0xffff) <= 0x7fff) {
    // A newer epoch: what was outstanding becomes "pre" (requests sent before the failover).
    s.pre += s.outstanding;
    s.outstanding = 1;
    s.seq = cs;
    counted = 'current';
  } else {
    return { status: Status.FILE_NOT_AVAILABLE };
  }
  const mySeq = s.seq;
  const release = (): void => {
    if (counted === 'current' && mySeq === s.seq) s.outstanding = Math.max(0, s.outstanding - 1);
    else s.pre = Math.max(0, s.pre - 1);
  };
  if ((ctx.header.flags & HeaderFlags.REPLAY_OPERATION) && s.pre > 0) {
    release();
    return { status: Status.FILE_NOT_AVAILABLE };
  }
  return { release };
}

/**
 * Runs `work` (a WRITE, SET_INFO or IOCTL on `open`) inside the request's channel sequence
 * (enterChannelSequence): fails with its status when refused, releases it when done.
 */
export async function withChannelSequence<T>(ctx: RequestContext, open: Open, work: () => Promise<T>): Promise<T> {
  const ticket = enterChannelSequence(ctx, open);
  if ('status' in ticket) throw new NtStatusError(ticket.status);
  try {
    return await work();
  } finally {
    ticket.release();
  }
}

/** Snapshot for tests and status. */
export function channelSequenceOf(open: Open): { seq: number; outstanding: number; pre: number } {
  const s = stateOf(open);
  return { ...s };
}

// ---------------------------------------------------------------------------------------------
// CREATE replay (3.3.5.9.10): a CREATE carrying a durable v2 request (DH2Q) names its CreateGuid.
// When the client retries it on another channel with SMB2_FLAGS_REPLAY_OPERATION, the server
// answers with the original open instead of opening the file a second time. The open is found by
// ClientGuid + CreateGuid and must belong to the same session.

interface CreateRecord {
  open: Open;
  body: Buffer | Buffer[];
}

const byCreateGuid = new Map<string, CreateRecord>();
/** ClientGuid:CreateGuid of CREATEs in progress. */
const pendingCreates = new Set<string>();
const keyOfOpen = new WeakMap<Open, string>();

onAnyClose((_server, open) => {
  const k = keyOfOpen.get(open);
  if (k !== undefined && byCreateGuid.get(k)?.open === open) byCreateGuid.delete(k);
});

function createGuidOf(ctx: RequestContext): Buffer | undefined {
  if (ctx.conn.dialect < 0x0300) return undefined;
  try {
    const req = decodeCreateRequest(ctx.msg);
    const dh2q = req.contexts.find((c) => c.name === CreateContextName.DURABLE_HANDLE_REQUEST_V2);
    if (!dh2q) return undefined;
    const g = decodeDH2QRequest(dh2q.data).createGuid;
    return g.every((b) => b === 0) ? undefined : g;
  } catch {
    return undefined; // the handler reports malformed input itself
  }
}

/** Wraps the CREATE handler with replay detection by CreateGuid. */
export function replayableCreate(inner: Handler): Handler {
  return async (ctx) => {
    const guid = createGuidOf(ctx);
    if (!guid || !ctx.session) return inner(ctx);
    const key = ctx.conn.clientGuid.toString('hex') + ':' + guid.toString('hex');
    const prior = byCreateGuid.get(key);
    if (prior && !openStateOf(prior.open).closed && ctx.session.opens.get(prior.open.fileId.volatile) === prior.open) {
      if (!(ctx.header.flags & HeaderFlags.REPLAY_OPERATION)) return { status: Status.DUPLICATE_OBJECTID };
      if (prior.open.session.id !== ctx.session.id) return { status: Status.ACCESS_DENIED };
      ctx.setRelatedFileId(prior.open.fileId);
      return replayReply(ctx, prior.open, Array.isArray(prior.body) ? Buffer.concat(prior.body) : prior.body);
    }
    // A CREATE with this CreateGuid is still running (waiting for a break): its replay cannot be
    // answered yet (3.3.5.9.10, as Samba: smb2.replay.dhv2-pending*-sane).
    if (pendingCreates.has(key)) return { status: Status.FILE_NOT_AVAILABLE };
    pendingCreates.add(key);
    let reply: Awaited<ReturnType<Handler>>;
    try {
      reply = await inner(ctx);
    } finally {
      pendingCreates.delete(key);
    }
    if (reply.status === Status.SUCCESS && reply.body !== undefined) {
      // A copy: reply buffers may be pooled and reused once sent.
      const body = Array.isArray(reply.body) ? Buffer.concat(reply.body) : Buffer.from(reply.body);
      try {
        const fileId = decodeCreateResponse(Buffer.concat([Buffer.alloc(64), body])).fileId;
        const open = ctx.session.opens.get(fileId.volatile);
        if (open) {
          byCreateGuid.set(key, { open, body });
          keyOfOpen.set(open, key);
        }
      } catch {
        /* not a create response we can parse: no replay record */
      }
    }
    return reply;
  };
}
