// Request-path tests over real TCP on loopback (ephemeral ports), with raw SMB2 frames built from
// the wire codecs and an NTLM client from auth/ (the server never imports client/).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import * as net from 'node:net';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as nodePath from 'node:path';
import { startServer, type SmbServer } from './index.js';
import { CreditWindow } from './credits.js';
import { handlers } from './handlers/index.js';
import type { Handler } from './types.js';
import { parseConfig } from '../config/config.js';
import { UserDb } from '../auth/userdb.js';
import { NtlmClient } from '../auth/ntlm-client.js';
import { SpnegoClient } from '../auth/spnego.js';
import { FrameReader, frameHeader } from '../transport/framing.js';
import { decodeHeader, encodeHeaderInto, HEADER_SIZE, type Header } from '../wire/header.js';
import { Command, Dialect, HeaderFlags, CipherId, SigningAlgorithmId, HashAlgorithm } from '../wire/constants.js';
import { Status } from '../wire/status.js';
import { encodeNegotiateRequest, decodeNegotiateResponse, findContext } from '../wire/negotiate.js';
import { encodeSessionSetupRequest, decodeSessionSetupResponse } from '../wire/session-setup.js';
import { encodeTreeConnectRequest, decodeTreeConnectResponse } from '../wire/tree-connect.js';
import { encodeEchoRequest } from '../wire/echo.js';
import { encodeSmb1Negotiate } from '../wire/smb1.js';
import { PreauthHash } from '../crypto/preauth.js';
import { deriveSessionKeys } from '../crypto/kdf.js';
import { computeSignature, verifySignature } from '../crypto/signing.js';

const TIMEOUT = 5000;

/** A minimal SMB2 test client: one request at a time, or raw frames. */
class Raw {
  private reader = new FrameReader();
  private queue: Buffer[] = [];
  private waiters: Array<(b: Buffer | undefined) => void> = [];
  closed = false;
  mid = 0n;
  sessionId = 0n;
  signKey: Buffer | undefined;
  signAlg: 'aes-gmac' | 'aes-cmac' | 'hmac-sha256' = 'aes-cmac';

  private constructor(readonly sock: net.Socket) {
    sock.on('data', (c) => {
      for (const f of this.reader.push(c)) this.deliver(f);
    });
    sock.on('close', () => {
      this.closed = true;
      for (const w of this.waiters.splice(0)) w(undefined);
    });
    sock.on('error', () => undefined);
  }

  static connect(port: number): Promise<Raw> {
    return new Promise((resolve, reject) => {
      const s = net.connect(port, '127.0.0.1', () => resolve(new Raw(s)));
      s.once('error', reject);
    });
  }

  private deliver(f: Buffer): void {
    const w = this.waiters.shift();
    if (w) w(f);
    else this.queue.push(f);
  }

  sendFrame(payload: Buffer): void {
    this.sock.write(Buffer.concat([frameHeader(payload.length), payload]));
  }

  recv(ms = TIMEOUT): Promise<Buffer | undefined> {
    const q = this.queue.shift();
    if (q) return Promise.resolve(q);
    if (this.closed) return Promise.resolve(undefined);
    return new Promise((resolve) => {
      const t = setTimeout(() => {
        const i = this.waiters.indexOf(done);
        if (i >= 0) this.waiters.splice(i, 1);
        resolve(undefined);
      }, ms);
      const done = (b: Buffer | undefined): void => {
        clearTimeout(t);
        resolve(b);
      };
      this.waiters.push(done);
    });
  }

  build(command: number, body: Buffer, o: Partial<Header> & { sign?: boolean } = {}): Buffer {
    const h = Buffer.alloc(HEADER_SIZE);
    const mid = o.messageId ?? this.mid++;
    let flags = o.flags ?? 0;
    if (o.sign && this.signKey) flags |= HeaderFlags.SIGNED;
    encodeHeaderInto({
      command, creditCharge: o.creditCharge ?? 1, credits: o.credits ?? 64, flags, messageId: mid,
      treeId: o.treeId ?? 0, sessionId: o.sessionId ?? this.sessionId, asyncId: o.asyncId ?? 0n,
    }, h);
    const msg = Buffer.concat([h, body]);
    if (o.sign && this.signKey) computeSignature(this.signAlg, this.signKey, msg).copy(msg, 48);
    return msg;
  }

