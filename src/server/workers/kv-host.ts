// The primary's side of the local cluster: one MemoryKv (etcd semantics, cluster/memory-kv.ts)
// served to every worker over IPC. A worker's liveness leases end when its process exits, so the
// keys it published (its opens, locks, leases) vanish in one revision and the other workers'
// watches see them go: the same contract etcd gives a cluster node, without a network.
import { MemoryKv } from '../cluster/memory-kv.js';
import { KvUnavailableError, type KvLease, type KvWatch } from '../cluster/kv.js';
import type { KvReq, ToWorker } from './messages.js';

interface Peer {
  send(msg: ToWorker): void;
  watches: Map<number, KvWatch>;
  leases: Map<number, KvLease>;
}

export class KvHost {
  readonly kv = new MemoryKv();
  private readonly peers = new Map<number, Peer>();

  /** A worker (by slot) starts talking; a previous process in that slot must have been detached. */
  attach(slot: number, send: (msg: ToWorker) => void): void {
    this.peers.set(slot, { send, watches: new Map(), leases: new Map() });
  }

  /** The worker in `slot` is gone: its watches stop and its leases expire (its keys are deleted). */
  detach(slot: number): void {
    const p = this.peers.get(slot);
    if (!p) return;
    this.peers.delete(slot);
    for (const w of p.watches.values()) void w.cancel();
    for (const l of p.leases.values()) this.kv.expireLease(l.id);
  }

  async handle(slot: number, req: KvReq): Promise<void> {
    const p = this.peers.get(slot);
    if (!p) return;
    const c = req.call;
    try {
      let value: unknown;
      switch (c.op) {
        case 'getPrefix': value = await this.kv.getPrefix(c.prefix); break;
        case 'get': value = await this.kv.get(c.key); break;
        case 'txn': value = await this.kv.txn(c.req); break;
        case 'watch': {
          const w = await this.kv.watchPrefix(c.prefix, c.fromRevision, {
            onEvents: (events) => p.send({ t: 'kv-watch', watch: c.watch, events }),
            onReset: (err) => p.send({ t: 'kv-watch', watch: c.watch, reset: err.message }),
          });
          p.watches.set(c.watch, w);
          break;
        }
        case 'unwatch': {
          await p.watches.get(c.watch)?.cancel();
          p.watches.delete(c.watch);
          break;
        }
        case 'grantLease': {
          const l = await this.kv.grantLease(c.ttlSeconds);
          p.leases.set(l.id, l);
          l.onLost((err) => p.send({ t: 'kv-lease-lost', lease: l.id, reason: err.message }));
          value = l.id;
          break;
        }
        case 'revokeLease': {
          const l = p.leases.get(c.lease);
          p.leases.delete(c.lease);
          await l?.revoke();
          break;
        }
      }
      p.send({ t: 'kv-res', id: req.id, ok: true, value });
    } catch (e) {
      p.send({ t: 'kv-res', id: req.id, ok: false, error: (e as Error).message, unavailable: e instanceof KvUnavailableError });
    }
  }

  async close(): Promise<void> {
    for (const slot of [...this.peers.keys()]) this.detach(slot);
    await this.kv.close();
  }
}
