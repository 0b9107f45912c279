// The seed-004 test protocol end to end, on the loopback provider and on libfabric's tcp provider.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Status } from '../../wire/status.js';
import { EchoClient, runEchoTest } from './echo-client.js';
import { startEchoServer } from './echo-server.js';
import { Op } from './echo-wire.js';
import { libfabricProvider, libfabricUnavailable } from './libfabric.js';
import { loopbackProvider } from './loopback.js';
import { REMOTE_WRITE, type RdmaProvider } from './provider.js';

const cases: Array<[string, RdmaProvider, string | undefined]> = [
  ['loopback', loopbackProvider, undefined],
  ['libfabric tcp', libfabricProvider('tcp'), libfabricUnavailable()],
];

for (const [name, provider, why] of cases) {
  const skip = why && !process.env.CI ? why : false;

  test(`${name}: ECHO, SETUP-LBUF, READ-LBUF-TO-DESCS, WRITE-DESCS-TO-LBUF verified; data moved by RDMA`, { skip, timeout: 60_000 }, async () => {
    const srv = await startEchoServer(provider, '127.0.0.1', 0);
    const c = await EchoClient.connect(provider, '127.0.0.1', srv.port, 4);
    try {
      const lbufSize = 8 * 1024 * 1024;
      const rep = await runEchoTest(c, { echoIterations: 50, lbufSize, chunk: 512 * 1024 });
      assert.ok(rep.echo.avgUs > 0 && rep.read.mbPerSec > 0 && rep.write.mbPerSec > 0);
      const s = srv.stats();
      // two LBUF reads and one write: 3 x lbufSize by RDMA; the messages carried only headers
      assert.equal(s.rdmaWriteBytes, 2 * lbufSize);
      assert.equal(s.rdmaReadBytes, lbufSize);
      assert.ok(s.receiveBytes + s.sendBytes < 200_000, `send/receive carried ${s.receiveBytes + s.sendBytes} bytes`);
    } finally {
      c.close();
      srv.close();
    }
  });

  test(`${name}: bad LBUF requests get a status; a malformed request costs its connection only`, { skip, timeout: 30_000 }, async () => {
    const srv = await startEchoServer(provider, '127.0.0.1', 0, { maxLbufBytes: 1 << 20 });
    const c = await EchoClient.connect(provider, '127.0.0.1', srv.port);
    try {
      await assert.rejects(c.setupLbuf(0, 2 << 20, 1n), /0xc000009a/); // beyond maxLbufBytes
      await c.setupLbuf(0, 4096, 1n);
      const reg = c.ep.register(Buffer.alloc(4096), REMOTE_WRITE);
      const { reply } = await c.request({ op: Op.READ_LBUF_TO_DESCS, lbufIdx: 0, flags: 0, offset: 4000, length: 200, descs: [reg.descriptor()] });
      assert.equal(reply.status, Status.INVALID_PARAMETER); // past the end of the LBUF
      const { reply: r2 } = await c.request({ op: Op.READ_LBUF_TO_DESCS, lbufIdx: 9, flags: 0, offset: 0, length: 8, descs: [reg.descriptor()] });
      assert.equal(r2.status, Status.INVALID_PARAMETER); // no such LBUF
      // garbage: the server drops this connection ...
      let closed = false;
      c.ep.events.onClose = () => { closed = true; };
      await c.ep.send(Buffer.from('0900000001000000', 'hex'));
      for (let i = 0; i < 300 && !closed; i++) await new Promise((r) => setTimeout(r, 10));
      assert.ok(closed, 'connection closed');
      // ... and keeps serving others
      const c2 = await EchoClient.connect(provider, '127.0.0.1', srv.port);
      assert.deepEqual(await c2.echo(Buffer.from('xy'), 2, 100), Buffer.from('xyxy'));
      c2.close();
    } finally {
      c.close();
      srv.close();
    }
  });
}
