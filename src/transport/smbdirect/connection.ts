// MS-SMBD on an RdmaEndpoint: negotiation (3.1.5.2-3.1.5.7), Data Transfer messages with send
// and receive credits (3.1.5.1, 3.1.5.8, 3.1.5.9), fragmentation and reassembly of upper-layer
// messages (RemainingDataLength), keepalive with SMB_DIRECT_RESPONSE_REQUESTED and an idle
// timeout, and teardown. A peer that breaks the rules (sends without a credit, oversized or
// malformed messages) loses its connection with a clear error; nothing else is affected.
import { Status } from '../../wire/status.js';
import type { RdmaEndpoint, RdmaProvider, RdmaListener, RdmaReceived } from '../rdma/provider.js';
import {
  DATA_OFFSET, decodeDataTransfer, decodeNegotiateRequest, decodeNegotiateResponse, encodeDataHeader,
  encodeNegotiateRequest, encodeNegotiateResponse, MIN_FRAGMENTED_SIZE, MIN_RECEIVE_SIZE, SMB_DIRECT_RESPONSE_REQUESTED, SMBD_VERSION,
} from './wire.js';

export class SmbdError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'SmbdError';
  }
}

export interface SmbdOptions {
  /** Receives posted, so the most send credits we grant (MS-SMBD ReceiveCreditMax; default 64). */
  receiveCreditMax?: number;
  /** Send credits we ask the peer for (SendCreditTarget; default 64). */
  sendCreditTarget?: number;
  /** Largest message we send, header included (default 8192; capped by the peer's MaxReceiveSize). */
  maxSendSize?: number;
  /** Size of our posted receives (default 8192). */
  maxReceiveSize?: number;
  /** Largest upper-layer message we reassemble (default 8 MiB + 64 KiB, an SMB2 frame). */
  maxFragmentedSize?: number;
  /** Largest RDMA transfer of one SMB2 READ/WRITE we allow (default 8 MiB). */
  maxReadWriteSize?: number;
  /** Idle time before we ask the peer to answer (default 120 s, MS-SMBD 3.1.6.2). */
  keepaliveIntervalMs?: number;
  /** Time the peer has to answer that, else the connection is closed (default 5 s). */
  keepaliveTimeoutMs?: number;
  /** Time the peer has to negotiate after connecting (default 5 s). */
  negotiateTimeoutMs?: number;
}

const DEFAULTS: Required<SmbdOptions> = {
  receiveCreditMax: 64,
  sendCreditTarget: 64,
  maxSendSize: 8192,
  maxReceiveSize: 8192,
  maxFragmentedSize: 8 * 1024 * 1024 + 64 * 1024,
  maxReadWriteSize: 8 * 1024 * 1024,
  keepaliveIntervalMs: 120_000,
  keepaliveTimeoutMs: 5_000,
  negotiateTimeoutMs: 5_000,
};

/** What the two sides agreed on (MS-SMBD 3.1.1.1 Connection). */
export interface SmbdParams {
  maxSendSize: number;
  maxReceiveSize: number;
  /** Largest message we may send (the peer's MaxFragmentedSize). */
  maxFragmentedSendSize: number;
  maxFragmentedReceiveSize: number;
  maxReadWriteSize: number;
}

export interface SmbdStats {
  messagesSent: number;
  messagesReceived: number;
  fragmentsSent: number;
  fragmentsReceived: number;
  /** Times a send waited for credits. */
  creditWaits: number;
}

interface Outgoing {
  data: Buffer;
  remaining: number;
  flags: number;
  /** Token the peer invalidates when this (last) fragment arrives (Send With Invalidate). */
  invalidate?: number;
  done?: { resolve: () => void; reject: (e: Error) => void };
}

export class SmbdConnection {
  onMessage?: (msg: Buffer) => void;
  onClose?: (err?: Error) => void;
  readonly stats: SmbdStats = { messagesSent: 0, messagesReceived: 0, fragmentsSent: 0, fragmentsReceived: 0, creditWaits: 0 };
  closed = false;
  params!: SmbdParams;

  private sendCredits = 0;
  /** Credits we granted that the peer has not used yet (Connection.ReceiveCredits as the peer sees it). */
  private granted = 0;
  private peerTarget = 1;
  private readonly queue: Outgoing[] = [];
  private keepalivePending = false;
  private reassembly?: { buf: Buffer; filled: number };
  private idleTimer?: NodeJS.Timeout;
  private answerTimer?: NodeJS.Timeout;
  private stalled = false;
  private extraReceives = 0;

