// Messages between the primary and its worker processes (child_process IPC with JSON
// serialization: bytes travel as base64 strings, see bytes()). JSON, not 'advanced': a KV round
// trip cost 336 µs of CPU (both sides) with 'advanced' and 131 µs with JSON on this machine.
import type { KvEvent, KvTxnRequest } from '../cluster/kv.js';
import type { ServerStatus } from '../index.js';
import type { ServerConfig } from '../../config/config.js';

/** primary -> worker, once after fork */
export interface InitMsg {
  t: 'init';
  index: number;
  workers: number;
  config: ServerConfig;
  /** the user database as smbpasswd text (UserDb.serialize) */
  users: string;
  /** one ServerGuid for the whole server, whichever worker answers (MS-SMB2 2.2.4) */
  serverGuid: string;
  /** forward log lines to the primary */
  log: boolean;
  /** join cluster coordination over the primary's KV (WorkersCoordination 'local') */
  coordination: boolean;
}

/** primary -> worker with a socket handle: a new connection and the bytes already read from it */
export interface ConnMsg {
  t: 'conn';
  head: string;
  /** the SMB1 NEGOTIATE the primary answered for this connection (smb1.ts), to replay */
  smb1?: string;
}
export interface StatusReq { t: 'status'; id: number }
export interface CloseMsg { t: 'close' }
/** primary -> worker: the answer to a KvReq */
export interface KvRes { t: 'kv-res'; id: number; ok: boolean; value?: unknown; error?: string; unavailable?: boolean }
/** primary -> worker: watch events or reset; lease lost */
export interface KvWatchMsg { t: 'kv-watch'; watch: number; events?: KvEvent[]; reset?: string }
export interface KvLeaseLostMsg { t: 'kv-lease-lost'; lease: number; reason: string }

/**
 * Both ways: a change a worker reported (created, deleted, renamed, modified), relayed by the
 * primary to every other worker so CHANGE_NOTIFY watches see changes made through any worker.
 */
export interface NotifyMsg { t: 'notify'; share: string; path: string; action: number; filter: number }
/** worker -> primary: this worker's first CHANGE_NOTIFY watch started (true) or its last ended (false) */
export interface WatchingMsg { t: 'watching'; on: boolean }
/** primary -> worker: whether another worker has watches (only then are changes relayed) */
export interface RelayMsg { t: 'relay'; on: boolean }

/** primary -> worker: the answer to a ClaimReq: `shared` = other workers hold opens of the file too */
export interface ClaimRes { t: 'claim-res'; id: number; shared: boolean }
/**
 * primary -> worker: another worker wants a file this worker holds alone; answer with RevokedMsg
 * once its opens of the file (if any) are published in the KV.
 */
export interface RevokeMsg { t: 'revoke'; rid: number; key: string }

export type ToWorker = InitMsg | ConnMsg | StatusReq | CloseMsg | KvRes | KvWatchMsg | KvLeaseLostMsg | NotifyMsg | ClaimRes | RevokeMsg | RelayMsg;

/** `hint`: the worker's SPNEGO negotiate hint (the primary answers SMB1 NEGOTIATEs with it) */
export interface ReadyMsg { t: 'ready'; hint: string }
export interface LogMsg { t: 'log'; line: string }
export interface StatusRes { t: 'status-res'; id: number; status: ServerStatus }
export interface FatalMsg { t: 'fatal'; error: string }

/** worker -> primary: one KV call (Kv in cluster/kv.ts) */
export type KvCall =
  | { op: 'getPrefix'; prefix: string }
  | { op: 'get'; key: string }
  | { op: 'txn'; req: KvTxnRequest }
  | { op: 'watch'; prefix: string; fromRevision: number; watch: number }
  | { op: 'unwatch'; watch: number }
  | { op: 'grantLease'; ttlSeconds: number }
  | { op: 'revokeLease'; lease: number };
export interface KvReq { t: 'kv'; id: number; call: KvCall }

/** worker -> primary: this worker is about to open a file (by fileKey) it holds no claim on (claims.ts) */
export interface ClaimReq { t: 'claim'; id: number; key: string }
/** worker -> primary: files this worker has no opens of any more (its claim or share of them ends) */
export interface ReleaseMsg { t: 'release'; keys: string[] }
/** worker -> primary: a RevokeMsg done; `held`: it had opens of the file (now published) */
export interface RevokedMsg { t: 'revoked'; rid: number; held: boolean }
export type ClaimMsg = ClaimReq | ReleaseMsg | RevokedMsg;

export type FromWorker = ReadyMsg | LogMsg | StatusRes | FatalMsg | KvReq | NotifyMsg | ClaimMsg | WatchingMsg;

/** Bytes for a message / from a message. */
export function b64(b: Buffer): string {
  return b.toString('base64');
}
export function bytes(s: string): Buffer {
  return Buffer.from(s, 'base64');
}
