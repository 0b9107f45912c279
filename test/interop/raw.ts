// A tiny raw SMB2 client for hostile-input tests: hand-built frames on a plain socket, so tests do
// not depend on the project's own encoders (which would refuse to build malformed frames).
// Direct TCP framing: 4-byte header (0x00 + 24-bit big-endian length), MS-SMB2 2.1.
import { connect, type Socket } from 'node:net';
import { NtlmClient } from '../../src/auth/ntlm-client.js';

export const CMD = {
  NEGOTIATE: 0,
  SESSION_SETUP: 1,
  TREE_CONNECT: 3,
  CREATE: 5,
  CLOSE: 6,
  READ: 8,
  LOCK: 10,
  ECHO: 13,
} as const;

export const ST = {
  SUCCESS: 0,
  INVALID_PARAMETER: 0xc000000d,
  MORE_PROCESSING_REQUIRED: 0xc0000016,
  ACCESS_DENIED: 0xc0000022,
  OBJECT_NAME_INVALID: 0xc0000033,
  OBJECT_NAME_NOT_FOUND: 0xc0000034,
  OBJECT_PATH_INVALID: 0xc0000039,
  OBJECT_PATH_NOT_FOUND: 0xc000003a,
  OBJECT_PATH_SYNTAX_BAD: 0xc000003b,
  LOGON_FAILURE: 0xc000006d,
  INSUFFICIENT_RESOURCES: 0xc000009a,
  TOO_MANY_OPENED_FILES: 0xc000011f,
  LOCK_NOT_GRANTED: 0xc0000055,
} as const;

export function statusName(s: number): string {
  for (const [k, v] of Object.entries(ST)) if (v === s) return 'STATUS_' + k;
  return '0x' + s.toString(16).padStart(8, '0');
}

export interface Smb2Msg {
  command: number;
  status: number;
  messageId: bigint;
  sessionId: bigint;
  treeId: number;
  body: Buffer;
  raw: Buffer;
}

export function header(command: number, messageId: bigint, opts: { sessionId?: bigint; treeId?: number; credits?: number } = {}): Buffer {
  const h = Buffer.alloc(64);
  h.writeUInt32BE(0xfe534d42, 0); // 0xFE 'SMB'
  h.writeUInt16LE(64, 4); // StructureSize
  h.writeUInt16LE(1, 6); // CreditCharge
  h.writeUInt16LE(command, 12);
  h.writeUInt16LE(opts.credits ?? 32, 14); // CreditRequest
  h.writeBigUInt64LE(messageId, 24);
  h.writeUInt32LE(0xfeff, 32); // Reserved (ProcessId)
  h.writeUInt32LE(opts.treeId ?? 0, 36);
  h.writeBigUInt64LE(opts.sessionId ?? 0n, 40);
  return h;
}

/** NEGOTIATE request (2.2.3) offering `dialects`; 3.1.1 adds preauth + encryption contexts. */
export function negotiateFrame(messageId: bigint, dialects: number[] = [0x202, 0x210, 0x300, 0x302, 0x311]): Buffer {
  const fixed = Buffer.alloc(36);
  fixed.writeUInt16LE(36, 0);
  fixed.writeUInt16LE(dialects.length, 2);
  fixed.writeUInt16LE(1, 4); // SecurityMode: signing enabled
  fixed.writeUInt32LE(0x7f & ~0x04, 8); // Capabilities (no multichannel)
  Buffer.from('0123456789abcdef').copy(fixed, 12); // ClientGuid
  const d = Buffer.alloc(dialects.length * 2);
  dialects.forEach((x, i) => d.writeUInt16LE(x, i * 2));
  const parts = [fixed, d];
  if (dialects.includes(0x311)) {
    let off = 64 + 36 + d.length;
    const pad = (8 - (off % 8)) % 8;
    parts.push(Buffer.alloc(pad));
    off += pad;
    fixed.writeUInt32LE(off, 28); // NegotiateContextOffset (from header start)
    fixed.writeUInt16LE(2, 32); // NegotiateContextCount
    // PREAUTH_INTEGRITY_CAPABILITIES: 1 algorithm (SHA-512), 32-byte salt (2.2.3.1.1)
    const pre = Buffer.alloc(8 + 4 + 2 + 32);
    pre.writeUInt16LE(1, 0);
    pre.writeUInt16LE(4 + 2 + 32, 2);
    pre.writeUInt16LE(1, 8);
    pre.writeUInt16LE(32, 10);
    pre.writeUInt16LE(1, 12);
    const prePad = Buffer.alloc((8 - (pre.length % 8)) % 8);
    // ENCRYPTION_CAPABILITIES: AES-128-GCM, AES-128-CCM (2.2.3.1.2)
    const enc = Buffer.alloc(8 + 2 + 4);
    enc.writeUInt16LE(2, 0);
    enc.writeUInt16LE(6, 2);
    enc.writeUInt16LE(2, 8);
    enc.writeUInt16LE(2, 10);
    enc.writeUInt16LE(1, 12);
    parts.push(pre, prePad, enc);
  }
  return Buffer.concat([header(CMD.NEGOTIATE, messageId), ...parts]);
}

