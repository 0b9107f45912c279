// The client test suite shared by client-samba.test.ts and client-smbts.test.ts: every API call in
// SMB 2.1, 3.0 and 3.1.1, with the server plain, requiring signing, and requiring encryption.
// SMBTS_BIG=1 adds a 10,000-entry directory and a 1 GiB file.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes, createHash } from 'node:crypto';
import { mkdir, writeFile, readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { Readable, Writable } from 'node:stream';
import { connect, SmbError, type SmbClient, type ConnectOptions } from '../../src/client/index.js';

export const BIG = process.env.SMBTS_BIG === '1';
export const MANY = BIG ? 10_000 : 2_000;

export const DIALECTS: Array<[string, number]> = [['SMB2_10', 0x0210], ['SMB3_00', 0x0300], ['SMB3_11', 0x0311]];
export const MODES: Array<{ name: string; extra: string[] }> = [
  { name: 'plain', extra: [] },
  { name: 'signing required', extra: ['server signing = mandatory'] },
  { name: 'encryption required', extra: ['smb encrypt = required'] },
];

/** Creates the fixtures that would be slow to make over SMB, straight in the share directory. */
export async function makeFixtures(shareDir: string): Promise<void> {
  const dir = join(shareDir, 'many');
  await mkdir(dir, { recursive: true });
  const names = Array.from({ length: MANY }, (_, i) => `entry-${String(i).padStart(5, '0')}.txt`);
  for (let i = 0; i < names.length; i += 200) {
    await Promise.all(names.slice(i, i + 200).map((n) => writeFile(join(dir, n), n)));
  }
}

function sha(b: Buffer): string {
  return createHash('sha256').update(b).digest('hex');
}

/** Every API call of SmbClient once, in its own directory `root`. */
export async function exercise(c: SmbClient, shareDir: string, root: string): Promise<void> {
  await c.mkdir(root);
  assert.equal(await c.exists(root), true);
  assert.equal((await c.stat(root)).isDirectory(), true);

  // Byte-identical files of 0 B, 1 B and 1 MiB + 1, both ways, checked on the server's disk too.
  for (const size of [0, 1, 1024 * 1024 + 1]) {
    const data = randomBytes(size);
    const p = `${root}/f${size}.bin`;
    await c.writeFile(p, data);
    const onDisk = await readFile(join(shareDir, p));
    assert.equal(sha(onDisk), sha(data), `server copy of ${size} B`);
    const back = await c.readFile(p);
    assert.equal(back.length, size);
    assert.ok(back.equals(data), `read back ${size} B`);
    const st = await c.stat(p);
    assert.equal(st.size, size);
    assert.equal(st.isFile(), true);
  }

  // Streams: pipelined, with backpressure (a slow consumer must not make us buffer the world).
  const streamData = randomBytes(3 * 1024 * 1024 + 17);
  await pipeline(Readable.from(chunksOf(streamData, 100_000)), c.createWriteStream(`${root}/stream.bin`));
  assert.equal(sha(await readFile(join(shareDir, root, 'stream.bin'))), sha(streamData));
  const got: Buffer[] = [];
  await pipeline(c.createReadStream(`${root}/stream.bin`), new Writable({
    highWaterMark: 1,
    write(chunk: Buffer, _e, cb) { got.push(chunk); setImmediate(cb); },
  }));
  assert.equal(sha(Buffer.concat(got)), sha(streamData));

  // Handle API.
  const h = await c.open(`${root}/handle.bin`, 'w+');
  await h.write(Buffer.from('hello world'), 0);
  await h.write(Buffer.from('HELLO'), 0);
  assert.equal((await h.read(0, 11)).toString(), 'HELLO world');
  assert.equal((await h.stat()).size, 11);
  await h.truncate(5);
  assert.equal((await h.stat()).size, 5);
  await h.close();
  await assert.rejects(h.read(0, 1), (e: unknown) => e instanceof SmbError);
  assert.equal((await c.readFile(`${root}/handle.bin`)).toString(), 'HELLO');

  // Unicode names.
  const uni = `${root}/Grüße 日本語 😀.txt`;
  await c.writeFile(uni, 'unicode');
  assert.ok((await c.readdir(root)).includes('Grüße 日本語 😀.txt'));
  assert.equal((await stat(join(shareDir, uni))).size, 7);

  // rename, readdir withStats, rm, errors.
  await c.rename(uni, `${root}/renamed.txt`);
  assert.equal(await c.exists(uni), false);
  const entries = await c.readdir(root, { withStats: true });
  const ren = entries.find((e) => e.name === 'renamed.txt');
  assert.ok(ren && ren.size === 7 && ren.isFile());
  await assert.rejects(c.readFile(`${root}/missing`), (e: unknown) => e instanceof SmbError && e.statusName === 'OBJECT_NAME_NOT_FOUND' && /no such file/.test(e.message));
  await assert.rejects(c.mkdir(root), (e: unknown) => e instanceof SmbError && e.statusName === 'OBJECT_NAME_COLLISION');
  await c.mkdir(`${root}/a/b/c`, { recursive: true });
  await c.writeFile(`${root}/a/b/c/x`, 'x');
  await assert.rejects(c.rm(`${root}/a`), (e: unknown) => e instanceof SmbError && e.statusName === 'DIRECTORY_NOT_EMPTY');
  await c.rm(`${root}/a`, { recursive: true });
  assert.equal(await c.exists(`${root}/a`), false);

  // fs/promises-shaped calls: server-side copy, encodings, Dirent, errno codes, utimes.
  await c.copyFile(`${root}/f1048577.bin`, `${root}/copy.bin`);
  assert.equal(sha(await readFile(join(shareDir, root, 'copy.bin'))), sha(await readFile(join(shareDir, root, 'f1048577.bin'))));
  assert.equal(await c.readFile(`${root}/renamed.txt`, 'utf8'), 'unicode');
  const dirents = await c.readdir(root, { withFileTypes: true });
  assert.equal(dirents.find((d) => d.name === 'copy.bin')?.isFile(), true);
  await c.utimes(`${root}/copy.bin`, new Date(1_000_000_000_000), new Date(1_000_000_000_000));
  assert.equal((await c.stat(`${root}/copy.bin`)).mtimeMs, 1_000_000_000_000);
  await c.unlink(`${root}/copy.bin`);
  await assert.rejects(c.unlink(`${root}/copy.bin`), { code: 'ENOENT' });
  await assert.rejects(c.rmdir(`${root}/renamed.txt`), { code: 'ENOTDIR' });

  // Many operations at once on one connection (message ids, credits, compounds interleaved).
  const N = 100;
  await Promise.all(Array.from({ length: N }, (_, i) => c.writeFile(`${root}/c${i}.txt`, `file ${i}`)));
  const texts = await Promise.all(Array.from({ length: N }, (_, i) => c.readFile(`${root}/c${i}.txt`).then(String)));
  assert.ok(texts.every((t, i) => t === `file ${i}`));
  const sts = await Promise.all(Array.from({ length: N }, (_, i) => c.stat(`${root}/c${i}.txt`)));
  assert.ok(sts.every((st, i) => st.size === `file ${i}`.length));
  await Promise.all(Array.from({ length: N }, (_, i) => c.rm(`${root}/c${i}.txt`)));

  // A big directory lists completely (repeated QUERY_DIRECTORY).
  const names = await c.readdir('many');
  assert.equal(names.length, MANY);
  assert.equal(new Set(names).size, MANY);

  await c.rm(root, { recursive: true });
  assert.equal(await c.exists(root), false);
}

function* chunksOf(b: Buffer, n: number): Generator<Buffer> {
  for (let i = 0; i < b.length; i += n) yield b.subarray(i, i + n);
}

export interface Target {
  port: number;
  shareDir: string;
  stop(): Promise<void>;
}

/** Defines the whole matrix against servers made by `start(extraGlobalLines)`. */
export function defineClientSuite(title: string, start: (extraGlobal: string[]) => Promise<Target>, skip?: string): void {
describe(title, { skip }, () => {
  for (const mode of MODES) {
    describe(mode.name, () => {
      let samba: Target;
      let url = '';
      before(async () => {
        samba = await start(mode.extra);
        url = `smb://test@127.0.0.1:${samba.port}/share`;
        await makeFixtures(samba.shareDir);
      });
      after(async () => { await samba?.stop(); });

      for (const [name, dialect] of DIALECTS) {
        const opts: ConnectOptions = { password: 'test', dialects: [dialect], timeoutMs: 15_000 };
        if (mode.name === 'encryption required' && dialect === 0x0210) {
          it(`${name}: refused with a clear error (2.1 cannot encrypt)`, async () => {
            await assert.rejects(connect(url, opts), (e: unknown) => e instanceof SmbError && e.statusName === 'ACCESS_DENIED');
          });
          continue;
        }
        it(`${name}: every API call`, async () => {
          const c = await connect(url, opts);
          try {
            assert.equal(c.info.dialect, dialect);
            if (mode.name === 'signing required') assert.equal(c.info.signing, true);
            if (mode.name === 'encryption required') assert.equal(c.info.encryption, true);
            await exercise(c, samba.shareDir, `t-${name}`);
          } finally {
            await c.close();
          }
        });
      }

      it('idle keepalive (ECHO) and client-required signing', async () => {
        const dialect = mode.name === 'encryption required' ? 0x0311 : 0x0210;
        const c = await connect(url, { password: 'test', dialects: [dialect], sign: true, keepaliveMs: 150 });
        try {
          assert.equal(c.info.signing, true);
          await new Promise((r) => setTimeout(r, 700));
          await c.writeFile('ka.txt', 'still here');
          assert.equal((await c.readFile('ka.txt')).toString(), 'still here');
          await c.rm('ka.txt');
        } finally {
          await c.close();
        }
      });

      if (mode.name === 'plain') {
        it('client-side encryption with every cipher (3.1.1), and 3.0.2', async () => {
          const cases: Array<[number, number[]]> = [[0x0311, [4]], [0x0311, [3]], [0x0311, [2]], [0x0311, [1]], [0x0302, []]];
          for (const [dialect, ciphers] of cases) {
            const c = await connect(url, { password: 'test', dialects: [dialect], encrypt: true, sign: true, ciphers });
            try {
              assert.equal(c.info.encryption, true);
              if (ciphers.length) assert.equal(c.info.cipherId, ciphers[0]);
              const data = randomBytes(200_000);
              await c.writeFile(`enc-${dialect}.bin`, data);
              assert.ok((await c.readFile(`enc-${dialect}.bin`)).equals(data));
              await c.rm(`enc-${dialect}.bin`);
            } finally {
              await c.close();
            }
          }
        });

        it('multi-credit pipelining: large chunks, deep queues', async () => {
          const data = randomBytes(24 * 1024 * 1024 + 5);
          for (const [chunkSize, depth] of [[4 << 20, 4], [8 << 20, 3], [64 << 10, 32]] as const) {
            const c = await connect(url, { password: 'test', chunkSize, depth });
            try {
              await c.writeFile('mtu.bin', data);
              assert.ok((await c.readFile('mtu.bin')).equals(data), `chunk ${chunkSize} depth ${depth}`);
            } finally {
              await c.close();
            }
          }
        });

        it('wrong password, unknown share, all dialects offered', async () => {
          await assert.rejects(connect(url, { password: 'nope' }), (e: unknown) =>
            e instanceof SmbError && e.statusName === 'LOGON_FAILURE' && e.message === 'wrong user name or password');
          await assert.rejects(connect(url.replace(/share$/, 'nosuch'), { password: 'test' }), (e: unknown) =>
            e instanceof SmbError && e.statusName === 'BAD_NETWORK_NAME');
          const c = await connect(url, { password: 'test' });
          assert.equal(c.info.dialect, 0x0311);
          await c.close();
          await c.close();
        });

        if (BIG) {
          it('1 GiB file round trip', { timeout: 600_000 }, async () => {
            const c = await connect(url, { password: 'test' });
            try {
              const size = 1024 * 1024 * 1024;
              const block = randomBytes(1024 * 1024);
              const w = c.createWriteStream('gig.bin');
              let t = Date.now();
              await pipeline(Readable.from((function* () { for (let i = 0; i < size / block.length; i++) yield block; })()), w);
              const wr = size / 1048576 / ((Date.now() - t) / 1000);
              t = Date.now();
              let n = 0;
              await pipeline(c.createReadStream('gig.bin'), new Writable({ write(ch: Buffer, _e, cb) { n += ch.length; cb(); } }));
              const rd = size / 1048576 / ((Date.now() - t) / 1000);
              assert.equal(n, size);
              console.log(`1 GiB: write ${wr.toFixed(0)} MiB/s, read ${rd.toFixed(0)} MiB/s`);
              await c.rm('gig.bin');
            } finally {
              await c.close();
            }
          });
        }
      }
    });
  }
});
}
