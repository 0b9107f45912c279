// One TCP connection to an SMB2/3 server (MS-SMB2 3.2.1.2 Connection): framing, message ids,
// credits, the pending-request table, signing/encryption of requests and verification/decryption
// of responses, async (STATUS_PENDING) interim responses, unsolicited oplock/lease breaks,
// keepalive echo. It knows nothing about sessions beyond the Channel security each message names:
// a Session owns Channels, and a Channel is {connection, signing key} (DESIGN.md rule 1).
import net from 'node:net';
import { DirectFrameReader, FrameReader, frameHeader } from '../transport/framing.js';
import { Command, HeaderFlags } from '../wire/constants.js';
import { HEADER_SIZE, SIGNATURE_OFFSET, decodeHeader, encodeHeaderInto, splitCompound, type Header } from '../wire/header.js';
import { Status, statusName } from '../wire/status.js';
import { TRANSFORM_HEADER_SIZE, isTransformHeader, transformSessionId } from '../wire/transform.js';
import { WireError } from '../wire/buf.js';
import { StreamingVerifier, computeSignature, verifySignature, type SigningAlgorithm } from '../crypto/signing.js';
import { StreamingOpener, openMessageInPlace, sealMessage } from '../crypto/encryption.js';
import { NATIVE_MAX_PARTS } from '../crypto/native.js';
import { ioPool } from '../transport/bufpool.js';
import { SmbError, toSmbError } from './errors.js';
import { encodeSessionRequest } from '../transport/netbios.js';
import type { RdmaProvider, RdmaRegistration, RdmaStats } from '../transport/rdma/provider.js';
import { smbdConnect, type SmbdConnection, type SmbdOptions } from '../transport/smbdirect/connection.js';

export const UNSOLICITED_MESSAGE_ID = 0xffffffffffffffffn;
/** Bytes a prepared request frame (SmbRequest.frame) reserves before its body: NetBIOS length + SMB2 header. */
export const FRAME_HEAD = 4 + HEADER_SIZE;
/** Messages from this size up are sealed into pooled buffers (smaller ones are cheap to allocate). */
const POOL_MIN = 256 * 1024;
const CREDIT_UNIT = 65536;
/** We try to keep this many credits in hand (Samba grants up to 8192 by default). */
const CREDIT_TARGET = 2048;

/** Security state of one channel of a session, as the connection sees it. */
export interface ChannelSecurity {
  readonly sessionId: bigint;
  /** Channel.SigningKey; undefined until the session setup completed. */
  readonly signingKey: Buffer | undefined;
  readonly signingAlg: SigningAlgorithm;
  /** Session.SigningRequired: every request is signed, every response must be signed or encrypted. */
  readonly signRequired: boolean;
  /** Session.EncryptData (or the caller asked for it): all requests of this session are encrypted. */
  readonly encryptAll: boolean;
  /** Session encryption keys (belong to the session, shared by all its channels). */
  readonly cipherId: number;
  readonly encryptionKey: Buffer | undefined;
  readonly decryptionKey: Buffer | undefined;
}

export interface SmbRequest {
  command: number;
  /** Body: the bytes after the 64-byte header. */
  body: Buffer | Buffer[];
  sessionId?: bigint;
  treeId?: number;
  flags?: number;
  /** Largest of bytes sent and bytes expected back; sets CreditCharge (3.2.4.1.5). */
  payloadSize?: number;
  /** ChannelSequence (3.x, 2.2.1.2): bumped by the session after a channel failure (multichannel replay). */
  channelSequence?: number;
  /**
   * The whole request in one buffer, written as one piece instead of header + body parts: bytes
   * 0..FRAME_HEAD-1 are filled in here (NetBIOS length, SMB2 header), the body follows. Only for a
   * request sent alone; `body` is ignored then. The caller owns the buffer (e.g. a pooled one it gives
   * back once the answer arrived: the server cannot answer before the last byte left it).
   */
  frame?: Buffer;
  /**
   * A large answer may be received into a buffer from transport/bufpool's ioPool (the caller gives
   * it back with ioPool.release once done with the data) instead of a fresh one.
   */
  pooledResponse?: boolean;
}