/** SESSION_SETUP request (2.2.5) carrying a raw NTLMSSP token. */
export function sessionSetupFrame(messageId: bigint, token: Buffer, sessionId = 0n): Buffer {
  const b = Buffer.alloc(24);
  b.writeUInt16LE(25, 0);
  b.writeUInt8(1, 3); // SecurityMode
  b.writeUInt16LE(64 + 24, 12); // SecurityBufferOffset
  b.writeUInt16LE(token.length, 14);
  return Buffer.concat([header(CMD.SESSION_SETUP, messageId, { sessionId }), b, token]);
}

export function treeConnectFrame(messageId: bigint, sessionId: bigint, unc: string): Buffer {
  const path = Buffer.from(unc, 'utf16le');
  const b = Buffer.alloc(8);
  b.writeUInt16LE(9, 0);
  b.writeUInt16LE(64 + 8, 4);
  b.writeUInt16LE(path.length, 6);
  return Buffer.concat([header(CMD.TREE_CONNECT, messageId, { sessionId }), b, path]);
}

/** CREATE request (2.2.13): open `name`, by default for reading (FILE_GENERIC_READ, FILE_OPEN). */
export function createFrame(
  messageId: bigint, sessionId: bigint, treeId: number, name: string,
  o: { access?: number; disposition?: number; credits?: number } = {},
): Buffer {
  const n = Buffer.from(name, 'utf16le');
  const b = Buffer.alloc(56);
  b.writeUInt16LE(57, 0);
  b.writeUInt32LE(2, 4); // ImpersonationLevel: Impersonation
  b.writeUInt32LE(o.access ?? 0x00120089, 24); // DesiredAccess (default FILE_GENERIC_READ)
  b.writeUInt32LE(0, 28); // FileAttributes
  b.writeUInt32LE(7, 32); // ShareAccess: read|write|delete
  b.writeUInt32LE(o.disposition ?? 1, 36); // CreateDisposition (default FILE_OPEN)
  b.writeUInt32LE(0x40, 40); // CreateOptions: FILE_NON_DIRECTORY_FILE
  b.writeUInt16LE(64 + 56, 44); // NameOffset
  b.writeUInt16LE(n.length, 46);
  const name8 = n.length === 0 ? Buffer.alloc(1) : n; // the buffer must hold at least one byte
  return Buffer.concat([header(CMD.CREATE, messageId, { sessionId, treeId, credits: o.credits }), b, name8]);
}

export function readFrame(messageId: bigint, sessionId: bigint, treeId: number, fileId: Buffer, length: number): Buffer {
  const b = Buffer.alloc(49);
  b.writeUInt16LE(49, 0);
  b.writeUInt32LE(length, 4);
  fileId.copy(b, 16);
  return Buffer.concat([header(CMD.READ, messageId, { sessionId, treeId }), b]);
}

export interface RawLock { offset: bigint; length: bigint; flags: number }

