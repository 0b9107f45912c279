// SMB2 LOCK (MS-SMB2 3.3.5.14). Blocking requests (one element, no FAIL_IMMEDIATELY) go async and
// complete when the range frees or are cancelled. Lock failures are LOCK_NOT_GRANTED in SMB2;
// FILE_LOCK_CONFLICT is what READ/WRITE report.
import { Status } from '../../wire/status.js';
import { decodeLockRequest, encodeLockResponse, type LockElement } from '../../wire/lock.js';
import { LockFlags } from '../../wire/constants.js';
import type { Open, RequestContext } from '../types.js';
import { persist } from '../durable.js';
import { handlerOf, requireOpen, fail, cancelledByClient } from '../files/util.js';
import { stateOf } from '../open-file.js';
import { tryLock, unlock, validRange, STATUS_INVALID_LOCK_RANGE } from '../locks.js';
import { breakLevelII } from '../oplocks.js';
import { limitsOf } from '../limits.js';
import { waitForInflightWrites, inflightOverlapping } from '../inflight-writes.js';
import { clusterOf, type ClusterHooks } from '../cluster/hooks.js';
import { MAX_CLUSTER_RETRIES } from '../cluster/create-hook.js';

/** Publishes an open's new locks; on a lost compare they are given back (false). */
async function publishLocks(cluster: ClusterHooks, open: Open, locks: LockElement[]): Promise<boolean> {
  let ok = false;
  try {
    ok = await cluster.publish(open, true);
  } finally {
    if (!ok) for (const l of locks) unlock(stateOf(open).node, open, l.offset, l.length);
  }
  return ok;
}

const LOCK_SHARED = LockFlags.SHARED;
const LOCK_EXCL = LockFlags.EXCLUSIVE;
const FAIL_IMM = LockFlags.FAIL_IMMEDIATELY;
/** Elements handled between two yields of the event loop. */
const YIELD_EVERY = 256;
const yieldLoop = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

function validFlags(f: number, unlocking: boolean, multi: boolean): boolean {
  if (unlocking) return f === LockFlags.UNLOCK;
  const kind = f & ~FAIL_IMM;
  if (kind !== LOCK_SHARED && kind !== LOCK_EXCL) return false;
  // 3.3.5.14: several lock elements must all be FAIL_IMMEDIATELY.
  if (multi && !(f & FAIL_IMM)) return false;
  return true;
}

async function doLocks(open: Open, locks: LockElement[], maxLocks: number): Promise<number> {
  const st0 = stateOf(open);
  const node = st0.node;
  const taken: LockElement[] = [];
  for (let i = 0; i < locks.length; i++) {
    const l = locks[i]!;
    if (i > 0 && i % YIELD_EVERY === 0) {
      // A long request lets other clients' requests run in between (issue 9).
      await yieldLoop();
      if (st0.closed) return Status.FILE_CLOSED; // closeOpen dropped every lock of the open
    }
    if (!validRange(l.offset, l.length)) {
      for (const t of taken) unlock(node, open, t.offset, t.length);
      return STATUS_INVALID_LOCK_RANGE;
    }
    const st = tryLock(node, open, l.offset, l.length, !!(l.flags & LOCK_EXCL), maxLocks);
    if (st) {
      for (const t of taken) unlock(node, open, t.offset, t.length);
      return st;
    }
    taken.push(l);
  }
  return Status.SUCCESS;
}

async function blockingLock(ctx: RequestContext, open: Open, l: LockElement, maxLocks: number): Promise<number> {
  const node = stateOf(open).node;
  const first = tryLock(node, open, l.offset, l.length, !!(l.flags & LOCK_EXCL), maxLocks);
  if (first !== Status.LOCK_NOT_GRANTED) return first;
  const op = ctx.goAsync();
  return new Promise<number>((resolve) => {
    const st = stateOf(open);
    let finished = false;
    const done = (status: number): void => {
      finished = true;
      node.lockWaiters.delete(retry);
      st.onClose.delete(onClose);
      op.signal.removeEventListener('abort', onAbort);
      resolve(status);
    };
    const retry = (): void => {
      if (finished) return;
      if (st.closed) return done(Status.RANGE_NOT_LOCKED);
      const writing = inflightOverlapping(node, [l]);
      if (writing) return void writing.then(retry);
      const s = tryLock(node, open, l.offset, l.length, !!(l.flags & LOCK_EXCL), maxLocks);
      if (s !== Status.LOCK_NOT_GRANTED) done(s);
    };
    // A client CANCEL answers CANCELLED; a pending lock dropped because its session or connection
    // goes away (LOGOFF closes the handles) answers RANGE_NOT_LOCKED, as Samba (smb2.lock.cancel-logoff).
    const onAbort = (): void => done(cancelledByClient(op.signal) ? Status.CANCELLED : Status.RANGE_NOT_LOCKED);
    // Closing the handle cancels its pending lock (Windows: STATUS_RANGE_NOT_LOCKED).
    const onClose = (): void => done(Status.RANGE_NOT_LOCKED);
    node.lockWaiters.add(retry);
    st.onClose.add(onClose);
    if (op.signal.aborted) onAbort();
    else op.signal.addEventListener('abort', onAbort, { once: true });
  });
}

