// 1 GiB across a cut connection (issue 10: "byte identity of 1 GiB transferred across the fault"):
// one test uploads and then downloads 1 GiB through a TCP proxy that is cut after 256 MiB of each;
// the client reconnects, reopens the durable handle and replays what was in flight, and the file on
// the other side has the same SHA-256. Against smbts in `npm test`; against Samba's durable share
// with SMBTS_1G_SAMBA=1. Each transfer is bounded in time (TRANSFER_MS) and its duration reported as
// a test diagnostic (docs/client.md has the numbers measured on the development machine).
import { describe, it, before } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { copyFile, open as openFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { startSamba, startSmbts, missingTools, DEFAULT_USER, DEFAULT_PASS } from './peers.js';
import { SAMBA_DURABLE_SHARE, cutOnceAfter, proxiedTarget, type Target } from './durable-peers.js';
import { connect, type SmbClient } from '../../src/client/index.js';

const GiB = 1024 * 1024 * 1024;
const CUT_AT = 256 * 1024 * 1024;
/** Longest one 1 GiB transfer may take (loopback: a few seconds; CI machines are slower). */
const TRANSFER_MS = 60_000;

async function sha256(path: string): Promise<string> {
  const h = createHash('sha256');
  for await (const chunk of createReadStream(path, { highWaterMark: 4 << 20 })) h.update(chunk as Buffer);
  return h.digest('hex');
}

/**
 * Writes `size` bytes to `path` and returns their SHA-256: every MiB is one random MiB with its own
 * index in its first 8 bytes, so data moved, repeated or lost at any MiB shows (and generating
 * 1 GiB costs a copy, not 1 GiB of randomBytes).
 */
async function patternFile(path: string, size: number): Promise<string> {
  const h = createHash('sha256');
  const base = randomBytes(1 << 20);
  const piece = Buffer.allocUnsafe(64 << 20);
  const f = await openFile(path, 'w');
  try {
    for (let off = 0; off < size; off += piece.length) {
      const n = Math.min(piece.length, size - off);
      for (let m = 0; m < n; m += 1 << 20) {
        base.copy(piece, m);
        piece.writeBigUInt64LE(BigInt((off + m) >> 20), m);
      }
      h.update(piece.subarray(0, n));
      await f.write(piece, 0, n, off);
    }
  } finally {
    await f.close();
  }
  return h.digest('hex');
}

function suite(name: string, start: () => Promise<Target>, skip?: string): void {
  describe(`1 GiB across a cut connection (${name})`, { skip, timeout: 4 * TRANSFER_MS }, () => {
    const fx = proxiedTarget(start, 'smbts-1g-');
    let digest: string;
    before(async () => {
      digest = await patternFile(join(fx.work, 'src.bin'), GiB);
    });

    const open = (): Promise<SmbClient> => connect(`smb://${DEFAULT_USER}@127.0.0.1:${fx.proxy.port}/share`, {
      password: DEFAULT_PASS, reconnect: { initialDelayMs: 50 },
    });

    /** onProgress that cuts the connection once, after CUT_AT bytes. */
    const cutOnce = (): ((n: number) => void) => cutOnceAfter(CUT_AT, () => fx.proxy.cut());

    /** Runs `op` with a deadline: a hang fails the test instead of holding CI. */
    async function bounded<T>(op: Promise<T>): Promise<T> {
      let t: NodeJS.Timeout | undefined;
      try {
        return await Promise.race([op, new Promise<never>((_, rej) => { t = setTimeout(() => rej(new Error(`not done in ${TRANSFER_MS} ms`)), TRANSFER_MS); })]);
      } finally {
        clearTimeout(t);
      }
    }

    it('upload then download of 1 GiB, each cut after 256 MiB: byte-identical both ways', async (t) => {
      const c = await open();
      try {
        let t0 = Date.now();
        assert.equal(await bounded(c.upload(join(fx.work, 'src.bin'), 'up.bin', { onProgress: cutOnce() })), GiB);
        t.diagnostic(`upload 1 GiB with one reconnect: ${Date.now() - t0} ms`);
        assert.equal(c.reconnects, 1);
        assert.equal(await sha256(join(fx.srv.shareDir, 'up.bin')), digest);
        await rm(join(fx.srv.shareDir, 'up.bin'));
        // The server's copy for the download is put there directly (a copy, not a link).
        await copyFile(join(fx.work, 'src.bin'), join(fx.srv.shareDir, 'down.bin'));
        t0 = Date.now();
        assert.equal(await bounded(c.download('down.bin', join(fx.work, 'down.bin'), { onProgress: cutOnce() })), GiB);
        t.diagnostic(`download 1 GiB with one reconnect: ${Date.now() - t0} ms`);
        assert.equal(c.reconnects, 2);
        assert.equal(await sha256(join(fx.work, 'down.bin')), digest);
      } finally {
        await c.close();
        await rm(join(fx.work, 'down.bin'), { force: true });
        await rm(join(fx.srv.shareDir, 'up.bin'), { force: true });
        await rm(join(fx.srv.shareDir, 'down.bin'), { force: true });
      }
    });
  });
}

suite('smbts', () => startSmbts());
// Samba's 1 GiB run takes as long again: not in `npm test` (its 64 MiB cut tests are, in
// durable-client.test.ts); SMBTS_1G_SAMBA=1 runs it.
suite('Samba, durable share', async () => {
  const s = await startSamba({ extraGlobal: ['smb2 leases = yes'], shareOptions: SAMBA_DURABLE_SHARE });
  return { port: s.port, shareDir: s.shareDir, stop: () => s.stop() };
}, missingTools(['smbd']) ?? (process.env.SMBTS_1G_SAMBA === '1' ? undefined : 'SMBTS_1G_SAMBA=1 runs it (about as long as the smbts run)'));
