// Client Session and Channel (MS-SMB2 3.2.1.3 / 3.2.1.8). A Session owns Channels; a Channel is
// {connection, signing key}. Encryption keys, SigningRequired and EncryptData belong to the
// session; each channel has its own signing key (for 3.x bindings it is derived from the binding's
// own preauth hash). multichannel.ts binds more channels; compound() replays a request whose
// channel died on a live one.
import { Command, Dialect, HeaderFlags, SecurityMode, SessionFlags } from '../wire/constants.js';
import { decodeSessionSetupResponse, encodeSessionSetupRequest } from '../wire/session-setup.js';
import { encodeLogoffRequest } from '../wire/logoff.js';
import { Status, isError } from '../wire/status.js';
import { deriveSessionKeys } from '../crypto/kdf.js';
import { verifySignature, type SigningAlgorithm } from '../crypto/signing.js';
import type { ChannelSecurity, Connection, SmbRequest, SmbResponse } from './connection.js';
import type { NegotiateResult } from './negotiate.js';
import { SmbError, parse } from './errors.js';

/** One GSS-API style authentication exchange (SPNEGO wrapping NTLMv2). */
export interface GssClient {
  /** Next token to send given the server's last token (the negotiate hint first, maybe empty). */
  step(serverToken: Buffer): Buffer | Promise<Buffer>;
  /** The exported session key once the exchange produced one. */
  sessionKey(): Buffer | undefined;
}

export class Channel implements ChannelSecurity {
  signingKey: Buffer | undefined;

  constructor(readonly session: Session, readonly connection: Connection, readonly neg: NegotiateResult) {}

  get sessionId(): bigint { return this.session.id; }
  get signingAlg(): SigningAlgorithm { return this.neg.signingAlg; }
  get signRequired(): boolean { return this.session.signingRequired; }
  get encryptAll(): boolean { return this.session.encryptData; }
  get cipherId(): number { return this.session.cipherId; }
  get encryptionKey(): Buffer | undefined { return this.session.encryptionKey; }
  get decryptionKey(): Buffer | undefined { return this.session.decryptionKey; }
}

export interface RequestOptions {
  treeId?: number;
  /** Encrypt regardless of the session (share with ENCRYPT_DATA). */
  encrypt?: boolean;
  sign?: boolean;
  /** Statuses that are not errors for this request (besides SUCCESS). */
  allow?: number[];
  /** Path the request is about, for error messages. */
  path?: string;
  timeoutMs?: number;
  /** Send with SMB2_FLAGS_REPLAY_OPERATION (a request replayed after a reconnect, 3.2.4.1.1). */
  replay?: boolean;
}

export class Session {
  id = 0n;
  readonly channels: Channel[] = [];
  signingRequired = false;
  encryptData = false;
  cipherId = 0;
  encryptionKey: Buffer | undefined;
  decryptionKey: Buffer | undefined;
  applicationKey: Buffer | undefined;
  guest = false;
  anonymous = false;
  /** Session.SigningKey: the first channel's key; signs multichannel binding requests (3.2.4.2.3). */
  signingKey: Buffer | undefined;
  /** ChannelSequence sent in every 3.x request; bumped once per failed channel (3.2.4.1.1, 3.2.7.1). */
  channelSequence = 0;
  private readonly failedConnections = new WeakSet<Connection>();
  /** Smooth weighted round-robin state: channel -> current weight. */
  private readonly current = new Map<Channel, number>();
  private weightOf: ((ch: Channel) => number) | undefined;
  /**
   * Set by the client when it can reconnect (reconnect.ts): brings the session back on a new
   * connection after its last channel died. Requests made while no channel lives wait for it.
   */
  recover: (() => Promise<void>) | undefined;

  constructor(readonly dialect: number) {}

  /**
   * Waits for a reconnect when the session has no live channel and can recover (reconnect.ts);
   * undefined (nothing to wait for, no promise made) otherwise.
   */
  ready(): Promise<void> | undefined {
    if (!this.recover) return undefined;
    for (const c of this.channels) if (!c.connection.closed) return undefined;
    return this.recover();
  }

