// Both StateStore backends behave alike; the disk store survives a new instance (a restart) and
// ignores damaged or half-written record files.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile, readdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MemoryStore } from './memory.js';
import { DiskStore } from './disk.js';
import type { OpenRecord, StateStore } from './types.js';

function rec(id: number, over: Partial<OpenRecord> = {}): OpenRecord {
  return {
    fileId: String(id), share: 'share', path: `dir/f${id}`, fileKey: '1:2', clientGuid: 'aa'.repeat(16),
    createGuid: id.toString(16).padStart(32, '0'), user: 'test', domain: 'WORKGROUP', version: 2,
    persistent: true, timeoutMs: 60_000, grantedAccess: 0x12019f, shareAccess: 7, createOptions: 0,
    oplockLevel: 0, deleteOnClose: false, isDirectory: false,
    lease: { key: '11'.repeat(16), version: 2, state: 7, epoch: 1 },
    locks: [{ offset: '0', length: '10', exclusive: true }], ...over,
  };
}

async function exercise(store: StateStore): Promise<void> {
  await store.putOpen(rec(1));
  await store.putOpen(rec(2, { createGuid: undefined, version: 1 }));
  assert.deepEqual(await store.getOpen('1'), rec(1));
  assert.equal(await store.getOpen('3'), undefined);
  // A copy comes back: changing it does not change the store.
  const got = (await store.getOpen('1'))!;
  got.locks.push({ offset: '5', length: '1', exclusive: false });
  assert.equal((await store.getOpen('1'))!.locks.length, 1);
  await store.putOpen(rec(1, { disconnectedAt: 1234 }));
  assert.equal((await store.getOpen('1'))!.disconnectedAt, 1234);
  assert.equal((await store.findByCreateGuid('aa'.repeat(16), rec(1).createGuid!))?.fileId, '1');
  assert.equal(await store.findByCreateGuid('bb'.repeat(16), rec(1).createGuid!), undefined);
  assert.deepEqual((await store.listOpens()).map((r) => r.fileId).sort(), ['1', '2']);
  await store.deleteOpen('2');
  await store.deleteOpen('2'); // idempotent
  assert.deepEqual((await store.listOpens()).map((r) => r.fileId), ['1']);
}

describe('state store', () => {
  it('memory backend', async () => {
    await exercise(new MemoryStore());
  });

  it('disk backend, and its records outlive the instance', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'smbts-store-'));
    try {
      const a = new DiskStore(join(dir, 'opens'));
      await exercise(a);
      // Concurrent puts of one record land in order.
      await Promise.all([1, 2, 3, 4, 5].map((n) => a.putOpen(rec(1, { oplockLevel: n }))));
      await a.close();
      // Leftovers of a crash mid-put and damaged files cost only themselves.
      await writeFile(join(dir, 'opens', '9.json.tmp'), '{"half');
      await writeFile(join(dir, 'opens', '8.json'), 'not json');
      await writeFile(join(dir, 'opens', '7.json'), '{"fileId":7}');
      const b = new DiskStore(join(dir, 'opens'));
      const list = await b.listOpens();
      assert.deepEqual(list.map((r) => [r.fileId, r.oplockLevel]), [['1', 5]]);
      await assert.rejects(b.getOpen('../x'), /bad record id/);
      await b.deleteOpen('1');
      assert.ok(!(await readdir(join(dir, 'opens'))).includes('1.json'));
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
