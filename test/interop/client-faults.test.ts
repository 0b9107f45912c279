// The client facing broken or hostile servers: a fake server (net.Server in this file) that drops
// the connection, stalls or answers garbage, and a man in the middle in front of a real Samba that
// tampers with signatures or cuts a transfer. Every case must end in a clear SmbError within the
// timeout — never a hang, never a crash.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { randomBytes } from 'node:crypto';
import { FrameReader, frameHeader } from '../../src/transport/framing.js';
import { encodeNegotiateResponse } from '../../src/wire/negotiate.js';
import { encodeErrorResponse } from '../../src/wire/error.js';
import { encodeHeader } from '../../src/wire/header.js';
import { startSamba, missingTools, type SambaHandle } from './peers.js';
import { connect, SmbError } from '../../src/client/index.js';

const SMB2_NEGOTIATE = 0;
const SMB2_SESSION_SETUP = 1;
const SMB2_TREE_CONNECT = 3;
const FLAG_SIGNED = 0x8;

type OnConn = (sock: net.Socket) => void;

async function fakeServer(onConn: OnConn): Promise<{ port: number; close(): Promise<void> }> {
  const socks = new Set<net.Socket>();
  const srv = net.createServer((s) => {
    socks.add(s);
    s.on('error', () => undefined);
    s.on('close', () => socks.delete(s));
    onConn(s);
  });
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  const port = (srv.address() as net.AddressInfo).port;
  return {
    port,
    close: () => new Promise<void>((r) => { for (const s of socks) s.destroy(); srv.close(() => r()); }),
  };
}

/** Answers the first request frame with `reply(frame)`; undefined = say nothing. */
function onFirstFrame(reply: (req: Buffer, sock: net.Socket) => void): OnConn {
  return (sock) => {
    const fr = new FrameReader();
    let seen = false;
    sock.on('data', (b: Buffer) => {
      for (const f of fr.push(b)) {
        if (seen) continue;
        seen = true;
        reply(f, sock);
      }
    });
  };
}

type Verdict = Buffer | 'drop' | 'stall';

/** A TCP man in the middle: requests pass unchanged, each response frame goes through `edit`. */
async function mitm(upstreamPort: number, edit: (frame: Buffer, n: number) => Verdict): Promise<{ port: number; close(): Promise<void> }> {
  return fakeServer((client) => {
    const up = net.connect({ host: '127.0.0.1', port: upstreamPort });
    up.on('error', () => client.destroy());
    client.on('close', () => up.destroy());
    client.on('data', (b: Buffer) => up.write(b));
    const fr = new FrameReader();
    let n = 0;
    let stalled = false;
    up.on('data', (b: Buffer) => {
      if (stalled) return;
      for (const f of fr.push(b)) {
        const v = edit(f, n++);
        if (v === 'drop') { client.destroy(); up.destroy(); return; }
        if (v === 'stall') { stalled = true; return; }
        client.write(Buffer.concat([frameHeader(v.length), v]));
      }
    });
  });
}

function isSmbError(status: string | string[], re?: RegExp) {
  return (e: unknown): boolean => {
    assert.ok(e instanceof SmbError, `expected SmbError, got ${String(e)}`);
    const ok = Array.isArray(status) ? status : [status];
    assert.ok(ok.includes(e.statusName), `${e.statusName}: ${e.message}`);
    if (re) assert.match(e.message, re);
    return true;
  };
}

async function within<T>(ms: number, p: Promise<T>): Promise<T> {
  let t: NodeJS.Timeout | undefined;
  const guard = new Promise<never>((_, rej) => { t = setTimeout(() => rej(new Error(`no result within ${ms} ms (hang)`)), ms); });
  try { return await Promise.race([p, guard]); } finally { clearTimeout(t); }
}

