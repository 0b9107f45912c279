// Channel sequence verification (MS-SMB2 3.3.5.2.10) for requests that name an open. With
// multichannel a client retries a request whose channel failed on another channel, with
// SMB2_FLAGS_REPLAY_OPERATION and a bumped ChannelSequence; these counters let the server refuse
// (STATUS_FILE_NOT_AVAILABLE) a modifying replay (WRITE, SET_INFO, IOCTL) while the original may
// still be running, and refuse modifying requests of an older epoch, so a request is never applied
// twice concurrently. Every other request on the open only moves the epoch forward (handleUsed).
import type { Open, RequestContext } from './types.js';
import { HeaderFlags } from '../wire/constants.js';
import { channelSequence } from '../wire/header.js';
import { NtStatusError, Status } from '../wire/status.js';

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

/** Set on an open once a request named it by FileId (replay.ts drops its CREATE replay record then). */
export const HANDLE_USED = 'replay.handleUsed';

/**
 * Every request that names `open` by FileId (files/util.ts requireOpen), before its handler runs.
 * A newer ChannelSequence starts a new epoch whatever the command (3.3.5.2.10; as Samba, which
 * does this for every request with a file handle: smb2.replay.replay4 fails a stale WRITE after a
 * READ of the new epoch); a stale one only matters to modifying requests (enterChannelSequence).
 * The request itself is not counted as outstanding: only modifying ones are.
 */
export function handleUsed(ctx: RequestContext, open: Open): void {
  if (!open.extra.has(HANDLE_USED)) open.extra.set(HANDLE_USED, true);
  if (ctx.conn.dialect < 0x0300) return;
  const s = stateOf(open);
  const cs = channelSequence(ctx.header);
  if (cs === s.seq || ((cs - s.seq) & 0xffff) > 0x7fff) return;
  // A replay does not open a new epoch while requests of an older one still run (as Samba).
  if ((ctx.header.flags & HeaderFlags.REPLAY_OPERATION) && s.pre > 0) return;
  s.pre += s.outstanding;
  s.outstanding = 0;
  s.seq = cs;
}
