// Joins a server to its cluster when the config says `clustering = yes` (config.ts); a
// single-node server loads nothing of this (etcd-kv.ts is imported only here, on demand).
import type { ServerCore } from '../internal.js';
import { clusterConfigOf } from './config.js';
import { ClusterNode } from './coordinator.js';
import type { Kv } from './kv.js';

export type { ClusterStatus } from './coordinator.js';

/** Tests (and a primary process hosting workers) may hand in their own Kv backend. */
export async function startCluster(server: ServerCore, where: { address: string; port: number }, kv?: Kv): Promise<ClusterNode | undefined> {
  const cfg = clusterConfigOf(server.config);
  if (!cfg) return undefined;
  if (!kv) {
    const { openEtcdKv } = await import('./etcd-kv.js');
    kv = await openEtcdKv({ endpoints: cfg.endpoints });
  }
  try {
    const node = await ClusterNode.start(server, kv, cfg.nodeName, cfg.leaseTtl, { address: where.address, port: where.port, pid: process.pid });
    server.log(`cluster: node ${cfg.nodeName} joined (${cfg.endpoints.join(',')})`);
    return node;
  } catch (e) {
    await kv.close().catch(() => undefined);
    throw new Error(`cluster: cannot join through ${cfg.endpoints.join(',')}: ${(e as Error).message}`);
  }
}
