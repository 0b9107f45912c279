// Client multichannel (MS-SMB2 3.2.4.2.3 / 3.2.5.3, seed 000: cifs.ko multichannel): after the
// first session setup, query the server's interfaces (FSCTL_QUERY_NETWORK_INTERFACE_INFO), rank
// them by speed (RSS/RDMA first at equal speed), open more connections with the same ClientGUID
// and dialect and bind them to the session (SMB2_SESSION_FLAG_BINDING, request signed with the
// session's signing key, each channel's own signing key derived from that connection's preauth
// hash). Requests are spread over live channels by Session.channel(); a channel that dies is
// re-established in the background while the others carry on (Session.compound replays what was
// in flight on it).
import { createHash } from 'node:crypto';
import { Command, Dialect, Fsctl, HeaderFlags, IoctlFlags, SecurityMode, SessionSetupFlags, Capabilities } from '../wire/constants.js';
import { decodeIoctlResponse, encodeIoctlRequest } from '../wire/ioctl.js';
import { encodeEchoRequest } from '../wire/echo.js';
import { decodeNetworkInterfaceInfo, InterfaceCapability, type NetworkInterfaceInfo } from '../wire/fsctl.js';
import { decodeSessionSetupResponse, encodeSessionSetupRequest } from '../wire/session-setup.js';
import { Status } from '../wire/status.js';
import { deriveSigningKey } from '../crypto/kdf.js';
import { verifySignature } from '../crypto/signing.js';
import { Connection, type ChannelSecurity, type SmbResponse } from './connection.js';
import { negotiate, type NegotiateResult } from './negotiate.js';
import { Channel, type GssClient, type Session } from './session.js';
import type { Tree } from './tree.js';
import { SmbError, parse } from './errors.js';

export interface MultichannelOptions {
  /** Channels per session, including the first (default 1 = multichannel off). */
  maxChannels: number;
  /** A channel with requests in flight that receives nothing for this long is declared dead (ms, default 10 s). */
  channelTimeoutMs?: number;
  /** Re-establish failed channels in the background (default true). */
  reconnect?: boolean;
  /** connect() waits this long for the extra channels; slower bindings finish in the background (ms, default 5 s). */
  bindWaitMs?: number;
}

export type ChannelState = 'active' | 'failed' | 'reconnecting' | 'closed';

export interface ChannelInfo {
  id: number;
  state: ChannelState;
  /** Server interface address this channel connects to. */
  interface: string;
  local: string;
  remote: string;
  /** Link speed the server reported, bits/s (0 = unknown). */
  speed: number;
  rss: boolean;
  rdma: boolean;
  /** Short hash of the channel's signing key (never the key). */
  signingKeyId: string;
  bytesSent: number;
  bytesReceived: number;
  inFlight: number;
  requests: number;
  /** How often this channel was lost (its connection failed or stalled). */
  failures: number;
  /** Last failure, if any. */
  error?: string;
}

/** What the manager needs to open a connection like the first one. */
export interface ChannelFactory {
  port: number;
  timeoutMs: number;
  keepaliveMs: number;
  dialects: number[] | undefined;
  ciphers: number[] | undefined;
  requireSigning: boolean;
  clientGuid: Buffer;
  host: string;
  /** A fresh GSS exchange with the same credentials. */
  gss(): GssClient;
  /** Called for every new connection (oplock break handler etc.). */
  onConnection?(conn: Connection): void;
}

/** Ranks interfaces: faster first; at equal speed RDMA, then RSS capable ones first (seed 000). */
export function rankInterfaces(list: NetworkInterfaceInfo[]): NetworkInterfaceInfo[] {
  const score = (i: NetworkInterfaceInfo): number =>
    ((i.capability & InterfaceCapability.RDMA) ? 2 : 0) + ((i.capability & InterfaceCapability.RSS) ? 1 : 0);
  return [...list].sort((a, b) => (a.linkSpeed === b.linkSpeed ? score(b) - score(a) : a.linkSpeed > b.linkSpeed ? -1 : 1));
}

/**
 * The addresses to bind `extra` more channels to: each interface once (fastest first, skipping the
 * first channel's address while others remain), then round-robin again over RSS-capable ones
 * (several channels per RSS interface, as Windows does).
 */
