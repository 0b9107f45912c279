// The client against a scripted SMB 2.1 server (in this file) that is stingy with credits and
// checks every request against the window it granted (MS-SMB2 3.3.5.2.3), and that sends an
// unsolicited oplock break the client must acknowledge.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { FrameReader, frameHeader } from '../../src/transport/framing.js';
import { encodeHeader } from '../../src/wire/header.js';
import { encodeNegotiateResponse } from '../../src/wire/negotiate.js';
import { encodeSessionSetupResponse } from '../../src/wire/session-setup.js';
import { encodeTreeConnectResponse } from '../../src/wire/tree-connect.js';
import { encodeCreateResponse, decodeCreateRequest } from '../../src/wire/create.js';
import { encodeCloseResponse, EMPTY_CLOSE_RESPONSE } from '../../src/wire/close.js';
import { encodeReadResponse, decodeReadRequest } from '../../src/wire/read.js';
import { encodeWriteResponse, decodeWriteRequest } from '../../src/wire/write.js';
import { encodeErrorResponse } from '../../src/wire/error.js';
import { decodeOplockBreak, encodeOplockBreak } from '../../src/wire/oplock-break.js';
import { Capabilities, Command } from '../../src/wire/constants.js';
import { connect } from '../../src/client/index.js';

const SIZE = 3 * 1024 * 1024 + 5;
const pattern = (off: number, n: number): Buffer => {
  const b = Buffer.allocUnsafe(n);
  for (let i = 0; i < n; i++) b[i] = (off + i) & 0xff;
  return b;
};

interface Script {
  port: number;
  violations: string[];
  maxHeld: number;
  acks: bigint[];
  written: Map<number, Buffer>;
  close(): Promise<void>;
}