describe('client against a fake server', () => {
  const url = (port: number): string => `smb://test@127.0.0.1:${port}/share`;
  const opts = { password: 'test', timeoutMs: 700 };

  it('connection refused', async () => {
    const s = await fakeServer(() => undefined);
    const port = s.port;
    await s.close();
    await within(3000, assert.rejects(connect(url(port), opts), (e: unknown) => e instanceof SmbError && /refused/.test(e.message)));
  });

  it('server drops the connection at once', async () => {
    const s = await fakeServer((sock) => sock.destroy());
    try {
      await within(3000, assert.rejects(connect(url(s.port), opts), isSmbError('CONNECTION_DISCONNECTED')));
    } finally { await s.close(); }
  });

  it('server drops the connection after the request', async () => {
    const s = await fakeServer(onFirstFrame((_f, sock) => sock.destroy()));
    try {
      await within(3000, assert.rejects(connect(url(s.port), opts), isSmbError('CONNECTION_DISCONNECTED')));
    } finally { await s.close(); }
  });

  it('server stalls', async () => {
    const s = await fakeServer(onFirstFrame(() => undefined));
    try {
      const t = Date.now();
      await within(3000, assert.rejects(connect(url(s.port), opts), isSmbError('IO_TIMEOUT', /did not answer in time/)));
      assert.ok(Date.now() - t < 2500);
    } finally { await s.close(); }
  });

  it('server answers garbage', async () => {
    const s = await fakeServer(onFirstFrame((_f, sock) => { const g = randomBytes(80); sock.write(Buffer.concat([frameHeader(g.length), g])); }));
    try {
      await within(3000, assert.rejects(connect(url(s.port), opts), isSmbError('INVALID_NETWORK_RESPONSE', /malformed response/)));
    } finally { await s.close(); }
  });

  it('server answers a truncated SMB2 response', async () => {
    const s = await fakeServer(onFirstFrame((req, sock) => {
      const h = Buffer.from(req.subarray(0, 64));
      h.writeUInt32LE(h.readUInt32LE(16) | 1, 16); // SERVER_TO_REDIR
      const body = Buffer.from([65, 0, 1, 2]); // NEGOTIATE response cut short
      sock.write(Buffer.concat([frameHeader(68), h, body]));
    }));
    try {
      await within(3000, assert.rejects(connect(url(s.port), opts), isSmbError('INVALID_NETWORK_RESPONSE')));
    } finally { await s.close(); }
  });

  it('server sends a bad frame length', async () => {
    const s = await fakeServer(onFirstFrame((_f, sock) => sock.write(Buffer.from([0x42, 0xff, 0xff, 0xff, 1, 2, 3]))));
    try {
      await within(3000, assert.rejects(connect(url(s.port), opts), isSmbError('INVALID_NETWORK_RESPONSE')));
    } finally { await s.close(); }
  });
});

/**
 * A tiny SMB 2.1 server: NEGOTIATE goes async (interim STATUS_PENDING, final after `delayMs`, or
 * never when delayMs < 0); SESSION_SETUP fails with STATUS_LOGON_FAILURE. Grants one credit per response.
 */
function asyncNegotiator(delayMs: number): OnConn {
  return (sock) => {
    const fr = new FrameReader();
    const send = (req: Buffer, status: number, flags: number, body: Buffer, credits: number): void => {
      const h = encodeHeader({
        command: req.readUInt16LE(12), status, credits, flags: 0x1 | flags, messageId: req.readBigUInt64LE(24),
        asyncId: 7n, sessionId: 0x1234n, creditCharge: 1,
      });
      sock.write(Buffer.concat([frameHeader(64 + body.length), h, body]));
    };
    sock.on('data', (b: Buffer) => {
      for (const req of fr.push(b)) {
        const cmd = req.readUInt16LE(12);
        if (cmd === SMB2_NEGOTIATE) {
          send(req, 0x103, 0x2, encodeErrorResponse(), 0);
          if (delayMs >= 0) {
            setTimeout(() => send(req, 0, 0x2, encodeNegotiateResponse({
              securityMode: 1, dialectRevision: 0x0210, serverGuid: Buffer.alloc(16, 1), capabilities: 0,
              maxTransactSize: 65536, maxReadSize: 65536, maxWriteSize: 65536, systemTime: 0n, serverStartTime: 0n,
              securityBuffer: Buffer.alloc(0), contexts: [],
            }), 1), delayMs);
          }
        } else if (cmd === SMB2_SESSION_SETUP) {
          send(req, 0xc000006d, 0, encodeErrorResponse(), 1);
        }
      }
    });
  };
}

describe('client and async (STATUS_PENDING) responses', () => {
  it('keeps waiting on the AsyncId after an interim response', async () => {
    const s = await fakeServer(asyncNegotiator(400));
    try {
      await within(3000, assert.rejects(connect(`smb://test@127.0.0.1:${s.port}/share`, { password: 'x', dialects: [0x0210], timeoutMs: 1000 }),
        isSmbError('LOGON_FAILURE', /wrong user name or password/)));
    } finally { await s.close(); }
  });

  it('times out when the final response never comes', async () => {
    const s = await fakeServer(asyncNegotiator(-1));
    try {
      await within(3000, assert.rejects(connect(`smb://test@127.0.0.1:${s.port}/share`, { password: 'x', dialects: [0x0210], timeoutMs: 600 }),
        isSmbError('IO_TIMEOUT')));
    } finally { await s.close(); }
  });
});

