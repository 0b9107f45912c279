// StateStore on etcd (clustering = yes, cluster backend = etcd): durable/persistent open records
// and the CreateGuid replay cache live in an etcd cluster, so an open one node recorded can be
// reclaimed on another node after the first one dies (docs/cluster.md). Every write is one etcd
// transaction acknowledged by a quorum (raft commit) before it resolves, so the CREATE/LOCK answer
// that waits for it never claims state etcd does not hold (like disk.ts with its fsync).
//
// Keys (under `smbts/`, share names folded to lower case and URI-encoded):
//   smbts/state/<share>/opens/<fileId>                      → the OpenRecord as JSON
//   smbts/state/<share>/createguid/<clientGuid>/<createGuid> → fileId (the replay-cache index)
//   smbts/generation                                        → a counter each node start takes one of
//                                                              (FileIds stay unique across nodes)
//
// Every call has a deadline (default 5 s): without quorum etcd cannot commit or serve a linearized
// read, and the call fails with an EtcdStoreError naming the endpoints instead of hanging.
// The etcd3 package is loaded on first use, so a server without clustering never loads it.
import type { Etcd3, Namespace } from 'etcd3';
import { loadEtcd3 } from '../cluster/load-etcd.js';
import type { OpenRecord, StateStore } from './types.js';
import { parseRecord } from './record.js';

/** Default deadline of one etcd call. */
export const DEFAULT_ETCD_TIMEOUT_MS = 5_000;

export class EtcdStoreError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'EtcdStoreError';
  }
}

export interface EtcdStoreOptions {
  /** 'host:port' or 'http://host:port' of the etcd members. */
  endpoints: string[];
  /** Deadline of each call in ms (default 5 s). */
  timeoutMs?: number;
  /** Root of every key (default 'smbts/'). */
  prefix?: string;
}

/** One etcd3 client per endpoint list and prefix, shared by the stores of every share. */
interface Shared {
  client: Etcd3;
  users: number;
}
const clients = new Map<string, Promise<Shared>>();

