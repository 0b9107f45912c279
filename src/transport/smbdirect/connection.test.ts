// MS-SMBD on the loopback provider and on libfabric's tcp provider: negotiation, credits,
// fragmentation, keepalive, and peers that break the rules.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { libfabricProvider, libfabricUnavailable } from '../rdma/libfabric.js';
import { loopbackProvider } from '../rdma/loopback.js';
import type { RdmaEndpoint, RdmaProvider, RdmaReceived } from '../rdma/provider.js';
import { smbdConnect, smbdListen, type SmbdConnection, type SmbdOptions } from './connection.js';
import { decodeNegotiateResponse, encodeDataHeader, encodeNegotiateRequest } from './wire.js';

async function until(cond: () => boolean, ms = 5000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 5));
  }
}

/** An SMB-Direct server that sends every message back; remembers why connections closed. */
async function echoServer(p: RdmaProvider, opts: SmbdOptions = {}) {
  const closes: Array<Error | undefined> = [];
  const conns: SmbdConnection[] = [];
  const l = await smbdListen(p, '127.0.0.1', 0, (c) => {
    conns.push(c);
    c.onMessage = (m) => { c.send(m).catch(() => {}); };
    c.onClose = (e) => closes.push(e);
  }, opts);
  return { port: l.port, closes, conns, close: () => { l.close(); for (const c of conns) c.close(); } };
}

/** A raw peer: negotiates by hand, then does whatever the test says. */
async function rawPeer(p: RdmaProvider, port: number, credits: number, maxReceiveSize = 8192) {
  const inbox: RdmaReceived[] = [];
  let closed = false;
  const ep: RdmaEndpoint = await p.connect('127.0.0.1', port, (e) => {
    for (let i = 0; i < 8; i++) e.postReceive(Buffer.alloc(maxReceiveSize));
    e.events.onReceive = (r) => { inbox.push({ ...r, data: Buffer.from(r.data) }); e.postReceive(r.buffer); };
    e.events.onClose = () => { closed = true; };
  });
  await ep.send(encodeNegotiateRequest({ minVersion: 0x100, maxVersion: 0x100, creditsRequested: credits, preferredSendSize: 1024, maxReceiveSize, maxFragmentedSize: 1 << 20 }));
  await until(() => inbox.length === 1 || closed);
  return { ep, inbox, closed: () => closed, response: inbox[0] ? decodeNegotiateResponse(inbox[0].data) : undefined };
}

const dataMsg = (payload: Buffer, granted = 1, remaining = 0): Buffer =>
  Buffer.concat([encodeDataHeader({ creditsRequested: 8, creditsGranted: granted, flags: 0, remainingDataLength: remaining }, payload.length), payload]);

const cases: Array<[string, RdmaProvider, string | undefined]> = [
  ['loopback', loopbackProvider, undefined],
  ['libfabric tcp', libfabricProvider('tcp'), libfabricUnavailable()],
];