  /** Takes over what a new session setup produced (a reconnect with PreviousSessionId, reconnect.ts). */
  adopt(fresh: Session): void {
    for (const ch of this.channels) ch.connection.channels.delete(this.id);
    this.id = fresh.id;
    this.channels.splice(0, this.channels.length, ...fresh.channels);
    this.current.clear();
    this.signingRequired = fresh.signingRequired;
    this.encryptData = this.encryptData || fresh.encryptData;
    this.cipherId = fresh.cipherId;
    this.encryptionKey = fresh.encryptionKey;
    this.decryptionKey = fresh.decryptionKey;
    this.applicationKey = fresh.applicationKey;
    this.guest = fresh.guest;
    this.anonymous = fresh.anonymous;
    this.signingKey = fresh.signingKey;
  }

  liveChannels(): Channel[] {
    return this.channels.filter((c) => !c.connection.closed);
  }

  /** Link-speed weights for channel selection (multichannel.ts); default: all equal. */
  setWeights(fn: (ch: Channel) => number): void {
    this.weightOf = fn;
    this.current.clear();
  }

  /** Adds a bound channel (multichannel binding) and routes its connection's responses to it. */
  addChannel(ch: Channel): void {
    if (!this.channels.includes(ch)) this.channels.push(ch);
    ch.connection.channels.set(this.id, ch);
  }

  /** Forgets a channel whose connection died. */
  removeChannel(ch: Channel): void {
    const i = this.channels.indexOf(ch);
    if (i >= 0) this.channels.splice(i, 1);
    this.current.delete(ch);
  }

  /**
   * A live channel to send on: smooth weighted round-robin over live channels (weights = link
   * speed, DESIGN rule 4), so consecutive READs/WRITEs of one file spread over all channels.
   */
  channel(): Channel {
    if (this.channels.length === 1 && !this.channels[0]!.connection.closed) return this.channels[0]!;
    const live = this.liveChannels();
    if (live.length === 0) throw new SmbError(Status.CONNECTION_DISCONNECTED, 'no live connection for this session');
    if (live.length === 1) return live[0]!;
    let total = 0;
    let best: Channel | undefined;
    let bestW = -Infinity;
    for (const c of live) {
      const w = Math.max(1, this.weightOf?.(c) ?? 1);
      total += w;
      const cw = (this.current.get(c) ?? 0) + w;
      this.current.set(c, cw);
      if (cw > bestW) {
        bestW = cw;
        best = c;
      }
    }
    this.current.set(best!, bestW - total);
    return best!;
  }

  /** A channel's connection failed: bump ChannelSequence once for it (requests replayed after it carry the new one). */
  private channelFailed(ch: Channel): void {
    if (this.failedConnections.has(ch.connection)) return;
    this.failedConnections.add(ch.connection);
    this.channelSequence = (this.channelSequence + 1) & 0xffff;
  }

  /**
   * The requests as sent on this attempt: copies (a caller may keep and resend its own) with the
   * SessionId, TreeId and, on 3.x, ChannelSequence and the replay flag (3.2.4.1.1).
   */
  private frame(reqs: SmbRequest[], o: RequestOptions, is3: boolean, replay: boolean): SmbRequest[] {
    if ((this.encryptData || o.encrypt) && !this.encryptionKey) {
      throw new SmbError(Status.ACCESS_DENIED, 'the server requires encryption but no cipher was negotiated');
    }
    const out: SmbRequest[] = new Array<SmbRequest>(reqs.length);
    for (let i = 0; i < reqs.length; i++) {
      const r = reqs[i]!;
      const m: SmbRequest = Object.assign({}, r, { sessionId: this.id, treeId: r.treeId ?? o.treeId ?? 0 });
      if (is3) {
        m.channelSequence = this.channelSequence;
        m.flags = (r.flags ?? 0) | (replay ? HeaderFlags.REPLAY_OPERATION : 0);
      }
      out[i] = m;
    }
    return out;
  }

