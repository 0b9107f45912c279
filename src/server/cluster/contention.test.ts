// Many simultaneous opens of one file across two nodes (issue 16: 32 smbclients listing a share
// root on workers = 2 lost half their opens to "cluster contention"). Two ClusterNodes share a
// MemoryKv behind a latency, and each opener runs CREATE's loop: reserve, and on a lost compare
// evaluate again, at most MAX_CLUSTER_RETRIES times.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { MemoryKv } from './memory-kv.js';
import { ClusterNode, isBenign } from './coordinator.js';
import { MAX_CLUSTER_RETRIES } from './create-hook.js';
import { ServerStateImpl } from '../state.js';
import { defaultConfig } from '../../config/config.js';
import { UserDb } from '../../auth/userdb.js';
import type { Kv, KvTxnRequest, KvTxnResult } from './kv.js';
import type { OpenIntent } from './hooks.js';

/** The MemoryKv a network away: each transaction and read lands after a random 0-2 ms. */
function latent(kv: MemoryKv): Kv {
  const delay = (): Promise<void> => new Promise((r) => setTimeout(r, Math.random() * 2));
  return {
    getPrefix: async (p) => { await delay(); return kv.getPrefix(p); },
    get: async (k) => { await delay(); return kv.get(k); },
    txn: async (req: KvTxnRequest): Promise<KvTxnResult> => { await delay(); const r = await kv.txn(req); await delay(); return r; },
    watchPrefix: (p, rev, h) => kv.watchPrefix(p, rev, h),
    grantLease: (ttl) => kv.grantLease(ttl),
    close: () => kv.close(),
  };
}

const server = (): ServerStateImpl => new ServerStateImpl(defaultConfig('/tmp'), UserDb.empty(), () => undefined);

async function openers(intentOf: (i: number) => OpenIntent): Promise<{ failed: number; rounds: number }> {
  const kv = latent(new MemoryKv());
  const a = await ClusterNode.start(server(), kv, 'a', 5, {}, false);
  const b = await ClusterNode.start(server(), kv, 'b', 5, {}, false);
  let rounds = 0;
  try {
    const results = await Promise.all(Array.from({ length: 32 }, async (_, i) => {
      const node = i % 2 ? b : a;
      for (let retries = 0; retries <= MAX_CLUSTER_RETRIES; retries++) {
        rounds++;
        if (await node.reserve(intentOf(i))) return true;
      }
      return false;
    }));
    return { failed: results.filter((ok) => !ok).length, rounds };
  } finally {
    await a.close();
    await b.close();
  }
}

const LIST_DIR = 0x1 | 0x80; // FILE_LIST_DIRECTORY | FILE_READ_ATTRIBUTES, as smbclient lists a directory
const READ_WRITE = 0x1 | 0x2 | 0x80;

test('32 simultaneous directory listings of one directory on two nodes: none fails', async () => {
  const dir = (i: number): OpenIntent => ({ fileKey: '1:7', shareName: 'share', path: '', access: LIST_DIR, shareAccess: 0x3, oplock: 0 });
  assert.equal(isBenign(dir(0)), true);
  const r = await openers(dir);
  assert.equal(r.failed, 0);
  // They do not race each other: one transaction each.
  assert.equal(r.rounds, 32);
});

test('32 simultaneous read/write opens of one file on two nodes: none fails', async () => {
  const rw = (i: number): OpenIntent => ({ fileKey: '1:8', shareName: 'share', path: 'f', access: READ_WRITE, shareAccess: 0x7, oplock: 0 });
  assert.equal(isBenign(rw(0)), false);
  const r = await openers(rw);
  assert.equal(r.failed, 0);
});

test('benign: no write/delete access, sharing read, no caching', () => {
  const i = (access: number, shareAccess: number, oplock = 0): OpenIntent => ({ fileKey: 'k', shareName: 's', path: 'p', access, shareAccess, oplock });
  assert.equal(isBenign(i(0x80, 0)), true, 'an attribute open takes no part in share checks');
  assert.equal(isBenign(i(0x1, 0x1)), true);
  assert.equal(isBenign(i(0x1, 0)), false, 'a reader that shares nothing refuses other readers');
  assert.equal(isBenign(i(0x2, 0x7)), false);
  assert.equal(isBenign(i(0x10000, 0x7)), false, 'DELETE');
  assert.equal(isBenign(i(0x1, 0x7, 1)), false, 'caching asked for');
});
