// Long-running fuzzer for the server (issue 9). Mutates frames before and after authentication,
// compound chains, encrypted frames (valid transform with hostile plaintext, and damaged transforms)
// and DCE/RPC PDUs written to the srvsvc pipe. After every batch it checks that the server is
// alive, serves a well-behaved client on a new connection (NEGOTIATE, logon, ECHO), and that memory
// stays within a bound. Seeded: a failure names its seed and batch so it can be replayed.
//
//   node dist/test/fuzz/fuzz.js [--seconds 600] [--seed N] [--batch 40] [--memory-mib 512]
//
// test/interop/fuzz.test.ts runs it for ~20 s in npm test.
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { startServer } from '../../src/server/index.js';
import { parseConfig } from '../../src/config/config.js';
import { UserDb } from '../../src/auth/userdb.js';
import { NtlmClient } from '../../src/auth/ntlm-client.js';
import { deriveSessionKeys } from '../../src/crypto/kdf.js';
import { encryptMessage } from '../../src/crypto/encryption.js';
import {
  RawConn, CMD, createFrame, echoFrame, header, lockFrame, nbss, negotiateFrame, prng, readFrame,
  sessionSetupFrame, treeConnectFrame, type Outcome,
} from '../interop/raw.js';

const USER = 'fuzz';
const PASS = 'fuzz-pass';
const REPLY_MS = 2_000;

export type Kind = 'preauth' | 'session' | 'file' | 'compound' | 'encrypted' | 'rpc';
export const KINDS: Kind[] = ['preauth', 'session', 'file', 'compound', 'encrypted', 'rpc'];

export interface FuzzOptions {
  port: number;
  seconds: number;
  seed: number;
  /** Mutated frames per batch. */
  batch?: number;
  /** Largest allowed growth of `rss()` over its value at the start, MiB. */
  memoryMiB?: number;
  /** Resident memory of the server process in bytes (default: this process). */
  rss?: () => number;
  /** Connections and sessions the server holds: after a batch, once its clients left, none may stay. */
  held?: () => { connections: number; sessions: number };
  log?: (line: string) => void;
}

export interface FuzzReport {
  batches: number;
  frames: number;
  replies: number;
  closes: number;
  maxGrowthMiB: number;
}

type Rand = () => number;
const pick = <T>(r: Rand, a: readonly T[]): T => a[Math.floor(r() * a.length)]!;
const INTERESTING = [0, 1, 0x7f, 0x80, 0xff, 0x7fff, 0x8000, 0xffff, 0x10000, 0x7fffffff, 0x80000000, 0xffffffff];

/** 1-4 random mutations; the 4-byte protocol id is kept most of the time so handlers are reached. */
export function mutate(src: Buffer, r: Rand): Buffer {
  let b = Buffer.from(src);
  const n = 1 + Math.floor(r() * 4);
  for (let i = 0; i < n; i++) {
    const lo = r() < 0.8 ? Math.min(4, b.length) : 0;
    const at = lo + Math.floor(r() * Math.max(1, b.length - lo));
    switch (Math.floor(r() * 7)) {
      case 0: if (at < b.length) b[at]! ^= 1 << Math.floor(r() * 8); break;
      case 1: if (at < b.length) b[at] = Math.floor(r() * 256); break;
      case 2: if (at + 2 <= b.length) b.writeUInt16LE(pick(r, INTERESTING) & 0xffff, at); break;
      case 3: if (at + 4 <= b.length) b.writeUInt32LE(pick(r, INTERESTING) >>> 0, at); break;
      case 4: b = b.subarray(0, Math.floor(r() * b.length)); break;
      case 5: b = Buffer.concat([b, Buffer.from(Array.from({ length: Math.floor(r() * 64) }, () => Math.floor(r() * 256)))]); break;
      default: { // duplicate a slice in place
        const len = Math.floor(r() * 32);
        if (at + len <= b.length) b.copy(b, Math.floor(r() * Math.max(1, b.length - len)), at, at + len);
      }
    }
  }
  return b;
}

function writeFrame(mid: bigint, sid: bigint, tid: number, fileId: Buffer, data: Buffer, offset = 0n): Buffer {
  const b = Buffer.alloc(48);
  b.writeUInt16LE(49, 0);
  b.writeUInt16LE(64 + 48, 2);
  b.writeUInt32LE(data.length, 4);
  b.writeBigUInt64LE(offset, 8);
  fileId.copy(b, 16);
  return Buffer.concat([header(9, mid, { sessionId: sid, treeId: tid }), b, data]);
}