function urlsOf(endpoints: string[]): string[] {
  return endpoints.map((e) => e.trim()).filter(Boolean).map((e) => (/^https?:\/\//.test(e) ? e : `http://${e}`));
}

async function acquire(o: EtcdStoreOptions): Promise<Shared> {
  const hosts = urlsOf(o.endpoints);
  if (hosts.length === 0) throw new EtcdStoreError('etcd endpoints: none given');
  const timeoutMs = o.timeoutMs ?? DEFAULT_ETCD_TIMEOUT_MS;
  const key = `${hosts.join(',')}|${timeoutMs}`;
  let p = clients.get(key);
  if (!p) {
    p = loadEtcd3().then(({ Etcd3 }) => ({
      client: new Etcd3({
        hosts,
        dialTimeout: timeoutMs,
        // Bounded calls: a cluster without quorum answers with an error, not a hang.
        defaultCallOptions: (ctx) => (ctx.isStream ? {} : { deadline: Date.now() + timeoutMs }),
      }),
      users: 0,
    }));
    clients.set(key, p);
  }
  const s = await p;
  s.users++;
  return s;
}

function release(o: EtcdStoreOptions, s: Shared): void {
  if (--s.users > 0) return;
  const hosts = urlsOf(o.endpoints);
  clients.delete(`${hosts.join(',')}|${o.timeoutMs ?? DEFAULT_ETCD_TIMEOUT_MS}`);
  s.client.close();
}

function validId(fileId: string): string {
  if (!/^\d{1,20}$/.test(fileId)) throw new Error(`bad record id ${JSON.stringify(fileId)}`);
  return fileId;
}

const hex = (s: string): string => s.toLowerCase();

export class EtcdStore implements StateStore {
  private shared: Promise<Shared> | undefined;
  private closed = false;
  private readonly root: string;
  private readonly base: string;

  /** The store of one share (`share` as configured; keys fold it to lower case). */
  constructor(readonly options: EtcdStoreOptions, share: string) {
    this.root = options.prefix ?? 'smbts/';
    this.base = `${this.root}state/${encodeURIComponent(share.toLowerCase())}/`;
  }

  private where(): string {
    return urlsOf(this.options.endpoints).join(',');
  }

  /** Runs one etcd operation; any failure becomes an EtcdStoreError that says what and where. */
  private async call<T>(what: string, work: (ns: Namespace, client: Etcd3) => Promise<T>): Promise<T> {
    if (this.closed) throw new EtcdStoreError(`etcd state store closed (${what})`);
    this.shared ??= acquire(this.options);
    const { client } = await this.shared;
    try {
      return await work(client.namespace(this.base), client);
    } catch (e) {
      const msg = e instanceof Error ? e.message : String(e);
      throw new EtcdStoreError(`etcd ${what} failed (${this.where()}): ${msg}`);
    }
  }

  private static openKey(fileId: string): string {
    return `opens/${validId(fileId)}`;
  }

  private static guidKey(clientGuid: string, createGuid: string): string {
    return `createguid/${hex(clientGuid)}/${hex(createGuid)}`;
  }

  putOpen(rec: OpenRecord): Promise<void> {
    const text = JSON.stringify(rec);
    return this.call('put', async (ns) => {
      const key = EtcdStore.openKey(rec.fileId);
      // The record and its CreateGuid index in one transaction (both or neither). etcd3's builder
      // needs a comparison; both branches do the same, so the outcome never depends on it.
      const ops = [ns.put(key).value(text)];
      if (rec.createGuid) ops.push(ns.put(EtcdStore.guidKey(rec.clientGuid, rec.createGuid)).value(rec.fileId));
      await ns.if(key, 'Version', '==', 0).then(...ops).else(...ops).commit();
    });
  }

  getOpen(fileId: string): Promise<OpenRecord | undefined> {
    return this.call('get', async (ns) => parseRecord(await ns.get(EtcdStore.openKey(fileId)).string()));
  }

  deleteOpen(fileId: string): Promise<void> {
    return this.call('delete', async (ns) => {
      const key = EtcdStore.openKey(fileId);
      const rec = parseRecord(await ns.get(key).string());
      const ops = [ns.delete().key(key)];
      // The index entry goes only if it still names this open (a newer open may own the CreateGuid).
      if (rec?.createGuid) {
        const g = EtcdStore.guidKey(rec.clientGuid, rec.createGuid);
        await ns.if(g, 'Value', '==', rec.fileId).then(...ops, ns.delete().key(g)).else(...ops).commit();
      } else {
        await ns.delete().key(key);
      }
    });
  }

  listOpens(): Promise<OpenRecord[]> {
    return this.call('list', async (ns) => {
      const all = await ns.getAll().prefix('opens/').strings();
      const out: OpenRecord[] = [];
      for (const text of Object.values(all)) {
        const r = parseRecord(text);
        if (r) out.push(r);
      }
      return out;
    });
  }

  findByCreateGuid(clientGuid: string, createGuid: string): Promise<OpenRecord | undefined> {
    return this.call('replay-cache lookup', async (ns) => {
      const id = await ns.get(EtcdStore.guidKey(clientGuid, createGuid)).string();
      if (id === null || !/^\d{1,20}$/.test(id)) return undefined;
      const r = parseRecord(await ns.get(EtcdStore.openKey(id)).string());
      // A stale index entry (the record was replaced) answers nothing.
      return r && hex(r.clientGuid) === hex(clientGuid) && r.createGuid !== undefined && hex(r.createGuid) === hex(createGuid) ? r : undefined;
    });
  }

  /**
   * Takes the next node generation (an etcd compare-and-swap on smbts/generation): a node that
   * starts numbers its FileIds from generation << 40, so two nodes never hand out the same
   * persistent FileId, and a restarted node never reuses one of its former life.
   */
  nextGeneration(): Promise<number> {
    const key = `${this.root}generation`;
    return this.call('generation', async (_ns, client) => {
      for (let i = 0; i < 20; i++) {
        const cur = await client.get(key).string();
        const next = (cur === null ? 0 : Number(cur)) + 1;
        if (!Number.isSafeInteger(next) || next >= 1 << 23) throw new Error(`generation counter ${cur} out of range`);
        const txn = cur === null ? client.if(key, 'Version', '==', 0) : client.if(key, 'Value', '==', cur);
        const r = await txn.then(client.put(key).value(String(next))).commit();
        if (r.succeeded) return next;
      }
      throw new Error('generation counter: too much contention');
    });
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    const s = this.shared;
    this.shared = undefined;
    if (s) release(this.options, await s.catch(() => undefined as unknown as Shared));
  }
}

