// Durable v2 opens for the client API (MS-SMB2 3.2.4.3.5 / 3.2.4.4): a CREATE asks for a durable
// handle (DH2Q with a fresh CreateGuid; persistent when the share has CONTINUOUS_AVAILABILITY) and
// a read+handle lease, which a server needs before it makes a non-persistent open durable
// (3.3.5.9.10). After a reconnect, reopenRequest() names the handle again (DH2C, 3.2.4.4).
import { randomBytes } from 'node:crypto';
import { Command, Dialect, ImpersonationLevel, LeaseState, OplockLevel, ShareAccess, ShareCapabilities } from '../wire/constants.js';
import { encodeCreateRequest, type CreateContext, type CreateResponse } from '../wire/create.js';
import {
  CreateContextName, DurableV2Flags, decodeDH2QResponse, encodeDH2C, encodeDH2QRequest, encodeLease,
} from '../wire/create-contexts.js';
import type { FileId } from '../wire/common.js';
import { Status } from '../wire/status.js';
import type { SmbRequest } from './connection.js';
import { SmbError } from './errors.js';
import type { CreateParams } from './file.js';
import type { Tree } from './tree.js';

/** Recoveries one request may go through before its error reaches the caller. */
export const MAX_RECOVERIES = 3;

export interface DurableHandleState {
  createGuid: Buffer;
  leaseKey: Buffer;
  persistent: boolean;
  /** Lease state granted (a reconnect names the same key). */
  leaseGranted: boolean;
  /** Timeout the server keeps the handle, ms (DH2Q response). */
  timeoutMs: number;
  params: CreateParams;
}

interface Pending {
  createGuid: Buffer;
  leaseKey: Buffer;
  persistent: boolean;
}

/** 16 random bytes from a pool refilled 4 KiB at a time (one randomBytes call per 256 opens, not two per open). */
let pool = Buffer.alloc(0);
let poolAt = 0;
function random16(): Buffer {
  if (poolAt + 16 > pool.length) {
    pool = randomBytes(4096);
    poolAt = 0;
  }
  const b = pool.subarray(poolAt, poolAt + 16);
  poolAt += 16;
  return b;
}

function toSmbName(p: string): string {
  return p.split(/[\\/]+/).filter((x) => x !== '' && x !== '.').join('\\');
}

function leaseContext(key: Buffer, state: number): CreateContext {
  return {
    name: CreateContextName.REQUEST_LEASE,
    data: encodeLease({ version: 2, leaseKey: key, leaseState: state, leaseFlags: 0, leaseDuration: 0n, parentLeaseKey: Buffer.alloc(16), epoch: 0 }),
  };
}

/** CREATE with DH2Q (+ RqLs RH) for `path`; undefined below SMB 3.0 (no durable v2 there). */
export function durableRequest(tree: Tree, path: string, c: CreateParams): { req: SmbRequest; state: Pending } | undefined {
  if (tree.session.dialect < Dialect.SMB3_00) return undefined;
  const state: Pending = {
    createGuid: random16(), leaseKey: random16(),
    persistent: (tree.capabilities & ShareCapabilities.CONTINUOUS_AVAILABILITY) !== 0,
  };
  const contexts: CreateContext[] = [
    { name: CreateContextName.DURABLE_HANDLE_REQUEST_V2, data: encodeDH2QRequest({ timeout: 0, flags: state.persistent ? DurableV2Flags.PERSISTENT : 0, createGuid: state.createGuid }) },
    leaseContext(state.leaseKey, LeaseState.READ | LeaseState.HANDLE),
  ];
  return {
    state,
    req: {
      command: Command.CREATE,
      body: encodeCreateRequest({
        securityFlags: 0, requestedOplockLevel: OplockLevel.LEASE, impersonationLevel: ImpersonationLevel.IMPERSONATION,
        smbCreateFlags: 0n, desiredAccess: c.access, fileAttributes: c.attributes ?? 0,
        shareAccess: c.share ?? (ShareAccess.READ | ShareAccess.WRITE | ShareAccess.DELETE),
        createDisposition: c.disposition, createOptions: c.options, name: toSmbName(path), contexts,
      }),
    },
  };
}

/** What the server granted: durable state when the response carries DH2Q, else undefined. */
export function durableGranted(res: CreateResponse, p: { createGuid: Buffer; leaseKey: Buffer; persistent: boolean } | undefined, params: CreateParams): DurableHandleState | undefined {
  if (!p) return undefined;
  const dh2q = res.contexts.find((x) => x.name === CreateContextName.DURABLE_HANDLE_REQUEST_V2);
  if (!dh2q) return undefined;
  let r;
  try {
    r = decodeDH2QResponse(dh2q.data);
  } catch {
    return undefined;
  }
  return {
    createGuid: p.createGuid, leaseKey: p.leaseKey, persistent: (r.flags & DurableV2Flags.PERSISTENT) !== 0,
    leaseGranted: res.oplockLevel === OplockLevel.LEASE, timeoutMs: r.timeout, params,
  };
}

/** CREATE with DH2C naming the handle (3.2.4.4); the lease key again when one was granted. */
export function reopenRequest(path: string, fileId: FileId, d: DurableHandleState): SmbRequest {
  const contexts: CreateContext[] = [
    { name: CreateContextName.DURABLE_HANDLE_RECONNECT_V2, data: encodeDH2C({ fileId, createGuid: d.createGuid, flags: d.persistent ? DurableV2Flags.PERSISTENT : 0 }) },
  ];
  if (d.leaseGranted) contexts.push(leaseContext(d.leaseKey, LeaseState.READ | LeaseState.HANDLE));
  return {
    command: Command.CREATE,
    body: encodeCreateRequest({
      securityFlags: 0, requestedOplockLevel: d.leaseGranted ? OplockLevel.LEASE : OplockLevel.NONE,
      impersonationLevel: ImpersonationLevel.IMPERSONATION, smbCreateFlags: 0n, desiredAccess: d.params.access,
      fileAttributes: 0, shareAccess: d.params.share ?? (ShareAccess.READ | ShareAccess.WRITE | ShareAccess.DELETE),
      createDisposition: 1 /* OPEN */, createOptions: d.params.options, name: toSmbName(path), contexts,
    }),
  };
}

/** The connection under a request died (the session may recover and the request be replayed). */
export function isDisconnect(e: unknown): boolean {
  return e instanceof SmbError && (e.status === Status.CONNECTION_DISCONNECTED || e.status === Status.CONNECTION_RESET);
}

/** The typed error a caller gets when the server refused to give a handle back after a reconnect. */
export class HandleLostError extends SmbError {
  constructor(status: number, path: string, why = `the server refused to reopen the handle (${new SmbError(status).message})`) {
    super(status, `the connection was lost and ${why}`, path);
    this.name = 'HandleLostError';
  }
}