export interface SmbResponse {
  header: Header;
  /** The whole message, header at 0 (what wire/ decoders take). */
  msg: Buffer;
}

export interface SendOptions {
  /** Channel whose keys sign/encrypt this request; undefined = none (negotiate, first session setup). */
  channel?: ChannelSecurity;
  /** Sign even if the channel does not require it (e.g. tree connect on 3.x); needs a key. */
  sign?: boolean;
  /** Encrypt this request (the whole compound) with the channel's session keys. */
  encrypt?: boolean;
  timeoutMs?: number;
  /** Called with the raw bytes of the request message(s) as sent (preauth integrity hash). */
  onSent?: (msgs: Buffer[]) => void;
}

export interface NegotiatedParams {
  dialect: number;
  supportsMultiCredit: boolean;
  maxReadSize: number;
  maxWriteSize: number;
  maxTransactSize: number;
}

interface Pending {
  messageId: bigint;
  command: number;
  resolve: (r: SmbResponse) => void;
  reject: (e: SmbError) => void;
  timer: NodeJS.Timeout | undefined;
  timeoutMs: number;
  asyncId: bigint | undefined;
  channel: ChannelSecurity | undefined;
  charge: number;
  /** We signed the request, so the answer must be signed too (3.2.5.1.3). */
  signed: boolean;
  pooled: boolean;
  /** Pooled buffer holding the sealed request, given back with the final answer. */
  hold: Buffer | undefined;
}

interface Waiter {
  charge: number;
  resolve: () => void;
  reject: (e: SmbError) => void;
}

export interface ConnectionOptions {
  host: string;
  port: number;
  timeoutMs: number;
  /** Idle interval after which an ECHO is sent to keep NATs/servers from dropping us; 0 = never. */
  keepaliveMs?: number;
  /** 'tcp' (direct, default), 'netbios' (RFC 1002 session request first, port 139) or 'smbdirect'. */
  transport?: ClientTransport;
  /** SMB-Direct: the RDMA provider (transport/rdma/) and MS-SMBD settings. */
  rdmaProvider?: RdmaProvider;
  smbdirect?: SmbdOptions;
  /** NetBIOS: the name we call (default: the host's first label) and our own name. */
  netbiosName?: string;
}

export type ClientTransport = 'tcp' | 'netbios' | 'smbdirect';

/** An SMB-Direct connection's RDMA capability, for READ/WRITE with Channel RDMA_V1 (file.ts). */
export interface ClientRdma {
  readonly maxReadWriteSize: number;
  register(buf: Buffer, access: number): RdmaRegistration;
  readonly stats: RdmaStats;
}

export type OplockBreakHandler = (msg: Buffer, header: Header) => void;

export class Connection {
  private socket: net.Socket | undefined;
  private readonly frames = new FrameReader();
  /** The large frame being received and the crypto begun on it (onPartialFrame). */
  private early: { frame: Buffer; started: boolean; opener: StreamingOpener | undefined; verifier: StreamingVerifier | undefined } | undefined;
  private readonly pending = new Map<bigint, Pending>();
  private readonly waiters: Waiter[] = [];
  /** Requests we gave up on (timeout): their credits come back if the answer still arrives. */
  private readonly timedOut = new Map<bigint, number>();
  private nextMessageId = 0n;
  /** Pending requests that accept a pooled answer (large frames are then received into ioPool buffers). */
  private pooledWaiting = 0;
  /** Credits we may still spend (granted minus used); one is implicit before NEGOTIATE. */
  private credits = 1;
  private outstanding = 0;
  /** Most credits the server has let us hold at once (caps the size of one request). */
  private peakCredits = 1;
  private closedError: SmbError | undefined;
  private keepalive: NodeJS.Timeout | undefined;
  private lastActivity = Date.now();
  /** Channels of sessions bound to this connection, by SessionId. */
  readonly channels = new Map<bigint, ChannelSecurity>();
  /** Traffic counters (client.channels()) and the time of the last byte each way (stall detection). */
  bytesSent = 0;
  bytesReceived = 0;
  requestsSent = 0;
  lastSend = Date.now();
  lastReceive = Date.now();
  params: NegotiatedParams = {
    dialect: 0, supportsMultiCredit: false, maxReadSize: CREDIT_UNIT, maxWriteSize: CREDIT_UNIT, maxTransactSize: CREDIT_UNIT,
  };
  onOplockBreak: OplockBreakHandler | undefined;
  /** Called once when the connection dies (error or close). */
  onClose: ((err: SmbError) => void) | undefined;