  async request(command: number, body: Buffer, o: Partial<Header> & { sign?: boolean } = {}): Promise<{ h: Header; msg: Buffer }> {
    const msg = this.build(command, body, o);
    this.sendFrame(msg);
    const r = await this.recv();
    assert.ok(r, `no response to command ${command}`);
    return { h: decodeHeader(r), msg: r };
  }

  close(): void {
    this.sock.destroy();
  }
}

let server: SmbServer;
let dir: string;
const logs: string[] = [];

function negotiate311(): Buffer {
  return encodeNegotiateRequest({
    securityMode: 1, capabilities: 0x7f, clientGuid: Buffer.alloc(16, 7),
    dialects: [Dialect.SMB2_02, Dialect.SMB2_10, Dialect.SMB3_00, Dialect.SMB3_02, Dialect.SMB3_11],
    contexts: [
      { kind: 'preauth', hashAlgorithms: [HashAlgorithm.SHA512], salt: Buffer.alloc(32, 1) },
      { kind: 'encryption', ciphers: [CipherId.AES256_GCM, CipherId.AES128_GCM, CipherId.AES128_CCM] },
      { kind: 'signing', signingAlgorithms: [SigningAlgorithmId.AES_CMAC, SigningAlgorithmId.AES_GMAC] },
    ],
  });
}

/** NEGOTIATE 3.1.1 + NTLM SESSION_SETUP; returns a signed-capable client. */
async function login(user = 'test', password = 'test'): Promise<{ c: Raw; keys: ReturnType<typeof deriveSessionKeys> }> {
  const c = await Raw.connect(server.port);
  const pre = new PreauthHash();
  const negReq = c.build(Command.NEGOTIATE, negotiate311());
  c.sendFrame(negReq);
  const negRes = await c.recv();
  assert.ok(negRes);
  pre.update(negReq).update(negRes);
  const neg = decodeNegotiateResponse(negRes);
  const cipher = findContext(neg.contexts, 'encryption')!.ciphers[0]!;
  c.signAlg = 'aes-gmac';
  const ntlm = new NtlmClient({ user, password, domain: 'WORKGROUP' });
  const spnego = new SpnegoClient(ntlm);
  let token: Buffer | undefined = spnego.initial(neg.securityBuffer);
  let keys: ReturnType<typeof deriveSessionKeys> | undefined;
  while (token) {
    const req = c.build(Command.SESSION_SETUP, encodeSessionSetupRequest({
      flags: 0, securityMode: 1, capabilities: 0, channel: 0, previousSessionId: 0n, securityBuffer: token,
    }));
    pre.update(req);
    c.sendFrame(req);
    const res = await c.recv();
    assert.ok(res, 'session setup response');
    const h = decodeHeader(res);
    c.sessionId = h.sessionId;
    if (h.status === Status.MORE_PROCESSING_REQUIRED) {
      pre.update(res);
      token = spnego.step(decodeSessionSetupResponse(res).securityBuffer);
      continue;
    }
    assert.equal(h.status, Status.SUCCESS, 'session setup status');
    keys = deriveSessionKeys(Dialect.SMB3_11, ntlm.sessionKey, pre.value, cipher);
    // The final response is signed with the new signing key (3.3.5.5.3).
    assert.ok(h.flags & HeaderFlags.SIGNED);
    assert.ok(verifySignature('aes-gmac', keys.signingKey, res));
    spnego.step(decodeSessionSetupResponse(res).securityBuffer);
    token = undefined;
  }
  c.signKey = keys!.signingKey;
  return { c, keys: keys! };
}

before(async () => {
  dir = fs.mkdtempSync(nodePath.join(os.tmpdir(), 'smbts-server-test-'));
  const config = parseConfig(`[global]\nserver signing = auto\n[share]\npath = ${dir}\nread only = no\n`);
  const users = UserDb.empty();
  users.add('test', 'test');
  server = await startServer({ config, users, host: '127.0.0.1', port: 0, log: (l) => logs.push(l) });
});

