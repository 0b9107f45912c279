// One TCP connection of the server (MS-SMB2 3.3.1.7 Connection) and its request path:
//   frame -> decrypt (transform) -> split compound -> per member: sequence window, session lookup,
//   signature check, encryption rules, tree lookup -> handler -> assemble compound -> sign ->
//   encrypt -> writev.
// DESIGN.md: a session is not a connection. This file keeps only per-connection state (dialect,
// credits, preauth hash of the NEGOTIATE, pending requests); sessions live in the server table.
import type { Socket } from 'node:net';
import { randomBytes } from 'node:crypto';
import { DirectFrameReader, FrameReader, frameHeader } from '../transport/framing.js';
import { receiveInto } from '../transport/direct-read.js';
import { isMessageTransport, type MessageTransport, type RdmaChannel } from '../transport/transport.js';
import { ioPool } from '../transport/bufpool.js';
import { WireError } from '../wire/buf.js';
import {
  HEADER_SIZE, PROTOCOL_ID, SIGNATURE_OFFSET, decodeHeader, encodeHeaderInto, splitCompound, type Header,
} from '../wire/header.js';
import { Command, HeaderFlags, Dialect } from '../wire/constants.js';
import { Status, statusName } from '../wire/status.js';
import { encodeErrorResponse } from '../wire/error.js';
import { isSmb1Negotiate } from '../wire/smb1.js';
import { TRANSFORM_PROTOCOL_ID, transformSessionId } from '../wire/transform.js';
import { ASYNC_SEAL_MIN, StreamingOpener, encryptMessage, openMessageInPlace, sealMessage, sealMessageAsync } from '../crypto/encryption.js';
import { EARLY_DATA_START, EarlyWrite, type EarlyWriteHost } from './early-write.js';
import { StreamingVerifier, computeSignature, verifySignature, type SigningAlgorithm } from '../crypto/signing.js';
import type { PreauthHash } from '../crypto/preauth.js';
import { CreditWindow } from './credits.js';
import type { Session, ChannelConnection, Channel } from './session.js';
import type { AsyncOp, ConnectionView, FileId, Open, Reply, ShareTree } from './types.js';
import type { InternalContext, ServerCore } from './internal.js';
import { handlers } from './handlers/index.js';
import { handleSmb1Negotiate } from './handlers/negotiate.js';
import { rdmaInvalidateToken } from './rdma-io.js';
import { ConnectionLimits, guardFor } from './limits.js';

const RELATED_ID = 0xffffffffffffffffn;
/** SMBTS_TRACE=1 logs every request and its status. */
const TRACE = process.env.SMBTS_TRACE === '1';
/** SMBTS_STREAM_CRYPTO=0: decrypt / verify a large frame only once it is complete (for measurements). */
const STREAM_CRYPTO = process.env.SMBTS_STREAM_CRYPTO !== '0';
/** SMBTS_ASYNC_SEAL=0: seal large responses on the event loop too (for measurements). */
const ASYNC_SEAL = process.env.SMBTS_ASYNC_SEAL !== '0';
const MAX_COMPOUND = 512;
const KiB64 = 65536;
/** Frame types other than SMB2 / transform that we recognise only to refuse them. */
const COMPRESSION_PROTOCOL_ID = 0x424d53fc;

/** A request being processed (for CANCEL, 3.3.5.16, and teardown). */
interface Pending {
  messageId: bigint;
  asyncId: bigint | undefined;
  /** Made on first use (goAsync or an abort): most requests never need one. */
  controller: AbortController | undefined;
  session: Session | undefined;
  interimSent: boolean;
  command: number;
  /** The live channel that took this request over when its own connection went (handOver). */
  adoptedBy?: Connection;
}

const RESOLVED: Promise<void> = Promise.resolve();

/** Aborts a pending request; a signal handed out later (goAsync) starts out aborted. */
function abortPending(p: Pending, reason: Error): void {
  (p.controller ??= new AbortController()).abort(reason);
}

/** State carried from one compound member to the next (3.3.5.2.7.2). */
interface ChainState {
  session: Session | undefined;
  tree: ShareTree | undefined;
  fileId: FileId | undefined;
  /** An error that related members inherit (a failed CREATE). */
  cascade: number | undefined;
}

/** A response ready to be assembled into a frame. */
interface OutMsg {
  header: Buffer; // 64 bytes, signature filled at assembly
  body: Buffer[];
  sign: { alg: SigningAlgorithm; key: Buffer } | undefined;
  onResponse: ((msg: Buffer) => void) | undefined;
}

class DisconnectError extends Error {}

function bodyLength(parts: Buffer[]): number {
  let n = 0;
  for (const p of parts) n += p.length;
  return n;
}

const poolAlloc = (size: number): Buffer => ioPool.get(size);
/** Frames up to this size are sent as one freshly joined buffer (see send()). */
const SMALL_FRAME = 16 * 1024;

/** A single (uncompounded) SMB2 WRITE request: its handler keeps no reference to the frame. */
function isLoneWrite(f: Buffer): boolean {
  return f.length >= HEADER_SIZE && f.readUInt32LE(0) === PROTOCOL_ID && f.readUInt16LE(12) === Command.WRITE &&
    f.readUInt32LE(20) === 0;
}

