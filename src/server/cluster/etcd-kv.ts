// Kv over etcd v3 through the `etcd3` client. The package (and gRPC under it) is imported only
// here, and this module only by openEtcdKv's dynamic import, so a single-node server never
// loads it.
import type * as Etcd from 'etcd3';
import { loadEtcd3, type EtcdModule } from './load-etcd.js';
import {
  KvUnavailableError,
  type Kv, type KvCompare, type KvEntry, type KvEvent, type KvLease, type KvOp, type KvRange,
  type KvTxnRequest, type KvTxnResult, type KvWatch, type KvWatchHandlers,
} from './kv.js';

export interface EtcdKvOptions {
  /** host:port of each member (http unless a scheme is given). */
  endpoints: string[];
  /** Deadline of one call (ms): past it the backend counts as unavailable. Default 3000. */
  callTimeoutMs?: number;
}


export async function openEtcdKv(opts: EtcdKvOptions): Promise<Kv> {
  const mod: EtcdModule = await loadEtcd3();
  return new EtcdKv(mod, opts);
}

const utf8 = (s: string): Buffer => Buffer.from(s, 'utf8');

/** etcd's "all keys with this prefix" range end (the prefix with its last byte < 0xff bumped). */
function rangeEnd(prefix: Buffer): Buffer {
  const end = Buffer.from(prefix);
  for (let i = end.length - 1; i >= 0; i--) {
    if (end[i] < 0xff) { end[i]++; return end.subarray(0, i + 1); }
  }
  return Buffer.from([0]);
}

function entryOf(kv: Etcd.IKeyValue, leaseHandle: (etcdId: string) => number): KvEntry {
  return {
    key: kv.key.toString('utf8'),
    value: kv.value.toString('utf8'),
    createRevision: Number(kv.create_revision),
    modRevision: Number(kv.mod_revision),
    version: Number(kv.version),
    lease: kv.lease && kv.lease !== '0' ? leaseHandle(String(kv.lease)) : 0,
  };
}

function unavailable(what: string, err: unknown): KvUnavailableError {
  if (err instanceof KvUnavailableError) return err;
  const msg = err instanceof Error ? err.message : String(err);
  return new KvUnavailableError(`etcd ${what}: ${msg}`, err);
}

class EtcdKv implements Kv {
  private readonly client: Etcd.Etcd3;
  private readonly timeout: number;
  private readonly leases = new Set<Etcd.Lease>();
  // etcd lease ids are int64 (beyond a JS number's 53 bits): the Kv seam sees small local handles.
  private readonly etcdIds = new Map<number, string>();
  private readonly handles = new Map<string, number>();
  private nextHandle = 1;
  private readonly handleOf = (etcdId: string): number => this.handles.get(etcdId) ?? -1;

  constructor(private readonly mod: EtcdModule, opts: EtcdKvOptions) {
    this.timeout = opts.callTimeoutMs ?? 3000;
    const hosts = opts.endpoints.map((e) => (e.includes('://') ? e : `http://${e}`));
    this.client = new mod.Etcd3({ hosts, dialTimeout: this.timeout });
  }

  private callOptions(): { deadline: Date } {
    return { deadline: new Date(Date.now() + this.timeout) };
  }

  async getPrefix(prefix: string): Promise<KvRange> {
    const key = utf8(prefix);
    try {
      const res = await this.client.kv.range({ key, range_end: rangeEnd(key) }, this.callOptions());
      return { entries: res.kvs.map((kv) => entryOf(kv, this.handleOf)), revision: Number(res.header.revision) };
    } catch (err) { throw unavailable('range', err); }
  }

  async get(key: string): Promise<KvEntry | undefined> {
    try {
      const res = await this.client.kv.range({ key: utf8(key) }, this.callOptions());
      return res.kvs.length ? entryOf(res.kvs[0], this.handleOf) : undefined;
    } catch (err) { throw unavailable('get', err); }
  }

