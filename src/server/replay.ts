// CREATE replay detection (MS-SMB2 3.3.5.9.10). Channel sequence verification (3.3.5.2.10) lives
// in channel-sequence.ts and is re-exported here for the handlers that import it from this module.
import type { Handler, Open, RequestContext } from './types.js';
import { HeaderFlags } from '../wire/constants.js';
import { decodeCreateRequest, decodeCreateResponse } from '../wire/create.js';
import { CreateContextName, decodeDH2QRequest } from '../wire/create-contexts.js';
import { onAnyClose, stateOf as openStateOf } from './open-file.js';
import { Status } from '../wire/status.js';
import { HANDLE_USED } from './channel-sequence.js';
import { replayReply } from './handlers/create-durable.js';

export { enterChannelSequence, withChannelSequence, channelSequenceOf, type SequenceTicket } from './channel-sequence.js';

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
    let prior = byCreateGuid.get(key);
    // Once a request has named the open by FileId the client has seen the CREATE answer: a later
    // replay opens the file anew (as Samba, which drops the replay cache entry at the first lookup
    // of the handle: smb2.replay.replay6).
    if (prior?.open.extra.has(HANDLE_USED)) {
      byCreateGuid.delete(key);
      prior = undefined;
    }
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