function u32At(msg: Buffer, off: number): number {
  return msg.length >= off + 4 ? msg.readUInt32LE(off) : 0;
}

/**
 * Payload that the CreditCharge must cover (MS-SMB2 3.3.5.2.5): max(data sent, response
 * expected) in 64 KiB units, measured as Samba and Windows do by the command's length fields.
 */
function payloadSize(command: number, msg: Buffer): number {
  const b = HEADER_SIZE;
  switch (command) {
    case Command.READ: return u32At(msg, b + 4);
    case Command.WRITE: return u32At(msg, b + 4);
    case Command.QUERY_DIRECTORY: return u32At(msg, b + 28);
    case Command.IOCTL: return Math.max(u32At(msg, b + 28), u32At(msg, b + 44));
    case Command.QUERY_INFO: return Math.max(u32At(msg, b + 4), u32At(msg, b + 12));
    case Command.SET_INFO: return u32At(msg, b + 4);
    case Command.CHANGE_NOTIFY: return u32At(msg, b + 4);
    default: return 0;
  }
}

let nextConnectionId = 1;

export class Connection implements ConnectionView, ChannelConnection, EarlyWriteHost {
  readonly id = nextConnectionId++;
  readonly remoteAddress: string;
  readonly localAddress: string;
  readonly startedAt = Date.now();
  /** Connection.Dialect; 0 = not negotiated, 0x02FF after an SMB1 "SMB 2.???" upgrade. */
  dialect = 0;
  negotiated = false;
  clientGuid: Buffer = Buffer.alloc(16);
  maxReadSize = KiB64;
  maxWriteSize = KiB64;
  maxTransactSize = KiB64;
  supportsMultiCredit = false;
  negotiate = { clientCapabilities: 0, clientSecurityMode: 0, clientDialects: [] as number[], serverCapabilities: 0, serverSecurityMode: 0 };
  /** Connection.PreauthIntegrityHashValue (3.1.1, 3.3.5.4). */
  preauth: PreauthHash | undefined;
  /** Connection.CipherId (3.1.1) or AES-128-CCM for 3.0/3.0.2 when encryption is possible. */
  cipherId = 0;
  signingAlgorithm: SigningAlgorithm = 'hmac-sha256';
  /** Client asked for SMB3 POSIX extensions and we echoed the context. */
  posix = false;
  closed = false;
  bytesIn = 0;
  bytesOut = 0;
  readonly credits = new CreditWindow();
  /** Frame size limit, deadlines, session and open caps (limits.ts). */
  readonly limits: ConnectionLimits;
  private readonly reader: FrameReader;
  private readonly pending = new Map<bigint, Pending>();
  private readonly asyncOps = new Map<bigint, Pending>();
  /** Pending CREATEs of dead channels of a session this connection is a channel of (handOver). */
  private readonly adopted = new Set<Pending>();
  private nextAsyncId = 1n;
  private idleTimer: NodeJS.Timeout | undefined;
  /** The large frame being received, and what was begun on it while it arrives (onPartialFrame). */
  private early: {
    frame: Buffer; tried: boolean;
    ew: EarlyWrite | undefined; opener: StreamingOpener | undefined; verifier: StreamingVerifier | undefined;
  } | undefined;

  /** Set when the transport delivers whole messages (SMB-Direct) instead of a framed socket. */
  private readonly messages: MessageTransport | undefined;
  /** READ/WRITE payloads by RDMA (SMB-Direct only). */
  readonly rdma: RdmaChannel | undefined;
  private readonly socket!: Socket;

  constructor(readonly server: ServerCore, transport: Socket | MessageTransport) {
    this.limits = new ConnectionLimits(server, this.id);
    this.reader = new FrameReader(this.limits.maxFrame, ioPool);
    if (isMessageTransport(transport)) {
      this.messages = transport;
      this.rdma = transport.rdma;
      this.remoteAddress = transport.remoteAddress;
      this.localAddress = transport.localAddress;
      transport.onMessage = (msg) => {
        this.bytesIn += msg.length;
        // the transport reassembles messages (bounded by its MaxFragmentedSize); the frame limit
        // before authentication applies to them as to frames
        if (msg.length > this.limits.maxFrame()) return this.drop(`message of ${msg.length} bytes exceeds limit`);
        this.limits.received(1, 0);
        this.dispatch([msg]);
      };
      transport.onClose = () => this.onClose();
      guardFor(server).watch(this);
      return;
    }
    const socket = transport;
    this.socket = socket;
    this.remoteAddress = `${socket.remoteAddress ?? '?'}:${socket.remotePort ?? 0}`;
    this.localAddress = `${socket.localAddress ?? '?'}:${socket.localPort ?? 0}`;
    socket.setNoDelay(true);
    guardFor(server).watch(this);
    // Large frames are read by the kernel straight into pooled buffers when the runtime allows it;
    // otherwise (or for anything already buffered) 'data' chunks go through the FrameReader.
    const direct = new DirectFrameReader(ioPool, this.limits.maxFrame, (frame, filled) => this.onPartialFrame(frame, filled));
    receiveInto(socket, () => direct.next(), (n) => this.onBytes(direct, n));
    socket.on('data', (chunk: Buffer) => this.onData(chunk));
    socket.on('error', (err) => this.server.log(`conn ${this.id}: socket error: ${err.message}`));
    socket.on('close', () => this.onClose());
  }

