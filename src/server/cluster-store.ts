// Which StateStore a server's persistent state goes to. Single node: the disk store (durable.ts).
// Cluster mode (docs/cluster.md) with `clustering = yes`, `cluster backend = etcd`,
// `etcd endpoints = host:port,...` and `cluster node name = n1` in [global]: the etcd store, so
// every node reads and writes the same records.
import { hostname } from 'node:os';
import type { ServerConfig, ShareConfig } from '../config/config.js';
import { EtcdStore } from './store/etcd.js';
import type { StateStore } from './store/types.js';

export interface ClusterStoreConfig {
  backend: 'etcd';
  endpoints: string[];
  /** This node's name (records say which node last held an open). */
  nodeName: string;
}

const truthy = (v: string | undefined): boolean => ['yes', 'true', '1', 'on'].includes((v ?? '').trim().toLowerCase());

/** The cluster store settings, undefined in single-node mode; throws on an unusable combination. */
export function clusterStoreConfig(config: ServerConfig): ClusterStoreConfig | undefined {
  const x = config.extra ?? {};
  if (!truthy(x['clustering'])) return undefined;
  const backend = (x['clusterbackend'] ?? 'etcd').trim().toLowerCase();
  if (backend !== 'etcd') throw new Error(`cluster backend = ${backend}: only "etcd" is supported`);
  const endpoints = (x['etcdendpoints'] ?? '').split(/[,\s]+/).map((e) => e.trim()).filter(Boolean);
  if (endpoints.length === 0) throw new Error('clustering = yes needs "etcd endpoints = host:port,..." in [global]');
  const nodeName = (x['clusternodename'] ?? '').trim() || hostname();
  return { backend: 'etcd', endpoints, nodeName };
}

/** The store of one CA share in cluster mode. */
export function clusterStoreFor(c: ClusterStoreConfig, share: ShareConfig): StateStore {
  return new EtcdStore({ endpoints: c.endpoints }, share.name);
}

/** A node generation from the cluster store (EtcdStore.nextGeneration), for FileId numbering. */
export async function nodeGeneration(store: StateStore): Promise<number | undefined> {
  return store instanceof EtcdStore ? store.nextGeneration() : undefined;
}