/** CREATE with read/write access (pipes need it) and the given disposition/options. */
function createRw(mid: bigint, sid: bigint, tid: number, name: string, disposition = 1, options = 0x40): Buffer {
  const f = createFrame(mid, sid, tid, name);
  f.writeUInt32LE(0x0012019f, 64 + 24);
  f.writeUInt32LE(disposition, 64 + 36);
  f.writeUInt32LE(options, 64 + 40);
  return f;
}

const SRVSVC = Buffer.from('c84f324b7016d30112785a47bf6ee188', 'hex');
const NDR = Buffer.from('045d888aeb1cc9119fe808002b104860', 'hex');

function rpcHeader(ptype: number, callId: number, body: Buffer): Buffer {
  const h = Buffer.alloc(16);
  h.writeUInt8(5, 0); h.writeUInt8(0, 1); h.writeUInt8(ptype, 2); h.writeUInt8(3, 3);
  h.writeUInt32LE(0x10, 4);
  h.writeUInt16LE(16 + body.length, 8);
  h.writeUInt32LE(callId, 12);
  return Buffer.concat([h, body]);
}

export function rpcBind(callId: number): Buffer {
  const b = Buffer.alloc(12 + 44);
  b.writeUInt16LE(4280, 0); b.writeUInt16LE(4280, 2);
  b.writeUInt8(1, 8); // one context
  b.writeUInt16LE(0, 12); b.writeUInt8(1, 14);
  SRVSVC.copy(b, 16); b.writeUInt16LE(3, 32);
  NDR.copy(b, 36); b.writeUInt32LE(2, 52);
  return rpcHeader(11, callId, b);
}

export function rpcRequest(callId: number, opnum: number, stub: Buffer): Buffer {
  const b = Buffer.alloc(8);
  b.writeUInt32LE(stub.length, 0);
  b.writeUInt16LE(opnum, 6);
  return rpcHeader(0, callId, Buffer.concat([b, stub]));
}

/** A connection in a known state, with what the mutators need. */
interface Prepared {
  c: RawConn;
  fileId?: Buffer;
  encKey?: Buffer;
}

async function expectReply(c: RawConn, frame: Buffer): Promise<Outcome> {
  return c.request(frame, REPLY_MS);
}

/** NEGOTIATE + NTLM logon done by hand so the session key is known (for the encrypted kind). */
async function logon(c: RawConn, dialects: number[]): Promise<Buffer> {
  await c.negotiate(dialects);
  const ntlm = new NtlmClient({ user: USER, password: PASS, domain: 'WORKGROUP' });
  let o = await expectReply(c, sessionSetupFrame(c.mid++, ntlm.negotiate()));
  if (o.kind !== 'reply') throw new Error(`logon leg 1: ${o.kind}`);
  c.sessionId = o.msg.sessionId;
  const body = o.msg.body;
  const challenge = body.subarray(body.readUInt16LE(4) - 64, body.readUInt16LE(4) - 64 + body.readUInt16LE(6));
  o = await expectReply(c, sessionSetupFrame(c.mid++, ntlm.authenticate(challenge), c.sessionId));
  if (o.kind !== 'reply' || o.msg.status !== 0) throw new Error(`logon leg 2: ${o.kind === 'reply' ? o.msg.status.toString(16) : o.kind}`);
  return ntlm.sessionKey;
}

async function prepare(kind: Kind, port: number): Promise<Prepared> {
  const c = await RawConn.open(port);
  if (kind === 'preauth') return { c };
  if (kind === 'session') {
    await c.negotiate(pick(Math.random, [[0x202], [0x210], [0x300, 0x302]]));
    return { c };
  }
  const dialects = kind === 'encrypted' ? [0x300] : [0x210];
  const sessionKey = await logon(c, dialects);
  const unc = kind === 'rpc' ? '\\\\127.0.0.1\\IPC$' : '\\\\127.0.0.1\\share';
  if ((await c.treeConnect(unc)) !== 0) throw new Error(`tree connect ${unc}`);
  const name = kind === 'rpc' ? 'srvsvc' : 'fuzz.bin';
  const o = await expectReply(c, createRw(c.mid++, c.sessionId, c.treeId, name, kind === 'rpc' ? 1 : 3));
  if (o.kind !== 'reply' || o.msg.status !== 0) throw new Error(`create ${name}: ${o.kind === 'reply' ? o.msg.status.toString(16) : o.kind}`);
  const fileId = Buffer.from(o.msg.body.subarray(64, 80));
  const p: Prepared = { c, fileId };
  if (kind === 'encrypted') p.encKey = deriveSessionKeys(0x300, sessionKey, undefined, 1).serverInKey;
  if (kind === 'rpc') {
    await expectReply(c, writeFrame(c.mid++, c.sessionId, c.treeId, fileId, rpcBind(1)));
    await expectReply(c, readFrame(c.mid++, c.sessionId, c.treeId, fileId, 4280));
  }
  return p;
}