  // EarlyWriteHost
  canConsume(messageId: bigint, charge: number): boolean {
    return this.credits.canConsume(messageId, charge);
  }

  get sessions(): ReadonlyMap<bigint, Session> {
    return this.server.sessions;
  }

  get requestsInFlight(): number {
    return this.pending.size;
  }

  // ---------------------------------------------------------------- receive

  private onData(chunk: Buffer): void {
    if (this.closed) return;
    this.bytesIn += chunk.length;
    let frames: Buffer[];
    try {
      frames = this.reader.push(chunk);
    } catch (e) {
      this.drop(`bad frame: ${(e as Error).message}`);
      return;
    }
    this.limits.received(frames.length, this.reader.pendingFrame);
    this.dispatch(frames);
  }

  private onBytes(direct: DirectFrameReader, n: number): void {
    if (this.closed) return;
    this.bytesIn += n;
    let frames: Buffer[];
    try {
      frames = direct.commit(n);
    } catch (e) {
      this.drop(`bad frame: ${(e as Error).message}`);
      return;
    }
    this.limits.received(frames.length, direct.pendingFrame);
    this.dispatch(frames);
  }

  /**
   * A large frame is arriving: a plain WRITE may start going to its file now (early-write.ts), an
   * AES-GCM transform may be decrypted as it comes (StreamingOpener).
   */
  private onPartialFrame(frame: Buffer, filled: number): void {
    if (this.closed) return;
    const e = this.early;
    if (e?.frame !== frame) {
      // Not on the first news of a frame: requests that arrived with it are dispatched after this
      // call returns, and their effects (a lock, a close) must be seen by EarlyWrite.start.
      e?.ew?.abandon();
      this.early = { frame, tried: false, ew: undefined, opener: undefined, verifier: undefined };
      return;
    }
    if (e.ew) {
      e.ew.progress(filled);
    } else if (e.opener) {
      e.opener.update(filled);
    } else if (e.verifier) {
      e.verifier.update(filled);
    } else if (!e.tried && filled >= EARLY_DATA_START) {
      e.tried = true;
      const transform = frame.readUInt32LE(0) === TRANSFORM_PROTOCOL_ID;
      const signed = !transform && (frame.readUInt32LE(16) & HeaderFlags.SIGNED) !== 0;
      if (!transform && !signed) e.ew = EarlyWrite.start(this, frame, filled);
      else if (!STREAM_CRYPTO) return;
      else if (transform) e.opener = this.startOpener(frame, filled);
      else e.verifier = this.startVerifier(frame, filled);
    }
  }

  /** A signed message: its signature is computed as it arrives, with its channel's key. */
  private startVerifier(frame: Buffer, filled: number): StreamingVerifier | undefined {
    const key = this.server.sessions.get(frame.readBigUInt64LE(40))?.channelFor(this.id)?.signingKey;
    return key ? StreamingVerifier.start(this.signingAlgorithm, key, frame, filled) : undefined;
  }

  private startOpener(frame: Buffer, filled: number): StreamingOpener | undefined {
    if (this.dialect < Dialect.SMB3_00 || !this.negotiated) return undefined;
    const session = this.server.sessions.get(transformSessionId(frame));
    if (!session || session.decryptionKey.length === 0) return undefined;
    return StreamingOpener.start(session.cipherId, session.decryptionKey, frame, filled);
  }

  private dispatch(frames: Buffer[]): void {
    // Frames start in arrival order (everything up to a handler's first await is synchronous, so
    // the sequence window sees them in order); responses may complete out of order, as SMB2 allows.
    for (const f of frames) {
      // A pooled frame (reassembled from several chunks) goes back to the pool when nothing can
      // refer to it any more: a transform once decrypted (onTransform), a lone WRITE once answered
      // (and its early pwrites, if any, finished).
      const recycle = ioPool.owns(f) && isLoneWrite(f);
      let early: EarlyWrite | undefined;
      let opener: StreamingOpener | undefined;
      let verifier: StreamingVerifier | undefined;
      if (this.early?.frame === f) {
        early = this.early.ew;
        opener = this.early.opener;
        verifier = this.early.verifier;
        this.early = undefined;
      }
      const done = this.onFrame(f, opener, verifier);
      // The common case (a small request, nothing begun early): no per-frame closures.
      if (!early && !recycle) {
        done.then(undefined, this.onFrameFailed);
        continue;
      }
      done.then(async () => {
        if (early) await early.settle();
        if (recycle) ioPool.release(f);
      }, (e: unknown) => {
        early?.abandon();
        this.onFrameFailed(e);
      });
    }
  }

  private readonly onFrameFailed = (e: unknown): void => {
    this.drop(e instanceof DisconnectError ? e.message : `internal error: ${(e as Error)?.stack ?? String(e)}`);
  };

