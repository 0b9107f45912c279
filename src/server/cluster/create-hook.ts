// CREATE's side of cluster coordination (handlers/create.ts): what an open asks for, as published.
import type { ShareTree } from '../types.js';
import type { OpenIntent } from './hooks.js';
import { LeaseState, OplockLevel } from '../../wire/constants.js';

/** Compare failures (another node changed the file) a CREATE re-evaluates before giving up (each after a randomised wait of at most 40 ms). */
export const MAX_CLUSTER_RETRIES = 32;

/** The caching an open will hold, as an oplock level (a lease shown by its oplock twin: RWH = batch). */
export function cachingAsOplock(leaseState: number | undefined, oplock: number): number {
  if (leaseState === undefined) return oplock === OplockLevel.LEASE ? OplockLevel.NONE : oplock;
  const R = LeaseState.READ, H = LeaseState.HANDLE, W = LeaseState.WRITE;
  if ((leaseState & (R | W | H)) === (R | W | H)) return OplockLevel.BATCH;
  if ((leaseState & (R | W)) === (R | W)) return OplockLevel.EXCLUSIVE;
  return leaseState & R ? OplockLevel.II : OplockLevel.NONE;
}

export function clusterIntent(
  tree: ShareTree, path: string, fileKey: string, access: number, shareAccess: number, leaseState: number | undefined, oplock: number,
): OpenIntent {
  return { fileKey, shareName: tree.share.name, path, access, shareAccess, oplock: cachingAsOplock(leaseState, oplock) };
}