after(async () => {
  await server.close();
  fs.rmSync(dir, { recursive: true, force: true });
});

test('credit window: in-order, out-of-order, replay and bounded grants', () => {
  const w = new CreditWindow(100);
  assert.ok(w.consume(0n, 1));
  assert.equal(w.grant(10), 10);
  assert.ok(w.consume(3n, 2)); // out of order
  assert.ok(!w.consume(3n, 1)); // replay
  assert.ok(w.consume(1n, 2));
  assert.ok(!w.consume(11n, 1)); // beyond the window
  const before = w.outstanding;
  assert.equal(w.grant(1000), 100 - before); // a huge request gets a bounded grant
  assert.equal(w.outstanding, 100);
  assert.equal(w.grant(5), 0);
  assert.ok(!w.consume(2n ** 63n, 1));
});

test('NEGOTIATE 3.1.1: contexts chosen by server preference', async () => {
  const c = await Raw.connect(server.port);
  const { h, msg } = await c.request(Command.NEGOTIATE, negotiate311());
  assert.equal(h.status, Status.SUCCESS);
  const neg = decodeNegotiateResponse(msg);
  assert.equal(neg.dialectRevision, Dialect.SMB3_11);
  assert.deepEqual(findContext(neg.contexts, 'encryption')?.ciphers, [CipherId.AES128_GCM]);
  assert.deepEqual(findContext(neg.contexts, 'signing')?.signingAlgorithms, [SigningAlgorithmId.AES_GMAC]);
  assert.equal(findContext(neg.contexts, 'preauth')?.salt.length, 32);
  assert.equal(neg.maxReadSize, 8 * 1024 * 1024);
  // A second NEGOTIATE on the same connection is a protocol error: disconnect.
  c.sendFrame(c.build(Command.NEGOTIATE, negotiate311()));
  assert.equal(await c.recv(), undefined);
  c.close();
});

test('SMB1 multi-protocol NEGOTIATE is answered with SMB2 0x02FF', async () => {
  const c = await Raw.connect(server.port);
  c.sendFrame(encodeSmb1Negotiate(['NT LM 0.12', 'SMB 2.002', 'SMB 2.???']));
  const r = await c.recv();
  assert.ok(r);
  assert.equal(decodeNegotiateResponse(r).dialectRevision, 0x02ff);
  c.mid = 1n;
  const { msg } = await c.request(Command.NEGOTIATE, negotiate311());
  assert.equal(decodeNegotiateResponse(msg).dialectRevision, Dialect.SMB3_11);
  c.close();
});

test('session setup, tree connect, signed echo; bad signature -> ACCESS_DENIED', async () => {
  const { c } = await login();
  const tc = await c.request(Command.TREE_CONNECT, encodeTreeConnectRequest({ flags: 0, path: '\\\\127.0.0.1\\share' }), { sign: true });
  assert.equal(tc.h.status, Status.SUCCESS);
  assert.ok(verifySignature('aes-gmac', c.signKey!, tc.msg));
  assert.equal(decodeTreeConnectResponse(tc.msg).maximalAccess, 0x001f01ff);
  const bad = await c.request(Command.TREE_CONNECT, encodeTreeConnectRequest({ flags: 0, path: '\\\\127.0.0.1\\nope' }), { sign: true });
  assert.equal(bad.h.status, Status.BAD_NETWORK_NAME);
  const echo = await c.request(Command.ECHO, encodeEchoRequest(), { sign: true });
  assert.equal(echo.h.status, Status.SUCCESS);
  // Corrupt the signature of a request.
  const m = c.build(Command.TREE_CONNECT, encodeTreeConnectRequest({ flags: 0, path: '\\\\127.0.0.1\\share' }), { sign: true });
  m[50] ^= 0xff;
  c.sendFrame(m);
  const r = await c.recv();
  assert.ok(r);
  assert.equal(decodeHeader(r).status, Status.ACCESS_DENIED);
  // Unknown tree id.
  const st = server.status();
  assert.ok(st.sessions.some((s) => s.user === 'test' && s.channels.length === 1 && /^[0-9a-f]{8}$/.test(s.channels[0]!.signingKeyId)));
  c.close();
});

