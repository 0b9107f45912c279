// Sessions and channels (MS-SMB2 3.3.1.8, 3.3.1.14). A Session is not a Connection: it owns
// Channels {connection, signing key}; its encryption keys, tree connects and opens belong to the
// session, so every channel can use them.
import { createHash } from 'node:crypto';
import type { Open, SessionView, ShareTree } from './types.js';
import type { SigningAlgorithm } from '../crypto/signing.js';
import type { PreauthHash } from '../crypto/preauth.js';

/** What a session needs of a connection (connection.ts implements it). */
export interface ChannelConnection {
  readonly id: number;
  readonly localAddress: string;
  readonly remoteAddress: string;
  readonly dialect: number;
  readonly clientGuid: Buffer;
  readonly signingAlgorithm: SigningAlgorithm;
  readonly closed: boolean;
  readonly bytesIn: number;
  readonly bytesOut: number;
  readonly requestsInFlight: number;
  /** Sends an unsolicited message (MessageId all-ones) on this connection for `session`. */
  sendUnsolicited(session: Session | undefined, command: number, body: Buffer): void;
}

export interface Channel {
  readonly connection: ChannelConnection;
  /** Channel.SigningKey (3.x); for 2.x the session key. Empty for guest/anonymous. */
  signingKey: Buffer;
}

/** 'deleted': ended by a failed re-authentication, kept (with its channels) until its connections close so
 * requests get a signed USER_SESSION_DELETED, as Samba. */
export type SessionState = 'in-progress' | 'valid' | 'expired' | 'deleted';

/** Short, non-reversible id of a key for status output (never the key itself). */
export function keyId(key: Buffer): string {
  if (key.length === 0) return '-';
  return createHash('sha256').update(key).digest('hex').slice(0, 8);
}

export class Session implements SessionView {
  state: SessionState = 'in-progress';
  user = '';
  domain = '';
  guest = false;
  anonymous = false;
  encryptData = false;
  /** Session.SigningRequired (3.3.1.8). */
  signingRequired = false;
  /** Session.SessionKey (first 16 bytes of the GSS key); empty until authenticated. */
  sessionKey: Buffer = Buffer.alloc(0);
  /** Session.SigningKey of the first channel. */
  signingKey: Buffer = Buffer.alloc(0);
  /** Server in (client->server, decrypt) / out (server->client, encrypt) keys. */
  decryptionKey: Buffer = Buffer.alloc(0);
  encryptionKey: Buffer = Buffer.alloc(0);
  applicationKey: Buffer = Buffer.alloc(0);
  cipherId = 0;
  /** Signing algorithm of the connection that established the session (binding checks, 3.3.5.5.2). */
  signingAlgorithm: import('../crypto/signing.js').SigningAlgorithm = 'aes-cmac';
  /** Session.PreauthIntegrityHashValue while authenticating on 3.1.1 (3.3.5.5.1). */
  preauth: PreauthHash | undefined;
  /** In-progress GSS exchange. */
  auth: unknown;
  readonly trees = new Map<number, ShareTree>();
  readonly opens = new Map<bigint, Open>();
  /** Channels by connection id. */
  readonly channels = new Map<number, Channel>();
  /** Channel bindings in progress (3.3.5.5.2): connection id -> {auth, preauth}. */
  readonly pendingBinds = new Map<number, { auth: unknown; preauth: PreauthHash | undefined }>();
  readonly createdAt = Date.now();
  lastActivity = Date.now();
  /** Absolute expiry (ms) from the authentication, undefined = never. */
  expiresAt: number | undefined;
  private nextTreeId = 1;

  constructor(
    readonly id: bigint,
    readonly dialect: number,
    readonly clientGuid: Buffer,
  ) {}

  allocTreeId(): number {
    for (let i = 0; i < 0xfffffffe; i++) {
      const id = this.nextTreeId;
      this.nextTreeId = this.nextTreeId >= 0xfffffffe ? 1 : this.nextTreeId + 1;
      if (!this.trees.has(id)) return id;
    }
    throw new Error('tree ids exhausted');
  }

  channelFor(connId: number): Channel | undefined {
    return this.channels.get(connId);
  }

  /** Any live channel, preferring `preferConnId` (for unsolicited breaks, DESIGN rule 2). */
  anyChannel(preferConnId?: number): Channel | undefined {
    if (preferConnId !== undefined) {
      const c = this.channels.get(preferConnId);
      if (c && !c.connection.closed) return c;
    }
    for (const c of this.channels.values()) if (!c.connection.closed) return c;
    return undefined;
  }
}