  /** Sends one request on a channel of this session; throws SmbError for an error status. */
  async request(req: SmbRequest, o: RequestOptions = {}): Promise<SmbResponse> {
    const [r] = await this.compound([req], o);
    return r!;
  }

  /**
   * Sends related/unrelated requests as one compound; throws the first error status
   * (not in `allow`) after all members answered.
   */
  async compound(reqs: SmbRequest[], o: RequestOptions = {}, throwOnError = true): Promise<SmbResponse[]> {
    const is3 = this.dialect >= Dialect.SMB3_00;
    let replay = !!o.replay;
    let res: SmbResponse[];
    const waiting = this.ready();
    if (waiting) await waiting;
    const encrypt = (this.encryptData || !!o.encrypt) && !!this.encryptionKey;
    for (let attempt = 0; ; attempt++) {
      const ch = this.channel();
      // 3.x: every request carries the ChannelSequence; a retry after a channel failure carries
      // SMB2_FLAGS_REPLAY_OPERATION too, so the server does not apply it twice (3.2.4.1.1, 3.3.5.2.10).
      const out = this.frame(reqs, o, is3, replay);
      try {
        res = await ch.connection.sendCompound(out, { channel: ch, encrypt, sign: !!o.sign, timeoutMs: o.timeoutMs });
      } catch (e) {
        // The channel died under the request: replay it on another live channel (DESIGN rule 3).
        if (is3 && ch.connection.closed && attempt < MAX_REPLAYS && this.liveChannels().length > 0) {
          this.channelFailed(ch);
          replay = true;
          continue;
        }
        throw e;
      }
      // After a failover the server refuses a replay while the original may still run, and
      // requests of the old ChannelSequence: retry (bounded) with the current one.
      if (is3 && this.channelSequence !== 0 && attempt < MAX_REPLAYS && res.some((r) => r.header.status === Status.FILE_NOT_AVAILABLE)) {
        replay = true;
        await new Promise((r) => setTimeout(r, Math.min(250, 10 * (attempt + 1))));
        continue;
      }
      break;
    }
    if (throwOnError) for (const r of res) checkStatus(r, o);
    return res;
  }

  /** LOGOFF (best effort). */
  async logoff(): Promise<void> {
    const live = this.channels.filter((c) => !c.connection.closed);
    if (live.length === 0 || this.id === 0n) return;
    try {
      await this.request({ command: Command.LOGOFF, body: encodeLogoffRequest() }, { timeoutMs: 5000 });
    } catch { /* closing anyway */ }
  }
}

/** Replays of one request across channel failures / FILE_NOT_AVAILABLE answers. */
const MAX_REPLAYS = 40;

export function checkStatus(r: SmbResponse, o: { allow?: number[]; path?: string } = {}): void {
  const st = r.header.status;
  if (st === Status.SUCCESS || o.allow?.includes(st)) return;
  if (isError(st) || st === Status.NO_MORE_FILES || st === Status.STOPPED_ON_SYMLINK) throw new SmbError(st, undefined, o.path);
}

export interface SessionSetupOptions {
  gss: GssClient;
  /** Client insists on signing (options.sign). */
  requireSigning: boolean;
  timeoutMs: number;
  /** PreviousSessionId (3.2.4.2.3): the session this one replaces after a reconnect. */
  previousSessionId?: bigint;
}

/**
 * Authenticates a new session on `conn` (3.2.4.2.3 / 3.2.5.3): SPNEGO round trips, the 3.1.1
 * preauth hash over every SESSION_SETUP request and response except the final one, key
 * derivation, and verification of the signed final response with the new signing key.
 */