for (const [name, p, why] of cases) {
  const skip = why && !process.env.CI ? why : false;

  test(`${name}: messages both ways, 1 MiB fragmented into 1 KiB sends, credits keep flowing`, { skip, timeout: 60_000 }, async () => {
    const srv = await echoServer(p, { maxSendSize: 1024, maxReceiveSize: 1024, receiveCreditMax: 16, sendCreditTarget: 16 });
    const c = await smbdConnect(p, '127.0.0.1', srv.port, { maxSendSize: 1024, maxReceiveSize: 1024, receiveCreditMax: 16, sendCreditTarget: 16 });
    try {
      const got: Buffer[] = [];
      c.onMessage = (m) => got.push(m);
      const big = randomBytes(1 << 20);
      await c.send(big);
      await until(() => got.length === 1, 30_000);
      assert.ok(got[0]!.equals(big), '1 MiB came back byte-identical');
      assert.ok(c.stats.fragmentsSent >= 1000, `${c.stats.fragmentsSent} fragments`);
      assert.ok(c.stats.creditWaits > 0, 'the sender waited for credits (16 granted, 1000+ fragments)');
      // many small messages in flight at once, beyond the credits: all arrive, in order
      const n = 200;
      const sends: Promise<void>[] = [];
      for (let i = 0; i < n; i++) sends.push(c.send(Buffer.from(`m${i}`)));
      await Promise.all(sends);
      await until(() => got.length === 1 + n);
      assert.deepEqual(got.slice(1).map((b) => b.toString()), Array.from({ length: n }, (_, i) => `m${i}`));
      assert.equal(c.params.maxSendSize, 1024);
    } finally {
      c.close();
      srv.close();
    }
  });

  test(`${name}: keepalive answered; a peer that never answers is dropped (idle timeout)`, { skip, timeout: 30_000 }, async () => {
    const srv = await echoServer(p);
    const c = await smbdConnect(p, '127.0.0.1', srv.port, { keepaliveIntervalMs: 100, keepaliveTimeoutMs: 300 });
    try {
      await new Promise((r) => setTimeout(r, 800));
      assert.equal(c.closed, false, 'the server answered SMB_DIRECT_RESPONSE_REQUESTED');
      assert.ok(c.stats.fragmentsReceived >= 3, `${c.stats.fragmentsReceived} keepalive answers`);
    } finally {
      c.close();
      srv.close();
    }
    // a raw peer negotiates, grants credits once and then never sends again
    const srv2 = await echoServer(p, { keepaliveIntervalMs: 100, keepaliveTimeoutMs: 200 });
    try {
      const raw = await rawPeer(p, srv2.port, 4);
      await raw.ep.send(dataMsg(Buffer.alloc(0), 4));
      await until(() => srv2.closes.length === 1, 5000);
      assert.match(srv2.closes[0]!.message, /did not answer a keepalive/);
      raw.ep.close();
    } finally {
      srv2.close();
    }
  });

  test(`${name}: peers that overrun credits or send bad messages lose their connection; the server keeps serving`, { skip, timeout: 30_000 }, async () => {
    const srv = await echoServer(p);
    try {
      // more messages than the server granted
      const a = await rawPeer(p, srv.port, 4);
      assert.equal(a.response!.creditsGranted, 4);
      for (let i = 0; i < 5; i++) a.ep.send(dataMsg(Buffer.from('x'), 0)).catch(() => {});
      await until(() => srv.closes.length === 1);
      assert.match(srv.closes[0]!.message, /without a send credit/);
      await until(() => a.closed());

      // DataOffset not aligned
      const b = await rawPeer(p, srv.port, 4);
      const bad = dataMsg(Buffer.alloc(8), 1);
      bad.writeUInt32LE(20, 12);
      await b.ep.send(bad).catch(() => {});
      await until(() => srv.closes.length === 2);
      assert.match(srv.closes[1]!.message, /bad SMB-Direct message.*aligned/);

      // a fragment claiming more than MaxFragmentedSize
      const c = await rawPeer(p, srv.port, 4);
      await c.ep.send(dataMsg(Buffer.alloc(8), 1, 64 << 20)).catch(() => {});
      await until(() => srv.closes.length === 3);
      assert.match(srv.closes[2]!.message, /MaxFragmentedSize/);

      // a message bigger than the posted receive (MaxReceiveSize): the provider refuses it
      const d = await rawPeer(p, srv.port, 4);
      d.ep.send(dataMsg(Buffer.alloc(9000), 1)).catch(() => {});
      await until(() => srv.closes.length === 4);

      // a version we do not speak: negotiate response with STATUS_NOT_SUPPORTED, then closed
      const inbox: RdmaReceived[] = [];
      const e = await p.connect('127.0.0.1', srv.port, (ep) => {
        ep.postReceive(Buffer.alloc(8192));
        ep.events.onReceive = (r) => inbox.push({ ...r, data: Buffer.from(r.data) });
      });
      await e.send(encodeNegotiateRequest({ minVersion: 0x200, maxVersion: 0x300, creditsRequested: 1, preferredSendSize: 1024, maxReceiveSize: 1024, maxFragmentedSize: 1 << 20 }));
      await until(() => inbox.length === 1);
      assert.equal(decodeNegotiateResponse(inbox[0]!.data).status, 0xc00000bb);
      await until(() => e.closed);

      // and a well-behaved client still gets served
      const ok = await smbdConnect(p, '127.0.0.1', srv.port);
      const got: Buffer[] = [];
      ok.onMessage = (m) => got.push(m);
      await ok.send(Buffer.from('still here'));
      await until(() => got.length === 1);
      assert.equal(got[0]!.toString(), 'still here');
      ok.close();
    } finally {
      srv.close();
    }
  });
}