export function pickTargets(ranked: NetworkInterfaceInfo[], primaryAddress: string, extra: number): NetworkInterfaceInfo[] {
  const out: NetworkInterfaceInfo[] = [];
  if (extra <= 0 || ranked.length === 0) return out;
  const others = ranked.filter((i) => i.address !== primaryAddress);
  for (const i of others) if (out.length < extra) out.push(i);
  const rss = ranked.filter((i) => i.capability & (InterfaceCapability.RSS | InterfaceCapability.RDMA));
  for (let k = 0; out.length < extra && rss.length > 0 && k < extra * 4; k++) out.push(rss[k % rss.length]!);
  return out;
}

export function keyId(key: Buffer | undefined): string {
  if (!key || key.length === 0) return '-';
  return createHash('sha256').update(key).digest('hex').slice(0, 8);
}

/** FSCTL_QUERY_NETWORK_INTERFACE_INFO on the tree (2.2.31, FileId all ones). */
export async function queryInterfaces(tree: Tree): Promise<NetworkInterfaceInfo[]> {
  const body = encodeIoctlRequest({
    ctlCode: Fsctl.QUERY_NETWORK_INTERFACE_INFO,
    fileId: { persistent: 0xffffffffffffffffn, volatile: 0xffffffffffffffffn },
    input: Buffer.alloc(0), maxInputResponse: 0, maxOutputResponse: 65536, flags: IoctlFlags.IS_FSCTL,
  });
  const res = await tree.request({ command: Command.IOCTL, body, payloadSize: 65536 });
  const r = parse(() => decodeIoctlResponse(res.msg));
  return parse(() => decodeNetworkInterfaceInfo(Buffer.from(r.output)));
}

/** Security used while binding: signs with Session.SigningKey, verification done here, not by the connection. */
class BindingSecurity implements ChannelSecurity {
  verifyByCaller = false;
  constructor(private readonly session: Session, private readonly key: Buffer, readonly signingAlg: Channel['signingAlg']) {}
  get sessionId(): bigint { return this.session.id; }
  get signingKey(): Buffer | undefined { return this.verifyByCaller ? undefined : this.key; }
  get signRequired(): boolean { return true; }
  get encryptAll(): boolean { return false; }
  get cipherId(): number { return this.session.cipherId; }
  get encryptionKey(): Buffer | undefined { return this.session.encryptionKey; }
  get decryptionKey(): Buffer | undefined { return this.session.decryptionKey; }
}

/**
 * Binds `conn` (negotiated with the session's ClientGUID and dialect) to `session` as a new
 * channel (3.2.4.2.3 with SMB2_SESSION_FLAG_BINDING; 3.2.5.3.1 Channel.SigningKey).
 */
