// The worker's side of the local cluster: the Kv seam (cluster/kv.ts) as calls to the primary's
// KvHost over process IPC. The coordination logic above it cannot tell it from etcd.
import {
  KvUnavailableError,
  type Kv, type KvEntry, type KvLease, type KvRange, type KvTxnRequest, type KvTxnResult, type KvWatch, type KvWatchHandlers,
} from '../cluster/kv.js';
import type { KvCall, KvReq, ToWorker } from './messages.js';

/** A call the primary did not answer in this long fails as an unavailable backend would. */
const CALL_TIMEOUT_MS = 10_000;

export class IpcKv implements Kv {
  private nextId = 1;
  private readonly calls = new Map<number, { resolve(v: unknown): void; reject(e: Error): void; timer: NodeJS.Timeout }>();
  private readonly watches = new Map<number, KvWatchHandlers>();
  private readonly lost = new Map<number, Array<(e: KvUnavailableError) => void>>();
  private closed = false;

  /** `send` posts to the primary; feed every message from it to `receive`. */
  constructor(private readonly send: (msg: KvReq) => boolean) {}

  /** Returns true when the message was for the KV. */
  receive(msg: ToWorker): boolean {
    if (msg.t === 'kv-res') {
      const c = this.calls.get(msg.id);
      if (!c) return true;
      this.calls.delete(msg.id);
      clearTimeout(c.timer);
      if (msg.ok) c.resolve(msg.value);
      else c.reject(msg.unavailable ? new KvUnavailableError(msg.error ?? 'unavailable') : new Error(msg.error ?? 'kv error'));
      return true;
    }
    if (msg.t === 'kv-watch') {
      const h = this.watches.get(msg.watch);
      if (h && msg.events) h.onEvents(msg.events);
      if (h && msg.reset !== undefined) h.onReset(new KvUnavailableError(msg.reset));
      return true;
    }
    if (msg.t === 'kv-lease-lost') {
      for (const l of this.lost.get(msg.lease)?.splice(0) ?? []) l(new KvUnavailableError(msg.reason));
      return true;
    }
    return false;
  }

  private call<T>(call: KvCall): Promise<T> {
    if (this.closed) return Promise.reject(new KvUnavailableError('local kv: closed'));
    const id = this.nextId++;
    return new Promise<T>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.calls.delete(id);
        reject(new KvUnavailableError(`local kv: no answer from the primary in ${CALL_TIMEOUT_MS} ms`));
      }, CALL_TIMEOUT_MS);
      this.calls.set(id, { resolve: resolve as (v: unknown) => void, reject, timer });
      let sent = false;
      try {
        sent = this.send({ t: 'kv', id, call });
      } catch {
        sent = false;
      }
      if (!sent) {
        this.calls.delete(id);
        clearTimeout(timer);
        reject(new KvUnavailableError('local kv: the primary is gone'));
      }
    });
  }

  getPrefix(prefix: string): Promise<KvRange> {
    return this.call({ op: 'getPrefix', prefix });
  }

  async get(key: string): Promise<KvEntry | undefined> {
    return (await this.call<KvEntry | null | undefined>({ op: 'get', key })) ?? undefined;
  }

  txn(req: KvTxnRequest): Promise<KvTxnResult> {
    return this.call({ op: 'txn', req });
  }

  async watchPrefix(prefix: string, fromRevision: number, handlers: KvWatchHandlers): Promise<KvWatch> {
    const watch = this.nextId++;
    this.watches.set(watch, handlers);
    try {
      await this.call({ op: 'watch', prefix, fromRevision, watch });
    } catch (e) {
      this.watches.delete(watch);
      throw e;
    }
    return {
      cancel: async () => {
        this.watches.delete(watch);
        await this.call({ op: 'unwatch', watch }).catch(() => undefined);
      },
    };
  }

  async grantLease(ttlSeconds: number): Promise<KvLease> {
    const id = await this.call<number>({ op: 'grantLease', ttlSeconds });
    const lost: Array<(e: KvUnavailableError) => void> = [];
    this.lost.set(id, lost);
    return {
      id, ttlSeconds,
      onLost: (l) => { lost.push(l); },
      revoke: async () => {
        this.lost.delete(id);
        await this.call({ op: 'revokeLease', lease: id });
      },
    };
  }

  async close(): Promise<void> {
    this.closed = true;
    for (const [id, c] of this.calls) {
      clearTimeout(c.timer);
      c.reject(new KvUnavailableError('local kv: closed'));
      this.calls.delete(id);
    }
    this.watches.clear();
  }
}