  constructor(readonly opts: ConnectionOptions) {}

  get closed(): boolean {
    return this.closedError !== undefined;
  }

  get availableCredits(): number {
    return this.credits;
  }

  /** Requests sent and not answered yet. */
  get inFlight(): number {
    return this.pending.size;
  }

  /** Requests waiting for an answer that have not gone async (an interim STATUS_PENDING may wait forever legitimately). */
  get waitingRequests(): number {
    let n = 0;
    for (const p of this.pending.values()) if (p.asyncId === undefined) n++;
    return n;
  }

  get localAddress(): string {
    return this.socket?.localAddress ? `${this.socket.localAddress}:${this.socket.localPort}` : '';
  }

  get remoteAddress(): string {
    return this.socket?.remoteAddress ? `${this.socket.remoteAddress}:${this.socket.remotePort}` : `${this.opts.host}:${this.opts.port}`;
  }

  /** Largest payload one request may carry so that its CreditCharge fits the server's window. */
  get maxPayloadByCredits(): number {
    return this.params.supportsMultiCredit ? Math.max(1, this.peakCredits) * CREDIT_UNIT : CREDIT_UNIT;
  }

  /** SMB-Direct: the MS-SMBD connection carrying our messages (no socket then). */
  private smbd: SmbdConnection | undefined;
  /** Set on SMB-Direct connections: READ/WRITE payloads may move by RDMA. */
  rdma: ClientRdma | undefined;

  connect(): Promise<void> {
    if (this.opts.transport === 'smbdirect') return this.connectSmbdirect();
    const netbios = this.opts.transport === 'netbios';
    return new Promise((resolve, reject) => {
      // Reads land in buffers we choose (node:net onread): a large response is read straight into
      // a buffer of its own size instead of 64 KiB chunks that are then copied together.
      // Pooled when a request waiting for its answer takes pooled buffers (bulk READs into a file);
      // otherwise fresh, as the data is handed over (e.g. to a stream consumer).
      const direct = new DirectFrameReader(
        { get: (n) => (this.pooledWaiting > 0 ? ioPool.get(n) : Buffer.allocUnsafe(n)) },
        undefined,
        (frame, filled) => this.onPartialFrame(frame, filled),
      );
      const sock = net.connect({
        host: this.opts.host, port: this.opts.port,
        onread: { buffer: () => direct.next(), callback: (n: number) => { this.onBytes(direct, n); return true; } },
      });
      this.socket = sock;
      sock.setNoDelay(true);
      const timer = setTimeout(() => {
        const e = new SmbError(Status.IO_TIMEOUT, `could not connect to ${this.opts.host}:${this.opts.port} within ${this.opts.timeoutMs} ms`);
        this.fail(e);
        reject(e);
      }, this.opts.timeoutMs);
      sock.once('connect', () => {
        const ready = (): void => {
          clearTimeout(timer);
          if (this.pending.size === 0) sock.unref();
          this.startKeepalive();
          resolve();
        };
        if (!netbios) return ready();
        // RFC 1002 4.3.2: session request first; SMB2 starts after the positive response
        this.frames.onSessionResponse = direct.onSessionResponse = ready;
        const called = this.opts.netbiosName ?? (net.isIP(this.opts.host) ? '*SMBSERVER' : this.opts.host.split('.')[0]!);
        sock.write(encodeSessionRequest(called, 'SMBTS'));
      });
      sock.on('data', (chunk: Buffer) => this.onData(chunk));
      sock.on('error', (err) => {
        clearTimeout(timer);
        const e = toSmbError(err, Status.CONNECTION_DISCONNECTED, `${this.opts.host}:${this.opts.port}`);
        this.fail(e);
        reject(e); // no-op once connected
      });
      sock.on('close', () => {
        clearTimeout(timer);
        const e = new SmbError(Status.CONNECTION_DISCONNECTED, 'connection closed by server');
        this.fail(e);
        reject(e);
      });
    });
  }

