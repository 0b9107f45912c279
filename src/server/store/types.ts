// The state-store seam (DESIGN.md "Scale beyond one machine"): state that must outlive a connection
// or the process (durable and persistent opens with their byte-range locks and lease, and the
// CreateGuid replay cache) as plain records. Records hold no in-process object references: a file
// is named by share + path + its identity (dev:inode), an open by its persistent FileId, a client by
// ClientGUID, so another process (or a replicated backend such as etcd) can read them back. Every
// call is async so a networked backend implements the same interface.

/** One byte-range lock of an open (MS-SMB2 3.3.5.14). */
export interface LockRecord {
  offset: string; // decimal u64
  length: string; // decimal u64
  exclusive: boolean;
}

/** A lease an open holds (MS-SMB2 3.3.1.13), by key; the lease table rebuilds from these. */
export interface LeaseRecord {
  key: string; // hex, 16 bytes
  version: 1 | 2;
  state: number;
  epoch: number;
  parentKey?: string;
}

/** A durable or persistent open (MS-SMB2 3.3.1.10 fields that survive the connection). */
export interface OpenRecord {
  /** Open.FileId.Persistent, decimal u64: the record's key. */
  fileId: string;
  share: string;
  /** Share-relative path, '/'-separated, as the open names the file now. */
  path: string;
  /** File identity (dev:inode) when known: a reconnect to a file replaced behind the handle is refused. */
  fileKey?: string;
  clientGuid: string; // hex
  /** DH2Q CreateGuid (hex); absent for durable v1 opens. */
  createGuid?: string;
  user: string;
  domain: string;
  version: 1 | 2;
  persistent: boolean;
  resilient?: boolean;
  /** Open.DurableOpenTimeout in ms. */
  timeoutMs: number;
  grantedAccess: number;
  shareAccess: number;
  createOptions: number;
  oplockLevel: number;
  deleteOnClose: boolean;
  isDirectory: boolean;
  lease?: LeaseRecord;
  locks: LockRecord[];
  /** ms since the epoch when the open lost its connection; absent while connected. */
  disconnectedAt?: number;
  /** Cluster mode: the node (`cluster node name`) that last held the open (docs/cluster.md). */
  node?: string;
}

export interface StateStore {
  /** Writes (creates or replaces) a record; resolves once it is durable in this backend. */
  putOpen(rec: OpenRecord): Promise<void>;
  getOpen(fileId: string): Promise<OpenRecord | undefined>;
  deleteOpen(fileId: string): Promise<void>;
  listOpens(): Promise<OpenRecord[]>;
  /** The CreateGuid replay cache (3.3.5.9.10): the open a ClientGUID + CreateGuid made. */
  findByCreateGuid(clientGuid: string, createGuid: string): Promise<OpenRecord | undefined>;
  close(): Promise<void>;
}