  /** Not async: one promise layer less per request; synchronous throws become rejections. */
  private onFrame(frame: Buffer, opener?: StreamingOpener, verifier?: StreamingVerifier): Promise<void> {
    try {
      if (this.closed) return RESOLVED;
      if (frame.length < 4) throw new DisconnectError('runt frame');
      const proto = frame.readUInt32LE(0);
      if (!this.negotiated && this.dialect === 0 && isSmb1Negotiate(frame)) {
        const reply = handleSmb1Negotiate(this, frame);
        if (!reply) throw new DisconnectError('SMB1 negotiate without an SMB2 dialect');
        this.send([reply]);
        return RESOLVED;
      }
      if (proto === TRANSFORM_PROTOCOL_ID) return this.onTransform(frame, opener);
      if (proto === COMPRESSION_PROTOCOL_ID) throw new DisconnectError('compressed message, compression not negotiated');
      if (proto !== PROTOCOL_ID) throw new DisconnectError(`unknown protocol id 0x${proto.toString(16)}`);
      return this.onMessage(frame, undefined, verifier);
    } catch (e) {
      return Promise.reject(e);
    }
  }

  /** MS-SMB2 3.3.5.2.1.1: decrypt with the session's key; failure drops the connection. */
  private async onTransform(frame: Buffer, opener?: StreamingOpener): Promise<void> {
    if (this.dialect < Dialect.SMB3_00 || !this.negotiated) throw new DisconnectError('encrypted message before 3.x negotiate');
    let sessionId: bigint;
    try {
      sessionId = transformSessionId(frame);
    } catch {
      throw new DisconnectError('truncated transform header');
    }
    const session = this.server.sessions.get(sessionId);
    if (!session || session.decryptionKey.length === 0) throw new DisconnectError('transform for unknown session');
    let plaintext: Buffer;
    try {
      // In place: the plaintext is a view of the frame (no fresh multi-MiB buffer per WRITE).
      // Begun while the frame arrived: valid only with the key it was started with.
      if (opener && opener.key !== session.decryptionKey) throw new Error('session key changed');
      plaintext = opener ? opener.finish().plaintext : openMessageInPlace(session.cipherId, session.decryptionKey, frame).plaintext;
    } catch {
      ioPool.release(frame);
      throw new DisconnectError('decryption failed');
    }
    if (plaintext.length < 4 || plaintext.readUInt32LE(0) !== PROTOCOL_ID) throw new DisconnectError('decrypted data is not SMB2');
    await this.onMessage(plaintext, session);
    // As for plain frames (dispatch): only a lone WRITE is known to leave no reference behind.
    if (isLoneWrite(plaintext)) ioPool.release(frame);
  }

  /** One SMB2 message or compound chain (3.3.5.2.7). */
  private async onMessage(msg: Buffer, encSession: Session | undefined, verifier?: StreamingVerifier): Promise<void> {
    let members: Buffer[];
    try {
      members = splitCompound(msg);
    } catch {
      // Malformed chain: answer the first header if it parses, then drop nothing else.
      const first = this.tryHeader(msg);
      if (!first) throw new DisconnectError('unparseable message');
      members = [msg.subarray(0, HEADER_SIZE)];
    }
    if (members.length > MAX_COMPOUND) throw new DisconnectError('compound chain too long');
    const out: OutMsg[] = [];
    const chain: ChainState = { session: undefined, tree: undefined, fileId: undefined, cascade: undefined };
    const frameCtl = { out, encSession, flushed: false, verifier: members.length === 1 ? verifier : undefined };
    for (let i = 0; i < members.length; i++) {
      await this.processOne(members[i]!, i, members.length, chain, frameCtl);
      if (this.closed) return;
    }
    if (out.length) this.sendResponses(out, encSession);
  }

  private tryHeader(msg: Buffer): Header | undefined {
    try {
      return decodeHeader(msg);
    } catch {
      return undefined;
    }
  }

  // ---------------------------------------------------------------- one request

