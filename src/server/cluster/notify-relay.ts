// CHANGE_NOTIFY across the nodes of an etcd cluster: a change reported on one node
// (open-file.ts reportChange) is put under smbts/notify/<node>; every node watches smbts/notify/ and
// reports the other nodes' changes to its own CHANGE_NOTIFY watches, whose clients may watch the
// same directory. One key per node, overwritten: a watch sees every put in revision order, so
// nothing piles up in the store. One put is in flight at a time and the changes reported meanwhile
// go in the next put as one batch: two puts in flight at once may reach etcd in either order, and a
// watcher would then see a file modified before it was added. Best effort, as a relay must be: a
// put that fails (no quorum) or a watch that has to restart loses those events, and the change
// itself is not held up by either.
// Worker processes (server/workers/) relay through their primary instead and do not use this.
import type { ServerCore } from '../internal.js';
import type { ShareTree } from '../types.js';
import { changeReporter, reportChange, setChangeReporter } from '../open-file.js';
import type { Kv, KvEvent, KvWatch } from './kv.js';

const NOTIFY = 'smbts/notify/';

interface ChangeRecord { share: string; path: string; action: number; filter: number }

/** Changes waiting for the put in flight; beyond this many, further changes are dropped (best effort). */
const MAX_PENDING = 4096;

/** Starts relaying `server`'s changes through `kv`; resolves to the function that stops it. */
export async function relayChangesThroughKv(server: ServerCore, kv: Kv, node: string): Promise<() => Promise<void>> {
  let relaying = false;
  let stopped = false;
  let pending: ChangeRecord[] = [];
  let putting = false;
  const flush = (): void => {
    if (putting || pending.length === 0 || stopped) return;
    const batch = pending;
    pending = [];
    putting = true;
    void kv.txn({ compare: [], then: [{ type: 'put', key: NOTIFY + node, value: JSON.stringify(batch) }] })
      .catch(() => undefined)
      .finally(() => { putting = false; flush(); });
  };
  const prev = changeReporter();
  // The reporter is process-wide: several in-process nodes (tests, embedders) each chain one and
  // publish only their own server's changes.
  setChangeReporter((srv, tree, path, action, filter) => {
    prev(srv, tree, path, action, filter);
    if (relaying || srv !== server || stopped) return;
    if (pending.length >= MAX_PENDING) return;
    pending.push({ share: tree.share.name, path, action, filter });
    flush();
  });

  const fromElsewhere = (e: KvEvent): void => {
    if (e.type !== 'put' || e.key === NOTIFY + node) return;
    let batch: unknown;
    try {
      batch = JSON.parse(e.value);
    } catch {
      return;
    }
    if (!Array.isArray(batch)) return;
    for (const rec of batch as ChangeRecord[]) {
      if (typeof rec?.share !== 'string' || typeof rec.path !== 'string') continue;
      const share = server.findShare(rec.share);
      if (!share) continue;
      const tree = { share } as ShareTree; // what the change sinks read of a tree
      relaying = true;
      try {
        reportChange(server, tree, rec.path, rec.action >>> 0, rec.filter >>> 0);
      } finally {
        relaying = false;
      }
    }
  };

  let watch: KvWatch | undefined;
  const start = async (): Promise<void> => {
    const now = await kv.getPrefix(NOTIFY + node);
    if (stopped) return;
    watch = await kv.watchPrefix(NOTIFY, now.revision + 1, {
      onEvents: (evs) => { for (const e of evs) fromElsewhere(e); },
      // Events lost while the watch restarts are not replayed (see the header).
      onReset: () => { void watch?.cancel().catch(() => undefined); if (!stopped) setTimeout(() => { void start().catch(() => undefined); }, 500).unref(); },
    });
  };
  await start();
  return async () => {
    stopped = true;
    await watch?.cancel().catch(() => undefined);
  };
}