export async function bindChannel(
  session: Session, conn: Connection, neg: NegotiateResult, gss: GssClient, o: { requireSigning: boolean; timeoutMs: number },
): Promise<Channel> {
  if (neg.dialect !== session.dialect) {
    throw new SmbError(Status.INVALID_PARAMETER, `binding connection negotiated dialect 0x${neg.dialect.toString(16)}, the session has 0x${session.dialect.toString(16)}`);
  }
  if (neg.dialect < Dialect.SMB3_00) throw new SmbError(Status.NOT_SUPPORTED, 'multichannel needs SMB 3.x');
  const primary = session.channels[0];
  const sessionSigningKey = session.signingKey ?? primary?.signingKey;
  if (!sessionSigningKey) throw new SmbError(Status.ACCESS_DENIED, 'a guest or anonymous session cannot bind channels');
  const security = new BindingSecurity(session, sessionSigningKey, neg.signingAlg);
  const channel = new Channel(session, conn, neg);
  const preauth = neg.preauth?.clone();
  const step = async (t: Buffer): Promise<Buffer> => {
    try {
      return await gss.step(t);
    } catch (e) {
      throw new SmbError(Status.LOGON_FAILURE, `channel authentication failed: ${(e as Error).message}`);
    }
  };
  let token = await step(neg.securityBuffer);
  const securityMode = SecurityMode.SIGNING_ENABLED | (o.requireSigning ? SecurityMode.SIGNING_REQUIRED : 0);
  let final: SmbResponse | undefined;
  for (let round = 0; round < 8; round++) {
    const body = encodeSessionSetupRequest({
      flags: SessionSetupFlags.BINDING, securityMode, capabilities: 0, channel: 0, previousSessionId: 0n, securityBuffer: token,
    });
    security.verifyByCaller = false;
    const res = await conn.send(
      { command: Command.SESSION_SETUP, body, sessionId: session.id },
      {
        channel: security, sign: true, timeoutMs: o.timeoutMs,
        // Called once the request is signed: from here on the response is checked below (its key
        // depends on the leg: Session.SigningKey while in progress, the new channel key at the end).
        onSent: (m) => {
          preauth?.update(m[0]!);
          security.verifyByCaller = true;
        },
      },
    );
    const st = res.header.status;
    if (st === Status.MORE_PROCESSING_REQUIRED) {
      if ((res.header.flags & HeaderFlags.SIGNED) && !verifySignature(neg.signingAlg, sessionSigningKey, res.msg)) {
        throw new SmbError(Status.ACCESS_DENIED, 'bad signature on a binding SESSION_SETUP response');
      }
      preauth?.update(res.msg);
      const r = parse(() => decodeSessionSetupResponse(res.msg));
      token = await step(Buffer.from(r.securityBuffer));
      continue;
    }
    if (st !== Status.SUCCESS) throw new SmbError(st, `channel binding refused: ${new SmbError(st).message}`);
    final = res;
    break;
  }
  if (!final) throw new SmbError(Status.LOGON_FAILURE, 'channel binding did not finish');
  const r = parse(() => decodeSessionSetupResponse(final.msg));
  if (r.securityBuffer.length) await step(Buffer.from(r.securityBuffer));
  const key = gss.sessionKey();
  if (!key) throw new SmbError(Status.LOGON_FAILURE, 'channel authentication produced no session key');
  // 3.2.5.3.1: Channel.SigningKey from this exchange's session key and this connection's preauth hash.
  channel.signingKey = deriveSigningKey(neg.dialect, key, preauth?.value);
  const signed = (final.header.flags & HeaderFlags.SIGNED) !== 0;
  if (!signed || !verifySignature(neg.signingAlg, channel.signingKey, final.msg)) {
    throw new SmbError(Status.ACCESS_DENIED, 'the binding SESSION_SETUP response is not signed with the channel key');
  }
  return channel;
}

/** Credits a new channel should hold before it carries traffic: one 8 MiB READ/WRITE is 128. */
const CHANNEL_CREDITS = 256;

/**
 * A freshly bound connection has only the credits its NEGOTIATE and SESSION_SETUP earned (Samba
 * grants 65): too few for one large READ/WRITE. A few ECHOs each ask for more (3.2.4.1.2) before
 * the session spreads requests onto it.
 */
async function warmCredits(conn: Connection, timeoutMs: number): Promise<void> {
  for (let i = 0; i < 8 && conn.availableCredits < CHANNEL_CREDITS; i++) {
    await conn.send({ command: Command.ECHO, body: encodeEchoRequest() }, { channel: undefined, timeoutMs });
  }
}

interface Slot {
  id: number;
  iface: NetworkInterfaceInfo | undefined;
  address: string;
  channel: Channel | undefined;
  /** The slot's latest connection (kept after it fails, for its counters). */
  conn: Connection | undefined;
  past: { sent: number; received: number; requests: number };
  state: ChannelState;
  error?: string;
  failures: number;
  attempts: number;
  timer?: NodeJS.Timeout;
  /** A connection being set up (closed by close()). */
  connecting?: Connection;
}

export class ChannelManager {
  private readonly slots: Slot[] = [];
  private nextId = 1;
  private watchdog: NodeJS.Timeout | undefined;
  private closed = false;
  private readonly channelTimeoutMs: number;