  private async connectSmbdirect(): Promise<void> {
    const provider = this.opts.rdmaProvider;
    if (!provider) throw new SmbError(Status.NOT_SUPPORTED, 'transport smbdirect needs an RDMA provider');
    let c: SmbdConnection;
    try {
      c = await smbdConnect(provider, this.opts.host, this.opts.port, this.opts.smbdirect);
    } catch (e) {
      throw new SmbError(Status.CONNECTION_DISCONNECTED, `SMB-Direct to ${this.opts.host}:${this.opts.port}: ${(e as Error).message}`);
    }
    this.smbd = c;
    const ep = c.ep;
    this.rdma = { maxReadWriteSize: c.params.maxReadWriteSize, register: (buf, access) => ep.register(buf, access), stats: ep.stats };
    c.onMessage = (msg) => {
      this.lastActivity = Date.now();
      this.lastReceive = this.lastActivity;
      this.bytesReceived += msg.length;
      this.onFrame(msg);
    };
    c.onClose = (err) => this.fail(new SmbError(Status.CONNECTION_DISCONNECTED, `SMB-Direct connection closed${err ? `: ${err.message}` : ''}`));
    this.startKeepalive();
  }

  /** Sends one request and resolves with its final response (any status; callers check it). */
  async send(req: SmbRequest, opts: SendOptions = {}): Promise<SmbResponse> {
    const [r] = await this.sendCompound([req], opts);
    return r!;
  }