  private async processOne(
    msg: Buffer, index: number, count: number, chain: ChainState,
    frameCtl: { out: OutMsg[]; encSession: Session | undefined; verifier?: StreamingVerifier | undefined },
  ): Promise<void> {
    let h: Header;
    try {
      h = decodeHeader(msg);
    } catch {
      throw new DisconnectError('bad SMB2 header');
    }
    if (h.flags & HeaderFlags.SERVER_TO_REDIR) throw new DisconnectError('response sent to server');
    const encrypted = frameCtl.encSession !== undefined;
    const related = (h.flags & HeaderFlags.RELATED_OPERATIONS) !== 0;

    // CANCEL consumes no sequence number and gets no response (3.3.5.16).
    if (h.command === Command.CANCEL) {
      this.onCancel(h);
      return;
    }

    // Sequence window (3.3.5.2.3) and credit charge (3.3.5.2.5).
    let charge = 1;
    if (this.supportsMultiCredit) charge = Math.max(1, h.creditCharge);
    if (!this.credits.consume(h.messageId, charge)) {
      throw new DisconnectError(`MessageId ${h.messageId} (charge ${charge}) outside the window ${JSON.stringify(this.credits.range)}`);
    }

    const requestSigned = (h.flags & HeaderFlags.SIGNED) !== 0;
    /** Session whose signature we verified: error replies are signed with it too. */
    let verified: Session | undefined;
    /** A session that exists but is not bound to this connection. */
    let unbound: Session | undefined;
    const reply = (status: number): void => {
      if (TRACE) this.server.log(`conn ${this.id} mid ${h.messageId} cmd ${h.command} refused: ${statusName(status)} charge ${h.creditCharge} len ${msg.length} payload ${payloadSize(h.command, msg)}`);
      // A signed request for a session that exists but has no channel here: Samba's client insists
      // on a SIGNED reply; sign it with the session's key (3.3.5.2.9, smb2.session.bind*).
      const signer = verified ?? (status === Status.USER_SESSION_DELETED && requestSigned ? unbound : undefined);
      const sign = signer !== undefined && (requestSigned || signer.signingRequired) && !encrypted;
      frameCtl.out.push(this.buildOut(h, { status }, {
        session: signer, sign, async: undefined, grant: true,
        sessionId: h.sessionId, treeId: h.treeId, onResponse: undefined,
      }));
    };

    if (this.supportsMultiCredit) {
      const need = 1 + Math.floor((Math.max(payloadSize(h.command, msg), 1) - 1) / KiB64);
      if (charge < need) return reply(Status.INVALID_PARAMETER);
    } else if (payloadSize(h.command, msg) > KiB64) {
      return reply(Status.INVALID_PARAMETER);
    }

    if (!this.negotiated && h.command !== Command.NEGOTIATE) {
      throw new DisconnectError(`${h.command} before NEGOTIATE`);
    }
    if (!related) {
      chain.fileId = undefined;
      chain.cascade = undefined;
    } else if (index === 0) {
      // A chain may not start with a related member; the related ones after it fail alike (Samba).
      chain.cascade = Status.INVALID_PARAMETER;
      return reply(Status.INVALID_PARAMETER);
    } else if (chain.cascade !== undefined) {
      // 3.3.5.2.7.2: a failed CREATE fails the related members that follow with its status.
      return reply(chain.cascade);
    }

    // Session (3.3.5.2.9).
    let session: Session | undefined;
    let channel: Channel | undefined;
    const needsSession = h.command !== Command.NEGOTIATE && h.command !== Command.SESSION_SETUP &&
      h.command !== Command.ECHO;
    const prevTree = chain.tree;
    if (needsSession) {
      // Related members use the previous member's session and tree (3.3.5.2.7.2).
      session = related ? chain.session : this.server.sessions.get(h.sessionId);
      chain.session = session;
      chain.tree = undefined;
      if (!session) return reply(related ? Status.INVALID_PARAMETER : Status.USER_SESSION_DELETED);
      channel = session.channelFor(this.id);
      if (!channel) {
        if (session.state === 'valid') unbound = session;
        return reply(Status.USER_SESSION_DELETED);
      }
      if (session.state === 'deleted') {
        // Ended by a failed re-authentication: signed with the channel key when the request was (Samba).
        if (requestSigned && !encrypted && channel.signingKey.length > 0 &&
            verifySignature(this.signingAlgorithm, channel.signingKey, msg)) verified = session;
        return reply(Status.USER_SESSION_DELETED);
      }
      if (session.state === 'in-progress') return reply(Status.USER_SESSION_DELETED);
      if (session.state === 'expired' || (session.expiresAt !== undefined && Date.now() > session.expiresAt)) {
        session.state = 'expired';
        if (h.command !== Command.LOGOFF) return reply(Status.NETWORK_SESSION_EXPIRED);
      }
      // Signature (3.3.5.2.4): bad or missing where required -> ACCESS_DENIED.
      if (!encrypted && channel.signingKey.length > 0) {
        if (h.flags & HeaderFlags.SIGNED) {
          // Computed while the frame arrived (startVerifier) when it was with this key and algorithm.
          const v = frameCtl.verifier;
          const streamed = v !== undefined && v.key === channel.signingKey && v.alg === this.signingAlgorithm;
          if (!(streamed ? v.finish() : verifySignature(this.signingAlgorithm, channel.signingKey, msg))) {
            this.server.log(`conn ${this.id}: bad signature on ${h.command} mid ${h.messageId}`);
            return reply(Status.ACCESS_DENIED);
          }
          verified = session;
        } else if (session.signingRequired) {
          return reply(Status.ACCESS_DENIED);
        }
      }
      // Encryption (3.3.5.2.9): an encrypting session refuses plaintext.
      if (session.encryptData && !encrypted) return reply(Status.ACCESS_DENIED);
      if (encrypted && frameCtl.encSession !== session) return reply(Status.ACCESS_DENIED);
      if (encrypted) verified = session;
      session.lastActivity = Date.now();
    }

    // Tree (3.3.5.2.11).
    let tree: ShareTree | undefined;
    const needsTree = needsSession && h.command !== Command.LOGOFF && h.command !== Command.TREE_CONNECT &&
      h.command !== Command.ECHO;
    if (needsTree && session) {
      tree = related ? prevTree : session.trees.get(h.treeId);
      chain.tree = tree;
      if (!tree) return reply(Status.NETWORK_NAME_DELETED);
      if (tree.encrypt && !encrypted) return reply(Status.ACCESS_DENIED);
    }


    const refused = this.limits.admit(h.command, h.sessionId, session);
    if (refused) {
      if (h.command === Command.CREATE) chain.cascade = refused; // as a failed CREATE (3.3.5.2.7.2)
      return reply(refused);
    }

    const pending: Pending = { messageId: h.messageId, asyncId: undefined, controller: undefined, session, interimSent: false, command: h.command };
    const last = index === count - 1;
    const ctx = this.makeContext(h, msg, session, tree, encrypted, chain, pending, charge, () => {
      // goAsync: only the last member of a chain sends an interim response (3.3.4.2); earlier ones
      // complete inline, like Samba.
      if (pending.asyncId === undefined) {
        pending.asyncId = this.nextAsyncId++;
        this.asyncOps.set(pending.asyncId, pending);
        if (!last && h.command !== Command.CREATE) {
          abortPending(pending, new Error('async in the middle of a compound'));
        } else if (last) {
          pending.interimSent = true;
          const interim = this.buildOut(h, { status: Status.PENDING }, {
            session, sign: requestSigned, async: pending.asyncId, grant: true,
            sessionId: h.sessionId, treeId: h.treeId, onResponse: undefined,
          });
          frameCtl.out.push(interim);
          this.sendResponses(frameCtl.out.splice(0), frameCtl.encSession);
        }
      }
      return { asyncId: pending.asyncId, signal: (pending.controller ??= new AbortController()).signal };
    });

    let result: Reply;
    this.pending.set(h.messageId, pending);
    try {
      const handler = handlers[h.command];
      result = handler ? await handler(ctx) : { status: Status.INVALID_PARAMETER };
      // Only the last member of a chain may go async, or a CREATE (an oplock break); others are
      // cancelled and answered INTERNAL_ERROR, as Windows does (MS-SMB2 <206>, smb2.compound.interim2).
      if (pending.asyncId !== undefined && !last && h.command !== Command.CREATE) result = { status: Status.INTERNAL_ERROR };
    } catch (e) {
      result = { status: this.statusOf(e, h) };
    } finally {
      this.pending.delete(h.messageId);
      if (pending.asyncId !== undefined) this.asyncOps.delete(pending.asyncId);
      pending.adoptedBy?.adopted.delete(pending);
    }
    if (this.closed) return;
    if (ctx.noResponse) {
      if (ctx.disconnectAfter) throw new DisconnectError('handler asked to disconnect');
      return;
    }
    // An error in a chain cascades to the related members that follow (3.3.5.2.7.2).
    if (h.command === Command.CREATE && result.status !== Status.SUCCESS && (result.status >>> 0) >= 0xc0000000) {
      chain.cascade = result.status;
    }
    if (h.command === Command.SESSION_SETUP) this.limits.sessionSetupDone(h.sessionId, ctx.responseSessionId, result.status);
    if (h.command === Command.SESSION_SETUP || h.command === Command.TREE_CONNECT) {
      chain.session = ctx.signWith ?? session;
      if (ctx.responseTreeId !== undefined) chain.tree = chain.session?.trees.get(ctx.responseTreeId);
    }
    const signSession = ctx.signWith ?? session;
    const sign = ctx.forceSign ?? (requestSigned || (signSession?.signingRequired ?? false));
    const out = this.buildOut(h, result, {
      session: signSession, sign: sign && !encrypted, async: pending.interimSent ? pending.asyncId : undefined,
      grant: !pending.interimSent,
      sessionId: ctx.responseSessionId ?? (session ? session.id : h.sessionId),
      treeId: ctx.responseTreeId ?? (tree ? tree.id : h.treeId),
      onResponse: ctx.onResponse,
    });
    frameCtl.out.push(out);
    if (TRACE) this.server.log(`conn ${this.id} mid ${h.messageId} cmd ${h.command} charge ${h.creditCharge} -> ${statusName(result.status)}`);
    if (pending.interimSent) this.sendResponses(frameCtl.out.splice(0), frameCtl.encSession);
    if (ctx.disconnectAfter) {
      this.sendResponses(frameCtl.out.splice(0), frameCtl.encSession);
      throw new DisconnectError('handler asked to disconnect');
    }
  }

