// smbts status --cluster --config smb.conf: the cluster as etcd holds it (any machine that reaches
// the endpoints can ask; no running node needed): nodes and their liveness, opens with their
// share mode, oplock/lease and byte-range locks.
import { loadConfig } from '../config/config.js';
import { clusterConfigOf } from '../server/cluster/config.js';
import { readClusterStatus, type ClusterStatus } from '../server/cluster/coordinator.js';
import { UsageError } from './serve-common.js';

const hex = (n: number): string => '0x' + (n >>> 0).toString(16).padStart(8, '0');

function print(s: ClusterStatus): void {
  console.log(`nodes: ${s.nodes.length}`);
  for (const n of s.nodes) {
    const where = n.info['address'] !== undefined ? `  ${String(n.info['address'])}:${String(n.info['port'])}` : '';
    const since = n.info['since'] !== undefined ? `  up since ${String(n.info['since'])}` : '';
    console.log(`  ${n.name}  ${n.alive ? 'alive' : 'lease expiring'}${where}${since}`);
  }
  console.log(`opens: ${s.opens.length}`);
  for (const o of s.opens) {
    const caching = o.leaseState ? `lease ${['', 'R', 'H', 'RH', 'W', 'RW', 'WH', 'RWH'][o.leaseState & 7]}` : `oplock ${hex(o.oplock).slice(-2)}`;
    console.log(`  [${o.share}] ${o.path || '\\'}  node ${o.node}  ${o.user || '(reserved)'}  access ${hex(o.access)}  share ${o.shareAccess}  ${caching}  locks ${o.locks.length}`);
    for (const [off, len, excl] of o.locks) console.log(`      ${excl ? 'exclusive' : 'shared'} ${off}+${len}`);
  }
}

export async function clusterStatusCommand(configPath: string | undefined, json: boolean): Promise<number> {
  if (!configPath) throw new UsageError('status --cluster needs --config smb.conf (its etcd endpoints)');
  const cfg = clusterConfigOf(loadConfig(configPath));
  if (!cfg) throw new UsageError(`${configPath} does not say "clustering = yes"`);
  const { openEtcdKv } = await import('../server/cluster/etcd-kv.js');
  const kv = await openEtcdKv({ endpoints: cfg.endpoints });
  try {
    const s = await readClusterStatus(kv);
    if (json) console.log(JSON.stringify({ nodes: s.nodes, opens: s.opens }, null, 2));
    else print(s);
    return 0;
  } catch (e) {
    console.error(`cluster store unavailable (${cfg.endpoints.join(',')}): ${(e as Error).message}`);
    return 1;
  } finally {
    await kv.close();
  }
}
