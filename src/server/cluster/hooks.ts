// What the file handlers see of cluster coordination (coordinator.ts), without importing it:
// a server in cluster mode has a ClusterHooks; single-node servers have none, and every call
// site is one WeakMap lookup and a branch, with no await.
import type { Open, ServerState } from '../types.js';

/** What a new open asks for, published before it is granted. */
export interface OpenIntent {
  fileKey: string;
  shareName: string;
  path: string;
  access: number;
  shareAccess: number;
  oplock: number;
}

export interface ClusterHooks {
  /**
   * Publishes a local open about to be granted, compared against the file's cluster revision this
   * node's mirror has seen. false: another node changed the file meanwhile (the mirror is
   * refreshed before returning): re-evaluate. Throws NtStatusError(INSUFFICIENT_RESOURCES) when
   * the cluster store is unavailable.
   */
  reserve(intent: OpenIntent): Promise<Reservation | false>;
  /** Publishes the open's current state (locks, oplock level); `compare` for changes that add conflicts. */
  publish(open: Open, compare: boolean): Promise<boolean>;
  /** Re-reads a file's cluster state into the mirror. */
  refresh(fileKey: string): Promise<void>;
  /** Is this open another node's open, mirrored here? */
  isRemote(open: Open): boolean;
  /** Asks the owning node to break a mirrored open's oplock/lease to `to` (II or NONE). */
  requestBreak(open: Open, to: number): void;
}

export interface Reservation {
  /** Binds the reservation to the open it became (its state is republished). */
  bind(open: Open): Promise<void>;
  /** The open was not made after all. */
  drop(): Promise<void>;
}

const registry = new WeakMap<ServerState, ClusterHooks>();

export function clusterOf(server: ServerState): ClusterHooks | undefined {
  return registry.get(server);
}

export function setCluster(server: ServerState, hooks: ClusterHooks | undefined): void {
  if (hooks) registry.set(server, hooks);
  else registry.delete(server);
}

/** Open.extra marker of a mirrored remote open. */
export const REMOTE_OPEN = 'cluster.remote';

export function isRemoteOpen(open: Open): boolean {
  return open.extra.has(REMOTE_OPEN);
}

/**
 * Share capabilities of a continuously available share in cluster mode (MS-SMB2 2.2.10): the
 * share is served by every node (SCALEOUT) of a cluster (CLUSTER); 0 on a single node.
 */
export function scaleOutCaps(server: ServerState): number {
  return registry.has(server) ? 0x20 /* SCALEOUT */ | 0x40 /* CLUSTER */ : 0;
}