  /**
   * Sends a chain of requests in one frame (3.2.4.1.4). Members after the first that carry
   * HeaderFlags.RELATED_OPERATIONS use the FileId/SessionId/TreeId of the previous member.
   */
  async sendCompound(reqs: SmbRequest[], opts: SendOptions = {}): Promise<SmbResponse[]> {
    if (this.closedError) throw this.closedError;
    const charges = reqs.map((r) => this.chargeFor(r));
    const total = charges.reduce((a, b) => a + b, 0);
    await this.acquireCredits(total);
    if (this.closedError) throw this.closedError;

    const channel = opts.channel;
    const sign = !!channel?.signingKey && (opts.sign || channel.signRequired) && !opts.encrypt;
    if (opts.encrypt && !channel?.encryptionKey) {
      this.releaseUnsent(total);
      throw new SmbError(Status.ACCESS_DENIED, 'encryption requested but the session has no encryption key');
    }
    // Each member is [header, ...body parts, pad]: the body (e.g. WRITE data) is never copied here.
    const parts: Buffer[] = [];
    const members: Buffer[][] = [];
    const ids: bigint[] = [];
    let size = 0;
    const frame = reqs.length === 1 ? reqs[0]!.frame : undefined;
    if (!frame && reqs.some((r) => r.frame)) {
      this.releaseUnsent(total);
      throw new RangeError('a request with a prepared frame must be sent alone');
    }
    for (let i = 0; i < reqs.length; i++) {
      const req = reqs[i]!;
      const charge = charges[i]!;
      const messageId = this.nextMessageId;
      this.nextMessageId += BigInt(charge);
      ids.push(messageId);
      const bodyParts = frame ? [] : Array.isArray(req.body) ? req.body : [req.body];
      let bodyLen = frame ? frame.length - FRAME_HEAD : 0;
      for (const p of bodyParts) bodyLen += p.length;
      const last = i === reqs.length - 1;
      const len = HEADER_SIZE + bodyLen;
      const padded = last ? len : (len + 7) & ~7;
      const header = frame ? frame.subarray(4, FRAME_HEAD) : Buffer.allocUnsafe(HEADER_SIZE);
      // Ask for enough credits to keep the window open (3.2.4.1.2), never fewer than we spend.
      const want = this.credits + this.outstanding < CREDIT_TARGET ? charge + 64 : charge;
      encodeHeaderInto({
        command: req.command,
        creditCharge: this.params.supportsMultiCredit ? charge : (this.params.dialect >= 0x0210 ? 1 : 0),
        credits: Math.min(want, 0xffff),
        flags: (req.flags ?? 0) | (sign ? HeaderFlags.SIGNED : 0),
        nextCommand: last ? 0 : padded,
        messageId,
        treeId: req.treeId ?? 0,
        sessionId: req.sessionId ?? 0n,
        status: req.channelSequence ?? 0,
      }, header, 0);
      const member = frame ? [frame.subarray(4)] : [header, ...bodyParts];
      if (padded > len) member.push(Buffer.alloc(padded - len));
      if (sign) computeSignature(channel!.signingAlg, channel!.signingKey!, member).copy(header, SIGNATURE_OFFSET);
      members.push(member);
      parts.push(...member);
      size += padded;
    }

    let out: Buffer[];
    let hold: Buffer | undefined;
    if (opts.encrypt) {
      // Sealed into one buffer with room for the NetBIOS header in front, written as one piece;
      // a large single request (a WRITE) is sealed into a pooled buffer, given back with its answer.
      const pooled = reqs.length === 1 && size >= POOL_MIN;
      let plain = parts;
      let joined: Buffer | undefined;
      if (parts.length > NATIVE_MAX_PARTS) {
        joined = ioPool.get(size);
        let off = 0;
        for (const p of parts) off += p.copy(joined, off);
        plain = [joined];
      }
      const box: { buf?: Buffer } = {};
      let sealed: Buffer;
      try {
        if (size + TRANSFORM_HEADER_SIZE > 0xffffff) throw new WireError('frame too large');
        sealed = sealMessage(channel!.cipherId, channel!.encryptionKey!, channel!.sessionId, plain, (n) => {
          const b = pooled ? ioPool.get(n + 4) : Buffer.allocUnsafe(n + 4);
          box.buf = b;
          return b.subarray(4, 4 + n);
        });
      } catch (e) {
        this.releaseUnsent(total);
        throw e;
      }
      if (joined) ioPool.release(joined);
      const whole = box.buf!.subarray(0, 4 + sealed.length);
      whole.writeUInt32BE(sealed.length, 0);
      out = [whole];
      if (pooled) hold = box.buf;
    } else if (frame) {
      if (size > 0xffffff) {
        this.releaseUnsent(total);
        throw new WireError('frame too large');
      }
      frame.writeUInt32BE(size, 0);
      out = [frame];
    } else {
      out = [frameHeader(size), ...parts];
    }

    const promises = ids.map((id, i) => new Promise<SmbResponse>((resolve, reject) => {
      const pooled = !!reqs[i]!.pooledResponse;
      const p: Pending = {
        messageId: id, command: reqs[i]!.command, resolve, reject, timer: undefined,
        timeoutMs: opts.timeoutMs ?? this.opts.timeoutMs, asyncId: undefined, channel, charge: charges[i]!, signed: sign,
        pooled, hold,
      };
      if (pooled) this.pooledWaiting++;
      this.armTimer(p);
      this.pending.set(id, p);
    }));
    this.socket?.ref(); // a request in flight keeps the process alive; an idle client does not (forget)
    this.requestsSent += reqs.length;
    if (opts.onSent) opts.onSent(members.map((m) => (m.length === 1 ? m[0]! : Buffer.concat(m))));
    this.write(out);
    return Promise.all(promises);
  }