export const handler = handlerOf(async (ctx) => {
  const req = decodeLockRequest(ctx.msg);
  const limits = limitsOf(ctx.server.config);
  // Elements per request are capped (config "max lock elements", default 64 as ksmbd).
  if (req.locks.length > limits.maxLockElements) fail(Status.INVALID_PARAMETER);
  const open = requireOpen(ctx, req.fileId);
  if (open.pipe || open.isDirectory) fail(Status.INVALID_PARAMETER);
  const st = stateOf(open);
  // Lock sequence replay (3.3.5.14, dialect 2.1+): a repeated (index, number) succeeds at once.
  const idx = req.lockSequenceIndex;
  const replayable = ctx.conn.dialect >= 0x0210 && idx >= 1 && idx <= 64;
  if (replayable && st.lockSequence.get(idx) === req.lockSequenceNumber) {
    return { status: Status.SUCCESS, body: encodeLockResponse() };
  }
  const unlocking = req.locks[0]!.flags === LockFlags.UNLOCK;
  const multi = req.locks.length > 1;
  if (!unlocking) {
    req.locks.forEach((l, i) => { if (!validFlags(l.flags, false, multi && i > 0)) fail(Status.INVALID_PARAMETER); });
  }

  let status: number;
  if (unlocking) {
    // Unlocks apply in order; a non-UNLOCK element or a range not locked stops the request
    // with RANGE_NOT_LOCKED, keeping the unlocks before it (Samba smbd_smb2_lock_send).
    status = Status.SUCCESS;
    const node = st.node;
    for (let i = 0; i < req.locks.length; i++) {
      const l = req.locks[i]!;
      if (i > 0 && i % YIELD_EVERY === 0) await yieldLoop();
      const kind = l.flags & ~FAIL_IMM;
      const s = l.flags === LockFlags.UNLOCK ? unlock(node, open, l.offset, l.length)
        : kind === LOCK_SHARED || kind === LOCK_EXCL ? Status.INVALID_PARAMETER : Status.RANGE_NOT_LOCKED;
      if (s) { status = s; break; }
    }
  } else {
    // A WRITE still arriving over these ranges goes first (inflight-writes.ts): the LOCK waits
    // for it as an async operation that CANCEL ends (inline in the middle of a compound).
    if (inflightOverlapping(st.node, req.locks)) {
      const op = ctx.goAsync();
      if (op.signal.aborted) {
        await waitForInflightWrites(st.node, req.locks);
      } else {
        const aborted = new Promise<void>((r) => op.signal.addEventListener('abort', () => r(), { once: true }));
        await Promise.race([waitForInflightWrites(st.node, req.locks), aborted]);
        if (op.signal.aborted) return { status: cancelledByClient(op.signal) ? Status.CANCELLED : Status.RANGE_NOT_LOCKED };
      }
    }
    breakLevelII(ctx.server, open);
    const l = req.locks[0]!;
    const cluster = clusterOf(ctx.server);
    for (let round = 0; ; round++) {
      if (!multi && !(l.flags & FAIL_IMM)) {
        status = validRange(l.offset, l.length) ? await blockingLock(ctx, open, l, limits.maxLocksPerFile) : STATUS_INVALID_LOCK_RANGE;
      } else {
        status = await doLocks(open, req.locks, limits.maxLocksPerFile);
      }
      // Cluster mode: the new locks are published against the file's cluster revision; another
      // node's change meanwhile (now in the mirror) means taking them again (cluster/coordinator.ts).
      if (status || !cluster || await publishLocks(cluster, open, req.locks)) break;
      if (round >= MAX_CLUSTER_RETRIES) { status = Status.INSUFFICIENT_RESOURCES; break; }
    }
  }
  if (status) return { status };
  if (unlocking) await clusterOf(ctx.server)?.publish(open, false).catch(() => false);
  if (replayable) st.lockSequence.set(idx, req.lockSequenceNumber);
  // Persistent opens: the lock is on disk before the client hears of it (durable.ts).
  await persist(ctx.server, open).catch(() => undefined);
  return { status: Status.SUCCESS, body: encodeLockResponse() };
});