  constructor(
    readonly session: Session,
    private readonly factory: ChannelFactory,
    private readonly opts: MultichannelOptions,
  ) {
    this.channelTimeoutMs = opts.channelTimeoutMs ?? 10_000;
    const first = session.channels[0];
    if (first) {
      const slot: Slot = {
        id: this.nextId++, iface: undefined, address: factory.host, channel: first, conn: first.connection,
        past: { sent: 0, received: 0, requests: 0 }, state: 'active', failures: 0, attempts: 0,
      };
      this.slots.push(slot);
      this.watch(slot, first);
    }
    this.watchdog = setInterval(() => this.checkStalls(), Math.max(200, Math.min(1000, this.channelTimeoutMs / 4)));
    this.watchdog.unref();
  }

  /** Queries interfaces and binds up to maxChannels-1 more channels. Errors binding are recorded, not thrown. */
  async start(tree: Tree, neg: NegotiateResult): Promise<void> {
    const extra = Math.max(0, Math.floor(this.opts.maxChannels) - 1);
    if (extra === 0) return;
    if (neg.dialect < Dialect.SMB3_00 || !(neg.serverCapabilities & Capabilities.MULTI_CHANNEL)) return;
    if (this.session.guest || this.session.anonymous) return;
    let ifaces: NetworkInterfaceInfo[];
    try {
      ifaces = await queryInterfaces(tree);
    } catch {
      return; // server without interface discovery: stay single-channel
    }
    const ranked = rankInterfaces(ifaces.filter((i) => i.family === 'ipv4' || !this.factory.host.includes('.')));
    const first = this.slots[0];
    if (first) {
      first.iface = ranked.find((i) => i.address === this.factory.host);
    }
    const targets = pickTargets(ranked, this.factory.host, extra);
    this.session.setWeights((ch) => {
      const s = this.slots.find((x) => x.channel === ch);
      return s?.iface ? Number(s.iface.linkSpeed / 1_000_000n) || 1 : 1;
    });
    const all = Promise.all(targets.map(async (iface) => {
      const slot: Slot = {
        id: this.nextId++, iface, address: iface.address, channel: undefined, conn: undefined,
        past: { sent: 0, received: 0, requests: 0 }, state: 'reconnecting', failures: 0, attempts: 0,
      };
      this.slots.push(slot);
      await this.establish(slot);
    }));
    // An unreachable interface must not hold connect() for a whole TCP connect timeout.
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([all, new Promise<void>((r) => { timer = setTimeout(r, this.opts.bindWaitMs ?? 5000); })]);
    clearTimeout(timer);
  }

  private async establish(slot: Slot): Promise<boolean> {
    if (this.closed) return false;
    const f = this.factory;
    const conn = new Connection({ host: slot.address, port: f.port, timeoutMs: f.timeoutMs, keepaliveMs: f.keepaliveMs });
    slot.connecting = conn;
    try {
      await conn.connect();
      const neg = await negotiate(conn, { dialects: [this.session.dialect], requireSigning: f.requireSigning, ciphers: f.ciphers, clientGuid: f.clientGuid, host: f.host, multichannel: true });
      const ch = await bindChannel(this.session, conn, neg, f.gss(), { requireSigning: f.requireSigning, timeoutMs: f.timeoutMs });
      if (this.closed || this.session.channels.length === 0) {
        await conn.close();
        return false;
      }
      await warmCredits(conn, f.timeoutMs);
      f.onConnection?.(conn);
      this.session.addChannel(ch);
      if (slot.conn) {
        slot.past.sent += slot.conn.bytesSent;
        slot.past.received += slot.conn.bytesReceived;
        slot.past.requests += slot.conn.requestsSent;
      }
      slot.conn = conn;
      slot.channel = ch;
      slot.state = 'active';
      slot.error = undefined;
      slot.attempts = 0;
      this.watch(slot, ch);
      return true;
    } catch (e) {
      await conn.close().catch(() => undefined);
      if (this.closed) {
        slot.state = 'closed';
        return false;
      }
      slot.state = 'failed';
      slot.error = (e as Error).message;
      this.scheduleReconnect(slot);
      return false;
    } finally {
      if (slot.connecting === conn) slot.connecting = undefined;
    }
  }