  async txn(req: KvTxnRequest): Promise<KvTxnResult> {
    const { CompareResult, CompareTarget } = this.mod;
    const cmpOp = { '=': CompareResult.Equal, '!=': CompareResult.NotEqual, '<': CompareResult.Less, '>': CompareResult.Greater };
    const compare = req.compare.map((c: KvCompare): Etcd.ICompare => {
      const key = utf8(c.key);
      switch (c.target) {
        case 'value': return { key, target: CompareTarget.Value, result: cmpOp[c.op], value: utf8(c.value) };
        case 'version': return { key, target: CompareTarget.Version, result: cmpOp[c.op], version: c.value };
        case 'modRevision': return { key, target: CompareTarget.Mod, result: cmpOp[c.op], mod_revision: c.value };
        case 'createRevision': return { key, target: CompareTarget.Create, result: cmpOp[c.op], create_revision: c.value };
      }
    });
    const ops = (list: KvOp[] | undefined): Etcd.IRequestOp[] => (list ?? []).map((op) => {
      switch (op.type) {
        case 'put': return { request_put: { key: utf8(op.key), value: utf8(op.value), lease: op.lease ? this.etcdLease(op.lease) : undefined } };
        case 'delete': return { request_delete_range: { key: utf8(op.key) } };
        case 'deletePrefix': { const key = utf8(op.prefix); return { request_delete_range: { key, range_end: rangeEnd(key) } }; }
      }
    });
    try {
      const res = await this.client.kv.txn({ compare, success: ops(req.then), failure: ops(req.otherwise) }, this.callOptions());
      return { succeeded: res.succeeded, revision: Number(res.header.revision) };
    } catch (err) { throw unavailable('txn', err); }
  }

  private etcdLease(handle: number): string {
    const id = this.etcdIds.get(handle);
    if (id === undefined) throw new KvUnavailableError(`etcd: lease handle ${handle} unknown (revoked or lost)`);
    return id;
  }

  async watchPrefix(prefix: string, fromRevision: number, handlers: KvWatchHandlers): Promise<KvWatch> {
    let watcher: Etcd.Watcher;
    try {
      watcher = await this.client.watch().prefix(prefix).startRevision(String(fromRevision)).create();
    } catch (err) { throw unavailable('watch', err); }
    let live = true;
    // The etcd3 watcher reconnects by itself and resumes after its last revision; only a watch
    // that cannot resume (compacted, or cancelled by the server) must be rebuilt by the caller.
    watcher.on('data', (res) => {
      if (!live || !res.events.length) return;
      const events: KvEvent[] = res.events.map((e) => ({
        type: e.type === 'Delete' ? 'delete' : 'put',
        key: e.kv.key.toString('utf8'),
        value: e.type === 'Delete' ? '' : e.kv.value.toString('utf8'),
        modRevision: Number(e.kv.mod_revision),
      }));
      handlers.onEvents(events);
    });
    watcher.on('error', (err) => {
      if (!live) return;
      live = false;
      handlers.onReset(unavailable('watch', err));
      void watcher.cancel().catch(() => undefined);
    });
    return {
      cancel: async () => { live = false; await watcher.cancel().catch(() => undefined); },
    };
  }

  async grantLease(ttlSeconds: number): Promise<KvLease> {
    const lease = this.client.lease(ttlSeconds, { autoKeepAlive: true });
    let etcdId: string;
    try {
      etcdId = await lease.grant();
    } catch (err) {
      lease.release();
      throw unavailable('lease grant', err);
    }
    this.leases.add(lease);
    const id = this.nextHandle++;
    this.etcdIds.set(id, etcdId);
    this.handles.set(etcdId, id);
    const forget = (): void => { this.etcdIds.delete(id); this.handles.delete(etcdId); };
    let lostErr: KvUnavailableError | undefined;
    const listeners: ((err: KvUnavailableError) => void)[] = [];
    lease.on('lost', (err) => {
      this.leases.delete(lease);
      forget();
      lostErr = unavailable('lease lost', err);
      for (const l of listeners.splice(0)) l(lostErr);
    });
    return {
      id, ttlSeconds,
      onLost: (l) => { if (lostErr) l(lostErr); else listeners.push(l); },
      revoke: async () => {
        this.leases.delete(lease);
        forget();
        listeners.length = 0;
        try { await lease.revoke(this.callOptions()); } catch (err) { throw unavailable('lease revoke', err); }
      },
    };
  }

  async close(): Promise<void> {
    for (const lease of this.leases) lease.release();
    this.leases.clear();
    this.client.close();
  }
}