/** One hostile frame (with its 4-byte framing) for a prepared connection. */
function hostile(kind: Kind, p: Prepared, r: Rand): Buffer {
  const c = p.c;
  const sid = c.sessionId;
  const tid = c.treeId;
  const fid = p.fileId ?? Buffer.alloc(16);
  const templates = (): Buffer[] => [
    createRw(c.mid++, sid, tid, pick(r, ['fuzz.bin', 'a\\b', '..\\x', 'x:stream', '']), 1 + Math.floor(r() * 5)),
    readFrame(c.mid++, sid, tid, fid, Math.floor(r() * 70_000)),
    writeFrame(c.mid++, sid, tid, fid, Buffer.alloc(Math.floor(r() * 512), 0x41), BigInt(Math.floor(r() * 1e6))),
    lockFrame(c.mid++, sid, tid, fid, [{ offset: BigInt(Math.floor(r() * 100)), length: 10n, flags: pick(r, [0x11, 0x12, 0x04]) }]),
    echoFrame(c.mid++, sid),
    // Any command with a random body: every decoder sees garbage.
    Buffer.concat([header(Math.floor(r() * 20), c.mid++, { sessionId: sid, treeId: tid }),
      Buffer.from(Array.from({ length: Math.floor(r() * 120) }, () => Math.floor(r() * 256)))]),
  ];
  switch (kind) {
    case 'preauth':
      if (r() < 0.2) return nbss(Buffer.alloc(16), Math.floor(r() * 0x1000000)); // lying length
      return nbss(mutate(r() < 0.5 ? negotiateFrame(c.mid++) : sessionSetupFrame(c.mid++, new NtlmClient({ user: 'x', password: 'y' }).negotiate()), r));
    case 'session': {
      const leg = sessionSetupFrame(c.mid++, new NtlmClient({ user: USER, password: PASS }).negotiate(), r() < 0.5 ? 0n : BigInt(Math.floor(r() * 1e9)));
      return nbss(mutate(r() < 0.7 ? leg : treeConnectFrame(c.mid++, sid, '\\\\127.0.0.1\\share'), r));
    }
    case 'file':
      return nbss(mutate(pick(r, templates()), r));
    case 'compound': {
      const n = 2 + Math.floor(r() * 4);
      const members = Array.from({ length: n }, () => pick(r, templates()));
      const parts: Buffer[] = [];
      members.forEach((m, i) => {
        const padded = Buffer.concat([m, Buffer.alloc((8 - (m.length % 8)) % 8)]);
        if (i < n - 1) padded.writeUInt32LE(padded.length, 20);
        if (i > 0 && r() < 0.6) {
          padded.writeUInt32LE(padded.readUInt32LE(16) | 4, 16); // RELATED_OPERATIONS
          if (padded.readUInt16LE(12) !== CMD.CREATE && padded.length >= 64 + 32) padded.fill(0xff, 64 + 16, 64 + 32);
        }
        parts.push(i < n - 1 ? padded : m);
      });
      return nbss(mutate(Buffer.concat(parts), r));
    }
    case 'encrypted': {
      const plain = r() < 0.5 ? mutate(pick(r, templates()), r) : pick(r, templates());
      const sealed = Buffer.concat(encryptMessage(1, p.encKey!, sid, plain));
      // Half valid transforms around hostile plaintext, half damaged transforms.
      return nbss(r() < 0.5 ? sealed : mutate(sealed, r));
    }
    case 'rpc': {
      const pdu = r() < 0.3 ? rpcBind(1 + Math.floor(r() * 9)) :
        rpcRequest(2, pick(r, [15, 16, 21, 0, 255]), Buffer.from(Array.from({ length: Math.floor(r() * 200) }, () => Math.floor(r() * 256))));
      if (r() < 0.3) return nbss(readFrame(c.mid++, sid, tid, fid, 4280));
      return nbss(writeFrame(c.mid++, sid, tid, fid, mutate(pdu, r)));
    }
  }
}