export async function setupSession(conn: Connection, neg: NegotiateResult, o: SessionSetupOptions): Promise<Session> {
  const session = new Session(neg.dialect);
  const channel = new Channel(session, conn, neg);
  const preauth = neg.preauth?.clone();
  const gss = async (t: Buffer): Promise<Buffer> => {
    try {
      return await o.gss.step(t);
    } catch (e) {
      throw new SmbError(Status.LOGON_FAILURE, `authentication failed: ${(e as Error).message}`);
    }
  };
  let token = await gss(neg.securityBuffer);
  const securityMode = SecurityMode.SIGNING_ENABLED | (o.requireSigning ? SecurityMode.SIGNING_REQUIRED : 0);
  let final: SmbResponse | undefined;
  for (let round = 0; round < 8; round++) {
    const body = encodeSessionSetupRequest({
      flags: 0, securityMode, capabilities: 0, channel: 0, previousSessionId: o.previousSessionId ?? 0n, securityBuffer: token,
    });
    const res = await conn.send(
      { command: Command.SESSION_SETUP, body, sessionId: session.id },
      { timeoutMs: o.timeoutMs, onSent: (m) => preauth?.update(m[0]!) },
    );
    const st = res.header.status;
    if (st === Status.MORE_PROCESSING_REQUIRED) {
      preauth?.update(res.msg);
      session.id = res.header.sessionId;
      const r = parse(() => decodeSessionSetupResponse(res.msg));
      token = await gss(Buffer.from(r.securityBuffer));
      continue;
    }
    if (st !== Status.SUCCESS) {
      if (st === Status.LOGON_FAILURE || st === Status.WRONG_PASSWORD || st === Status.NO_SUCH_USER) {
        throw new SmbError(Status.LOGON_FAILURE, 'wrong user name or password');
      }
      const hint = st === Status.ACCESS_DENIED && neg.dialect < Dialect.SMB3_00
        ? ' (the server may require encryption, which SMB 2.x cannot do: offer SMB 3)' : '';
      throw new SmbError(st, `session setup failed: ${new SmbError(st).message}${hint}`);
    }
    final = res;
    break;
  }
  if (!final) throw new SmbError(Status.LOGON_FAILURE, 'authentication did not finish');
  session.id = final.header.sessionId;
  const r = parse(() => decodeSessionSetupResponse(final.msg));
  if (r.securityBuffer.length) await gss(Buffer.from(r.securityBuffer)); // mechListMIC / accept-completed
  session.guest = (r.sessionFlags & SessionFlags.IS_GUEST) !== 0;
  session.anonymous = (r.sessionFlags & SessionFlags.IS_NULL) !== 0;

  const key = o.gss.sessionKey();
  if (!session.guest && !session.anonymous) {
    if (!key) throw new SmbError(Status.LOGON_FAILURE, 'authentication produced no session key');
    const keys = deriveSessionKeys(neg.dialect, key, preauth?.value, neg.cipherId);
    channel.signingKey = keys.signingKey;
    session.applicationKey = keys.applicationKey;
    if (neg.dialect >= Dialect.SMB3_00 && neg.cipherId) {
      session.cipherId = neg.cipherId;
      session.encryptionKey = keys.serverInKey;
      session.decryptionKey = keys.serverOutKey;
    }
    // 3.2.5.3.1: signing is required if either side requires it.
    session.signingRequired = o.requireSigning || (neg.serverSecurityMode & SecurityMode.SIGNING_REQUIRED) !== 0;
    session.encryptData = (r.sessionFlags & SessionFlags.ENCRYPT_DATA) !== 0;
    if (session.encryptData && !session.encryptionKey) {
      throw new SmbError(Status.ACCESS_DENIED, 'the server requires encryption, which this dialect/cipher cannot do');
    }
    // The final response is signed with the new key (3.1.1 always; otherwise when flagged).
    const signed = (final.header.flags & HeaderFlags.SIGNED) !== 0;
    if (signed && !verifySignature(neg.signingAlg, channel.signingKey, final.msg)) {
      throw new SmbError(Status.ACCESS_DENIED, 'the server\'s SESSION_SETUP response has a bad signature (wrong password or tampering)');
    }
    if (!signed && neg.dialect === Dialect.SMB3_11) {
      throw new SmbError(Status.ACCESS_DENIED, 'the server did not sign the final SMB 3.1.1 SESSION_SETUP response');
    }
  }
  session.signingKey = channel.signingKey;
  session.channels.push(channel);
  conn.channels.set(session.id, channel);
  return session;
}
