// Joins a server to its cluster when the config says `clustering = yes` (config.ts); a
// single-node server loads nothing of this (etcd-kv.ts is imported only here, on demand).
import type { ServerCore } from '../internal.js';
import { clusterConfigOf } from './config.js';
import { ClusterNode } from './coordinator.js';
import type { Kv } from './kv.js';
import { relayChangesThroughKv } from './notify-relay.js';

export type { ClusterStatus } from './coordinator.js';

/** A Kv handed in by the embedder (worker processes on one machine, tests) instead of etcd. */
export interface ClusterJoinOptions {
  kv: Kv;
  nodeName: string;
  /** Liveness lease TTL in seconds (default 10). */
  leaseTtl?: number;
}

export async function startCluster(server: ServerCore, where: { address: string; port: number }, join?: ClusterJoinOptions): Promise<ClusterNode | undefined> {
  const cfg = join ? { endpoints: ['(embedded kv)'], nodeName: join.nodeName, leaseTtl: join.leaseTtl ?? 10 } : clusterConfigOf(server.config);
  if (!cfg) return undefined;
  let kv = join?.kv;
  if (!kv) {
    const { openEtcdKv } = await import('./etcd-kv.js');
    kv = await openEtcdKv({ endpoints: cfg.endpoints });
  }
  try {
    const node = await ClusterNode.start(server, kv, cfg.nodeName, cfg.leaseTtl, { address: where.address, port: where.port, pid: process.pid }, !join);
    // CHANGE_NOTIFY across nodes (notify-relay.ts); failures after the join leave the node up.
    node.addCloser(await relayChangesThroughKv(server, kv, cfg.nodeName).catch((e: unknown) => {
      server.log(`cluster: change notifications stay on this node: ${(e as Error).message}`);
      return async () => undefined;
    }));
    server.log(`cluster: node ${cfg.nodeName} joined (${cfg.endpoints.join(',')})`);
    return node;
  } catch (e) {
    if (!join) await kv.close().catch(() => undefined);
    throw new Error(`cluster: cannot join through ${cfg.endpoints.join(',')}: ${(e as Error).message}`);
  }
}