/** LOCK request (2.2.26) with any number of elements (LockCount is 16 bits). */
export function lockFrame(messageId: bigint, sessionId: bigint, treeId: number, fileId: Buffer, locks: RawLock[]): Buffer {
  const b = Buffer.alloc(24 + 24 * locks.length);
  b.writeUInt16LE(48, 0);
  b.writeUInt16LE(locks.length & 0xffff, 2);
  fileId.copy(b, 8);
  locks.forEach((l, i) => {
    b.writeBigUInt64LE(l.offset, 24 + i * 24);
    b.writeBigUInt64LE(l.length, 32 + i * 24);
    b.writeUInt32LE(l.flags, 40 + i * 24);
  });
  return Buffer.concat([header(CMD.LOCK, messageId, { sessionId, treeId }), b]);
}

export function echoFrame(messageId: bigint, sessionId = 0n): Buffer {
  const b = Buffer.alloc(4);
  b.writeUInt16LE(4, 0);
  return Buffer.concat([header(CMD.ECHO, messageId, { sessionId }), b]);
}

export function nbss(payload: Buffer, lengthOverride?: number): Buffer {
  const h = Buffer.alloc(4);
  h.writeUInt32BE((lengthOverride ?? payload.length) >>> 0, 0);
  if (lengthOverride === undefined && payload.length > 0xffffff) throw new Error('frame too large');
  return Buffer.concat([h, payload]);
}

export type Outcome = { kind: 'reply'; msg: Smb2Msg } | { kind: 'closed' } | { kind: 'timeout' };

/** One socket with a reader that splits direct-TCP frames into SMB2 messages. */
export class RawConn {
  private buf = Buffer.alloc(0);
  private queue: Smb2Msg[] = [];
  private waiters: Array<() => void> = [];
  closed = false;
  /** Next MessageId to use. */
  mid = 0n;
  sessionId = 0n;
  treeId = 0;

  private constructor(readonly sock: Socket) {
    sock.on('data', (d: Buffer) => {
      this.buf = Buffer.concat([this.buf, d]);
      while (this.buf.length >= 4) {
        const len = this.buf.readUInt32BE(0) & 0xffffff;
        if (this.buf.length < 4 + len) break;
        const raw = this.buf.subarray(4, 4 + len);
        this.buf = this.buf.subarray(4 + len);
        if (raw.length >= 64 && raw.readUInt32BE(0) === 0xfe534d42) {
          this.queue.push({
            command: raw.readUInt16LE(12),
            status: raw.readUInt32LE(8),
            messageId: raw.readBigUInt64LE(24),
            sessionId: raw.readBigUInt64LE(40),
            treeId: raw.readUInt32LE(36),
            body: raw.subarray(64),
            raw,
          });
        } else {
          // transform header or anything else: report as an opaque reply
          this.queue.push({ command: -1, status: -1, messageId: -1n, sessionId: 0n, treeId: 0, body: raw, raw });
        }
      }
      this.wake();
    });
    const onEnd = () => {
      this.closed = true;
      this.wake();
    };
    sock.on('close', onEnd);
    sock.on('end', onEnd);
    sock.on('error', onEnd);
  }

  private wake(): void {
    const w = this.waiters;
    this.waiters = [];
    for (const f of w) f();
  }

  static open(port: number, host = '127.0.0.1', localAddress?: string): Promise<RawConn> {
    return new Promise((resolve, reject) => {
      const s = connect({ host, port, localAddress });
      s.setNoDelay(true);
      s.once('connect', () => resolve(new RawConn(s)));
      s.once('error', reject);
    });
  }

  send(frame: Buffer): void {
    if (!this.closed) this.sock.write(frame);
  }

