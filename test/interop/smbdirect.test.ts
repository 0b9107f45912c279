// SMB2 over SMB-Direct between the smbts client and server, on libfabric's tcp provider (RDMA
// emulated over loopback TCP; no RDMA NIC needed) and on the in-process loopback provider.
// READ/WRITE payloads must move by RDMA (counted on the client's endpoint: its sends and
// receives carry only the SMB2 messages), except when encryption forbids it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { checkPattern, fillPattern } from '../../src/transport/rdma/echo-wire.js';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startServer, type SmbServer } from '../../src/server/index.js';
import { defaultConfig } from '../../src/config/config.js';
import { UserDb } from '../../src/auth/userdb.js';
import { connect, type SmbClient } from '../../src/client/client.js';
import { Dialect } from '../../src/wire/constants.js';
import { libfabricProvider, libfabricUnavailable } from '../../src/transport/rdma/libfabric.js';
import { loopbackProvider } from '../../src/transport/rdma/loopback.js';
import type { RdmaProvider, RdmaStats } from '../../src/transport/rdma/provider.js';
import { DEFAULT_PASS, DEFAULT_USER, HOST } from './peers.js';
import { decodeNegotiateResponse, encodeDataHeader, encodeNegotiateRequest } from '../../src/transport/smbdirect/wire.js';

const why = libfabricUnavailable();
const skip = why && !process.env.CI ? why : false;

async function server(provider: RdmaProvider): Promise<{ srv: SmbServer; dir: string; stop(): Promise<void> }> {
  const dir = await mkdtemp(join(tmpdir(), 'smbts-smbd-'));
  const users = UserDb.empty();
  users.add(DEFAULT_USER, DEFAULT_PASS);
  const srv = await startServer({
    config: defaultConfig(dir), users, host: HOST, port: 0,
    smbdirect: { provider, port: 0 },
    ...(process.env.SMBTS_LOG ? { log: (l: string) => process.stderr.write(l + '\n') } : {}),
  });
  return { srv, dir, stop: async () => { await srv.close(); await rm(dir, { recursive: true, force: true }); } };
}

function open(provider: RdmaProvider, port: number, o: { dialects?: number[]; sign?: boolean; encrypt?: boolean } = {}): Promise<SmbClient> {
  const { dialects, sign, encrypt } = o;
  return connect(`smb://${DEFAULT_USER}:${DEFAULT_PASS}@${HOST}:${port}/share`, {
    transport: 'smbdirect', rdmaProvider: provider, timeoutMs: 20_000, ...(dialects ? { dialects } : {}), ...(sign ? { sign } : {}), ...(encrypt ? { encrypt } : {}),
  });
}

function rdmaStats(c: SmbClient): RdmaStats {
  const s = c.session.channel().connection.rdma?.stats;
  assert.ok(s, 'the connection is SMB-Direct');
  return { ...s };
}

const modes: Array<{ name: string; dialects: number[]; sign?: boolean; encrypt?: boolean; rdma: boolean }> = [
  { name: '3.1.1', dialects: [Dialect.SMB3_11], rdma: true },
  { name: '3.1.1 signed', dialects: [Dialect.SMB3_11], sign: true, rdma: true },
  { name: '3.0.2', dialects: [Dialect.SMB3_02], rdma: true },
  { name: '3.0 (RDMA_V1, no invalidate)', dialects: [Dialect.SMB3_00], rdma: true },
  { name: '3.1.1 encrypted (no RDMA: payload sealed in messages)', dialects: [Dialect.SMB3_11], encrypt: true, rdma: false },
  { name: '2.1 (no RDMA channels before 3.0)', dialects: [Dialect.SMB2_10], rdma: false },
];

test('SMB2 over SMB-Direct (libfabric tcp): every dialect/mode, 4 MiB each way byte-identical, payload by RDMA where allowed', { skip, timeout: 120_000 }, async () => {
  const provider = libfabricProvider('tcp');
  const s = await server(provider);
  try {
    const port = s.srv.smbdirectPort!;
    for (const m of modes) {
      const c = await open(provider, port, m);
      try {
        const data = randomBytes(4 * 1024 * 1024);
        const before = rdmaStats(c);
        await c.writeFile(`f-${m.dialects[0]}-${!!m.sign}-${!!m.encrypt}.bin`, data, { chunkSize: 1024 * 1024 });
        const back = await c.readFile(`f-${m.dialects[0]}-${!!m.sign}-${!!m.encrypt}.bin`, { chunkSize: 1024 * 1024 });
        assert.ok(back.equals(data), `${m.name}: byte-identical`);
        const after = rdmaStats(c);
        const messages = after.sendBytes - before.sendBytes + after.receiveBytes - before.receiveBytes;
        if (m.rdma) assert.ok(messages < 64 * 1024, `${m.name}: send/receive carried ${messages} bytes for 8 MiB of payload`);
        else assert.ok(messages > 2 * data.length, `${m.name}: payload went through send/receive (${messages} bytes), fragmented`);
        assert.equal((await c.stat(`f-${m.dialects[0]}-${!!m.sign}-${!!m.encrypt}.bin`)).size, data.length);
      } finally {
        await c.close();
      }
    }
  } finally {
    await s.stop();
  }
});