  private statusOf(e: unknown, h: Header): number {
    if (e instanceof DisconnectError) throw e;
    const st = (e as { status?: unknown } | undefined)?.status;
    if (typeof st === 'number' && (e instanceof WireError || (e as Error).name === 'NtStatusError' || (e as Error).name === 'VfsError')) {
      return st >>> 0;
    }
    this.server.log(`conn ${this.id}: handler for command ${h.command} threw: ${(e as Error)?.stack ?? String(e)}`);
    return Status.INTERNAL_ERROR;
  }

  private makeContext(
    h: Header, msg: Buffer, session: Session | undefined, tree: ShareTree | undefined, encrypted: boolean,
    chain: ChainState, pending: Pending, charge: number, goAsync: () => AsyncOp,
  ): InternalContext {
    const conn = this;
    const maxResponseSize = Math.min(charge * KiB64, Math.max(this.maxReadSize, this.maxTransactSize));
    return {
      server: this.server,
      conn: this,
      connection: this,
      session,
      sessionObj: session,
      tree,
      header: h,
      msg,
      encrypted,
      maxResponseSize,
      responseSessionId: undefined,
      responseTreeId: undefined,
      signWith: undefined,
      forceSign: undefined,
      onResponse: undefined,
      disconnectAfter: false,
      noResponse: false,
      lookupOpen(fileId: FileId): Open | undefined {
        let id = fileId;
        if (id.persistent === RELATED_ID && id.volatile === RELATED_ID) {
          if (!(h.flags & HeaderFlags.RELATED_OPERATIONS) || !chain.fileId) return undefined;
          id = chain.fileId;
        }
        const s = session;
        if (!s) return undefined;
        const open = s.opens.get(id.volatile);
        if (!open || open.fileId.persistent !== id.persistent) return undefined;
        if (tree && open.tree.id !== tree.id) return undefined;
        void conn;
        // 3.3.5.2.7.2: a related member uses the FileId of the previous operation, whatever it was
        // (a FLUSH + related CLOSE as much as CREATE + related ...), as Samba's file_fsp_smb2 does.
        chain.fileId = id;
        return open;
      },
      setRelatedFileId(fileId: FileId): void {
        chain.fileId = fileId;
      },
      goAsync,
    };
  }

