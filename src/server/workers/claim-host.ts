// The primary's side of file claims (cluster/claims.ts): who may decide opens of a file alone.
// A file (fileKey) is either unclaimed, owned by one worker (it decides share modes, oplocks,
// leases and locks locally, publishing nothing), or shared by a set of workers that coordinate
// through the KV (coordinator.ts). A claim of a file owned by another worker revokes it there
// first: the owner publishes its opens of the file (if any) in the KV, and only then does the
// claimant hear "shared" - after the owner's KV writes, on the same ordered channel, so its
// mirror already holds them. A worker's KV calls and claim messages share one channel, so a
// release arrives after the KV deletes of the opens it ends.
import type { ClaimMsg, ToWorker } from './messages.js';

interface Revoking { rid: number; holder: number; waiters: Array<{ slot: number; id: number }> }
interface Entry {
  owner: number | undefined;
  members: Set<number> | undefined;
  revoking: Revoking | undefined;
}

export class ClaimHost {
  private readonly files = new Map<string, Entry>();
  private readonly revokes = new Map<number, string>();
  private nextRid = 1;

  /**
   * `send` posts to a worker slot; `freed` runs when a shared file has no worker left (its
   * KV revision keys can go).
   */
  constructor(
    private readonly send: (slot: number, m: ToWorker) => void,
    private readonly freed: (fileKey: string) => void,
  ) {}

  handle(slot: number, m: ClaimMsg): void {
    if (m.t === 'claim') this.claim(slot, m.id, m.key);
    else if (m.t === 'release') for (const k of m.keys) this.release(slot, k);
    else this.revoked(m.rid, m.held);
  }

  private claim(slot: number, id: number, key: string): void {
    const e = this.files.get(key);
    if (!e) {
      this.files.set(key, { owner: slot, members: undefined, revoking: undefined });
      this.answer(slot, id, false);
      return;
    }
    if (e.revoking) {
      e.revoking.waiters.push({ slot, id });
      return;
    }
    if (e.owner !== undefined) {
      if (e.owner === slot) {
        this.answer(slot, id, false);
        return;
      }
      const rid = this.nextRid++;
      e.revoking = { rid, holder: e.owner, waiters: [{ slot, id }] };
      this.revokes.set(rid, key);
      this.send(e.owner, { t: 'revoke', rid, key });
      return;
    }
    e.members!.add(slot);
    this.answer(slot, id, true);
  }

  /**
   * After the KV's watch deliveries already queued (memory-kv.ts delivers on a microtask): IPC
   * messages read together are handled before microtasks run, so a claimant hears "shared" only
   * after the events of the holder's publishing.
   */
  private answer(slot: number, id: number, shared: boolean): void {
    queueMicrotask(() => this.send(slot, { t: 'claim-res', id, shared }));
  }

  private revoked(rid: number, held: boolean): void {
    const key = this.revokes.get(rid);
    if (key === undefined) return;
    const e = this.files.get(key);
    if (e?.revoking?.rid === rid) this.settle(key, e, held);
    else this.revokes.delete(rid);
  }

  /** A revoke answered: the holder had opens (all share) or not (one claimant owns it alone). */
  private settle(key: string, e: Entry, held: boolean): void {
    const r = e.revoking!;
    this.revokes.delete(r.rid);
    e.revoking = undefined;
    const slots = [...new Set(r.waiters.map((w) => w.slot))];
    if (held) slots.push(r.holder);
    if (slots.length === 0) {
      this.files.delete(key);
      return;
    }
    if (!held && slots.length === 1) {
      e.owner = slots[0];
      e.members = undefined;
    } else {
      e.owner = undefined;
      e.members = new Set(slots);
    }
    for (const w of r.waiters) this.answer(w.slot, w.id, e.members !== undefined);
  }

  private release(slot: number, key: string): void {
    const e = this.files.get(key);
    if (!e) return;
    // A release crossing a revoke: the holder has no opens of the file.
    if (e.revoking?.holder === slot) return this.settle(key, e, false);
    if (e.owner === slot) {
      this.files.delete(key);
    } else if (e.members?.delete(slot) && e.members.size === 0 && !e.revoking) {
      this.files.delete(key);
      this.freed(key);
    }
  }

  /** The worker in `slot` is gone (its KV lease already ended): its claims and shares end. */
  detach(slot: number): void {
    for (const [key, e] of [...this.files]) {
      if (e.revoking) {
        e.revoking.waiters = e.revoking.waiters.filter((w) => w.slot !== slot);
        if (e.revoking.holder === slot) this.settle(key, e, false);
        continue;
      }
      this.release(slot, key);
    }
  }

  /** Files claimed or shared (status, tests). */
  get size(): number {
    return this.files.size;
  }
}
