// FSCTL_SET_ZERO_DATA frees space instead of allocating it (issue 9 item 10): a sparse file's range
// is deallocated with fallocate(PUNCH_HOLE | KEEP_SIZE) as Samba does (MS-FSA 2.1.5.10.37), other
// files get zeros written only where data is (holes already read as zeros), and
// FSCTL_QUERY_ALLOCATED_RANGES reports the holes of a sparse file.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { mkdtemp, open as fsOpen, realpath, rm, stat } from 'node:fs/promises';
import { homedir, tmpdir } from 'node:os';
import { join } from 'node:path';
import { startSmbts, type SmbtsHandle } from './peers.js';
import { connect } from '../../src/client/client.js';
import type { FileHandle } from '../../src/client/file.js';
import { Command, Fsctl } from '../../src/wire/constants.js';
import { decodeIoctlResponse, encodeIoctlRequest } from '../../src/wire/ioctl.js';
import { decodeAllocatedRanges, encodeZeroDataInformation } from '../../src/wire/fsctl.js';

const MiB = 1024 * 1024;
let srv: SmbtsHandle;
let dir: string;

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'smbts-zero-'));
  srv = await startSmbts({ shareDir: dir });
});
after(async () => {
  await srv?.stop();
  await rm(dir, { recursive: true, force: true });
});

async function ioctl(h: FileHandle, ctlCode: number, input: Buffer, maxOutputResponse = 0): Promise<Buffer> {
  const res = await h.tree.request({
    command: Command.IOCTL,
    body: encodeIoctlRequest({ ctlCode, fileId: h.fileId, input, maxInputResponse: 0, maxOutputResponse, flags: 1 }),
  });
  return decodeIoctlResponse(res.msg).output;
}

/** A `size` file with 1 MiB of random data at each of `at` and holes elsewhere. */
async function holeyFile(name: string, size: number, at: number[]): Promise<Map<number, Buffer>> {
  const fh = await fsOpen(join(dir, name), 'w');
  const data = new Map<number, Buffer>();
  try {
    await fh.truncate(size);
    for (const off of at) {
      const b = randomBytes(MiB);
      await fh.write(b, 0, MiB, off);
      data.set(off, b);
    }
  } finally {
    await fh.close();
  }
  return data;
}

async function onDisk(name: string): Promise<number> {
  return (await stat(join(dir, name))).blocks * 512;
}

async function bytesAt(name: string, off: number, len: number): Promise<Buffer> {
  const fh = await fsOpen(join(dir, name), 'r');
  try {
    const b = Buffer.alloc(len);
    await fh.read(b, 0, len, off);
    return b;
  } finally {
    await fh.close();
  }
}

test('SET_ZERO_DATA on a 512 MiB sparse file frees the range; QUERY_ALLOCATED_RANGES shows the hole', { timeout: 60_000 }, async () => {
  const data = await holeyFile('sparse.bin', 512 * MiB, [0, 256 * MiB, 511 * MiB]);
  const c = await connect(`smb://test:test@127.0.0.1:${srv.port}/share`);
  try {
    const h = await c.open('sparse.bin', 'r+');
    await ioctl(h, Fsctl.SET_SPARSE, Buffer.from([1]));
    assert.ok(await onDisk('sparse.bin') <= 4 * MiB, 'starts small');
    // Zero [0, 300 MiB): two data MiB and the holes between them; the tail MiB stays.
    await ioctl(h, Fsctl.SET_ZERO_DATA, encodeZeroDataInformation({ fileOffset: 0n, beyondFinalZero: 300n * BigInt(MiB) }));
    const used = await onDisk('sparse.bin');
    assert.ok(used <= 2 * MiB, `512 MiB sparse file after SET_ZERO_DATA: ${used} bytes on disk`);
    assert.equal((await stat(join(dir, 'sparse.bin'))).size, 512 * MiB, 'size unchanged');
    assert.ok((await bytesAt('sparse.bin', 0, MiB)).equals(Buffer.alloc(MiB)));
    assert.ok((await bytesAt('sparse.bin', 256 * MiB, MiB)).equals(Buffer.alloc(MiB)));
    assert.deepEqual(await bytesAt('sparse.bin', 511 * MiB, MiB), data.get(511 * MiB));

    const q = Buffer.alloc(16);
    q.writeBigUInt64LE(0n, 0);
    q.writeBigUInt64LE(512n * BigInt(MiB), 8);
    const ranges = decodeAllocatedRanges(await ioctl(h, Fsctl.QUERY_ALLOCATED_RANGES, q, 64 * 1024));
    assert.ok(ranges.length >= 1, 'the tail is still allocated');
    for (const r of ranges) assert.ok(r.fileOffset >= 300n * BigInt(MiB), `no allocation reported in the zeroed range: ${JSON.stringify(ranges, (_k, v) => (typeof v === 'bigint' ? v.toString() : v))}`);
    const tail = ranges.find((r) => r.fileOffset <= 511n * BigInt(MiB) && r.fileOffset + r.length >= 512n * BigInt(MiB));
    assert.ok(tail, 'the data at 511 MiB is reported allocated');
    await h.close();
  } finally {
    await c.close();
  }
});