  /** Gives back credits taken for a request that was never sent. */
  private releaseUnsent(n: number): void {
    this.outstanding = Math.max(0, this.outstanding - n);
    this.grant(n);
  }

  private chargeFor(req: SmbRequest): number {
    if (!this.params.supportsMultiCredit) return 1;
    let size = req.payloadSize ?? 0;
    if (size === 0 && req.frame) size = req.frame.length - FRAME_HEAD;
    if (size === 0) {
      const parts = Array.isArray(req.body) ? req.body : [req.body];
      for (const p of parts) size += p.length;
    }
    return Math.max(1, Math.ceil(size / CREDIT_UNIT));
  }

  private acquireCredits(n: number): Promise<void> {
    if (this.waiters.length === 0 && this.credits >= n) {
      this.credits -= n;
      this.outstanding += n; // counted from now: the request is as good as sent
      return Promise.resolve();
    }
    // Nothing outstanding and still not enough: the server will never grant more (3.2.4.1.5).
    if (this.outstanding === 0 && this.waiters.length === 0 && this.credits < n) {
      return Promise.reject(new SmbError(Status.INSUFFICIENT_RESOURCES, `request needs ${n} credits, server granted ${this.credits}`));
    }
    return new Promise((resolve, reject) => this.waiters.push({ charge: n, resolve, reject }));
  }

  private grant(n: number): void {
    this.credits += n;
    if (this.credits + this.outstanding > this.peakCredits) this.peakCredits = this.credits + this.outstanding;
    while (this.waiters.length > 0 && this.credits >= this.waiters[0]!.charge) {
      const w = this.waiters.shift()!;
      this.credits -= w.charge;
      this.outstanding += w.charge;
      w.resolve();
    }
    if (this.waiters.length > 0 && this.outstanding === 0) {
      const w = this.waiters.shift()!;
      w.reject(new SmbError(Status.INSUFFICIENT_RESOURCES, `request needs ${w.charge} credits, server granted ${this.credits}`));
    }
  }

  private armTimer(p: Pending): void {
    if (p.timer) clearTimeout(p.timer);
    if (p.timeoutMs <= 0) return;
    p.timer = setTimeout(() => {
      this.forget(p);
      this.timedOut.set(p.messageId, p.charge);
      p.reject(new SmbError(Status.IO_TIMEOUT, `the server did not answer in time (${commandName(p.command)}, ${p.timeoutMs} ms)`));
    }, p.timeoutMs);
    p.timer.unref?.();
  }

  private write(parts: Buffer[]): void {
    if (this.smbd) {
      // MS-SMBD delimits messages itself: drop the 4-byte length
      this.lastActivity = this.lastSend = Date.now();
      const msg = Buffer.concat(parts).subarray(4);
      this.bytesSent += msg.length;
      this.smbd.send(msg).catch(() => { /* the connection fails itself */ });
      return;
    }
    const s = this.socket;
    if (!s) throw new SmbError(Status.CONNECTION_DISCONNECTED, 'not connected');
    this.lastActivity = Date.now();
    this.lastSend = this.lastActivity;
    let len = 0;
    for (const p of parts) len += p.length;
    this.bytesSent += len;
    if (parts.length > 1 && len <= 16 * 1024) {
      // small request: one joined buffer, one write (cheaper than the stream's cork/writev path)
      s.write(Buffer.concat(parts, len));
      return;
    }
    s.cork();
    for (const p of parts) s.write(p);
    s.uncork();
  }

  private onData(chunk: Buffer): void {
    if (this.closed) return;
    this.lastActivity = Date.now();
    this.lastReceive = this.lastActivity;
    this.bytesReceived += chunk.length;
    try {
      for (const frame of this.frames.push(chunk)) this.onFrame(frame);
    } catch (err) {
      this.fail(toSmbError(err, Status.INVALID_NETWORK_RESPONSE));
    }
  }

