// The CHANGE_NOTIFY relay over a shared MemoryKv: one node's changes reach the other in the order
// they were reported (one put in flight, the rest batched behind it), and the changes waiting behind
// a put that does not come back are bounded (MAX_PENDING), the ones past it dropped.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { MemoryKv } from './memory-kv.js';
import { relayChangesThroughKv } from './notify-relay.js';
import type { Kv, KvTxnRequest, KvTxnResult } from './kv.js';
import { ServerStateImpl } from '../state.js';
import { FileAction, NotifyFilter, changeReporter, reportChange, setChangeReporter } from '../open-file.js';
import { defaultConfig } from '../../config/config.js';
import { UserDb } from '../../auth/userdb.js';
import type { ServerCore } from '../internal.js';
import type { ShareTree } from '../types.js';

/** `kv` whose puts wait for `open()` while the gate is shut; counts the puts. */
function gated(kv: MemoryKv): { kv: Kv; puts: number; shut(): void; open(): void } {
  let release: (() => void) | undefined;
  let gate: Promise<void> = Promise.resolve();
  const g = {
    puts: 0,
    shut() { gate = new Promise<void>((r) => { release = r; }); },
    open() { release?.(); },
    kv: Object.assign(Object.create(kv) as Kv, {
      txn: async (req: KvTxnRequest): Promise<KvTxnResult> => {
        g.puts++;
        await gate;
        return kv.txn(req);
      },
    }),
  };
  return g;
}

async function until(what: string, ok: () => boolean): Promise<void> {
  for (let i = 0; i < 200 && !ok(); i++) await new Promise((r) => setTimeout(r, 10));
  assert.ok(ok(), what);
}

test('notify relay: changes arrive in order, batched behind the put in flight, and the backlog is bounded', async () => {
  const store = new MemoryKv();
  const a = new ServerStateImpl(defaultConfig('/tmp'), UserDb.empty(), () => undefined) as unknown as ServerCore;
  const b = new ServerStateImpl(defaultConfig('/tmp'), UserDb.empty(), () => undefined) as unknown as ServerCore;
  const seenOnB: string[] = [];
  const before = changeReporter();
  setChangeReporter((srv, _tree, path) => { if (srv === b) seenOnB.push(path); });
  const fromA = gated(store);
  const stopA = await relayChangesThroughKv(a, fromA.kv, 'a');
  const stopB = await relayChangesThroughKv(b, store, 'b');
  const tree = { share: { name: 'share' } } as ShareTree;
  const report = (path: string): void => reportChange(a, tree, path, FileAction.ADDED, NotifyFilter.FILE_NAME);
  try {
    // Order: f0 is put at once; f1..f5 wait behind it and go in one put.
    fromA.shut();
    for (let i = 0; i < 6; i++) report(`f${i}`);
    assert.equal(fromA.puts, 1);
    fromA.open();
    await until('B saw f0..f5', () => seenOnB.length >= 6);
    assert.deepEqual(seenOnB, ['f0', 'f1', 'f2', 'f3', 'f4', 'f5']);
    assert.equal(fromA.puts, 2);

    // Bound: with a put that does not come back, 4096 changes wait; the 903 past them are dropped.
    seenOnB.length = 0;
    fromA.shut();
    for (let i = 0; i < 5000; i++) report(`g${i}`);
    fromA.open();
    await until('B saw the backlog', () => seenOnB.length >= 1 + 4096);
    await new Promise((r) => setTimeout(r, 50));
    assert.equal(seenOnB.length, 1 + 4096);
    assert.deepEqual(seenOnB.slice(0, 3), ['g0', 'g1', 'g2']);
    assert.equal(seenOnB.at(-1), 'g4096');
  } finally {
    await stopA();
    await stopB();
    setChangeReporter(before);
  }
});
