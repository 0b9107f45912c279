// Request-path internals that the request-path's own handlers (negotiate, session-setup, logoff,
// tree-connect, tree-disconnect, cancel) need beyond the public seam of types.ts. File-command
// handlers must not import this file: they see only types.ts.
import type { RequestContext, ServerState, Open, ShareTree } from './types.js';
import type { Session } from './session.js';
import type { Connection } from './connection.js';
import type { ShareConfig } from '../config/config.js';
import type { Vfs } from '../vfs/types.js';

export type TeardownReason = 'close' | 'tree-disconnect' | 'logoff' | 'disconnect' | 'shutdown';

/** Server-wide state as the request path sees it (state.ts implements it). */
export interface ServerCore extends ServerState {
  /** Global session table keyed by SessionId (3.3.1.1 GlobalSessionTable). */
  readonly sessions: Map<bigint, Session>;
  readonly connections: Set<Connection>;
  /** The server supports leases (set when the file handlers export SUPPORTS_LEASING = true). */
  readonly leasing: boolean;
  log(line: string): void;
  /** Cluster mode: other nodes' opens of a file (cluster/coordinator.ts); undefined on one node. */
  remoteOpens: ((fileKey: string) => Open[]) | undefined;
  localOpensByFile(fileKey: string): Open[];
  allocSessionId(): bigint;
  findShare(name: string): ShareConfig | undefined;
  vfsFor(share: ShareConfig): Vfs | undefined;
  /** SPNEGO NegTokenInit2 for the NEGOTIATE response: the mechanisms newAuthenticator accepts. */
  readonly negotiateHint: Buffer;
  /** Authenticates users: a fresh GSS acceptor per session setup exchange. */
  newAuthenticator(): Authenticator;
  /** Closes an open that dies without CLOSE (tree disconnect, logoff, lost connection). */
  closeOpen(open: Open, reason: TeardownReason): Promise<void>;
  closeTree(session: Session, tree: ShareTree, reason: TeardownReason): Promise<void>;
  /** Removes the session from the table, closes its trees/opens, cancels its async operations. */
  destroySession(session: Session, reason: TeardownReason): Promise<void>;
}

/** One GSS acceptor (SPNEGO wrapping NTLMSSP and/or Kerberos). */
export interface Authenticator {
  step(token: Buffer): Promise<import('../auth/types.js').AuthStep> | import('../auth/types.js').AuthStep;
}

/** The concrete request context the dispatcher builds (connection.ts). */
export interface InternalContext extends RequestContext {
  readonly server: ServerCore;
  readonly connection: Connection;
  readonly sessionObj: Session | undefined;
  readonly encrypted: boolean;
  /** SessionId / TreeId for the response header when the handler creates them. */
  responseSessionId: bigint | undefined;
  responseTreeId: number | undefined;
  /** Session whose channel key signs the response (session setup sets the new session). */
  signWith: Session | undefined;
  /** true: always sign (final SESSION_SETUP); false: never sign. */
  forceSign: boolean | undefined;
  /** Called with the complete response message (after signing): preauth hash updates. */
  onResponse: ((msg: Buffer) => void) | undefined;
  /** Disconnect after sending the response (or instead of it when noResponse). */
  disconnectAfter: boolean;
  noResponse: boolean;
}

export function internal(ctx: RequestContext): InternalContext {
  return ctx as InternalContext;
}