async function stingyServer(cap: number, breakOn?: string): Promise<Script> {
  const st: Script = { port: 0, violations: [], maxHeld: 0, acks: [], written: new Map(), close: async () => undefined };
  const socks = new Set<net.Socket>();
  const srv = net.createServer((sock) => {
    socks.add(sock);
    sock.on('error', () => undefined);
    const fr = new FrameReader();
    let expected = 0n; // next MessageId the client must use
    let high = 1n; // first MessageId not granted yet
    let nextFid = 1n;
    const reply = (req: Buffer, status: number, body: Buffer): void => {
      const charge = BigInt(Math.max(1, req.readUInt16LE(6)));
      void charge;
      const ask = req.readUInt16LE(14);
      const held = Number(high - expected);
      let grant = Math.max(0, Math.min(ask, cap - held));
      if (grant === 0 && held === 0) grant = 1;
      high += BigInt(grant);
      st.maxHeld = Math.max(st.maxHeld, Number(high - expected));
      const h = encodeHeader({
        command: req.readUInt16LE(12), status, credits: grant, flags: 1, messageId: req.readBigUInt64LE(24),
        sessionId: 0x77n, treeId: 5, creditCharge: req.readUInt16LE(6),
      });
      sock.write(Buffer.concat([frameHeader(64 + body.length), h, body]));
    };
    sock.on('data', (b: Buffer) => {
      for (const req of fr.push(b)) {
        const cmd = req.readUInt16LE(12);
        const mid = req.readBigUInt64LE(24);
        const charge = BigInt(Math.max(1, req.readUInt16LE(6)));
        if (mid !== expected) st.violations.push(`${cmd}: MessageId ${mid}, expected ${expected}`);
        if (mid + charge > high) st.violations.push(`${cmd}: MessageId ${mid} charge ${charge} beyond granted ${high}`);
        expected = mid + charge;
        switch (cmd) {
          case Command.NEGOTIATE:
            reply(req, 0, encodeNegotiateResponse({
              securityMode: 1, dialectRevision: 0x0210, serverGuid: Buffer.alloc(16, 2), capabilities: Capabilities.LARGE_MTU,
              maxTransactSize: 1 << 20, maxReadSize: 8 << 20, maxWriteSize: 8 << 20, systemTime: 0n, serverStartTime: 0n,
              securityBuffer: Buffer.alloc(0), contexts: [],
            }));
            break;
          case Command.SESSION_SETUP:
            reply(req, 0, encodeSessionSetupResponse({ sessionFlags: 0x1 /* guest */, securityBuffer: Buffer.alloc(0) }));
            break;
          case Command.TREE_CONNECT:
            reply(req, 0, encodeTreeConnectResponse({ shareType: 1, shareFlags: 0, capabilities: 0, maximalAccess: 0x1f01ff }));
            break;
          case Command.CREATE: {
            const c = decodeCreateRequest(req);
            const fileId = { persistent: nextFid, volatile: nextFid };
            nextFid++;
            reply(req, 0, encodeCreateResponse({
              oplockLevel: 0, flags: 0, createAction: 1, creationTime: 0n, lastAccessTime: 0n, lastWriteTime: 0n, changeTime: 0n,
              allocationSize: 0n, endOfFile: c.name === 'data.bin' ? BigInt(SIZE) : 0n, fileAttributes: 0x20, fileId, contexts: [],
            }));
            if (breakOn && c.name === breakOn) {
              const body = encodeOplockBreak({ oplockLevel: 0, fileId });
              const h = encodeHeader({ command: Command.OPLOCK_BREAK, flags: 1, messageId: 0xffffffffffffffffn, creditCharge: 0 });
              setTimeout(() => sock.write(Buffer.concat([frameHeader(64 + body.length), h, body])), 20);
            }
            break;
          }
          case Command.READ: {
            const r = decodeReadRequest(req);
            const off = Number(r.offset);
            if (r.length > Number(charge) * 65536) st.violations.push(`READ of ${r.length} with charge ${charge}`);
            if (off >= SIZE) { reply(req, 0xc0000011, encodeErrorResponse()); break; }
            const n = Math.min(r.length, SIZE - off);
            reply(req, 0, encodeReadResponse({ data: pattern(off, n), dataRemaining: 0 }));
            break;
          }
          case Command.WRITE: {
            const w = decodeWriteRequest(req);
            if (w.data.length > Number(charge) * 65536) st.violations.push(`WRITE of ${w.data.length} with charge ${charge}`);
            st.written.set(Number(w.offset), Buffer.from(w.data));
            reply(req, 0, encodeWriteResponse({ count: w.data.length, remaining: 0 }));
            break;
          }
          case Command.CLOSE:
            reply(req, 0, encodeCloseResponse(EMPTY_CLOSE_RESPONSE));
            break;
          case Command.OPLOCK_BREAK: {
            const a = decodeOplockBreak(req);
            if (a.kind === 'oplock') st.acks.push(a.fileId.volatile);
            reply(req, 0, encodeOplockBreak({ oplockLevel: 0, fileId: a.kind === 'oplock' ? a.fileId : { persistent: 0n, volatile: 0n } }));
            break;
          }
          default:
            reply(req, 0, encodeErrorResponse());
        }
      }
    });
  });
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  st.port = (srv.address() as net.AddressInfo).port;
  st.close = () => new Promise<void>((r) => { for (const s of socks) s.destroy(); srv.close(() => r()); });
  return st;
}

describe('client credit discipline (scripted server)', () => {
  for (const cap of [1, 8, 200]) {
    it(`never exceeds a window of ${cap} credit(s); large transfers still complete`, async () => {
      const s = await stingyServer(cap);
      try {
        const c = await connect(`smb://guest@127.0.0.1:${s.port}/share`, { password: '', timeoutMs: 5000, chunkSize: 4 << 20, depth: 8 });
        const data = await c.readFile('data.bin');
        assert.equal(data.length, SIZE);
        assert.ok(data.equals(pattern(0, SIZE)));
        const out = pattern(7, 2 * 1024 * 1024 + 3);
        await c.writeFile('out.bin', out);
        const parts = [...s.written.entries()].sort((a, b) => a[0] - b[0]);
        assert.ok(Buffer.concat(parts.map((p) => p[1])).equals(out));
        await c.close();
        assert.deepEqual(s.violations, []);
        assert.ok(s.maxHeld <= Math.max(cap, 1));
      } finally { await s.close(); }
    });
  }

  it('acknowledges an unsolicited oplock break', async () => {
    const s = await stingyServer(16, 'break.txt');
    try {
      const c = await connect(`smb://guest@127.0.0.1:${s.port}/share`, { password: '', timeoutMs: 5000 });
      const h = await c.open('break.txt', 'r');
      for (let i = 0; i < 100 && s.acks.length === 0; i++) await new Promise((r) => setTimeout(r, 10));
      assert.deepEqual(s.acks, [h.fileId.volatile]);
      await h.close();
      await c.close();
      assert.deepEqual(s.violations, []);
    } finally { await s.close(); }
  });
});
