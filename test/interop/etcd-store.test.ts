// The etcd StateStore (src/server/store/etcd.ts) against a real 3-member etcd cluster: records and
// the CreateGuid index round-trip, stores of different shares and nodes see the same records, one
// member killed changes nothing, quorum lost fails every call within its deadline with a clear
// error (no hang), and the store works again once quorum is back.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { EtcdStore, EtcdStoreError } from '../../src/server/store/etcd.js';
import type { OpenRecord } from '../../src/server/store/types.js';
import { startEtcd, etcdMissing, type EtcdCluster } from './etcd.js';

const skip = etcdMissing();

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

describe('etcd state store', { skip, timeout: 120_000 }, () => {
  let etcd: EtcdCluster;
  before(async () => {
    etcd = await startEtcd({ members: 3 });
  });
  after(async () => {
    await etcd?.stop();
  });

  it('put/get/list/delete and the CreateGuid replay cache', { timeout: 20_000 }, async () => {
    const a = new EtcdStore({ endpoints: etcd.endpoints }, 'Share');
    // Another node's store of the same share (other endpoint order): the same records.
    const b = new EtcdStore({ endpoints: [...etcd.endpoints].reverse() }, 'SHARE');
    const other = new EtcdStore({ endpoints: etcd.endpoints }, 'other');
    try {
      await a.putOpen(rec(1));
      await a.putOpen(rec(2, { createGuid: undefined, version: 1 }));
      assert.deepEqual(await b.getOpen('1'), rec(1));
      assert.equal(await b.getOpen('3'), undefined);
      assert.deepEqual(await other.listOpens(), []);
      await a.putOpen(rec(1, { disconnectedAt: 1234 }));
      assert.equal((await b.getOpen('1'))!.disconnectedAt, 1234);
      assert.equal((await b.findByCreateGuid('AA'.repeat(16), rec(1).createGuid!))?.fileId, '1');
      assert.equal(await b.findByCreateGuid('bb'.repeat(16), rec(1).createGuid!), undefined);
      assert.deepEqual((await b.listOpens()).map((r) => r.fileId).sort(), ['1', '2']);
      // Concurrent puts of one record: one of them wins whole.
      await Promise.all([1, 2, 3, 4, 5].map((n) => a.putOpen(rec(1, { oplockLevel: n }))));
      assert.ok([1, 2, 3, 4, 5].includes((await b.getOpen('1'))!.oplockLevel));
      await b.deleteOpen('1');
      await b.deleteOpen('1'); // idempotent
      assert.equal(await a.findByCreateGuid('aa'.repeat(16), rec(1).createGuid!), undefined, 'the index entry went with the record');
      assert.deepEqual((await a.listOpens()).map((r) => r.fileId), ['2']);
      await assert.rejects(a.getOpen('../x'), /bad record id/);
      // Node generations are unique and increasing.
      const g1 = await a.nextGeneration();
      const gs = await Promise.all([a.nextGeneration(), b.nextGeneration(), other.nextGeneration()]);
      assert.equal(new Set([g1, ...gs]).size, 4);
      assert.ok(gs.every((g) => g > g1));
      await a.deleteOpen('2');
    } finally {
      await Promise.all([a.close(), b.close(), other.close()]);
    }
  });

  it('one member killed: still works; quorum lost: bounded clear errors; quorum back: works', { timeout: 90_000 }, async () => {
    const s = new EtcdStore({ endpoints: etcd.endpoints, timeoutMs: 2_000 }, 'share');
    try {
      await s.putOpen(rec(10));
      await etcd.kill(0);
      await s.putOpen(rec(11));
      assert.equal((await s.getOpen('10'))?.path, 'dir/f10');
      assert.deepEqual((await s.listOpens()).map((r) => r.fileId).sort(), ['10', '11']);

      await etcd.kill(1);
      const t0 = Date.now();
      await assert.rejects(s.putOpen(rec(12)), (e: unknown) => {
        assert.ok(e instanceof EtcdStoreError, String(e));
        assert.match((e as Error).message, /etcd put failed \(http:\/\/127\.0\.0\.1:\d+/);
        return true;
      });
      await assert.rejects(s.getOpen('10'), EtcdStoreError);
      const took = Date.now() - t0;
      assert.ok(took < 15_000, `failing calls took ${took} ms: they must be bounded`);

      await etcd.restart(0);
      // The client may still be backing off from the dead members: a bounded retry.
      const deadline = Date.now() + 20_000;
      for (;;) {
        try {
          await s.putOpen(rec(12));
          break;
        } catch (e) {
          if (Date.now() > deadline) throw e;
          await new Promise((r) => setTimeout(r, 250));
        }
      }
      assert.deepEqual((await s.listOpens()).map((r) => r.fileId).sort(), ['10', '11', '12']);
      await etcd.restart(1);
    } finally {
      await s.close();
    }
  });
});