  // ---------------------------------------------------------------- cancel

  private onCancel(h: Header): void {
    let target: Pending | undefined;
    if (h.flags & HeaderFlags.ASYNC_COMMAND) target = this.asyncOps.get(h.asyncId);
    else target = this.pending.get(h.messageId);
    if (!target) return;
    if (target.session && h.sessionId !== 0n && target.session.id !== h.sessionId) return;
    abortPending(target, new Error('cancelled by client'));
  }

  /** Aborts the pending operations of `session` on this connection (logoff, expiry). */
  abortSession(session: Session): void {
    for (const p of this.pending.values()) if (p.session === session) abortPending(p, new Error('session closed'));
    for (const p of this.adopted) {
      if (p.session !== session) continue;
      this.adopted.delete(p);
      abortPending(p, new Error('session closed'));
    }
  }

  // ---------------------------------------------------------------- send

  private buildOut(
    h: Header, reply: Reply,
    o: {
      session: Session | undefined; sign: boolean; async: bigint | undefined; grant: boolean;
      sessionId: bigint; treeId: number; onResponse: ((msg: Buffer) => void) | undefined;
    },
  ): OutMsg {
    let body: Buffer[];
    if (reply.body !== undefined) body = Array.isArray(reply.body) ? reply.body : [reply.body];
    else body = [encodeErrorResponse({ errorData: reply.errorData })];
    const credits = o.grant ? this.credits.grant(h.credits) : 0;
    let flags = HeaderFlags.SERVER_TO_REDIR | (h.flags & (HeaderFlags.RELATED_OPERATIONS | HeaderFlags.PRIORITY_MASK));
    if (o.async !== undefined) flags |= HeaderFlags.ASYNC_COMMAND;
    let sign: OutMsg['sign'];
    if (o.sign && o.session) {
      const ch = o.session.channelFor(this.id);
      const key = ch?.signingKey ?? o.session.signingKey;
      if (key.length > 0) {
        // Without a channel here (a bind in progress or refused) the session's own key and algorithm
        // sign, as the client verifies them (smb2.session.bind_negative_* across dialects/algorithms).
        sign = { alg: ch ? this.signingAlgorithm : o.session.signingAlgorithm, key };
        flags |= HeaderFlags.SIGNED;
      }
    }
    const header = Buffer.allocUnsafe(HEADER_SIZE);
    encodeHeaderInto({
      creditCharge: h.creditCharge, status: reply.status, command: h.command, credits, flags,
      messageId: h.messageId, treeId: o.treeId, asyncId: o.async ?? 0n, sessionId: o.sessionId,
    }, header);
    return { header, body, sign, onResponse: o.onResponse };
  }

  /** Assembles responses into one frame (8-byte aligned members), signs, encrypts, writes. */
  private sendResponses(list: OutMsg[], encSession: Session | undefined): void {
    if (list.length === 0 || this.closed) return;
    const parts: Buffer[] = [];
    for (let i = 0; i < list.length; i++) {
      const m = list[i]!;
      const len = HEADER_SIZE + bodyLength(m.body);
      const memberParts = [m.header, ...m.body];
      // Every member of a compound response is padded to 8 bytes, the last one too (as Windows and
      // Samba; smb2.compound.compound-padding); a lone response is not.
      if (list.length > 1) {
        const padded = (len + 7) & ~7;
        if (padded > len) memberParts.push(Buffer.alloc(padded - len));
        m.header.writeUInt32LE(i < list.length - 1 ? padded : 0, 20);
      } else {
        m.header.writeUInt32LE(0, 20);
      }
      if (m.sign) computeSignature(m.sign.alg, m.sign.key, memberParts).copy(m.header, SIGNATURE_OFFSET);
      if (m.onResponse) {
        try {
          m.onResponse(Buffer.concat(memberParts));
        } catch (e) {
          this.server.log(`conn ${this.id}: onResponse: ${(e as Error).message}`);
        }
      }
      parts.push(...memberParts);
    }
    if (encSession && encSession.encryptionKey.length > 0) {
      // One pooled buffer (transform header + ciphertext), returned to the pool once written.
      // A large lone response (READ data) is sealed on the pool: other connections go on meanwhile.
      if (ASYNC_SEAL && list.length === 1 && bodyLength(parts) >= ASYNC_SEAL_MIN) {
        sealMessageAsync(encSession.cipherId, encSession.encryptionKey, encSession.id, parts, poolAlloc).then((sealed) => {
          for (const p of parts) ioPool.release(p);
          this.send([sealed]);
        }, (e: unknown) => this.drop(`encryption failed: ${(e as Error).message}`));
        return;
      }
      const sealed = sealMessage(encSession.cipherId, encSession.encryptionKey, encSession.id, parts, poolAlloc);
      for (const p of parts) ioPool.release(p); // plaintext no longer needed
      this.send([sealed]);
    } else {
      this.send(parts);
    }
  }