  constructor(readonly ep: RdmaEndpoint, private readonly opts: Required<SmbdOptions>) {}

  /** Called once negotiation is done (either side). */
  establish(params: SmbdParams, sendCredits: number, granted: number, peerTarget: number): void {
    this.params = params;
    this.sendCredits = sendCredits;
    this.granted = granted;
    this.peerTarget = Math.max(1, peerTarget);
    this.ep.events.onReceive = (r) => this.received(r);
    this.ep.events.onClose = (err) => this.close(err);
    this.armIdle();
  }

  /** Sends one upper-layer message (an SMB2 message or compound), fragmented as needed; with
   *  `invalidate`, its last fragment goes as Send With Invalidate of that token (MS-SMBD 3.1.4.1). */
  send(parts: Buffer | Buffer[], invalidate?: number): Promise<void> {
    if (this.closed) return Promise.reject(new SmbdError('SMB-Direct connection closed'));
    const list = Array.isArray(parts) ? parts : [parts];
    const total = list.reduce((a, b) => a + b.length, 0);
    // 3.1.5.1 (caller side): longer than MaxFragmentedSendSize cannot be sent
    if (total > this.params.maxFragmentedSendSize) return Promise.reject(new SmbdError(`message of ${total} bytes exceeds the peer's MaxFragmentedSize ${this.params.maxFragmentedSendSize}`));
    const data = list.length === 1 ? list[0]! : Buffer.concat(list, total);
    const room = this.params.maxSendSize - DATA_OFFSET;
    return new Promise<void>((resolve, reject) => {
      for (let o = 0; o < total || o === 0; o += room) {
        const seg = data.subarray(o, Math.min(o + room, total));
        const last = o + seg.length >= total;
        this.queue.push({ data: seg, remaining: total - o - seg.length, flags: 0, ...(last ? { done: { resolve, reject }, invalidate } : {}) });
        if (last) break;
      }
      this.pump();
    });
  }

  /** 3.1.5.9: credits to grant with the next message. */
  private newCredits(): number {
    const target = Math.min(this.peerTarget, this.opts.receiveCreditMax);
    if (this.granted >= target) return 0;
    return Math.max(0, target - this.granted);
  }

  /** 3.1.5.1: send what the credits allow; the last credit only goes with a grant. */
  private pump(): void {
    while (this.queue.length && !this.closed) {
      if (this.sendCredits === 0) { this.stall(); return; }
      let grant = this.newCredits();
      if (this.sendCredits === 1 && grant === 0) {
        // 3.1.5.9: with one credit left and something to send, post one more receive so the
        // message can grant it (else both sides could wait on each other); bounded
        if (this.extraReceives >= this.opts.receiveCreditMax) { this.stall(); return; }
        this.ep.postReceive(Buffer.alloc(this.opts.maxReceiveSize));
        this.extraReceives++;
        grant = 1;
      }
      const m = this.queue.shift()!;
      this.sendCredits--;
      this.granted += grant;
      let flags = m.flags;
      if (this.keepalivePending) { flags |= SMB_DIRECT_RESPONSE_REQUESTED; this.keepalivePending = false; }
      const header = encodeDataHeader({ creditsRequested: this.opts.sendCreditTarget, creditsGranted: grant, flags, remainingDataLength: m.remaining }, m.data.length);
      const msg = m.data.length ? Buffer.concat([header, m.data]) : header;
      this.stats.fragmentsSent++;
      if (m.done) this.stats.messagesSent++;
      const p = this.ep.send(msg, m.invalidate);
      p.then(() => m.done?.resolve(), (e: Error) => { m.done?.reject(e); this.close(e); });
    }
  }

  private stall(): void {
    if (!this.stalled) this.stats.creditWaits++;
    this.stalled = true;
  }