test('wrong password -> LOGON_FAILURE', async () => {
  await assert.rejects(login('test', 'wrong'), /LOGON|status/i);
});

test('request outside the sequence window drops only that connection', async () => {
  const { c } = await login();
  c.sendFrame(c.build(Command.ECHO, encodeEchoRequest(), { messageId: 100000n }));
  assert.equal(await c.recv(), undefined);
  assert.ok(c.closed);
  // The server still serves others.
  const d = await Raw.connect(server.port);
  const { h } = await d.request(Command.NEGOTIATE, negotiate311());
  assert.equal(h.status, Status.SUCCESS);
  d.close();
});

test('garbage and truncated frames cost only their connection', async () => {
  for (const junk of [Buffer.from('hello world, not smb'), Buffer.alloc(70, 0xfe), Buffer.from([0xfd, 0x53, 0x4d, 0x42, 1, 2])]) {
    const c = await Raw.connect(server.port);
    c.sendFrame(junk);
    await c.recv(1000);
    c.close();
  }
  const d = await Raw.connect(server.port);
  const { h } = await d.request(Command.NEGOTIATE, negotiate311());
  assert.equal(h.status, Status.SUCCESS);
  d.close();
});

test('commands before login: USER_SESSION_DELETED; compound first-related: INVALID_PARAMETER', async () => {
  const c = await Raw.connect(server.port);
  await c.request(Command.NEGOTIATE, negotiate311());
  const tc = await c.request(Command.TREE_CONNECT, encodeTreeConnectRequest({ flags: 0, path: '\\\\x\\share' }), { sessionId: 12345n });
  assert.equal(tc.h.status, Status.USER_SESSION_DELETED);
  c.close();
});

test('async: interim STATUS_PENDING, CANCEL by AsyncId -> final reply', async () => {
  const table = handlers as Record<number, Handler | undefined>;
  const saved = table[Command.FLUSH];
  table[Command.FLUSH] = async (ctx) => {
    const op = ctx.goAsync();
    await new Promise<void>((resolve) => {
      if (op.signal.aborted) resolve();
      op.signal.addEventListener('abort', () => resolve(), { once: true });
    });
    return { status: Status.CANCELLED };
  };
  try {
    const { c } = await login();
    const tc = await c.request(Command.TREE_CONNECT, encodeTreeConnectRequest({ flags: 0, path: '\\\\127.0.0.1\\share' }), { sign: true });
    const treeId = tc.h.treeId;
    const body = Buffer.alloc(24);
    body.writeUInt16LE(24, 0);
    const interim = await c.request(Command.FLUSH, body, { treeId, sign: true });
    assert.equal(interim.h.status, Status.PENDING);
    assert.ok(interim.h.flags & HeaderFlags.ASYNC_COMMAND);
    assert.ok(interim.h.asyncId > 0n);
    assert.ok(interim.h.credits >= 1);
    // CANCEL: async form, consumes no MessageId.
    c.sendFrame(c.build(Command.CANCEL, Buffer.from([4, 0, 0, 0]), {
      flags: HeaderFlags.ASYNC_COMMAND, asyncId: interim.h.asyncId, messageId: interim.h.messageId, sign: true,
    }));
    const fin = await c.recv();
    assert.ok(fin);
    const fh = decodeHeader(fin);
    assert.equal(fh.status, Status.CANCELLED);
    assert.equal(fh.asyncId, interim.h.asyncId);
    assert.equal(fh.credits, 0);
    assert.ok(verifySignature('aes-gmac', c.signKey!, fin));
    // The connection is still usable.
    const echo = await c.request(Command.ECHO, encodeEchoRequest(), { sign: true });
    assert.equal(echo.h.status, Status.SUCCESS);
    c.close();
  } finally {
    table[Command.FLUSH] = saved;
  }
});

test('a port in use gives a clear error', async () => {
  const config = parseConfig('[s]\npath = /tmp\n');
  await assert.rejects(
    startServer({ config, users: UserDb.empty(), host: '127.0.0.1', port: server.port }),
    /already in use/,
  );
});
