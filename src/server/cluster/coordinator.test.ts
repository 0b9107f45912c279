// ClusterNode over MemoryKv: two servers in this process sharing one Kv (no etcd), checked at the
// hooks the handlers use: reserve/compare races, mirrored remote opens, node death, no quorum.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { MemoryKv } from './memory-kv.js';
import { ClusterNode } from './coordinator.js';
import { clusterOf } from './hooks.js';
import { ServerStateImpl } from '../state.js';
import { defaultConfig } from '../../config/config.js';
import { UserDb } from '../../auth/userdb.js';
import { Status, NtStatusError } from '../../wire/status.js';
import type { OpenIntent } from './hooks.js';

function server(): ServerStateImpl {
  return new ServerStateImpl(defaultConfig('/tmp'), UserDb.empty(), () => undefined);
}

const intent = (access: number, shareAccess: number): OpenIntent => ({
  fileKey: '1:42', shareName: 'share', path: 'f.txt', access, shareAccess, oplock: 0,
});
const tick = (): Promise<void> => new Promise((r) => setTimeout(r, 5));

test('Kv: compares, prefix reads, watches and leases behave as etcd', async () => {
  const kv = new MemoryKv();
  const seen: string[] = [];
  const w = await kv.watchPrefix('p/', 1, { onEvents: (evs) => seen.push(...evs.map((e) => `${e.type}:${e.key}`)), onReset: () => undefined });
  const lease = await kv.grantLease(5);
  assert.equal((await kv.txn({ compare: [{ key: 'p/a', target: 'version', op: '=', value: 0 }], then: [{ type: 'put', key: 'p/a', value: '1', lease: lease.id }] })).succeeded, true);
  assert.equal((await kv.txn({ compare: [{ key: 'p/a', target: 'version', op: '=', value: 0 }], then: [{ type: 'put', key: 'p/a', value: '2' }] })).succeeded, false);
  const r = await kv.getPrefix('p/');
  assert.equal(r.entries.length, 1);
  assert.equal(r.entries[0]!.value, '1');
  let lost = false;
  lease.onLost(() => { lost = true; });
  kv.expireLease(lease.id);
  await tick();
  assert.equal(lost, true);
  assert.equal((await kv.getPrefix('p/')).entries.length, 0);
  assert.deepEqual(seen, ['put:p/a', 'delete:p/a']);
  await w.cancel();
});

test('two nodes reserving on the same snapshot: exactly one compare wins; the loser sees the winner', async () => {
  const kv = new MemoryKv();
  const sa = server();
  const sb = server();
  const a = await ClusterNode.start(sa, kv, 'a', 5, {}, false);
  const b = await ClusterNode.start(sb, kv, 'b', 5, {}, false);
  try {
    const [ra, rb] = await Promise.all([a.reserve(intent(0x2, 0x1)), b.reserve(intent(0x2, 0x1))]);
    assert.equal([ra, rb].filter((r) => r !== false).length, 1, 'one grant');
    const loser = ra === false ? sa : sb;
    // The loser refreshed: the winner's open is now one of the file's opens there.
    const others = loser.opensByFile('1:42');
    assert.equal(others.length, 1);
    assert.equal(clusterOf(loser)!.isRemote(others[0]!), true);
    assert.equal(others[0]!.grantedAccess, 0x2);
    assert.equal(others[0]!.shareAccess, 0x1);
    // The loser tries again on the fresh snapshot: its compare now holds.
    const again = await (ra === false ? a : b).reserve(intent(0x1, 0x3));
    assert.notEqual(again, false);
    // Dropping the winner's reservation removes the remote open on the other node.
    const won = ra === false ? rb : ra;
    assert.ok(won);
    await won.drop();
    await tick();
    assert.equal(loser.opensByFile('1:42').length, 0);
  } finally {
    await a.close();
    await b.close();
  }
});

test('a dead node\'s opens vanish with its lease; without quorum a reserve fails with INSUFFICIENT_RESOURCES', async () => {
  const kv = new MemoryKv();
  const sa = server();
  const sb = server();
  const a = await ClusterNode.start(sa, kv, 'a', 5, {}, false);
  const b = await ClusterNode.start(sb, kv, 'b', 5, {}, false);
  try {
    assert.notEqual(await a.reserve(intent(0x2, 0)), false);
    await tick();
    assert.equal(sb.opensByFile('1:42').length, 1);
    // Node a's lease ends (its process died): b forgets its open.
    const st = await b.status();
    assert.deepEqual(st.nodes.map((n) => n.name).sort(), ['a', 'b']);
    assert.equal(st.opens.length, 1);
    kv.expireLease(1);
    await tick();
    assert.equal(sb.opensByFile('1:42').length, 0);
    kv.unavailable = true;
    await assert.rejects(b.reserve(intent(0x2, 0)), (e: unknown) => e instanceof NtStatusError && e.status === Status.INSUFFICIENT_RESOURCES);
    kv.unavailable = false;
    assert.notEqual(await b.reserve(intent(0x2, 0)), false);
  } finally {
    await a.close();
    await b.close();
  }
});

test('a node whose lease was lost rejoins: its node key is back and its mirror is rebuilt without duplicates', async () => {
  const kv = new MemoryKv();
  const sa = server();
  const sb = server();
  const a = await ClusterNode.start(sa, kv, 'a', 5, {}, false);
  const b = await ClusterNode.start(sb, kv, 'b', 5, {}, false);
  try {
    assert.notEqual(await a.reserve(intent(0x2, 0x1)), false);
    await tick();
    assert.equal(sb.opensByFile('1:42').length, 1);
    kv.expireLease(2); // b's lease: b's keys go, b rejoins with a new lease
    for (let i = 0; i < 50 && !(await b.status()).available; i++) await new Promise((r) => setTimeout(r, 20));
    assert.equal((await b.status()).available, true);
    assert.deepEqual((await b.status()).nodes.map((n) => n.name).sort(), ['a', 'b']);
    assert.equal(sb.opensByFile('1:42').length, 1, 'one mirrored open, not two');
  } finally {
    await a.close();
    await b.close();
  }
});
