// The etcd test harness (etcd.ts): a 3-member cluster starts on loopback, serves the etcd3 client,
// survives one member killed, reports lost quorum when two are down, and recovers on restart.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { Etcd3 } from 'etcd3';
import { startEtcd, etcdMissing, type EtcdCluster } from './etcd.js';

const skip = etcdMissing();

describe('etcd harness', { skip, timeout: 90_000 }, () => {
  let etcd: EtcdCluster;
  before(async () => {
    etcd = await startEtcd({ members: 3 });
  });
  after(async () => {
    await etcd?.stop();
  });

  it('serves puts and gets on every member', { timeout: 20_000 }, async () => {
    assert.equal(etcd.endpoints.length, 3);
    for (const url of etcd.urls) {
      const c = new Etcd3({ hosts: url, dialTimeout: 2_000 });
      try {
        await c.put(`k-${url}`).value('v');
        assert.equal(await c.get(`k-${url}`).string(), 'v');
      } finally {
        c.close();
      }
    }
  });

  it('keeps quorum with one member killed, loses it with two, recovers on restart', { timeout: 60_000 }, async () => {
    await etcd.kill(0);
    assert.equal(etcd.members[0].proc, undefined);
    await etcd.waitHealthy(10_000); // members 1 and 2 elect a leader if 0 led
    const c = new Etcd3({ hosts: [etcd.urls[1], etcd.urls[2]], dialTimeout: 2_000 });
    try {
      await c.put('after-kill').value('1');
      assert.equal(await c.get('after-kill').string(), '1');

      await etcd.kill(1);
      // member 2 alone has no leader: /health turns false within a few election timeouts
      const deadline = Date.now() + 10_000;
      while ((await etcd.healthy(2)) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
      assert.equal(await etcd.healthy(2), false, 'a lone member must not report health');

      await etcd.restart(1);
      await etcd.restart(0);
      assert.equal(await c.get('after-kill').string(), '1');
      await c.put('after-restart').value('2');
      assert.equal(await c.get('after-restart').string(), '2');
    } finally {
      c.close();
    }
  });
});
