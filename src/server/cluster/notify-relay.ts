// CHANGE_NOTIFY across the nodes of an etcd cluster: a change reported on one node
// (open-file.ts reportChange) is put under smbts/notify/<node>; every node watches smbts/notify/ and
// reports the other nodes' changes to its own CHANGE_NOTIFY watches, whose clients may watch the
// same directory. One key per node, overwritten: a watch sees every put in revision order, so
// nothing piles up in the store. Best effort, as a relay must be: a put that fails (no quorum) or a
// watch that has to restart loses those events, and the change itself is not held up by either.
// Worker processes (server/workers/) relay through their primary instead and do not use this.
import type { ServerCore } from '../internal.js';
import type { ShareTree } from '../types.js';
import { changeReporter, reportChange, setChangeReporter } from '../open-file.js';
import type { Kv, KvEvent, KvWatch } from './kv.js';

const NOTIFY = 'smbts/notify/';

interface ChangeRecord { share: string; path: string; action: number; filter: number }

/** Starts relaying `server`'s changes through `kv`; resolves to the function that stops it. */
export async function relayChangesThroughKv(server: ServerCore, kv: Kv, node: string): Promise<() => Promise<void>> {
  let relaying = false;
  let stopped = false;
  const prev = changeReporter();
  // The reporter is process-wide: several in-process nodes (tests, embedders) each chain one and
  // publish only their own server's changes.
  setChangeReporter((srv, tree, path, action, filter) => {
    prev(srv, tree, path, action, filter);
    if (relaying || srv !== server || stopped) return;
    const rec: ChangeRecord = { share: tree.share.name, path, action, filter };
    void kv.txn({ compare: [], then: [{ type: 'put', key: NOTIFY + node, value: JSON.stringify(rec) }] }).catch(() => undefined);
  });

  const fromElsewhere = (e: KvEvent): void => {
    if (e.type !== 'put' || e.key === NOTIFY + node) return;
    let rec: ChangeRecord;
    try {
      rec = JSON.parse(e.value) as ChangeRecord;
    } catch {
      return;
    }
    if (typeof rec.share !== 'string' || typeof rec.path !== 'string') return;
    const share = server.findShare(rec.share);
    if (!share) return;
    const tree = { share } as ShareTree; // what the change sinks read of a tree
    relaying = true;
    try {
      reportChange(server, tree, rec.path, rec.action >>> 0, rec.filter >>> 0);
    } finally {
      relaying = false;
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
