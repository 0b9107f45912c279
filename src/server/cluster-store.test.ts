// Cluster mode settings (cluster-store.ts): the smb.conf keys are known (no warnings), single-node
// mode needs nothing, and unusable combinations are refused with the reason.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { hostname } from 'node:os';
import { parseConfig } from '../config/config.js';
import { clusterStoreConfig, clusterStoreFor } from './cluster-store.js';
import { EtcdStore } from './store/etcd.js';

const conf = (...lines: string[]) => parseConfig(['[global]', ...lines, '[ca]', '  path = /tmp', '  continuous availability = yes'].join('\n'));

describe('cluster store settings', () => {
  it('reads clustering, cluster backend, etcd endpoints and cluster node name without warnings', () => {
    const cfg = conf('clustering = yes', 'cluster backend = etcd', 'etcd endpoints = 127.0.0.1:2379, 127.0.0.2:2379 http://h3:2379', 'cluster node name = n1');
    assert.deepEqual(cfg.warnings.filter((w) => /cluster|etcd/.test(w)), []);
    assert.deepEqual(clusterStoreConfig(cfg), { backend: 'etcd', endpoints: ['127.0.0.1:2379', '127.0.0.2:2379', 'http://h3:2379'], nodeName: 'n1' });
    const store = clusterStoreFor(clusterStoreConfig(cfg)!, cfg.shares.find((s) => s.name === 'ca')!);
    assert.ok(store instanceof EtcdStore);
  });

  it('single node without clustering; defaults; refusals', () => {
    assert.equal(clusterStoreConfig(conf()), undefined);
    assert.equal(clusterStoreConfig(conf('clustering = no', 'etcd endpoints = h:1')), undefined);
    assert.deepEqual(clusterStoreConfig(conf('clustering = yes', 'etcd endpoints = h:1')), { backend: 'etcd', endpoints: ['h:1'], nodeName: hostname() });
    assert.throws(() => clusterStoreConfig(conf('clustering = yes')), /needs "etcd endpoints/);
    assert.throws(() => clusterStoreConfig(conf('clustering = yes', 'cluster backend = ctdb', 'etcd endpoints = h:1')), /only "etcd"/);
  });
});
