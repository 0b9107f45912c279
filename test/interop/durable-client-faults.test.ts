// The client's reconnect facing a server that answers the durable reopen (DH2C) wrongly: a man in
// the middle in front of smbts edits the CREATE answer to a DH2C (another FileId, a lease with
// another key, an error status), swallows it, or drops the connection on every DH2C. Each case ends
// in a HandleLostError on the handle within a bounded time (reconnect.ts: checkReopen, bounded
// backoff, reopenTimeoutMs), and the client stays usable. upload and download, which can redo or
// resume their work on a new open, do so once where that is safe (client.ts). CREATE is not signed
// here (the server does not require signing), so the edits are not caught by a signature first.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { FrameReader, frameHeader } from '../../src/transport/framing.js';
import { encodeErrorResponse } from '../../src/wire/error.js';
import { createHash, randomBytes } from 'node:crypto';
import { appendFileSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startSmbts, DEFAULT_USER, DEFAULT_PASS, type SmbtsHandle } from './peers.js';
import { cutOnceAfter } from './durable-peers.js';
import { connect, HandleLostError, type SmbClient } from '../../src/client/index.js';

const CREATE = 5;
const ACCESS_DENIED = 0xc0000022;
const INVALID_NETWORK_RESPONSE = 0xc00000c3;
const IO_TIMEOUT = 0xc00000b5;
const CONNECTION_DISCONNECTED = 0xc000020c;

const sha = (b: Buffer): string => createHash('sha256').update(b).digest('hex');

type Mode = 'pass' | 'fileid' | 'lease' | 'error' | 'stall' | 'drop';

/** A TCP man in the middle that treats the answers to DH2C CREATEs as `mode` says. */
async function mitm(port: number): Promise<{ port: number; mode: Mode; accepted: number; dh2c: number; cut(): void; close(): Promise<void> }> {
  const socks = new Set<net.Socket>();
  const state = {
    port: 0, mode: 'pass' as Mode, accepted: 0, dh2c: 0,
    cut() { for (const s of socks) s.destroy(); },
    close: () => new Promise<void>((r) => { for (const s of socks) s.destroy(); srv.close(() => r()); }),
  };
  const srv = net.createServer((client) => {
    state.accepted++;
    const up = net.connect({ host: '127.0.0.1', port });
    socks.add(client).add(up);
    const end = (): void => { client.destroy(); up.destroy(); socks.delete(client); socks.delete(up); };
    client.on('error', end).on('close', end);
    up.on('error', end).on('close', end);
    const asked = new Set<bigint>(); // MessageIds of DH2C CREATEs
    const fromClient = new FrameReader();
    const fromServer = new FrameReader();
    client.on('data', (b: Buffer) => {
      for (const f of fromClient.push(b)) {
        if (f.readUInt32LE(0) === 0x424d53fe && f.readUInt16LE(12) === CREATE && f.includes('DH2C')) {
          state.dh2c++;
          if (state.mode === 'drop') return end();
          asked.add(f.readBigUInt64LE(24));
        }
        up.write(Buffer.concat([frameHeader(f.length), f]));
      }
    });
    up.on('data', (b: Buffer) => {
      for (const f0 of fromServer.push(b)) {
        let f = f0;
        const id = f.readUInt32LE(0) === 0x424d53fe ? f.readBigUInt64LE(24) : -1n;
        // An interim STATUS_PENDING answer is not the answer.
        if (asked.has(id) && f.readUInt32LE(8) !== 0x103) {
          asked.delete(id);
          f = Buffer.from(f);
          if (state.mode === 'stall') continue;
          if (state.mode === 'fileid') f[128] ^= 0x5a; // FileId.Persistent, first byte (header 64 + body offset 64)
          if (state.mode === 'lease') {
            const at = f.indexOf('RqLs');
            if (at > 0) f[at - 16 + f.readUInt16LE(at - 16 + 10)] ^= 0x5a; // first byte of the LeaseKey
          }
          if (state.mode === 'error') {
            const head = Buffer.from(f.subarray(0, 64));
            head.writeUInt32LE(ACCESS_DENIED, 8);
            f = Buffer.concat([head, encodeErrorResponse()]);
          }
        }
        client.write(Buffer.concat([frameHeader(f.length), f]));
      }
    });
  });
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  state.port = (srv.address() as net.AddressInfo).port;
  return state;
}

