// Cluster keys of [global] (docs/config.md): clustering, cluster backend, etcd endpoints,
// cluster node name, cluster lease ttl. Read from ServerConfig.extra (config.ts keeps them there).
import { hostname } from 'node:os';
import { parseBool, type ServerConfig } from '../../config/config.js';

export interface ClusterConfig {
  backend: 'etcd';
  endpoints: string[];
  nodeName: string;
  /** Seconds a node's keys outlive its last keepalive (etcd lease TTL). */
  leaseTtl: number;
}

const yes = (v: string | undefined): boolean => v !== undefined && parseBool(v) === true;

/** The cluster settings, or undefined in single-node mode. Throws on an unusable combination. */
export function clusterConfigOf(cfg: ServerConfig): ClusterConfig | undefined {
  const x = cfg.extra;
  if (!yes(x['clustering'])) return undefined;
  const backend = (x['clusterbackend'] ?? 'etcd').trim().toLowerCase();
  if (backend !== 'etcd') throw new Error(`cluster backend = ${backend}: only "etcd" is supported`);
  const endpoints = (x['etcdendpoints'] ?? '').split(/[\s,]+/).filter(Boolean);
  if (!endpoints.length) throw new Error('clustering = yes needs "etcd endpoints = host:port, ..."');
  const nodeName = (x['clusternodename'] ?? hostname()).trim();
  if (!/^[A-Za-z0-9._-]{1,64}$/.test(nodeName)) throw new Error(`cluster node name ${JSON.stringify(nodeName)}: letters, digits, . _ - only`);
  const ttl = Number(x['clusterleasettl'] ?? '10');
  if (!Number.isInteger(ttl) || ttl < 2 || ttl > 300) throw new Error('cluster lease ttl: 2..300 seconds');
  return { backend: 'etcd', endpoints, nodeName, leaseTtl: ttl };
}
