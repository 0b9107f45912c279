// The seam between the server's request path (connection, dispatch, session, signing, crypto:
// owned by server/connection.ts, server/dispatch.ts, server/session.ts ...) and the per-command
// handlers in server/handlers/*.ts. Handlers see only this file's types.
//
// Rules (DESIGN.md): a Session is not a Connection. Opens and tree connects belong to the Session,
// so any channel (connection) of that session may use them. Nothing below the session assumes
// "the" connection of a session: to reach the client, use session.anyChannel() / ctx.conn.
import type { RdmaChannel } from '../transport/transport.js';
import type { Header } from '../wire/header.js';
import type { Vfs, VfsHandle } from '../vfs/types.js';
import type { ShareConfig, ServerConfig } from '../config/config.js';
import type { RpcPipe } from '../rpc/pipe.js';

export interface FileId {
  persistent: bigint;
  volatile: bigint;
}

/** What a handler returns: the NTSTATUS and the response body (bytes after the 64-byte header). */
export interface Reply {
  status: number;
  /** Body; for errors the dispatcher builds the ERROR response (2.2.2) when body is omitted. */
  body?: Buffer | Buffer[];
  /** Extra error data for the ERROR response (e.g. symlink error, 2.2.2.2). */
  errorData?: Buffer;
  /** Terminate the connection instead of answering (e.g. VALIDATE_NEGOTIATE_INFO mismatch, 3.3.5.15.12). */
  disconnect?: boolean;
}

export interface ShareTree {
  readonly id: number;
  readonly share: ShareConfig;
  /** undefined for IPC$. */
  readonly vfs: Vfs | undefined;
  readonly isIpc: boolean;
  readonly readOnly: boolean;
  /** `admin users` of the share: per-file ACLs do not limit them (Samba: they act as root). */
  readonly admin?: boolean;
  /** Access mask granted on this share (MaximalAccess of the tree connect response). */
  readonly maximalAccess: number;
  readonly encrypt: boolean;
}

/** One open of a file, directory or pipe (MS-SMB2 3.3.1.10 Open). */
export interface Open {
  readonly fileId: FileId;
  readonly tree: ShareTree;
  readonly session: SessionView;
  /** share-relative path, '/'-separated, '' = share root. */
  path: string;
  readonly isDirectory: boolean;
  handle: VfsHandle | undefined;
  pipe: RpcPipe | undefined;
  grantedAccess: number;
  shareAccess: number;
  createOptions: number;
  oplockLevel: number;
  deleteOnClose: boolean;
  /** Directory enumeration state for QUERY_DIRECTORY. */
  dirCursor: unknown;
  /** Arbitrary per-handler state (locks, lease key, durable info). */
  extra: Map<string, unknown>;
  /**
   * The opened file's identity (FileStat.identity; a stream open: its file's), fixed for the
   * open's life; undefined for pipes. Tables that guard a file find its opens by this, not by name.
   */
  fileKey?: string;
}

/** The parts of a Session a handler may use. */
export interface SessionView {
  readonly id: bigint;
  readonly user: string;
  readonly domain: string;
  readonly guest: boolean;
  readonly anonymous: boolean;
  readonly dialect: number;
  readonly encryptData: boolean;
  readonly trees: Map<number, ShareTree>;
  readonly opens: Map<bigint, Open>;
}

/** Per-connection facts a handler may need. */
export interface ConnectionView {
  readonly id: number;
  readonly dialect: number;
  readonly clientGuid: Buffer;
  readonly remoteAddress: string;
  /** READ/WRITE payloads by RDMA (SMB-Direct connections only; server/rdma-io.ts). */
  readonly rdma?: RdmaChannel | undefined;
  readonly maxReadSize: number;
  readonly maxWriteSize: number;
  readonly maxTransactSize: number;
  readonly supportsMultiCredit: boolean;
  /** What NEGOTIATE settled, for FSCTL_VALIDATE_NEGOTIATE_INFO (3.3.5.15.12). */
  readonly negotiate: {
    clientCapabilities: number;
    clientSecurityMode: number;
    clientDialects: number[];
    serverCapabilities: number;
    serverSecurityMode: number;
  };
}

/** Send an unsolicited message (oplock/lease break) to the client owning a session. */
export interface Notifier {
  /** Sends an SMB2 message with MessageId 0xFFFFFFFFFFFFFFFF (2.2.23) on a live channel of `sessionId` (any channel; 0n = this connection). */
  sendUnsolicited(sessionId: bigint, command: number, body: Buffer, preferConnectionId?: number): void;
}

/**
 * Optional exports the request path looks for in the file-handler modules (all additive):
 *  - handlers/close.ts  `export const closeOpen: OpenCloser` — used for opens that die without CLOSE
 *    (TREE_DISCONNECT, LOGOFF, lost connection): delete-on-close, locks, share modes, breaks.
 *    It must call server.unregisterOpen(open). Without it the request path closes handle/pipe and
 *    unregisters.
 *  - handlers/create.ts `export const SUPPORTS_LEASING = true` — NEGOTIATE then advertises
 *    SMB2_GLOBAL_CAP_LEASING (2.1+).
 */
export type OpenCloser = (open: Open, server: ServerState) => Promise<void>;

/** Handle for a request that goes async (STATUS_PENDING interim response, 3.3.4.2). */
export interface AsyncOp {
  readonly asyncId: bigint;
  /** Aborted when the client sends CANCEL for this request or the connection/session goes away. */
  readonly signal: AbortSignal;
}

export interface RequestContext {
  readonly server: ServerState;
  readonly conn: ConnectionView;
  /** undefined only for NEGOTIATE / SESSION_SETUP-less commands. */
  readonly session: SessionView | undefined;
  readonly tree: ShareTree | undefined;
  readonly header: Header;
  /** The whole request message: header at 0, body at 64 (decode with wire/*.decodeXRequest). */
  readonly msg: Buffer;
  /** Looks up an open of this session, resolving the compound "related" FileId (all 0xFF). */
  lookupOpen(fileId: FileId): Open | undefined;
  /** Record the FileId a CREATE produced, for related compound members that follow. */
  setRelatedFileId(fileId: FileId): void;
  /** Go async: the dispatcher sends STATUS_PENDING now; the handler's promise gives the final reply. */
  goAsync(): AsyncOp;
  /** Bytes the client may receive in this reply (credit charge * 64 KiB, capped by max sizes). */
  readonly maxResponseSize: number;
}

/** Server-wide state shared by every connection (MS-SMB2 3.3.1.1). */
export interface ServerState {
  readonly config: ServerConfig;
  readonly serverGuid: Buffer;
  readonly startTime: bigint;
  readonly notifier: Notifier;
  /** Allocates a new open's FileId and registers it (global persistent table + session volatile table). */
  newFileId(): FileId;
  /** Opens of a path across all sessions (share modes, oplocks): keyed by share name + path (case-folded). */
  opensByPath(shareName: string, path: string): Open[];
  /** Live and closing opens of one file (Open.fileKey), streams included, across shares and sessions. */
  opensByFile?(fileKey: string): Open[];
  registerOpen(open: Open): void;
  /** Every open of a share across all sessions (rename of directories, change notify). Optional until implemented. */
  opensOfShare?(shareName: string): Open[];
  /** What srvsvc/wkssvc report (share list, server name) for IPC$ pipes. */
  rpcInfo(callerIsAdmin?: boolean): import('../rpc/pipe.js').RpcServerInfo;
  unregisterOpen(open: Open): void;
}

export type Handler = (ctx: RequestContext) => Promise<Reply>;