/** A well-behaved client still gets service: NEGOTIATE, logon, ECHO on a fresh connection. */
async function healthy(port: number): Promise<string | undefined> {
  let c: RawConn | undefined;
  try {
    c = await RawConn.open(port);
    await logon(c, [0x210, 0x311]);
    const o = await c.request(echoFrame(c.mid++, c.sessionId), 3_000);
    return o.kind === 'reply' && o.msg.status === 0 ? undefined : `echo: ${o.kind}`;
  } catch (e) {
    return (e as Error).message;
  } finally {
    c?.close();
  }
}

export async function fuzz(opts: FuzzOptions): Promise<FuzzReport> {
  const batch = opts.batch ?? 40;
  const memoryMiB = opts.memoryMiB ?? 512;
  const rss = opts.rss ?? (() => process.memoryUsage().rss);
  const log = opts.log ?? (() => undefined);
  const r = prng(opts.seed);
  const rss0 = rss();
  const report: FuzzReport = { batches: 0, frames: 0, replies: 0, closes: 0, maxGrowthMiB: 0 };
  const end = Date.now() + opts.seconds * 1000;
  while (Date.now() < end) {
    const kind = KINDS[report.batches % KINDS.length]!;
    const where = `seed ${opts.seed} batch ${report.batches} (${kind})`;
    let p = await prepare(kind, opts.port);
    for (let i = 0; i < batch; i++) {
      if (p.c.closed) p = await prepare(kind, opts.port);
      p.c.send(hostile(kind, p, r));
      report.frames++;
      let o = await p.c.next(REPLY_MS);
      if (o.kind === 'timeout') {
        // Silence is allowed (a frame mutated into CANCEL, a partial frame): then an ECHO must be
        // answered, or the connection closed, once the frame timeout has passed.
        p.c.send(nbss(echoFrame(p.c.mid + 10_000n, p.c.sessionId)));
        o = await p.c.next(REPLY_MS);
        if (o.kind === 'timeout') {
          p.c.close();
          continue;
        }
      }
      if (o.kind === 'reply') report.replies++;
      else report.closes++;
    }
    p.c.close();
    report.batches++;
    const sick = await healthy(opts.port);
    if (sick) throw new Error(`${where}: a well-behaved client was not served: ${sick}`);
    if (opts.held) {
      // Every client of the batch has gone: its connections and sessions must go too.
      let h = opts.held();
      for (let t = 0; t < 40 && (h.connections > 0 || h.sessions > 0); t++) {
        await new Promise((res) => setTimeout(res, 50));
        h = opts.held();
      }
      if (h.connections > 0 || h.sessions > 0) throw new Error(`${where}: ${h.connections} connections and ${h.sessions} sessions left behind`);
    }
    const grew = (rss() - rss0) / 2 ** 20;
    report.maxGrowthMiB = Math.max(report.maxGrowthMiB, grew);
    if (grew > memoryMiB) throw new Error(`${where}: resident memory grew ${grew.toFixed(0)} MiB (limit ${memoryMiB})`);
    log(`${where}: ${report.frames} frames, ${report.replies} replies, ${report.closes} closes, rss +${grew.toFixed(0)} MiB`);
  }
  return report;
}

/** A server for the fuzzer: a share with a file, the fuzz user, short frame/auth deadlines. */
export async function fuzzServer(log?: (l: string) => void): Promise<{
  port: number; held(): { connections: number; sessions: number }; stop(): Promise<void>;
}> {
  const dir = await mkdtemp(join(tmpdir(), 'smbts-fuzz-'));
  await writeFile(join(dir, 'fuzz.bin'), Buffer.alloc(4096, 0x5a));
  const config = parseConfig(['[global]', 'frame timeout = 1', 'auth timeout = 10', '[share]', `path = ${dir}`, 'read only = no', ''].join('\n'));
  const users = UserDb.empty();
  users.add(USER, PASS);
  const server = await startServer({ config, users, host: '127.0.0.1', port: 0, log });
  return {
    port: server.port,
    held() {
      const st = server.status();
      return { connections: st.connections.length, sessions: st.sessions.length };
    },
    async stop() {
      await server.close();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

function arg(name: string, def: number): number {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? Number(process.argv[i + 1]) : def;
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const srv = await fuzzServer(process.env.SMBTS_LOG ? (l) => process.stderr.write(l + '\n') : undefined);
  try {
    const report = await fuzz({
      port: srv.port, held: () => srv.held(), seconds: arg('seconds', 600), seed: arg('seed', Date.now() % 1e9), batch: arg('batch', 40),
      memoryMiB: arg('memory-mib', 512), log: (l) => process.stdout.write(l + '\n'),
    });
    process.stdout.write(`done: ${JSON.stringify(report)}\n`);
  } finally {
    await srv.stop();
  }
}
