// Per-file ownership between the nodes of a local cluster (worker processes of one server,
// server/workers/): a node that is the only one with opens of a file decides share modes, oplocks,
// leases and locks for it locally, exactly as a single-process server, and publishes nothing.
// Only when another node shows interest in the file is the owner asked to give the claim up
// (revoke): it publishes its opens of the file in the Kv and from then on both coordinate
// through it (coordinator.ts). etcd clusters have no claims: every file is shared there.

/** 'mine': no other node has opens of the file until revoked; 'shared': coordinate through the Kv. */
export type ClaimState = 'mine' | 'shared';

export interface FileClaims {
  /** Asks for a file this node holds no claim on (before it evaluates an open of it). */
  claim(fileKey: string): Promise<ClaimState>;
  /** Files this node has no opens of any more: their claims (or shares) end. */
  release(fileKeys: string[]): void;
  /**
   * Sets what answers a revoke: the handler publishes the node's opens of the file (in the
   * Kv, with revision bumps so racing evaluations start over) and resolves whether it had any;
   * from its call on, the node treats the file as shared (or unclaimed when it had none).
   */
  onRevoke(handler: (fileKey: string) => Promise<boolean>): void;
}