describe('client against a tampering man in the middle (Samba, signing mandatory)', { skip: missingTools(['smbd', 'smbpasswd']) }, () => {
  let samba: SambaHandle;
  before(async () => { samba = await startSamba({ extraGlobal: ['server signing = mandatory'] }); });
  after(async () => { await samba?.stop(); });

  const flipSignatureOf = (command: number) => (f: Buffer): Verdict => {
    if (f.length >= 64 && f.readUInt16LE(12) === command && (f.readUInt32LE(16) & FLAG_SIGNED) && f.readUInt32LE(8) === 0) {
      const g = Buffer.from(f);
      g[50] = g[50]! ^ 0x01;
      return g;
    }
    return f;
  };

  for (const [name, dialect] of [['SMB2_10', 0x0210], ['SMB3_00', 0x0300], ['SMB3_11', 0x0311]] as const) {
    it(`${name}: wrongly signed SESSION_SETUP response`, async () => {
      const m = await mitm(samba.port, flipSignatureOf(SMB2_SESSION_SETUP));
      try {
        await within(5000, assert.rejects(connect(`smb://test@127.0.0.1:${m.port}/share`, { password: 'test', dialects: [dialect], timeoutMs: 3000 }),
          isSmbError('ACCESS_DENIED', /bad signature/)));
      } finally { await m.close(); }
    });

    it(`${name}: wrongly signed TREE_CONNECT response drops the connection`, async () => {
      const m = await mitm(samba.port, flipSignatureOf(SMB2_TREE_CONNECT));
      try {
        await within(5000, assert.rejects(connect(`smb://test@127.0.0.1:${m.port}/share`, { password: 'test', dialects: [dialect], timeoutMs: 3000 }),
          isSmbError('ACCESS_DENIED', /bad signature/)));
      } finally { await m.close(); }
    });
  }

  it('SMB3_00: a downgraded NEGOTIATE response is caught by FSCTL_VALIDATE_NEGOTIATE_INFO', async () => {
    const m = await mitm(samba.port, (f) => {
      if (f.readUInt16LE(12) === SMB2_NEGOTIATE && f.length >= 92) {
        const g = Buffer.from(f);
        g.writeUInt32LE(g.readUInt32LE(88) ^ 0x1, 88); // flip CAP_DFS in the unsigned NEGOTIATE response
        return g;
      }
      return f;
    });
    try {
      await within(5000, assert.rejects(connect(`smb://test@127.0.0.1:${m.port}/share`, { password: 'test', dialects: [0x0300], timeoutMs: 3000 }),
        isSmbError('ACCESS_DENIED', /negotiate validation failed \(capabilities\)/)));
    } finally { await m.close(); }
  });

  it('signature stripped from a response on a signing-required session', async () => {
    const m = await mitm(samba.port, (f) => {
      if (f.readUInt16LE(12) === SMB2_TREE_CONNECT && f.readUInt32LE(8) === 0) {
        const g = Buffer.from(f);
        g.writeUInt32LE(g.readUInt32LE(16) & ~FLAG_SIGNED, 16);
        g.fill(0, 48, 64);
        return g;
      }
      return f;
    });
    try {
      await within(5000, assert.rejects(connect(`smb://test@127.0.0.1:${m.port}/share`, { password: 'test', dialects: [0x0300], timeoutMs: 3000 }),
        isSmbError('ACCESS_DENIED', /unsigned/)));
    } finally { await m.close(); }
  });

  it('SMB3_11 without required signing: unsigned answer to the signed TREE_CONNECT is refused', async () => {
    const plain = await startSamba();
    const m = await mitm(plain.port, (f) => {
      if (f.readUInt16LE(12) === SMB2_TREE_CONNECT && f.readUInt32LE(8) === 0) {
        const g = Buffer.from(f);
        g.writeUInt32LE(g.readUInt32LE(16) & ~FLAG_SIGNED, 16);
        g.fill(0, 48, 64);
        return g;
      }
      return f;
    });
    try {
      await within(5000, assert.rejects(connect(`smb://test@127.0.0.1:${m.port}/share`, { password: 'test', dialects: [0x0311], timeoutMs: 3000 }),
        isSmbError('ACCESS_DENIED', /unsigned TREE_CONNECT response to a signed request/)));
    } finally {
      await m.close();
      await plain.stop();
    }
  });

  it('connection cut in the middle of a transfer: pending reads fail, nothing hangs', async () => {
    let cut = false;
    let bytes = 0;
    const m = await mitm(samba.port, (f) => {
      bytes += f.length;
      if (cut && bytes > 3 * 1024 * 1024) return 'drop';
      return f;
    });
    try {
      // Without reconnecting (durable-client.test.ts covers the reconnect): the error comes at once.
      const c = await connect(`smb://test@127.0.0.1:${m.port}/share`, { password: 'test', timeoutMs: 3000, chunkSize: 256 * 1024, reconnect: { attempts: 0 } });
      await c.writeFile('cut.bin', randomBytes(8 * 1024 * 1024));
      cut = true;
      bytes = 0;
      await within(5000, assert.rejects(c.readFile('cut.bin'), isSmbError(['CONNECTION_DISCONNECTED', 'CONNECTION_RESET'])));
      await within(2000, assert.rejects(c.stat('cut.bin'), (e: unknown) => e instanceof SmbError));
      await c.close();
    } finally { await m.close(); }
  });

  it('server stalls mid-session: request times out', async () => {
    let stall = false;
    const m = await mitm(samba.port, (f) => (stall ? 'stall' : f));
    try {
      const c = await connect(`smb://test@127.0.0.1:${m.port}/share`, { password: 'test', timeoutMs: 800 });
      stall = true;
      await within(3000, assert.rejects(c.stat('/'), isSmbError('IO_TIMEOUT')));
      const t = Date.now();
      await within(3000, c.close());
      assert.ok(Date.now() - t < 1500, 'close() is bounded by the timeout');
    } finally { await m.close(); }
  });

});
