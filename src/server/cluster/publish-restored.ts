// Persistent opens restored from the state store at start (durable.ts restorePersistent) exist
// before the node joins the cluster: publish them once joined, so other nodes see their share
// modes, locks and caching at once rather than at the open's next state change. An open another
// node's record conflicts with (a node that took the handle over while this one was down) is not
// forced in: it stays local and is logged; its client's reconnect decides where it lives.
import type { ServerCore } from '../internal.js';
import type { ServerState } from '../types.js';
import { durableOpens } from '../durable.js';
import { leaseStateOf } from '../leases.js';
import { clusterIntent } from './create-hook.js';
import { conflictingOpens } from '../share-modes.js';
import type { ClusterHooks } from './hooks.js';

export async function publishRestored(server: ServerCore, cluster: ClusterHooks): Promise<number> {
  let n = 0;
  for (const open of durableOpens(server as unknown as ServerState)) {
    if (!open.fileKey) continue;
    const lease = leaseStateOf(open);
    const intent = clusterIntent(open.tree, open.path, open.fileKey, open.grantedAccess, open.shareAccess, lease || undefined, open.oplockLevel);
    try {
      // reserve() compares on the file's revision; false = it moved (mirror refreshed): look again.
      for (let attempt = 0; attempt < 8; attempt++) {
        const remote = server.remoteOpens?.(open.fileKey) ?? [];
        if (conflictingOpens(remote, open.grantedAccess, open.shareAccess).length) {
          server.log(`cluster: restored open ${open.tree.share.name}/${open.path} conflicts with another node's open: kept local`);
          break;
        }
        const r = await cluster.reserve(intent);
        if (!r) continue;
        await r.bind(open);
        n++;
        break;
      }
    } catch (e) {
      server.log(`cluster: restored open ${open.tree.share.name}/${open.path} not published: ${(e as Error).message}`);
    }
  }
  return n;
}
