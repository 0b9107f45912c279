// The same provider checks against the loopback provider and libfabric's tcp provider.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { loopbackProvider } from './loopback.js';
import { libfabricProvider, libfabricUnavailable } from './libfabric.js';
import { REMOTE_READ, REMOTE_WRITE, type RdmaEndpoint, type RdmaProvider, type RdmaReceived } from './provider.js';

/** A connected pair with 4 receives of 4 KiB posted on each side; messages are queued per side. */
async function pair(p: RdmaProvider): Promise<{ client: RdmaEndpoint; server: RdmaEndpoint; inbox: Map<RdmaEndpoint, RdmaReceived[]>; close(): void }> {
  const inbox = new Map<RdmaEndpoint, RdmaReceived[]>();
  const setup = (ep: RdmaEndpoint): void => {
    inbox.set(ep, []);
    ep.events.onReceive = (r) => inbox.get(ep)!.push({ ...r, data: Buffer.from(r.data) });
    for (let i = 0; i < 4; i++) ep.postReceive(Buffer.alloc(4096));
  };
  let server: RdmaEndpoint | undefined;
  const l = await p.listen('127.0.0.1', 0, (ep) => { server = ep; setup(ep); });
  const client = await p.connect('127.0.0.1', l.port, setup);
  for (let i = 0; i < 100 && !server; i++) await new Promise((r) => setTimeout(r, 10));
  assert.ok(server, 'server endpoint');
  return { client, server: server!, inbox, close: () => { client.close(); server!.close(); l.close(); } };
}

async function until(cond: () => boolean, ms = 3000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 2));
  }
}

function providers(): Array<[string, RdmaProvider, string | undefined]> {
  return [
    ['loopback', loopbackProvider, undefined],
    ['libfabric tcp', libfabricProvider('tcp'), libfabricUnavailable()],
  ];
}

for (const [name, p, skip] of providers()) {
  test(`${name}: send/receive, RDMA read and write, send with invalidate`, { skip: skip && !process.env.CI ? skip : false, timeout: 20_000 }, async () => {
    const { client, server, inbox, close } = await pair(p);
    try {
      await client.send(Buffer.from('hello'));
      await until(() => inbox.get(server)!.length === 1);
      assert.equal(inbox.get(server)![0]!.data.toString(), 'hello');

      // RDMA: server reads 1 MiB the client registered, then writes into it
      const region = Buffer.alloc(1 << 20);
      for (let i = 0; i < region.length; i += 4) region.writeUInt32LE(i, i);
      const reg = client.register(region, REMOTE_READ | REMOTE_WRITE);
      const local = Buffer.alloc(region.length);
      await server.read(local, reg.descriptor());
      assert.ok(local.equals(region), 'RDMA read moved the bytes');
      await server.write(Buffer.alloc(1000, 0xab), reg.descriptor(4096, 1000));
      assert.ok(region.subarray(4096, 5096).every((b) => b === 0xab), 'RDMA write landed');
      assert.equal(region.readUInt32LE(5096), 5096, 'nothing beyond the descriptor changed');
      assert.equal(server.stats.rdmaReadBytes, 1 << 20);
      assert.equal(server.stats.rdmaWriteBytes, 1000);

      // send with invalidate: the client's registration is gone when the message arrives
      await server.send(Buffer.from('done'), reg.token);
      await until(() => inbox.get(client)!.length === 1);
      assert.equal(inbox.get(client)![0]!.invalidated, reg.token);
      assert.equal(reg.registered, false);
    } finally {
      close();
    }
  });

  test(`${name}: RDMA outside a registration fails and breaks the connection`, { skip: skip && !process.env.CI ? skip : false, timeout: 20_000 }, async () => {
    const { client, server, close } = await pair(p);
    try {
      const reg = client.register(Buffer.alloc(4096), REMOTE_READ);
      let closed = false;
      server.events.onClose = () => { closed = true; };
      // a descriptor longer than the region: the NIC (or provider) refuses
      await assert.rejects(server.read(Buffer.alloc(8192), { ...reg.descriptor(), length: 8192 }));
      await until(() => closed || server.closed);
    } finally {
      close();
    }
  });
}

test('loopback: a message with no receive posted breaks the connection', async () => {
  const l = await loopbackProvider.listen('127.0.0.1', 0, () => { /* posts nothing */ });
  const client = await loopbackProvider.connect('127.0.0.1', l.port, (ep) => ep.postReceive(Buffer.alloc(64)));
  let why: Error | undefined;
  client.events.onClose = (e) => { why = e; };
  await client.send(Buffer.from('x'));
  await until(() => client.closed);
  await until(() => why !== undefined);
  assert.match(why!.message, /no receive posted/);
  l.close();
});