  private onBytes(direct: DirectFrameReader, n: number): void {
    if (this.closed) return;
    this.lastActivity = Date.now();
    this.lastReceive = this.lastActivity;
    this.bytesReceived += n;
    try {
      for (const frame of direct.commit(n)) this.onFrame(frame);
    } catch (err) {
      this.fail(toSmbError(err, Status.INVALID_NETWORK_RESPONSE));
    }
  }

  /**
   * A large answer (READ data) is arriving: decrypt it (AES-GCM) or compute its signature as the
   * bytes come in, so the work overlaps the socket; the result is used only once it is complete.
   */
  private onPartialFrame(frame: Buffer, filled: number): void {
    const e = this.early;
    if (e?.frame !== frame) {
      this.early = { frame, started: false, opener: undefined, verifier: undefined };
      return;
    }
    if (e.opener) e.opener.update(filled);
    else if (e.verifier) e.verifier.update(filled);
    else if (!e.started && filled >= 64) {
      e.started = true;
      if (isTransformHeader(frame)) {
        const ch = this.channels.get(transformSessionId(frame));
        if (ch?.decryptionKey) e.opener = StreamingOpener.start(ch.cipherId, ch.decryptionKey, frame, filled);
      } else {
        const ch = this.channels.get(frame.readBigUInt64LE(40));
        if (ch?.signingKey) e.verifier = StreamingVerifier.start(ch.signingAlg, ch.signingKey, frame, filled);
      }
    }
  }

  private onFrame(frame: Buffer): void {
    let plain = frame;
    let encrypted = false;
    const early = this.early?.frame === frame ? this.early : undefined;
    if (early) this.early = undefined;
    if (isTransformHeader(frame)) {
      const sid = transformSessionId(frame);
      const ch = this.channels.get(sid);
      if (!ch?.decryptionKey) throw new WireError(`encrypted message for unknown session 0x${sid.toString(16)}`);
      // The frame is ours (received into a buffer of its own): decrypt where it lies (begun while
      // it arrived when it was large; valid only with the key it was begun with).
      if (early?.opener && early.opener.key !== ch.decryptionKey) throw new WireError('session key changed during a message');
      plain = early?.opener ? early.opener.finish().plaintext : openMessageInPlace(ch.cipherId, ch.decryptionKey, frame).plaintext;
      encrypted = true;
    }
    for (const msg of splitCompound(plain)) this.onMessage(msg, encrypted, early?.verifier);
  }

  private onMessage(msg: Buffer, encrypted: boolean, verifier?: StreamingVerifier): void {
    const h = decodeHeader(msg);
    if (!(h.flags & HeaderFlags.SERVER_TO_REDIR)) throw new WireError('response without SERVER_TO_REDIR flag');
    if (h.messageId === UNSOLICITED_MESSAGE_ID) {
      if (h.command !== Command.OPLOCK_BREAK) throw new WireError(`unsolicited ${commandName(h.command)} message`);
      this.verify(msg, h, encrypted, this.channels.get(h.sessionId));
      this.grant(h.credits);
      this.onOplockBreak?.(msg, h);
      return;
    }
    const p = this.pending.get(h.messageId);
    if (!p) {
      // A late answer to a request that timed out: take its credits, drop it.
      const charge = this.timedOut.get(h.messageId);
      if (charge !== undefined && !(h.status === Status.PENDING && (h.flags & HeaderFlags.ASYNC_COMMAND))) {
        this.timedOut.delete(h.messageId);
        this.outstanding = Math.max(0, this.outstanding - charge);
      }
      this.grant(h.credits);
      return;
    }
    if (h.command !== p.command) throw new WireError(`response command ${commandName(h.command)} does not match request ${commandName(p.command)}`);
    const interim = h.status === Status.PENDING && (h.flags & HeaderFlags.ASYNC_COMMAND) !== 0;
    if (!interim) this.verify(msg, h, encrypted, this.channels.get(h.sessionId) ?? p.channel, p.signed, verifier);
    if (interim) {
      // Interim response (3.2.5.1.5): keep waiting for the final one on the AsyncId.
      this.grant(h.credits);
      p.asyncId = h.asyncId;
      this.armTimer(p);
      return;
    }
    this.forget(p);
    if (p.timer) clearTimeout(p.timer);
    if (p.hold) ioPool.release(p.hold);
    this.outstanding = Math.max(0, this.outstanding - p.charge);
    this.grant(h.credits);
    p.resolve({ header: h, msg });
  }