  private received(r: RdmaReceived): void {
    if (this.closed) return;
    // 3.1.5.8: every message uses one of the credits we granted; none left means the peer overran us
    if (this.granted === 0) return this.close(new SmbdError('peer sent a message without a send credit (MS-SMBD 3.1.5.8)'));
    let d;
    try {
      d = decodeDataTransfer(r.data, this.params.maxFragmentedReceiveSize);
    } catch (e) {
      return this.close(new SmbdError(`bad SMB-Direct message: ${(e as Error).message}`));
    }
    this.granted--;
    this.stats.fragmentsReceived++;
    const data = d.data.length ? Buffer.from(d.data) : undefined;
    this.ep.postReceive(r.buffer);
    this.sendCredits += d.creditsGranted;
    if (this.sendCredits > 0xffff) return this.close(new SmbdError('peer granted more than 65535 send credits'));
    this.peerTarget = Math.max(1, d.creditsRequested);
    this.stalled = false;
    this.armIdle();

    if (data || d.remainingDataLength) {
      const msg = this.reassemble(data ?? Buffer.alloc(0), d.remainingDataLength);
      if (msg === null) return; // closed
      if (msg) {
        this.stats.messagesReceived++;
        this.onMessage?.(msg);
      }
    }
    if (this.closed) return;
    if (d.flags & SMB_DIRECT_RESPONSE_REQUESTED) {
      // keepalive: answer promptly, with an empty message if nothing else is queued
      if (!this.queue.length) this.queue.push({ data: Buffer.alloc(0), remaining: 0, flags: 0 });
    } else if (!this.queue.length && this.granted <= Math.max(1, Math.floor(this.peerTarget / 8)) && this.newCredits() > 0) {
      // grant credits promptly when the peer runs low; only then, so two idle peers never
      // trade empty grant messages forever
      this.queue.push({ data: Buffer.alloc(0), remaining: 0, flags: 0 });
    }
    this.pump();
  }

  /** Returns the whole message when this was its last fragment, undefined when more follow, null on error. */
  private reassemble(data: Buffer, remaining: number): Buffer | undefined | null {
    const r = this.reassembly;
    if (!r) {
      if (remaining === 0) return data;
      const total = data.length + remaining; // <= MaxFragmentedSize (decodeDataTransfer)
      const buf = Buffer.allocUnsafe(total);
      data.copy(buf);
      this.reassembly = { buf, filled: data.length };
      return undefined;
    }
    if (r.filled + data.length + remaining !== r.buf.length || data.length === 0) {
      this.close(new SmbdError('SMB-Direct fragment does not continue the message (RemainingDataLength)'));
      return null;
    }
    data.copy(r.buf, r.filled);
    r.filled += data.length;
    if (remaining) return undefined;
    this.reassembly = undefined;
    return r.buf;
  }

  /** Keepalive (MS-SMBD 3.1.6.2): after an idle interval ask the peer for a response; no answer -> close. */
  private armIdle(): void {
    clearTimeout(this.answerTimer);
    this.answerTimer = undefined;
    clearTimeout(this.idleTimer);
    if (this.closed) return;
    this.idleTimer = setTimeout(() => {
      if (this.closed) return;
      this.keepalivePending = true;
      this.queue.push({ data: Buffer.alloc(0), remaining: 0, flags: 0 });
      this.pump();
      this.answerTimer = setTimeout(() => this.close(new SmbdError('peer did not answer a keepalive (idle timeout)')), this.opts.keepaliveTimeoutMs);
      this.answerTimer.unref();
    }, this.opts.keepaliveIntervalMs);
    this.idleTimer.unref();
  }

  close(err?: Error): void {
    if (this.closed) return;
    this.closed = true;
    clearTimeout(this.idleTimer);
    clearTimeout(this.answerTimer);
    const e = err ?? new SmbdError('SMB-Direct connection closed');
    for (const m of this.queue.splice(0)) m.done?.reject(e);
    this.ep.close(err);
    this.onClose?.(err);
  }
}

function options(o: SmbdOptions): Required<SmbdOptions> {
  return { ...DEFAULTS, ...o };
}

function postReceives(ep: RdmaEndpoint, o: Required<SmbdOptions>): void {
  for (let i = 0; i < o.receiveCreditMax; i++) ep.postReceive(Buffer.alloc(o.maxReceiveSize));
}

