// Which StateStore a server's persistent state goes to. Single node: the disk store (durable.ts).
// Cluster mode (docs/cluster.md) with `clustering = yes`, `cluster backend = etcd`,
// `etcd endpoints = host:port,...` and `cluster node name = n1` in [global]: the etcd store, so
// every node reads and writes the same records.
import type { ServerConfig, ShareConfig } from '../config/config.js';
import { EtcdStore } from './store/etcd.js';
import { clusterConfigOf, type ClusterConfig } from './cluster/config.js';
import type { StateStore } from './store/types.js';

/** What the store needs of the cluster settings (cluster/config.ts reads and checks the keys). */
export type ClusterStoreConfig = Pick<ClusterConfig, 'backend' | 'endpoints' | 'nodeName'>;

/** The cluster store settings, undefined in single-node mode; throws on an unusable combination. */
export function clusterStoreConfig(config: ServerConfig): ClusterStoreConfig | undefined {
  const c = clusterConfigOf(config);
  return c && { backend: c.backend, endpoints: c.endpoints, nodeName: c.nodeName };
}

/** The store of one CA share in cluster mode. */
export function clusterStoreFor(c: ClusterStoreConfig, share: ShareConfig): StateStore {
  return new EtcdStore({ endpoints: c.endpoints }, share.name);
}

/** A node generation from the cluster store (EtcdStore.nextGeneration), for FileId numbering. */
export async function nodeGeneration(store: StateStore): Promise<number | undefined> {
  return store instanceof EtcdStore ? store.nextGeneration() : undefined;
}
