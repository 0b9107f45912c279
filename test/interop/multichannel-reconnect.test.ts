// Multichannel sessions across lost connections, on loopback (no network namespaces): the server
// reports one RSS interface, 127.0.0.1, so the client binds its second channel to the same address
// (the URL's port: a TCP proxy in front of the server that the test cuts). One channel cut: the
// session carries on over the other (requests in flight replayed there with the replay flag,
// MS-SMB2 3.2.4.1 / 3.2.5.1) and the lost channel binds again; every channel cut: the client
// reconnects (PreviousSessionId), reopens its durable handles once and binds the extra channel to
// the new session. Against smbts and against Samba (`server multi channel support = yes`).
import { describe, it, before } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startSamba, startSmbts, missingTools, DEFAULT_USER, DEFAULT_PASS } from './peers.js';
import { SAMBA_DURABLE_SHARE, cutOnceAfter, proxiedTarget, type Target } from './durable-peers.js';
import { connect, type SmbClient } from '../../src/client/index.js';

const SIZE = 32 * 1024 * 1024;
const CUT_AT = 8 * 1024 * 1024;
const IFACE = '"127.0.0.1;speed=1000000000,capability=RSS"';

const sha = (b: Buffer): string => createHash('sha256').update(b).digest('hex');

/** Waits (bounded) until `n` channels are active. */
async function activeChannels(c: SmbClient, n: number, ms = 15_000): Promise<void> {
  const deadline = Date.now() + ms;
  for (;;) {
    const active = c.channels().filter((x) => x.state === 'active').length;
    if (active === n) return;
    if (Date.now() > deadline) assert.fail(`${active} channels active after ${ms} ms, expected ${n}: ${JSON.stringify(c.channels().map((x) => [x.state, x.error]))}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

function suite(name: string, start: () => Promise<Target>, skip?: string): void {
  describe(`multichannel reconnect (${name})`, { skip, timeout: 180_000 }, () => {
    const fx = proxiedTarget(start, 'smbts-mc-reconnect-');
    let data: Buffer;
    before(async () => {
      data = randomBytes(SIZE);
      await writeFile(join(fx.work, 'src.bin'), data);
    });

    async function open(): Promise<SmbClient> {
      const c = await connect(`smb://${DEFAULT_USER}@127.0.0.1:${fx.proxy.port}/share`, {
        password: DEFAULT_PASS, reconnect: { initialDelayMs: 50 }, multichannel: { maxChannels: 2 },
      });
      await activeChannels(c, 2);
      return c;
    }

    /** onProgress that runs `cut` once, after CUT_AT bytes. */
    const cutOnce = (cut: () => void): ((n: number) => void) => cutOnceAfter(CUT_AT, cut);

    it('one channel cut mid-upload: the session carries on over the other, no reconnect, the channel binds again', async () => {
      const c = await open();
      try {
        const n = await c.upload(join(fx.work, 'src.bin'), 'one.bin', { onProgress: cutOnce(() => assert.ok(fx.proxy.cutOne())) });
        assert.equal(n, SIZE);
        assert.equal(c.reconnects, 0, 'no session reconnect while a channel lives');
        assert.equal(sha(await readFile(join(fx.srv.shareDir, 'one.bin'))), sha(data));
        await activeChannels(c, 2);
        assert.ok(c.channels().some((x) => x.failures === 1), 'one channel was lost');
      } finally {
        await c.close();
      }
    });

    it('every channel cut mid-download: one reconnect, the handle reopened once, both channels back', async () => {
      await writeFile(join(fx.srv.shareDir, 'all.bin'), data);
      const c = await open();
      try {
        const n = await c.download('all.bin', join(fx.work, 'all.bin'), { onProgress: cutOnce(() => fx.proxy.cut()) });
        assert.equal(n, SIZE);
        assert.equal(c.reconnects, 1);
        assert.equal(c.reopenedHandles, 1);
        assert.equal(sha(await readFile(join(fx.work, 'all.bin'))), sha(data));
        await activeChannels(c, 2);
        // The rebound channel carries requests of the recovered session.
        const before = c.channels().map((x) => x.requests);
        await c.readFile('all.bin');
        const after = c.channels().map((x) => x.requests);
        assert.ok(after.every((r, i) => r > before[i]!), `both channels used after the reconnect: ${before} -> ${after}`);
      } finally {
        await c.close();
      }
    });

    it('every channel cut between FileHandle writes: the handle keeps working', async () => {
      const c = await open();
      try {
        const h = await c.open('fh.bin', 'w+');
        await h.write(data.subarray(0, 4 << 20), 0);
        fx.proxy.cut();
        await h.write(data.subarray(4 << 20, 8 << 20), 4 << 20);
        assert.equal(sha(await h.read(0, 8 << 20)), sha(data.subarray(0, 8 << 20)));
        await h.close();
        assert.equal(c.reconnects, 1);
        assert.equal(c.reopenedHandles, 1);
        assert.equal((await c.stat('fh.bin')).size, 8 << 20);
      } finally {
        await c.close();
      }
    });
  });
}

suite('smbts', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'smbts-mc-share-'));
  const s = await startSmbts({
    shareDir: dir,
    configText: ['[global]', `  interfaces = ${IFACE}`, '  max channels = 4', '', '[share]', `  path = ${dir}`, '  read only = no', ''].join('\n'),
  });
  return { port: s.port, shareDir: dir, stop: async () => { await s.stop(); await rm(dir, { recursive: true, force: true }); } };
});
suite('Samba', async () => {
  const s = await startSamba({
    // A later `interfaces` line replaces startSamba's: 127.0.0.1 with a speed and RSS.
    extraGlobal: ['server multi channel support = yes', 'smb2 leases = yes', `interfaces = ${IFACE}`],
    shareOptions: SAMBA_DURABLE_SHARE,
  });
  return { port: s.port, shareDir: s.shareDir, stop: () => s.stop() };
}, missingTools(['smbd']));
