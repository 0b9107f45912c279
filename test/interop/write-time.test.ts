// Delayed write-time updates (server/write-time.ts; issue 12, smb2.timestamps.delayed-*): the first
// WRITE through an open leaves the LastWriteTime clients see as it was and moves it ~2 s later,
// once; a second write does not move it again until CLOSE; a LastWriteTime set explicitly through
// SET_INFO sticks across writes and CLOSE, and is the file's mtime on disk afterwards.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { startSmbts, type SmbtsHandle } from './peers.js';
import { connect, type SmbClient } from '../../src/client/client.js';
import { closeRequest, type FileHandle } from '../../src/client/file.js';
import { decodeCloseResponse } from '../../src/wire/close.js';
import { filetimeToMs } from '../../src/wire/buf.js';
import { earlyWriteStats } from '../../src/server/early-write.js';

let srv: SmbtsHandle;
let dir: string;
let c: SmbClient;

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'smbts-wtime-'));
  srv = await startSmbts({ shareDir: dir });
  c = await connect(`smb://test:test@127.0.0.1:${srv.port}/share`);
});
after(async () => {
  await c?.close().catch(() => {});
  await srv?.stop();
  await rm(dir, { recursive: true, force: true });
});

/** CLOSE with SMB2_CLOSE_FLAG_POSTQUERY_ATTRIB: the LastWriteTime it reports, in ms. */
async function closeWithAttrs(h: FileHandle): Promise<number> {
  const res = await h.tree.request(closeRequest(h.fileId, true));
  await h.close().catch(() => {}); // already closed on the server: FILE_CLOSED is allowed
  return filetimeToMs(decodeCloseResponse(res.msg).lastWriteTime);
}

test('first write: write time moves ~2 s later, once; the next write waits for CLOSE', async () => {
  const h = await c.open('a.txt', 'w+');
  const created = (await h.stat()).mtimeMs;
  await sleep(50); // past the file system's timestamp granularity
  const wrote = Date.now();
  await h.write(Buffer.from('first'), 0);
  assert.equal((await h.stat()).mtimeMs, created, 'the first write does not move the write time at once');
  // Delayed update: not before ~2 s, and within a bounded wait.
  let updated = created;
  while (updated === created && Date.now() - wrote < 5_000) {
    await sleep(100);
    updated = (await h.stat()).mtimeMs;
  }
  assert.ok(updated > created, 'write time updated after the delay');
  assert.ok(Date.now() - wrote >= 1_500, `updated too early (${Date.now() - wrote} ms)`);
  // The directory listing shows the same time as the handle.
  const listed = (await c.readdir('/', { withStats: true })).find((s) => s.name === 'a.txt');
  assert.equal(listed?.mtimeMs, updated);

  await sleep(50);
  await h.write(Buffer.from('second'), 5);
  await sleep(2_300);
  assert.equal((await h.stat()).mtimeMs, updated, 'a second write does not move it before CLOSE');

  const beforeClose = Date.now();
  const closed = await closeWithAttrs(h);
  assert.ok(closed >= beforeClose - 1 && closed > updated, 'CLOSE after a later write sets the close time');
  const disk = (await stat(join(dir, 'a.txt'))).mtimeMs; // utimes keeps about a microsecond
  assert.ok(Math.abs(disk - closed) < 0.01, `the disk has the reported time after the last close (${disk} vs ${closed})`);
});

test('a write time set through SET_INFO sticks across writes and CLOSE', async () => {
  const h = await c.open('b.txt', 'w+');
  await h.write(Buffer.from('data'), 0);
  const fixed = Date.UTC(2001, 0, 2, 3, 4, 5);
  await c.utimes('b.txt', new Date(fixed), new Date(fixed)); // SET_INFO FileBasicInformation on another open
  assert.equal((await h.stat()).mtimeMs, fixed);
  await h.write(Buffer.from('more'), 4);
  await h.flush();
  assert.equal((await h.stat()).mtimeMs, fixed, 'writes and FLUSH leave a sticky time');
  assert.equal(await closeWithAttrs(h), fixed, 'CLOSE leaves a sticky time');
  assert.equal((await stat(join(dir, 'b.txt'))).mtimeMs, fixed, 'and the disk keeps it');
  assert.equal((await c.stat('b.txt')).size, 8);
});

test('FLUSH does a pending update at once, and a CLOSE after it keeps that time', async () => {
  const h = await c.open('c.txt', 'w+');
  const created = (await h.stat()).mtimeMs;
  await sleep(50);
  await h.write(Buffer.from('x'), 0);
  assert.equal((await h.stat()).mtimeMs, created);
  await h.flush();
  const flushed = (await h.stat()).mtimeMs;
  assert.ok(flushed > created, 'FLUSH updated the write time');
  assert.equal(await closeWithAttrs(h), flushed);
});

test('a large WRITE streamed while it arrives (early-write.ts) is a first write too', async () => {
  const h = await c.open('d.bin', 'w+');
  const created = (await h.stat()).mtimeMs;
  await sleep(50);
  const started = earlyWriteStats.started;
  await h.write(Buffer.alloc(8 * 1024 * 1024, 7), 0, { chunkSize: 8 * 1024 * 1024, depth: 1 });
  assert.ok(earlyWriteStats.started > started, 'the WRITE went the early path');
  assert.equal((await h.stat()).mtimeMs, created);
  await h.close();
});
