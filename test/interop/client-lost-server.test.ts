// No client call may crash the host or hang when the server dies, stalls or sends garbage: every
// streaming call (createWriteStream/createReadStream through pipeline, upload, download,
// readFile, writeFile) is started against an in-process smbts behind a TCP relay, and the relay
// then drops both sockets, stops forwarding, or answers with garbage. Each call must reject (or
// its stream emit 'error') within a bound, and nothing may reach uncaughtException or
// unhandledRejection.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import * as net from 'node:net';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { connect, SmbError, type SmbClient } from '../../src/client/index.js';
import { startServer, MemoryVfs, type SmbServer } from '../../src/server/public.js';

type Fault = 'kill' | 'stall' | 'garbage';

/** A relay client <-> server that can be cut, stalled, or made to send garbage to the client. */
class Relay {
  private server: net.Server;
  private pairs: Array<[net.Socket, net.Socket]> = [];
  /** Bytes relayed server -> client and client -> server. */
  down = 0;
  up = 0;
  port = 0;

  constructor(private readonly target: number) {
    this.server = net.createServer((c) => {
      const s = net.connect(target, '127.0.0.1');
      c.on('error', () => undefined);
      s.on('error', () => undefined);
      c.on('data', (b: Buffer) => { this.up += b.length; s.write(b); });
      s.on('data', (b: Buffer) => { this.down += b.length; c.write(b); });
      c.on('close', () => s.destroy());
      s.on('close', () => c.destroy());
      this.pairs.push([c, s]);
    });
  }

  async listen(): Promise<void> {
    await new Promise<void>((r) => this.server.listen(0, '127.0.0.1', r));
    this.port = (this.server.address() as net.AddressInfo).port;
  }

  fault(f: Fault): void {
    for (const [c, s] of this.pairs) {
      if (f === 'kill') {
        c.destroy();
        s.destroy();
      } else if (f === 'stall') {
        c.removeAllListeners('data');
        s.removeAllListeners('data');
        c.pause();
        s.pause();
      } else {
        s.removeAllListeners('data');
        s.pause();
        // A frame header promising a small frame, then bytes that are no SMB2 message.
        const junk = randomBytes(200);
        junk.writeUInt32BE(196, 0);
        junk.writeUInt32LE(0x424d53fe, 4); // 0xFE 'SMB' so it reaches the SMB2 decoder
        c.write(junk);
        c.write(randomBytes(4096));
      }
    }
  }

  async close(): Promise<void> {
    for (const [c, s] of this.pairs) { c.destroy(); s.destroy(); }
    await new Promise<void>((r) => this.server.close(() => r()));
  }
}

const BIG = 48 * 1024 * 1024;

/** A long source of 64 KiB chunks, one per event-loop turn (like a file or socket): the stream's
 *  write() is called between WRITE responses, also after the connection died. */
function endless(): Readable {
  const chunk = randomBytes(64 * 1024);
  let n = 0;
  return new Readable({ read() { setImmediate(() => this.push(n++ < 16384 ? chunk : null)); } });
}

const sink = (): Writable => new Writable({ write(_c, _e, cb) { cb(); } });

describe('client against a lost server', () => {
  let server: SmbServer;
  let vfs: MemoryVfs;
  let local: string;
  const escaped: unknown[] = [];
  const onEscape = (e: unknown): void => { escaped.push(e); };

  before(async () => {
    process.on('uncaughtException', onEscape);
    process.on('unhandledRejection', onEscape);
    vfs = new MemoryVfs({ capacity: 4 * BIG });
    server = await startServer({ users: { u: 'p' }, vfs: { mem: vfs }, host: '127.0.0.1', port: 0 });
    local = await mkdtemp(join(tmpdir(), 'smbts-lost-'));
    await writeFile(join(local, 'big.bin'), randomBytes(BIG));
    // The file the reading calls fetch.
    const c = await connect(`smb://u@127.0.0.1:${server.port}/mem`, { password: 'p' });
    await c.upload(join(local, 'big.bin'), 'big.bin');
    await c.close();
  });
  after(async () => {
    process.off('uncaughtException', onEscape);
    process.off('unhandledRejection', onEscape);
    await server?.close();
    if (local) await rm(local, { recursive: true, force: true });
  });

  const calls: Record<string, (c: SmbClient) => Promise<unknown>> = {
    'pipeline into createWriteStream': (c) => pipeline(endless(), c.createWriteStream('w.bin')),
    'pipeline from createReadStream': (c) => pipeline(c.createReadStream('big.bin', { chunkSize: 64 * 1024, depth: 2 }), sink()),
    upload: (c) => c.upload(join(local, 'big.bin'), 'up.bin', { chunkSize: 256 * 1024, depth: 2 }),
    download: (c) => c.download('big.bin', join(local, 'down.bin'), { chunkSize: 256 * 1024, depth: 2 }),
    readFile: (c) => c.readFile('big.bin', { chunkSize: 64 * 1024, depth: 2 }),
    writeFile: (c) => c.writeFile('wf.bin', Buffer.alloc(BIG, 1), { chunkSize: 64 * 1024, depth: 2 }),
  };

  for (const fault of ['kill', 'stall', 'garbage'] as const) {
    for (const [name, call] of Object.entries(calls)) {
      it(`${name}: ${fault} mid-transfer rejects`, async () => {
        const relay = new Relay(server.port);
        await relay.listen();
        // A short request timeout so a stalled server is given up on quickly.
        const c = await connect(`smb://u@127.0.0.1:${relay.port}/mem`, { password: 'p', timeoutMs: 1000 });
        try {
          const start = relay.up + relay.down;
          const p = call(c).then(() => undefined, (e: unknown) => e);
          // Fault once the transfer is moving (or after 1 s for whatever it is doing).
          for (let i = 0; i < 100 && relay.up + relay.down - start < 2 * 1024 * 1024; i++) await new Promise((r) => setTimeout(r, 10));
          relay.fault(fault);
          const t0 = Date.now();
          let timer: NodeJS.Timeout | undefined;
          const outcome = await Promise.race([p, new Promise((r) => { timer = setTimeout(() => r('unsettled'), 15_000); })]);
          clearTimeout(timer);
          assert.notEqual(outcome, 'unsettled', `${name} settled within 15 s of the ${fault}`);
          assert.ok(outcome instanceof Error, `${name} rejected (${String(outcome)})`);
          assert.ok(outcome instanceof SmbError || (outcome as NodeJS.ErrnoException).code === 'ERR_STREAM_PREMATURE_CLOSE', `an SmbError: ${String(outcome)}`);
          assert.ok(Date.now() - t0 < 15_000);
        } finally {
          await c.close();
          await relay.close();
        }
        // Give stray callbacks a turn, then check nothing escaped.
        await new Promise((r) => setTimeout(r, 50));
        assert.deepEqual(escaped.map(String), []);
      });
    }
  }

  it('a client call after the server is gone rejects; close() resolves', async () => {
    const relay = new Relay(server.port);
    await relay.listen();
    const c = await connect(`smb://u@127.0.0.1:${relay.port}/mem`, { password: 'p', timeoutMs: 1000 });
    relay.fault('kill');
    await new Promise((r) => setTimeout(r, 50));
    await assert.rejects(c.stat('big.bin'), SmbError);
    await assert.rejects(pipeline(endless(), c.createWriteStream('x.bin')), SmbError);
    await c.close();
    await relay.close();
    assert.deepEqual(escaped.map(String), []);
  });
});
