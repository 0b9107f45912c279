// The key-value seam under cluster coordination: what the coordinator needs and etcd offers.
// Two backends implement it: etcd-kv.ts (etcd v3 over the `etcd3` client, several machines) and
// a local backend hosted by a primary process over IPC (several worker processes on one
// machine). Keys and values are UTF-8 strings; values are JSON written by the coordinator.
//
// Revisions follow etcd's model: one cluster-wide counter that every write transaction bumps;
// each key carries createRevision (when it was created), modRevision (its last write) and
// version (writes since creation; 0 = absent). A compare on a key that does not exist sees
// modRevision 0, version 0 and no value.

/** One stored key. */
export interface KvEntry {
  key: string;
  value: string;
  createRevision: number;
  modRevision: number;
  version: number;
  /** Liveness lease the key is attached to, as this backend's handle (KvLease.id; 0 = none, -1 = a lease of another client). */
  lease: number;
}

/** A range read: every key under a prefix (or one key), consistent at one revision. */
export interface KvRange {
  entries: KvEntry[];
  /** The store's revision when the read was served; watch from revision + 1 to miss nothing. */
  revision: number;
}

/** A condition of a transaction; all must hold for `then` to run. */
export type KvCompare =
  | { key: string; target: 'modRevision' | 'version' | 'createRevision'; op: '=' | '<' | '>' | '!='; value: number }
  | { key: string; target: 'value'; op: '=' | '!='; value: string };

/** A write of a transaction. `lease` attaches the key to a liveness lease (it vanishes with it). */
export type KvOp =
  | { type: 'put'; key: string; value: string; lease?: number }
  | { type: 'delete'; key: string }
  | { type: 'deletePrefix'; prefix: string };

export interface KvTxnRequest {
  compare: KvCompare[];
  then: KvOp[];
  /** Run when a compare fails (often nothing: the caller re-reads and retries). */
  otherwise?: KvOp[];
}

export interface KvTxnResult {
  succeeded: boolean;
  /** Revision after the transaction (unchanged from before when nothing was written). */
  revision: number;
}

/** One change seen by a watch. A deleted key has value '' and its deletion revision as modRevision. */
export interface KvEvent {
  type: 'put' | 'delete';
  key: string;
  value: string;
  modRevision: number;
}

export interface KvWatch {
  /** Stops the watch; no callback runs after the promise settles. */
  cancel(): Promise<void>;
}

export interface KvWatchHandlers {
  /** Events in revision order, batched as the backend delivers them. */
  onEvents(events: KvEvent[]): void;
  /**
   * The watch cannot continue from where it was (compacted revision, backend reset or a
   * reconnection that could not resume): the caller must re-read the prefix and watch again.
   */
  onReset(reason: KvUnavailableError): void;
}

/** A liveness lease: keys put with it vanish when it is revoked or expires. */
export interface KvLease {
  /** A handle local to this Kv (etcd's int64 lease ids do not fit a number); pass it in KvOp put. */
  readonly id: number;
  readonly ttlSeconds: number;
  /**
   * Called once when the backend reports the lease is gone (expired because keepalives did not
   * reach a quorum in time, or revoked). The keys attached to it are gone too; the node must
   * treat all its published state as lost and re-publish under a new lease.
   */
  onLost(listener: (err: KvUnavailableError) => void): void;
  /** Stops keepalives and deletes the lease's keys at once. */
  revoke(): Promise<void>;
}

/** The backend seam. Every method may reject with KvUnavailableError. */
export interface Kv {
  /** Every key starting with `prefix` (use the full key for one key), in key order. */
  getPrefix(prefix: string): Promise<KvRange>;
  get(key: string): Promise<KvEntry | undefined>;
  txn(req: KvTxnRequest): Promise<KvTxnResult>;
  /** Watch `prefix` from `fromRevision` (inclusive); events before the returned promise resolves are delivered too. */
  watchPrefix(prefix: string, fromRevision: number, handlers: KvWatchHandlers): Promise<KvWatch>;
  /** Grants a lease of `ttlSeconds` and keeps it alive until revoked or lost. */
  grantLease(ttlSeconds: number): Promise<KvLease>;
  close(): Promise<void>;
}

/**
 * The backend cannot serve a consistent answer: no quorum, unreachable, timed out, or the
 * node's liveness lease was lost. A state change that meets it must fail, never proceed on a
 * guess (no split brain); reads may be retried once the backend recovers.
 */
export class KvUnavailableError extends Error {
  constructor(message: string, override readonly cause?: unknown) {
    super(message);
    this.name = 'KvUnavailableError';
  }
}