describe('client reconnect against bad DH2C answers', { timeout: 120_000 }, () => {
  let srv: SmbtsHandle;
  let m: Awaited<ReturnType<typeof mitm>>;
  before(async () => {
    srv = await startSmbts();
    m = await mitm(srv.port);
  });
  after(async () => {
    await m?.close();
    await srv?.stop();
  });

  const open = (): Promise<SmbClient> => connect(`smb://${DEFAULT_USER}@127.0.0.1:${m.port}/share`, {
    password: DEFAULT_PASS, timeoutMs: 10_000, reconnect: { attempts: 3, initialDelayMs: 50, maxDelayMs: 100, reopenTimeoutMs: 1000 },
  });

  /** Opens a handle, cuts the connection in `mode` and returns what the next write throws, and how long it took. */
  async function afterCut(mode: Mode, name: string): Promise<{ err: unknown; ms: number; c: SmbClient }> {
    m.mode = 'pass';
    const c = await open();
    const h = await c.open(name, 'w+');
    await h.write(Buffer.from('before'), 0);
    m.mode = mode;
    m.cut();
    const t0 = Date.now();
    const err = await h.write(Buffer.from('after'), 6).then(() => undefined, (e: unknown) => e);
    const ms = Date.now() - t0;
    m.mode = 'pass';
    await h.close();
    return { err, ms, c };
  }

  const lost = (status: number) => (e: unknown): boolean => e instanceof HandleLostError && e.status === status;

  it('the reopen works through the man in the middle when it changes nothing (control)', async () => {
    const { err, c } = await afterCut('pass', 'ok.bin');
    try {
      assert.equal(err, undefined);
      assert.equal(c.reopenedHandles, 1);
    } finally {
      await c.close();
    }
  });

  for (const [mode, status, what] of [
    ['fileid', INVALID_NETWORK_RESPONSE, 'another FileId'],
    ['lease', INVALID_NETWORK_RESPONSE, 'a lease with another key'],
    ['error', ACCESS_DENIED, 'an error status'],
    ['stall', IO_TIMEOUT, 'no answer (reopenTimeoutMs)'],
  ] as Array<[Mode, number, string]>) {
    it(`DH2C answered with ${what}: HandleLostError 0x${status.toString(16)}, the client stays usable`, async () => {
      const { err, ms, c } = await afterCut(mode, `${mode}.bin`);
      try {
        assert.ok(lost(status)(err), `got ${String(err)}`);
        assert.ok(ms < 5000, `took ${ms} ms`);
        assert.equal(c.reopenedHandles, 0);
        await c.writeFile(`${mode}-after.txt`, 'still works');
        assert.equal(await c.readFile(`${mode}-after.txt`, 'utf8'), 'still works');
      } finally {
        await c.close();
      }
    });
  }

  it('upload: a refused DH2C makes the upload start again on a new open (byte-identical); an append upload gets the HandleLostError', async () => {
    const work = await mkdtemp(join(tmpdir(), 'smbts-dh2c-up-'));
    const data = randomBytes(24 * 1024 * 1024);
    await writeFile(join(work, 'src.bin'), data);
    m.mode = 'pass';
    const c = await open();
    try {
      const cutRefused = cutOnceAfter(8 * 1024 * 1024, () => { m.mode = 'error'; m.cut(); });
      const dh2cBefore = m.dh2c;
      await c.upload(join(work, 'src.bin'), 'redo.bin', { onProgress: cutRefused });
      m.mode = 'pass';
      assert.ok(m.dh2c > dh2cBefore, 'the cut was followed by a DH2C');
      assert.equal(c.reopenedHandles, 0);
      assert.equal(sha(await readFile(join(srv.shareDir, 'redo.bin'))), sha(data));

      await c.writeFile('append.bin', 'head');
      const cutAppend = cutOnceAfter(8 * 1024 * 1024, () => { m.mode = 'error'; m.cut(); });
      await assert.rejects(c.upload(join(work, 'src.bin'), 'append.bin', { flags: 'a', onProgress: cutAppend }), lost(ACCESS_DENIED));
      m.mode = 'pass';
      await c.writeFile('append-after.txt', 'still works');
      assert.equal(await c.readFile('append-after.txt', 'utf8'), 'still works');
    } finally {
      m.mode = 'pass';
      await c.close();
      await rm(work, { recursive: true, force: true });
    }
  });

  it('download: after a refused DH2C it goes on from where it was on a new open if the file is unchanged, and fails if it changed', async () => {
    const work = await mkdtemp(join(tmpdir(), 'smbts-dh2c-down-'));
    const data = randomBytes(24 * 1024 * 1024);
    await writeFile(join(srv.shareDir, 'down.bin'), data);
    await writeFile(join(srv.shareDir, 'changed.bin'), data);
    m.mode = 'pass';
    const c = await open();
    try {
      const dh2cBefore = m.dh2c;
      const cut = cutOnceAfter(8 * 1024 * 1024, () => { m.mode = 'error'; m.cut(); });
      const n = await c.download('down.bin', join(work, 'down.bin'), { onProgress: cut });
      m.mode = 'pass';
      assert.ok(m.dh2c > dh2cBefore, 'the cut was followed by a DH2C');
      assert.equal(n, data.length);
      assert.equal(sha(await readFile(join(work, 'down.bin'))), sha(data));

      const cutAndChange = cutOnceAfter(8 * 1024 * 1024, () => {
        m.mode = 'error';
        appendFileSync(join(srv.shareDir, 'changed.bin'), 'x'); // another writer while the handle was away
        m.cut();
      });
      await assert.rejects(c.download('changed.bin', join(work, 'changed.bin'), { onProgress: cutAndChange }), lost(ACCESS_DENIED));
      m.mode = 'pass';
    } finally {
      m.mode = 'pass';
      await c.close();
      await rm(work, { recursive: true, force: true });
    }
  });

  it('every DH2C drops the connection: the bounded attempts end in HandleLostError CONNECTION_DISCONNECTED', async () => {
    const before = { accepted: m.accepted, dh2c: m.dh2c };
    const { err, ms, c } = await afterCut('drop', 'drop.bin');
    try {
      assert.ok(lost(CONNECTION_DISCONNECTED)(err), `got ${String(err)}`);
      assert.ok(ms < 5000, `took ${ms} ms`);
      // One connection at open, then one per reconnect attempt (3), each asking DH2C once.
      assert.equal(m.dh2c - before.dh2c, 3);
      assert.equal(m.accepted - before.accepted, 4);
    } finally {
      await c.close();
    }
  });
});
