// The local cluster's KV over IPC: IpcKv (worker side) against KvHost (primary side), with each
// message passed through JSON as child_process IPC (serialization 'json') passes it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { KvHost } from './kv-host.js';
import { IpcKv } from './ipc-kv.js';
import { KvUnavailableError, type KvEvent } from '../cluster/kv.js';
import type { ToWorker } from './messages.js';

function worker(host: KvHost, slot: number): IpcKv {
  let kv: IpcKv | undefined;
  host.attach(slot, (m: ToWorker) => { setImmediate(() => kv?.receive(JSON.parse(JSON.stringify(m)) as ToWorker)); });
  kv = new IpcKv((req) => { setImmediate(() => void host.handle(slot, JSON.parse(JSON.stringify(req)) as typeof req)); return true; });
  return kv;
}

const tick = (): Promise<void> => new Promise((r) => setTimeout(r, 10));

test('IpcKv over KvHost: compare-and-swap, prefix reads, watches across workers', async () => {
  const host = new KvHost();
  const a = worker(host, 0);
  const b = worker(host, 1);
  // create-if-absent: only one of two racing workers wins
  const put = (kv: IpcKv, v: string) => kv.txn({ compare: [{ key: 'f/1', target: 'version', op: '=', value: 0 }], then: [{ type: 'put', key: 'f/1', value: v }] });
  const [ra, rb] = await Promise.all([put(a, 'a'), put(b, 'b')]);
  assert.equal([ra.succeeded, rb.succeeded].filter(Boolean).length, 1);
  const winner = ra.succeeded ? 'a' : 'b';
  assert.equal((await b.get('f/1'))?.value, winner);
  assert.equal(await a.get('nope'), undefined);

  const seen: KvEvent[] = [];
  const range = await b.getPrefix('f/');
  assert.equal(range.entries.length, 1);
  const w = await b.watchPrefix('f/', range.revision + 1, { onEvents: (e) => seen.push(...e), onReset: () => assert.fail('reset') });
  const mod = range.entries[0]?.modRevision as number;
  assert.equal((await a.txn({ compare: [{ key: 'f/1', target: 'modRevision', op: '=', value: mod }], then: [{ type: 'put', key: 'f/1', value: 'x' }] })).succeeded, true);
  assert.equal((await a.txn({ compare: [{ key: 'f/1', target: 'modRevision', op: '=', value: mod }], then: [{ type: 'put', key: 'f/1', value: 'y' }] })).succeeded, false, 'stale revision');
  await a.txn({ compare: [], then: [{ type: 'put', key: 'g/1', value: 'other prefix' }] });
  await tick();
  assert.deepEqual(seen.map((e) => [e.type, e.key, e.value]), [['put', 'f/1', 'x']]);
  await w.cancel();
  await a.txn({ compare: [], then: [{ type: 'delete', key: 'f/1' }] });
  await tick();
  assert.equal(seen.length, 1, 'no events after cancel');
  await host.close();
});

test('a worker that dies loses its lease: its keys vanish and the others see them go', async () => {
  const host = new KvHost();
  const a = worker(host, 0);
  const b = worker(host, 1);
  const lease = await a.grantLease(10);
  await a.txn({ compare: [], then: [{ type: 'put', key: 'open/a1', value: '{}', lease: lease.id }, { type: 'put', key: 'open/keep', value: '{}' }] });
  const seen: KvEvent[] = [];
  const r = await b.getPrefix('open/');
  assert.equal(r.entries.length, 2);
  await b.watchPrefix('open/', r.revision + 1, { onEvents: (e) => seen.push(...e), onReset: () => undefined });
  host.detach(0); // what the primary does on the worker's 'exit'
  await tick();
  assert.deepEqual(seen.map((e) => [e.type, e.key]), [['delete', 'open/a1']]);
  assert.deepEqual((await b.getPrefix('open/')).entries.map((e) => e.key), ['open/keep']);
  // a revoked lease takes its keys too
  const l2 = await b.grantLease(10);
  await b.txn({ compare: [], then: [{ type: 'put', key: 'open/b1', value: '{}', lease: l2.id }] });
  await l2.revoke();
  assert.deepEqual((await b.getPrefix('open/')).entries.map((e) => e.key), ['open/keep']);
  await host.close();
});

test('IpcKv fails as an unavailable backend when the primary is gone', async () => {
  const kv = new IpcKv(() => false);
  await assert.rejects(kv.get('x'), KvUnavailableError);
  await kv.close();
  await assert.rejects(kv.txn({ compare: [], then: [] }), KvUnavailableError);
});