  private watch(slot: Slot, ch: Channel): void {
    const conn = ch.connection;
    const prev = conn.onClose;
    conn.onClose = (err) => {
      prev?.(err);
      if (slot.channel !== ch) return;
      this.session.removeChannel(ch);
      slot.channel = undefined;
      if (this.closed) {
        slot.state = 'closed';
        return;
      }
      slot.state = 'failed';
      slot.failures++;
      slot.error = err.message;
      this.scheduleReconnect(slot);
    };
  }

  private scheduleReconnect(slot: Slot): void {
    if (this.closed || this.opts.reconnect === false || slot.timer) return;
    if (slot.attempts >= 20) return;
    const delay = Math.min(30_000, 500 * 2 ** Math.min(slot.attempts, 6));
    slot.attempts++;
    slot.timer = setTimeout(() => {
      slot.timer = undefined;
      if (this.closed || this.session.liveChannels().length === 0) return;
      slot.state = 'reconnecting';
      void this.establish(slot);
    }, delay);
    slot.timer.unref();
  }

  /**
   * The session came back on a new connection after its every channel died (reconnect.ts, with
   * PreviousSessionId): that connection is channel 1 again, and every other slot binds anew to the
   * new session at once (3.2.4.2.3 binding; its backoff starts over).
   */
  recovered(): void {
    if (this.closed) return;
    const first = this.slots[0];
    const ch = this.session.channels[0];
    if (first && ch && first.channel !== ch) {
      if (first.conn) {
        first.past.sent += first.conn.bytesSent;
        first.past.received += first.conn.bytesReceived;
        first.past.requests += first.conn.requestsSent;
      }
      first.channel = ch;
      first.conn = ch.connection;
      first.state = 'active';
      first.error = undefined;
      this.watch(first, ch);
    }
    for (const s of this.slots.slice(1)) {
      if (s.state === 'active' && s.channel && !s.channel.connection.closed) continue;
      if (s.connecting) continue; // a binding under way (it checks the session when it ends)
      if (s.timer) clearTimeout(s.timer);
      s.timer = undefined;
      s.attempts = 0;
      s.state = 'reconnecting';
      void this.establish(s);
    }
  }

  /** A channel with requests waiting and nothing received for channelTimeoutMs is dead (no RST on a cut link). */
  private checkStalls(): void {
    const now = Date.now();
    for (const s of this.slots) {
      const conn = s.channel?.connection;
      if (!conn || conn.closed) continue;
      if (conn.waitingRequests > 0 && now - conn.lastReceive > this.channelTimeoutMs && now - conn.lastSend < now - conn.lastReceive) {
        conn.fail(new SmbError(Status.CONNECTION_DISCONNECTED, `channel ${s.id} to ${s.address} stalled for ${now - conn.lastReceive} ms`));
      }
    }
  }

  channels(): ChannelInfo[] {
    return this.slots.map((s) => {
      const conn = s.conn;
      const live = s.channel?.connection;
      return {
        id: s.id,
        state: s.state,
        interface: s.address,
        local: live?.localAddress ?? '',
        remote: live?.remoteAddress ?? '',
        speed: s.iface ? Number(s.iface.linkSpeed) : 0,
        rss: !!s.iface && (s.iface.capability & InterfaceCapability.RSS) !== 0,
        rdma: !!s.iface && (s.iface.capability & InterfaceCapability.RDMA) !== 0,
        signingKeyId: keyId(s.channel?.signingKey),
        bytesSent: (conn?.bytesSent ?? 0) + s.past.sent,
        bytesReceived: (conn?.bytesReceived ?? 0) + s.past.received,
        inFlight: live?.inFlight ?? 0,
        requests: (conn?.requestsSent ?? 0) + s.past.requests,
        failures: s.failures,
        ...(s.error ? { error: s.error } : {}),
      };
    });
  }

  /** Stops reconnecting and closes the extra channels' connections. */
  async close(): Promise<void> {
    this.closed = true;
    if (this.watchdog) clearInterval(this.watchdog);
    for (const s of this.slots) if (s.timer) clearTimeout(s.timer);
    await Promise.all(this.slots.map(async (s) => {
      s.state = 'closed';
      await s.connecting?.close().catch(() => undefined);
      await s.channel?.connection.close().catch(() => undefined);
    }));
  }
}