  /** Next message that is not an interim STATUS_PENDING, or closed/timeout. */
  async next(timeoutMs: number): Promise<Outcome> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const m = this.queue.shift();
      if (m) {
        if (m.status === 0x103) continue; // STATUS_PENDING interim response
        return { kind: 'reply', msg: m };
      }
      if (this.closed) return { kind: 'closed' };
      const left = deadline - Date.now();
      if (left <= 0) return { kind: 'timeout' };
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, left);
        this.waiters.push(() => {
          clearTimeout(t);
          resolve();
        });
      });
    }
  }

  async request(smb2: Buffer, timeoutMs = 5_000): Promise<Outcome> {
    this.send(nbss(smb2));
    return this.next(timeoutMs);
  }

  close(): void {
    this.sock.destroy();
    this.closed = true;
  }

  /** NEGOTIATE with one dialect (default 2.1: no preauth hash, no mandatory signing). */
  async negotiate(dialects = [0x210]): Promise<Smb2Msg> {
    const o = await this.request(negotiateFrame(this.mid++, dialects));
    if (o.kind !== 'reply' || o.msg.status !== 0) throw new Error(`negotiate failed: ${describe(o)}`);
    return o.msg;
  }

  /** NTLM session setup with raw NTLMSSP tokens. Returns the final status. */
  async login(user: string, password: string): Promise<number> {
    const ntlm = new NtlmClient({ user, password, domain: 'WORKGROUP' });
    let o = await this.request(sessionSetupFrame(this.mid++, ntlm.negotiate()));
    if (o.kind !== 'reply') throw new Error(`session setup 1: ${describe(o)}`);
    if (o.msg.status !== ST.MORE_PROCESSING_REQUIRED) return o.msg.status;
    this.sessionId = o.msg.sessionId;
    const body = o.msg.body;
    const off = body.readUInt16LE(4) - 64;
    const len = body.readUInt16LE(6);
    const challenge = body.subarray(off, off + len);
    o = await this.request(sessionSetupFrame(this.mid++, ntlm.authenticate(challenge), this.sessionId));
    if (o.kind !== 'reply') throw new Error(`session setup 2: ${describe(o)}`);
    return o.msg.status;
  }

  async treeConnect(unc: string): Promise<number> {
    const o = await this.request(treeConnectFrame(this.mid++, this.sessionId, unc));
    if (o.kind !== 'reply') throw new Error(`tree connect: ${describe(o)}`);
    if (o.msg.status === 0) this.treeId = o.msg.treeId;
    return o.msg.status;
  }

  /** CREATE name (read access, FILE_OPEN); the FileId on success. */
  async create(name: string): Promise<{ status: number; fileId?: Buffer }> {
    const o = await this.request(createFrame(this.mid++, this.sessionId, this.treeId, name));
    if (o.kind !== 'reply') throw new Error(`create ${name}: ${describe(o)}`);
    if (o.msg.status !== 0) return { status: o.msg.status };
    return { status: 0, fileId: Buffer.from(o.msg.body.subarray(64, 80)) };
  }

  /** CREATE name; on success also READ up to 64 KiB and return the data. */
  async open(name: string): Promise<{ status: number; data?: Buffer }> {
    const o = await this.request(createFrame(this.mid++, this.sessionId, this.treeId, name));
    if (o.kind !== 'reply') throw new Error(`create ${name}: ${describe(o)}`);
    if (o.msg.status !== 0) return { status: o.msg.status };
    const fileId = o.msg.body.subarray(64, 80);
    const r = await this.request(readFrame(this.mid++, this.sessionId, this.treeId, fileId, 65536));
    if (r.kind !== 'reply') return { status: 0 };
    if (r.msg.status !== 0) return { status: 0, data: Buffer.alloc(0) };
    const dOff = r.msg.body.readUInt8(2) - 64;
    const dLen = r.msg.body.readUInt32LE(4);
    return { status: 0, data: r.msg.body.subarray(dOff, dOff + dLen) };
  }
}

/** Does something on 127.0.0.1:port still answer an SMB2 NEGOTIATE? (server liveness after a suite) */
export async function answersNegotiate(port: number): Promise<boolean> {
  try {
    const c = await RawConn.open(port);
    try {
      await c.negotiate();
      return true;
    } finally {
      c.close();
    }
  } catch {
    return false;
  }
}

export function describe(o: Outcome): string {
  if (o.kind !== 'reply') return o.kind;
  return `reply cmd=${o.msg.command} status=${statusName(o.msg.status)}`;
}

/** Seeded PRNG (mulberry32) so fuzz runs are reproducible. */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