test('SMB2 over SMB-Direct (libfabric tcp): 1 GiB written and read back byte-identical, all by RDMA', { skip, timeout: 300_000 }, async () => {
  const provider = libfabricProvider('tcp');
  const s = await server(provider);
  const total = Number(process.env.SMBTS_SMBD_BYTES ?? 1024 * 1024 * 1024);
  const chunk = 8 * 1024 * 1024;
  try {
    const c = await open(provider, s.srv.smbdirectPort!);
    try {
      // deterministic content (the seed-004 LBUF pattern: nonce ^ offset per 8 bytes), checked
      // piece by piece on the way back, never all in memory
      const nonce = randomBytes(8).readBigUInt64LE();
      const b = Buffer.allocUnsafe(chunk);
      const before = rdmaStats(c);
      let filling = 0, checking = 0;
      const t0 = Date.now();
      const f = await c.open('big.bin', 'w');
      for (let off = 0; off < total; off += chunk) {
        const t = Date.now();
        fillPattern(b, nonce, off);
        filling += Date.now() - t;
        await f.write(b, off);
      }
      await f.close();
      const t1 = Date.now();
      const r = await c.open('big.bin', 'r');
      for (let off = 0; off < total; off += chunk) {
        const got = await r.read(off, chunk);
        assert.equal(got.length, chunk);
        const t = Date.now();
        const bad = checkPattern(got, nonce, off);
        checking += Date.now() - t;
        assert.equal(bad, -1, `byte ${off + bad} differs`);
      }
      await r.close();
      const t2 = Date.now();
      const writeS = Math.max(1, t1 - t0 - filling) / 1000, readS = Math.max(1, t2 - t1 - checking) / 1000;
      const after = rdmaStats(c);
      const messages = after.sendBytes - before.sendBytes + after.receiveBytes - before.receiveBytes;
      assert.ok(messages < total / 1000, `send/receive carried ${messages} bytes for ${2 * total} bytes of payload`);
      process.stdout.write(`# SMB over SMB-Direct (libfabric tcp): write ${(total / 1e6 / writeS).toFixed(0)} MB/s, read ${(total / 1e6 / readS).toFixed(0)} MB/s, ${messages} bytes of messages\n`);
    } finally {
      await c.close();
    }
  } finally {
    await s.stop();
  }
});

test('SMB2 over SMB-Direct (loopback provider): READ/WRITE by RDMA', { timeout: 60_000 }, async () => {
  const s = await server(loopbackProvider);
  try {
    const c = await open(loopbackProvider, s.srv.smbdirectPort!);
    try {
      const data = randomBytes(3 * 1024 * 1024 + 123);
      await c.writeFile('x.bin', data);
      assert.ok((await c.readFile('x.bin')).equals(data));
      const st = rdmaStats(c);
      assert.ok(st.sendBytes + st.receiveBytes < 64 * 1024, `messages carried ${st.sendBytes + st.receiveBytes} bytes`);
      await c.close();
    } catch (e) {
      await c.close();
      throw e;
    }
  } finally {
    await s.stop();
  }
});

test('smbts over SMB-Direct: a peer that overruns its credits or sends garbage is dropped; SMB keeps being served', { skip, timeout: 60_000 }, async () => {
  const provider = libfabricProvider('tcp');
  const s = await server(provider);
  try {
    const port = s.srv.smbdirectPort!;
    for (const bad of ['credits', 'garbage'] as const) {
      let closed = false;
      const inbox: Buffer[] = [];
      const ep = await provider.connect(HOST, port, (e) => {
        for (let i = 0; i < 4; i++) e.postReceive(Buffer.alloc(8192));
        e.events.onReceive = (r) => { inbox.push(Buffer.from(r.data)); e.postReceive(r.buffer); };
        e.events.onClose = () => { closed = true; };
      });
      await ep.send(encodeNegotiateRequest({ minVersion: 0x100, maxVersion: 0x100, creditsRequested: 2, preferredSendSize: 1024, maxReceiveSize: 8192, maxFragmentedSize: 1 << 20 }));
      for (let i = 0; i < 200 && inbox.length === 0; i++) await new Promise((r) => setTimeout(r, 10));
      assert.equal(decodeNegotiateResponse(inbox[0]!).creditsGranted, 2);
      const msg = bad === 'credits'
        ? encodeDataHeader({ creditsRequested: 1, creditsGranted: 0, flags: 0, remainingDataLength: 0 }, 0)
        : Buffer.alloc(64, 0xff); // DataOffset 0xffffffff: not aligned, beyond the message
      for (let i = 0; i < (bad === 'credits' ? 3 : 1); i++) ep.send(msg).catch(() => {});
      for (let i = 0; i < 500 && !closed; i++) await new Promise((r) => setTimeout(r, 10));
      assert.ok(closed, `${bad}: the server closed the connection`);
    }
    const c = await open(provider, port);
    await c.writeFile('after.txt', 'still serving');
    assert.equal((await c.readFile('after.txt')).toString(), 'still serving');
    await c.close();
  } finally {
    await s.stop();
  }
});
