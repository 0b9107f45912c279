// The size targets, run in CI for one combination per server (SMB 3.1.1, plain):
// a 1 GiB file round-trips byte-identical and a 10,000-entry directory lists completely.
// (client-suite.ts runs the full dialect/mode matrix with smaller sizes.)
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { mkdir, writeFile, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { Readable, Writable } from 'node:stream';
import { connect } from '../../src/client/index.js';
import { startSamba, startSmbts, missingTools } from './peers.js';

const GiB = 1024 * 1024 * 1024;
const BLOCK = 1024 * 1024;
const ENTRIES = 10_000;

interface Peer { port: number; shareDir: string; stop(): Promise<void> }

const peers: Array<[string, () => Promise<Peer>, string | undefined]> = [
  ['Samba', () => startSamba(), missingTools(['smbd', 'smbpasswd'])],
  ['smbts', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'smbts-big-'));
    const s = await startSmbts({ shareDir: dir, configText: `[share]\npath = ${dir}\nread only = no\n` });
    return { port: s.port, shareDir: dir, async stop() { await s.stop(); await rm(dir, { recursive: true, force: true }); } };
  }, undefined],
];

for (const [name, start, skip] of peers) {
  describe(`client big transfers against ${name}`, { skip, timeout: 900_000 }, () => {
    let peer: Peer;
    before(async () => {
      peer = await start();
      const dir = join(peer.shareDir, 'tenk');
      await mkdir(dir, { recursive: true });
      for (let i = 0; i < ENTRIES; i += 500) {
        await Promise.all(Array.from({ length: Math.min(500, ENTRIES - i) }, (_, k) => writeFile(join(dir, `f${String(i + k).padStart(5, '0')}`), '')));
      }
    });
    after(async () => { await peer?.stop(); });

    it('1 GiB round-trips byte-identical (SMB 3.1.1)', { timeout: 600_000 }, async () => {
      const c = await connect(`smb://test@127.0.0.1:${peer.port}/share`, { password: 'test', dialects: [0x0311], timeoutMs: 120_000 });
      try {
        const base = randomBytes(BLOCK);
        const sent = createHash('sha256');
        // Every block differs (index stamped in), so a misplaced or repeated chunk changes the hash.
        const blocks = function* () {
          for (let i = 0; i < GiB / BLOCK; i++) {
            const b = Buffer.from(base);
            b.writeUInt32LE(i, 0);
            b.writeUInt32LE(i, BLOCK - 4);
            sent.update(b);
            yield b;
          }
        };
        let t = Date.now();
        await pipeline(Readable.from(blocks()), c.createWriteStream('gig.bin'));
        const wr = 1024 / ((Date.now() - t) / 1000);
        assert.equal((await c.stat('gig.bin')).size, GiB);
        const got = createHash('sha256');
        let n = 0;
        t = Date.now();
        await pipeline(c.createReadStream('gig.bin'), new Writable({ write(ch: Buffer, _e, cb) { n += ch.length; got.update(ch); cb(); } }));
        const rd = 1024 / ((Date.now() - t) / 1000);
        assert.equal(n, GiB);
        assert.equal(got.digest('hex'), sent.digest('hex'));
        console.log(`# ${name}: 1 GiB write ${wr.toFixed(0)} MiB/s, read ${rd.toFixed(0)} MiB/s`);
        await c.rm('gig.bin');
      } finally {
        await c.close();
      }
    });

    it('a 10,000-entry directory lists completely', { timeout: 300_000 }, async () => {
      const c = await connect(`smb://test@127.0.0.1:${peer.port}/share`, { password: 'test', dialects: [0x0311] });
      try {
        const names = await c.readdir('tenk');
        const files = names.filter((n) => n !== '.' && n !== '..');
        assert.equal(files.length, ENTRIES);
        assert.equal(new Set(files).size, ENTRIES);
      } finally {
        await c.close();
      }
    });
  });
}
