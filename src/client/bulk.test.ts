// client.download / client.upload (file to file through pooled buffers) against a real Samba smbd:
// byte-identical copies of awkward sizes, plain, signed and encrypted, small chunks (many in
// flight, short last chunk), appends, a device as the destination, and two copies at once sharing
// the buffer pool.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startSamba, missingTools, type SambaHandle } from '../../test/interop/peers.js';
import { connect, SmbError, type ConnectOptions } from './index.js';

const sha = (b: Buffer): string => createHash('sha256').update(b).digest('hex');
const MiB = 1024 * 1024;

describe('client download/upload against Samba', { skip: missingTools(['smbd', 'smbpasswd']) }, () => {
  let samba: SambaHandle;
  let local: string;
  before(async () => {
    samba = await startSamba();
    local = await mkdtemp(join(tmpdir(), 'smbts-bulk-'));
  });
  after(async () => {
    await samba?.stop();
    if (local) await rm(local, { recursive: true, force: true });
  });

  const modes: Array<[string, ConnectOptions]> = [
    ['plain', {}],
    ['signed', { sign: true }],
    ['encrypted AES-128-GCM', { encrypt: true, ciphers: [2] }],
    ['encrypted AES-128-CCM', { encrypt: true, ciphers: [1] }],
  ];
  for (const [name, extra] of modes) {
    it(`${name}: sizes 0, 1, 8 MiB, 8 MiB + 1, and 3 MiB + 7 in 256 KiB chunks`, { timeout: 120_000 }, async () => {
      const c = await connect(`smb://test@127.0.0.1:${samba.port}/share`, { password: 'test', ...extra });
      try {
        const cases: Array<[number, { chunkSize?: number; depth?: number }]> = [
          [0, {}], [1, {}], [8 * MiB, {}], [8 * MiB + 1, {}], [3 * MiB + 7, { chunkSize: 256 * 1024, depth: 5 }],
        ];
        for (const [size, o] of cases) {
          const data = randomBytes(size);
          const src = join(local, `src-${size}`);
          const dst = join(local, `dst-${size}`);
          await writeFile(src, data);
          const remote = `bulk-${name.replace(/\W+/g, '-')}-${size}.bin`;
          assert.equal(await c.upload(src, remote, o), size);
          assert.equal(sha(await readFile(join(samba.shareDir, remote))), sha(data), `server copy of ${size} B`);
          assert.equal(await c.download(remote, dst, o), size);
          assert.equal(sha(await readFile(dst)), sha(data), `local copy of ${size} B`);
          // over an existing, longer local file: truncated first
          await writeFile(dst, randomBytes(size + 100));
          assert.equal(await c.download(remote, dst, o), size);
          assert.equal(sha(await readFile(dst)), sha(data));
          await c.rm(remote);
        }
      } finally {
        await c.close();
      }
    });
  }

  it('append, a device as destination, two copies at once, errors', { timeout: 120_000 }, async () => {
    const c = await connect(`smb://test@127.0.0.1:${samba.port}/share`, { password: 'test' });
    try {
      const a = randomBytes(5 * MiB + 3);
      const b = randomBytes(9 * MiB + 11);
      await writeFile(join(local, 'a'), a);
      await writeFile(join(local, 'b'), b);
      await c.upload(join(local, 'a'), 'ab.bin');
      await c.upload(join(local, 'b'), 'ab.bin', { flags: 'a', chunkSize: MiB });
      assert.equal(sha(await readFile(join(samba.shareDir, 'ab.bin'))), sha(Buffer.concat([a, b])));
      assert.equal(await c.download('ab.bin', '/dev/null'), a.length + b.length);

      await Promise.all([c.upload(join(local, 'a'), 'a.bin'), c.upload(join(local, 'b'), 'b.bin')]);
      await Promise.all([c.download('b.bin', join(local, 'b2'), { chunkSize: MiB }), c.download('a.bin', join(local, 'a2'))]);
      assert.equal(sha(await readFile(join(local, 'a2'))), sha(a));
      assert.equal(sha(await readFile(join(local, 'b2'))), sha(b));
      // file handle reads (pooled answers copied out) still see the right bytes
      assert.equal(sha(await c.readFile('b.bin')), sha(b));

      await assert.rejects(c.download('missing.bin', join(local, 'x')), (e: unknown) => e instanceof SmbError && e.statusName === 'OBJECT_NAME_NOT_FOUND');
      await assert.rejects(c.upload(join(local, 'missing'), 'x.bin'), (e: unknown) => (e as NodeJS.ErrnoException).code === 'ENOENT');
      assert.equal(await c.exists('x.bin'), false);
      await assert.rejects(c.download('a.bin', join(local, 'no', 'such', 'dir')), (e: unknown) => (e as NodeJS.ErrnoException).code === 'ENOENT');
    } finally {
      await c.close();
    }
  });
});
