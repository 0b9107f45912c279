// An in-process Kv with etcd's semantics (one revision counter, compares, prefix watches,
// leases). Unit tests run the coordinator on it; a primary process can host it for worker
// processes on one machine (their side forwards each call over IPC). Leases here never expire
// by time: the host revokes the lease of a worker it saw die (expireLease).
import {
  KvUnavailableError,
  type Kv, type KvCompare, type KvEntry, type KvEvent, type KvLease, type KvOp, type KvRange,
  type KvTxnRequest, type KvTxnResult, type KvWatch, type KvWatchHandlers,
} from './kv.js';

interface Watcher { prefix: string; handlers: KvWatchHandlers; live: boolean }
interface LeaseRec { keys: Set<string>; lost: ((err: KvUnavailableError) => void)[] }

export class MemoryKv implements Kv {
  private readonly data = new Map<string, KvEntry>();
  private revision = 1;
  private readonly history: KvEvent[] = [];
  private readonly watchers = new Set<Watcher>();
  private readonly leases = new Map<number, LeaseRec>();
  private nextLease = 1;
  /** When set, every call fails as etcd does without quorum (tests). */
  unavailable = false;

  private check(): void {
    if (this.unavailable) throw new KvUnavailableError('memory kv: unavailable');
  }

  async getPrefix(prefix: string): Promise<KvRange> {
    this.check();
    const entries = [...this.data.values()].filter((e) => e.key.startsWith(prefix)).sort((a, b) => (a.key < b.key ? -1 : 1));
    return { entries: entries.map((e) => ({ ...e })), revision: this.revision };
  }

  async get(key: string): Promise<KvEntry | undefined> {
    this.check();
    const e = this.data.get(key);
    return e ? { ...e } : undefined;
  }

  private holds(c: KvCompare): boolean {
    const e = this.data.get(c.key);
    if (c.target === 'value') {
      const v = e?.value;
      return c.op === '=' ? v === c.value : v !== c.value;
    }
    const actual = !e ? 0 : c.target === 'version' ? e.version : c.target === 'modRevision' ? e.modRevision : e.createRevision;
    switch (c.op) {
      case '=': return actual === c.value;
      case '!=': return actual !== c.value;
      case '<': return actual < c.value;
      case '>': return actual > c.value;
    }
  }

  async txn(req: KvTxnRequest): Promise<KvTxnResult> {
    this.check();
    const succeeded = req.compare.every((c) => this.holds(c));
    const ops = (succeeded ? req.then : req.otherwise) ?? [];
    const events = this.apply(ops);
    return { succeeded, revision: events.length ? this.revision : this.revision };
  }

  private apply(ops: KvOp[]): KvEvent[] {
    const events: KvEvent[] = [];
    const rev = this.revision + 1;
    for (const op of ops) {
      if (op.type === 'put') {
        if (op.lease && !this.leases.has(op.lease)) throw new KvUnavailableError(`memory kv: lease ${op.lease} not found`);
        const old = this.data.get(op.key);
        if (old?.lease) this.leases.get(old.lease)?.keys.delete(op.key);
        this.data.set(op.key, {
          key: op.key, value: op.value, modRevision: rev, lease: op.lease ?? 0,
          createRevision: old ? old.createRevision : rev, version: old ? old.version + 1 : 1,
        });
        if (op.lease) this.leases.get(op.lease)?.keys.add(op.key);
        events.push({ type: 'put', key: op.key, value: op.value, modRevision: rev });
      } else {
        const keys = op.type === 'delete' ? [op.key] : [...this.data.keys()].filter((k) => k.startsWith(op.prefix));
        for (const k of keys) events.push(...this.remove(k, rev));
      }
    }
    if (events.length) {
      this.revision = rev;
      this.publish(events);
    }
    return events;
  }

  private remove(key: string, rev: number): KvEvent[] {
    const old = this.data.get(key);
    if (!old) return [];
    this.data.delete(key);
    if (old.lease) this.leases.get(old.lease)?.keys.delete(key);
    return [{ type: 'delete', key, value: '', modRevision: rev }];
  }

  private publish(events: KvEvent[]): void {
    this.history.push(...events);
    if (this.history.length > 10000) this.history.splice(0, this.history.length - 10000);
    for (const w of this.watchers) {
      const mine = events.filter((e) => e.key.startsWith(w.prefix));
      // Delivered on a later turn, as a network watch would be.
      if (mine.length) queueMicrotask(() => { if (w.live) w.handlers.onEvents(mine); });
    }
  }

  async watchPrefix(prefix: string, fromRevision: number, handlers: KvWatchHandlers): Promise<KvWatch> {
    this.check();
    const w: Watcher = { prefix, handlers, live: true };
    const oldest = this.history.length ? this.history[0].modRevision : this.revision + 1;
    if (fromRevision <= this.revision && fromRevision < oldest && this.history.length) {
      throw new KvUnavailableError(`memory kv: revision ${fromRevision} compacted`);
    }
    const backlog = this.history.filter((e) => e.modRevision >= fromRevision && e.key.startsWith(prefix));
    if (backlog.length) queueMicrotask(() => { if (w.live) handlers.onEvents(backlog); });
    this.watchers.add(w);
    return { cancel: async () => { w.live = false; this.watchers.delete(w); } };
  }

  async grantLease(ttlSeconds: number): Promise<KvLease> {
    this.check();
    const id = this.nextLease++;
    const rec: LeaseRec = { keys: new Set(), lost: [] };
    this.leases.set(id, rec);
    return {
      id, ttlSeconds,
      onLost: (l) => { if (this.leases.has(id)) rec.lost.push(l); else l(new KvUnavailableError('memory kv: lease gone')); },
      revoke: async () => { rec.lost.length = 0; this.expireLease(id); },
    };
  }

  /** Ends a lease as if its holder died: its keys are deleted in one revision. */
  expireLease(id: number): void {
    const rec = this.leases.get(id);
    if (!rec) return;
    this.leases.delete(id);
    const keys = [...rec.keys];
    if (keys.length) {
      const rev = this.revision + 1;
      const events = keys.flatMap((k) => this.remove(k, rev));
      this.revision = rev;
      this.publish(events);
    }
    for (const l of rec.lost.splice(0)) l(new KvUnavailableError(`memory kv: lease ${id} expired`));
  }

  async close(): Promise<void> {
    for (const w of this.watchers) w.live = false;
    this.watchers.clear();
  }
}