/** Client side: connect and negotiate (3.1.5.2, 3.1.5.6). */
export async function smbdConnect(provider: RdmaProvider, host: string, port: number, opts: SmbdOptions = {}): Promise<SmbdConnection> {
  const o = options(opts);
  let first: ((r: RdmaReceived) => void) | undefined;
  const early: RdmaReceived[] = [];
  const ep = await provider.connect(host, port, (e) => {
    postReceives(e, o);
    e.events.onReceive = (r) => (first ? first(r) : early.push(r));
  });
  const conn = new SmbdConnection(ep, o);
  const response = new Promise<RdmaReceived>((resolve, reject) => {
    const t = setTimeout(() => reject(new SmbdError('no SMB-Direct negotiate response')), o.negotiateTimeoutMs);
    first = (r) => { clearTimeout(t); resolve(r); };
    ep.events.onClose = (err) => { clearTimeout(t); reject(err ?? new SmbdError('connection closed during SMB-Direct negotiation')); };
    const e = early.shift();
    if (e) first(e);
  });
  try {
    await ep.send(encodeNegotiateRequest({
      minVersion: SMBD_VERSION, maxVersion: SMBD_VERSION, creditsRequested: o.sendCreditTarget,
      preferredSendSize: o.maxSendSize, maxReceiveSize: o.maxReceiveSize, maxFragmentedSize: o.maxFragmentedSize,
    }));
    const r = await response;
    const resp = decodeNegotiateResponse(r.data);
    ep.postReceive(r.buffer);
    // 3.1.5.6: the response must pick our version, succeed, grant a credit and announce sane sizes
    if (resp.status !== Status.SUCCESS) throw new SmbdError(`SMB-Direct negotiate failed (status 0x${resp.status.toString(16)})`);
    if (resp.negotiatedVersion !== SMBD_VERSION) throw new SmbdError(`SMB-Direct version 0x${resp.negotiatedVersion.toString(16)} not supported`);
    if (resp.creditsGranted < 1 || resp.maxReceiveSize < MIN_RECEIVE_SIZE || resp.maxFragmentedSize < MIN_FRAGMENTED_SIZE) {
      throw new SmbdError('SMB-Direct negotiate response out of range');
    }
    conn.establish({
      maxSendSize: Math.min(o.maxSendSize, resp.maxReceiveSize),
      maxReceiveSize: o.maxReceiveSize,
      maxFragmentedSendSize: resp.maxFragmentedSize,
      maxFragmentedReceiveSize: o.maxFragmentedSize,
      maxReadWriteSize: Math.min(o.maxReadWriteSize, resp.maxReadWriteSize),
    }, resp.creditsGranted, 0, resp.creditsRequested);
    return conn;
  } catch (e) {
    ep.close(e as Error);
    throw e;
  }
}

/** Server side: listen; each connection negotiates (3.1.5.7) before `onConnection` sees it. */
export async function smbdListen(provider: RdmaProvider, host: string, port: number, onConnection: (c: SmbdConnection) => void, opts: SmbdOptions = {}): Promise<RdmaListener> {
  const o = options(opts);
  return provider.listen(host, port, (ep) => {
    postReceives(ep, o);
    const t = setTimeout(() => ep.close(new SmbdError('no SMB-Direct negotiate request')), o.negotiateTimeoutMs);
    t.unref();
    ep.events.onClose = () => clearTimeout(t);
    ep.events.onReceive = (r) => {
      clearTimeout(t);
      let req;
      try {
        req = decodeNegotiateRequest(r.data);
      } catch (e) {
        ep.close(e as Error);
        return;
      }
      ep.postReceive(r.buffer);
      const bad = req.minVersion > SMBD_VERSION || req.maxVersion < SMBD_VERSION;
      const invalid = req.creditsRequested < 1 || req.maxReceiveSize < MIN_RECEIVE_SIZE || req.maxFragmentedSize < MIN_FRAGMENTED_SIZE;
      const grant = Math.min(req.creditsRequested, o.receiveCreditMax);
      const response = encodeNegotiateResponse({
        minVersion: SMBD_VERSION, maxVersion: SMBD_VERSION, negotiatedVersion: bad ? 0 : SMBD_VERSION,
        creditsRequested: o.sendCreditTarget, creditsGranted: bad || invalid ? 0 : grant,
        status: bad ? Status.NOT_SUPPORTED : invalid ? Status.INVALID_PARAMETER : Status.SUCCESS,
        maxReadWriteSize: o.maxReadWriteSize, preferredSendSize: Math.min(o.maxSendSize, req.maxReceiveSize),
        maxReceiveSize: o.maxReceiveSize, maxFragmentedSize: o.maxFragmentedSize,
      });
      if (bad || invalid) {
        // answer, then drop the connection (3.1.5.7)
        ep.send(response).finally(() => ep.close(new SmbdError('SMB-Direct negotiate refused'))).catch(() => {});
        return;
      }
      const conn = new SmbdConnection(ep, o);
      conn.establish({
        maxSendSize: Math.min(o.maxSendSize, req.maxReceiveSize),
        maxReceiveSize: o.maxReceiveSize,
        maxFragmentedSendSize: req.maxFragmentedSize,
        maxFragmentedReceiveSize: o.maxFragmentedSize,
        maxReadWriteSize: o.maxReadWriteSize,
      }, 0, grant, req.creditsRequested);
      onConnection(conn);
      ep.send(response).catch((e: Error) => conn.close(e));
    };
  });
}