  private forget(p: Pending): void {
    if (this.pending.delete(p.messageId) && p.pooled) this.pooledWaiting--;
    if (this.pending.size === 0) this.socket?.unref();
  }

  /** 3.2.5.1.3: verify signed responses; a session requiring signing must get signed (or encrypted) successes. */
  private verify(msg: Buffer, h: Header, encrypted: boolean, ch: ChannelSecurity | undefined, requestSigned = false, v?: StreamingVerifier): void {
    if (encrypted || !ch?.signingKey || h.sessionId === 0n) return;
    if (h.flags & HeaderFlags.SIGNED) {
      // computed while the frame arrived (onPartialFrame) when it was with this channel's key
      const streamed = v !== undefined && v.key === ch.signingKey && v.alg === ch.signingAlg && v.frame.length === msg.length;
      if (!(streamed ? v.finish() : verifySignature(ch.signingAlg, ch.signingKey, msg))) {
        throw new SmbError(Status.ACCESS_DENIED, `bad signature on ${commandName(h.command)} response: connection dropped`);
      }
    } else if ((ch.signRequired || requestSigned) && h.status === Status.SUCCESS && h.command !== Command.OPLOCK_BREAK) {
      const why = ch.signRequired ? 'on a session that requires signing' : 'to a signed request';
      throw new SmbError(Status.ACCESS_DENIED, `unsigned ${commandName(h.command)} response ${why}: connection dropped`);
    }
  }

  /** Tears the connection down and rejects everything pending with `err`. */
  fail(err: SmbError): void {
    if (this.closedError) return;
    this.closedError = err;
    if (this.keepalive) clearInterval(this.keepalive);
    for (const p of this.pending.values()) {
      if (p.timer) clearTimeout(p.timer);
      p.reject(err);
    }
    this.pending.clear();
    this.pooledWaiting = 0;
    for (const w of this.waiters.splice(0)) w.reject(err);
    this.socket?.destroy();
    this.smbd?.close();
    this.onClose?.(err);
  }

  /** Clean close: stop keepalive, end the socket; pending requests fail with "connection closed". */
  async close(): Promise<void> {
    if (this.closedError) return;
    const s = this.socket;
    this.fail(new SmbError(Status.CONNECTION_DISCONNECTED, 'connection closed'));
    if (s && !s.destroyed) await new Promise<void>((r) => { s.once('close', () => r()); s.destroy(); });
  }

  private startKeepalive(): void {
    const every = this.opts.keepaliveMs ?? 0;
    if (every <= 0) return;
    this.keepalive = setInterval(() => {
      if (this.closed || Date.now() - this.lastActivity < every || this.pending.size > 0 || this.params.dialect === 0) return;
      this.send({ command: Command.ECHO, body: Buffer.from([4, 0, 0, 0]) }, { channel: undefined, timeoutMs: this.opts.timeoutMs })
        .catch(() => { /* failure already tears the connection down */ });
    }, every);
    this.keepalive.unref();
  }
}

const commandNames = new Map<number, string>(Object.entries(Command).map(([k, v]) => [v as number, k]));
export function commandName(c: number): string {
  return commandNames.get(c) ?? `command 0x${c.toString(16)}`;
}

export { statusName };