  /** Writes one frame (NetBIOS length + parts) as a single writev. */
  send(parts: Buffer[]): void {
    if (this.messages) return this.sendMessage(parts);
    if (this.closed || this.socket.destroyed) {
      for (const p of parts) ioPool.release(p);
      return;
    }
    const len = bodyLength(parts);
    this.bytesOut += len + 4;
    if (len <= SMALL_FRAME) {
      // One buffer, one write: cork/uncork and the stream's writev path cost more than copying a
      // few hundred bytes (profiled on smbclient `allinfo`: 12 small responses per file).
      const one = Buffer.allocUnsafe(4 + len);
      one.writeUInt32BE(len, 0);
      let off = 4;
      for (const p of parts) {
        off += p.copy(one, off);
        ioPool.release(p);
      }
      this.socket.write(one);
      return;
    }
    this.socket.cork();
    this.socket.write(frameHeader(len));
    for (const p of parts) {
      if (!p.length) continue;
      // Pooled buffers (READ data) go back to the pool once the socket is done with them.
      if (ioPool.owns(p)) this.socket.write(p, () => ioPool.release(p));
      else this.socket.write(p);
    }
    this.socket.uncork();
  }

  /** A message transport delimits messages itself: no length header. */
  private sendMessage(parts: Buffer[]): void {
    if (!this.closed) {
      this.bytesOut += bodyLength(parts);
      this.messages!.send(parts, rdmaInvalidateToken(parts));
    }
    for (const p of parts) ioPool.release(p);
  }

  /** Oplock/lease break (2.2.23): MessageId all-ones, not signed; encrypted if the session requires. */
  sendUnsolicited(session: Session | undefined, command: number, body: Buffer): void {
    const header = Buffer.alloc(HEADER_SIZE);
    const encrypt = session !== undefined && session.encryptData && session.encryptionKey.length > 0;
    encodeHeaderInto({
      command, flags: HeaderFlags.SERVER_TO_REDIR, messageId: RELATED_ID, treeId: 0,
      sessionId: encrypt ? session.id : 0n, status: Status.SUCCESS, credits: 0,
    }, header);
    if (encrypt) this.send(encryptMessage(session.cipherId, session.encryptionKey, session.id, [header, body]));
    else this.send([header, body]);
  }

  /** Allocates an AsyncId (for handlers of this connection that complete out of band). */
  newAsyncId(): bigint {
    return this.nextAsyncId++;
  }

  // ---------------------------------------------------------------- teardown

  /** Closes the connection after a protocol violation (logged, never thrown). */
  drop(reason: string): void {
    if (this.closed) return;
    this.server.log(`conn ${this.id} ${this.remoteAddress}: disconnect: ${reason}`);
    this.close();
  }

  close(): void {
    if (this.messages) this.messages.destroy();
    else this.socket.destroy();
    this.onClose();
  }

  private onClose(): void {
    if (this.closed) return;
    this.closed = true;
    if (this.idleTimer) clearTimeout(this.idleTimer);
    this.early?.ew?.abandon();
    this.early = undefined;
    for (const p of [...this.pending.values(), ...this.adopted]) {
      if (!this.handOver(p)) abortPending(p, new Error('connection closed'));
    }
    this.adopted.clear();
    this.pending.clear();
    this.asyncOps.clear();
    this.server.connections.delete(this);
    // A session lives while one of its channels lives (DESIGN rule 3).
    for (const s of [...this.server.sessions.values()]) {
      if (!s.channels.has(this.id) && !s.pendingBinds.has(this.id)) continue;
      s.channels.delete(this.id);
      s.pendingBinds.delete(this.id);
      if (s.channels.size === 0) {
        this.server.destroySession(s, 'disconnect').catch((e: unknown) => this.server.log(`session teardown: ${(e as Error).message}`));
      }
    }
  }

  /**
   * A CREATE still running (waiting for a break) when its channel goes is not cancelled while its
   * session has another live channel: its CreateGuid stays reserved, so a replay there gets
   * FILE_NOT_AVAILABLE (MS-SMB2 3.3.5.9.10), and its open joins the session when it completes (as
   * Samba's smbXsrv_connection_shutdown_send: smb2.replay.dhv2-pending2*). It is cancelled with the
   * session (abortSession) or when no channel is left.
   */
  private handOver(p: Pending): boolean {
    const s = p.session;
    if (p.command !== Command.CREATE || !s || s.state !== 'valid') return false;
    for (const c of s.channels.values()) {
      const other = c.connection;
      if (other === this || other.closed || !(other instanceof Connection)) continue;
      other.adopted.add(p);
      p.adoptedBy = other;
      return true;
    }
    return false;
  }

  /** For status output. */
  describe(): string {
    return `conn ${this.id} ${this.remoteAddress} dialect 0x${this.dialect.toString(16)}`;
  }

  static statusName(code: number): string {
    return statusName(code);
  }

  /** Random bytes helper for negotiate salts (kept here so tests can stub it). */
  static salt(): Buffer {
    return randomBytes(32);
  }
}