test('SET_ZERO_DATA on a file not marked sparse writes zeros over data only, never into holes', { timeout: 60_000 }, async () => {
  await holeyFile('plain.bin', 256 * MiB, [0, 255 * MiB]);
  const c = await connect(`smb://test:test@127.0.0.1:${srv.port}/share`);
  try {
    const h = await c.open('plain.bin', 'r+');
    await ioctl(h, Fsctl.SET_ZERO_DATA, encodeZeroDataInformation({ fileOffset: 0n, beyondFinalZero: 200n * BigInt(MiB) }));
    const used = await onDisk('plain.bin');
    assert.ok(used <= 4 * MiB, `256 MiB file with holes after SET_ZERO_DATA: ${used} bytes on disk`);
    assert.ok((await bytesAt('plain.bin', 0, MiB)).equals(Buffer.alloc(MiB)), 'the data in the range reads as zeros');
    assert.ok(!(await bytesAt('plain.bin', 255 * MiB, MiB)).equals(Buffer.alloc(MiB)), 'data past the range is kept');
    await h.close();
  } finally {
    await c.close();
  }
});

test('SET_ZERO_DATA on a named stream extended with SET_EOF does not allocate its hole', { timeout: 60_000 }, async () => {
  const c = await connect(`smb://test:test@127.0.0.1:${srv.port}/share`);
  try {
    const h = await c.open('host.txt:big', 'w+');
    await h.write(randomBytes(MiB), 0);
    await h.truncate(256 * MiB); // SET_EOF: the rest is a hole
    await ioctl(h, Fsctl.SET_ZERO_DATA, encodeZeroDataInformation({ fileOffset: 0n, beyondFinalZero: 200n * BigInt(MiB) }));
    // The stream's host file in the depot (vfs/local.ts): $SMBTS_HOME/streams/<sha256(root)>/<dev>-<ino>/s-<hex(name)>.
    const home = process.env.SMBTS_HOME || join(homedir(), '.smbts');
    const st = await stat(join(dir, 'host.txt'));
    const file = join(home, 'streams', createHash('sha256').update(await realpath(dir)).digest('hex').slice(0, 16),
      `${st.dev}-${st.ino}`, 's-' + Buffer.from('big', 'utf8').toString('hex'));
    const s = await stat(file);
    assert.equal(s.size, 256 * MiB);
    assert.ok(s.blocks * 512 <= 4 * MiB, `256 MiB stream after SET_ZERO_DATA: ${s.blocks * 512} bytes on disk`);
    assert.ok((await h.read(0, MiB)).equals(Buffer.alloc(MiB)), 'the stream data reads as zeros');
    await h.close();
  } finally {
    await c.close();
  }
});
