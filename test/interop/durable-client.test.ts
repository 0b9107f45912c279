// The client survives a lost connection (client/reconnect.ts): a TCP proxy in front of the server
// is cut in the middle of an upload, a download and FileHandle writes; the client reconnects,
// reopens its durable handles (DH2C) and replays the WRITEs in flight, and the caller sees no
// error. Against smbts and against Samba with Samba's durable-handle share settings. Transfers are
// 64 MiB each (not 1 GiB) to keep CI time; the cut comes after 16 MiB.
import { describe, it, before } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { startSamba, startSmbts, missingTools, DEFAULT_USER, DEFAULT_PASS } from './peers.js';
import { SAMBA_DURABLE_SHARE, cutOnceAfter, proxiedTarget, type Target } from './durable-peers.js';
import { connect, SmbError, type SmbClient } from '../../src/client/index.js';

const SIZE = 64 * 1024 * 1024;
const CUT_AT = 16 * 1024 * 1024;

const sha = (b: Buffer): string => createHash('sha256').update(b).digest('hex');

function suite(name: string, start: () => Promise<Target>, skip?: string): void {
  describe(`client reconnect (${name})`, { skip, timeout: 240_000 }, () => {
    const fx = proxiedTarget(start, 'smbts-durable-');
    let data: Buffer;
    before(async () => {
      data = randomBytes(SIZE);
      await writeFile(join(fx.work, 'src.bin'), data);
    });

    const open = (): Promise<SmbClient> => connect(`smb://${DEFAULT_USER}@127.0.0.1:${fx.proxy.port}/share`, {
      password: DEFAULT_PASS, reconnect: { initialDelayMs: 50 },
    });

    /** onProgress that cuts the connection once, after CUT_AT bytes. */
    const cutOnce = (): ((n: number) => void) => cutOnceAfter(CUT_AT, () => fx.proxy.cut());

    it('an upload continues across a cut connection, byte-identical', async () => {
      const c = await open();
      try {
        const before = fx.proxy.accepted;
        const n = await c.upload(join(fx.work, 'src.bin'), 'up.bin', { onProgress: cutOnce() });
        assert.equal(n, SIZE);
        assert.ok(fx.proxy.accepted > before, 'the client connected again');
        assert.equal(c.reconnects, 1);
        assert.equal(sha(await readFile(join(fx.srv.shareDir, 'up.bin'))), sha(data));
      } finally {
        await c.close();
      }
    });

    it('a download continues across a cut connection, byte-identical', async () => {
      await writeFile(join(fx.srv.shareDir, 'down.bin'), data);
      const c = await open();
      try {
        const n = await c.download('down.bin', join(fx.work, 'down.bin'), { onProgress: cutOnce() });
        assert.equal(n, SIZE);
        assert.equal(c.reconnects, 1);
        assert.equal(sha(await readFile(join(fx.work, 'down.bin'))), sha(data));
      } finally {
        await c.close();
      }
    });

    it('a FileHandle keeps working after the cut; the session is usable for new opens', async () => {
      const c = await open();
      try {
        const h = await c.open('fh.bin', 'w+');
        await h.write(data.subarray(0, 4 << 20), 0);
        fx.proxy.cut();
        await h.write(data.subarray(4 << 20, 8 << 20), 4 << 20);
        assert.equal(sha(await h.read(0, 8 << 20)), sha(data.subarray(0, 8 << 20)));
        await h.close();
        assert.equal((await c.stat('fh.bin')).size, 8 << 20);
        assert.equal(c.reconnects, 1);
      } finally {
        await c.close();
      }
    });

    it('without reconnect the caller gets CONNECTION_DISCONNECTED', async () => {
      const c = await connect(`smb://${DEFAULT_USER}@127.0.0.1:${fx.proxy.port}/share`, { password: DEFAULT_PASS, reconnect: { attempts: 0 } });
      try {
        const h = await c.open('nr.bin', 'w');
        fx.proxy.cut();
        await assert.rejects(h.write(Buffer.alloc(1024), 0), (e: unknown) => e instanceof SmbError && e.status === 0xc000020c /* CONNECTION_DISCONNECTED */);
      } finally {
        await c.close();
      }
    });
  });
}

suite('smbts', () => startSmbts());
suite('Samba, durable share', async () => {
  const s = await startSamba({ extraGlobal: ['smb2 leases = yes'], shareOptions: SAMBA_DURABLE_SHARE });
  return { port: s.port, shareDir: s.shareDir, stop: () => s.stop() };
}, missingTools(['smbd']));
