// Entry of a worker process (forked by primary.ts): one ordinary smbts server state machine
// without a listener. It serves the connections the primary hands it, answers status requests,
// and exits when told to or when the primary goes away.
import type { Socket } from 'node:net';
import { UserDb } from '../../auth/userdb.js';
import { startServer, type SmbServer } from '../index.js';
import { IpcKv } from './ipc-kv.js';
import { ClaimClient } from './claim-client.js';
import { ClusterNode } from '../cluster/coordinator.js';

/** The local KV does not expire leases by time: the primary ends a worker's lease when it exits. */
const LEASE_TTL_S = 10;
import { b64, bytes, type FromWorker, type InitMsg, type NotifyMsg, type ToWorker } from './messages.js';
import { changeReporter, onAnyClose, reportChange, setChangeReporter } from '../open-file.js';
import { setWatchListener } from '../handlers/change-notify.js';
import { setSnapshotListener } from '../handlers/query-directory.js';
import type { Open, ShareTree } from '../types.js';
import type { ServerStateImpl } from '../state.js';

/** Posts to the primary; false only when the channel is gone (send() false = queued, still sent). */
const post = (m: FromWorker): boolean => {
  if (!process.send || !process.connected) return false;
  try {
    process.send(m, undefined, {}, () => undefined);
    return true;
  } catch {
    return false;
  }
};

let server: SmbServer | undefined;
let state: ServerStateImpl | undefined;
let relaying = false;

/**
 * Change reports (open-file.ts reportChange) go to this worker's CHANGE_NOTIFY watches and, through
 * the primary, to the other workers', whose clients may watch the same directory.
 */
function relayChanges(s: ServerStateImpl): void {
  state = s;
  const local = changeReporter();
  setChangeReporter((srv, tree, path, action, filter) => {
    local(srv, tree, path, action, filter);
    if (relayOn && !relaying && srv === state) post({ t: 'notify', share: tree.share.name, path, action, filter });
  });
  // The primary hears when this worker starts and stops needing other workers' changes: while it
  // has CHANGE_NOTIFY watches or a listing snapshot with entries still to return (names removed
  // meanwhile are dropped from it, query-directory.ts); it relays to such workers only.
  let watches = false;
  let told = false;
  const snapshots = new Set<Open>();
  const update = (): void => {
    const on = watches || snapshots.size > 0;
    if (on !== told) {
      told = on;
      post({ t: 'watching', on });
    }
  };
  setWatchListener((srv, on) => {
    if (srv !== state) return;
    watches = on;
    update();
  });
  setSnapshotListener((srv, open, pending) => {
    if (srv !== state || (pending ? snapshots.has(open) : !snapshots.has(open))) return;
    if (pending) snapshots.add(open);
    else snapshots.delete(open);
    update();
  });
  onAnyClose((srv, open) => { if (srv === state && snapshots.delete(open)) update(); });
}
/** Another worker has CHANGE_NOTIFY watches (the primary says so): only then are changes posted. */
let relayOn = false;

function changeFromElsewhere(m: NotifyMsg): void {
  if (!state) return;
  const tree = { share: { name: m.share } } as ShareTree; // what the change sinks read of a tree
  relaying = true;
  try {
    reportChange(state, tree, m.path, m.action, m.filter);
  } finally {
    relaying = false;
  }
}
let kv: IpcKv | undefined;
let claims: ClaimClient | undefined;
let exiting = false;
/** connections that arrived before the server was up (the primary waits for ready, so rare) */
const early: Array<{ socket: Socket; head: Buffer; smb1: Buffer | undefined }> = [];

async function init(m: InitMsg): Promise<void> {
  const users = UserDb.parse(m.users, 'primary');
  // coordination 'local': this worker is a node of a cluster whose store is the primary's KV
  // (kv-host.ts); share modes, locks and oplock/lease breaks between workers go through it
  // exactly as between the machines of an etcd cluster (server/cluster/coordinator.ts)
  const ipc = m.coordination ? new IpcKv((req) => post(req)) : undefined;
  kv = ipc;
  // file claims (cluster/claims.ts): a file only this worker has open is decided here alone
  const own = m.coordination ? new ClaimClient((msg) => post(msg)) : undefined;
  claims = own;
  const cluster = ipc
    ? (state: Parameters<typeof ClusterNode.start>[0]) => ClusterNode.start(state, ipc, `worker-${m.index}`, LEASE_TTL_S, { worker: m.index, pid: process.pid }, true, own)
    : undefined;
  server = await startServer({
    config: m.config, users, port: 0, host: '127.0.0.1',
    ...(m.log ? { log: (line: string) => { post({ t: 'log', line }); } } : {}),
    worker: { serverGuid: bytes(m.serverGuid), ...(cluster ? { cluster } : {}), started: relayChanges },
  });
  for (const x of early.splice(0)) server.adopt?.(x.socket, x.head, x.smb1);
  post({ t: 'ready', hint: b64(state?.negotiateHint ?? Buffer.alloc(0)) });
}

async function exit(code: number): Promise<void> {
  if (exiting) return;
  exiting = true;
  const t = setTimeout(() => process.exit(code), 3_000);
  t.unref();
  try {
    await server?.close();
    await kv?.close();
    claims?.close();
  } finally {
    process.exit(code);
  }
}

process.on('message', (raw: unknown, handle: unknown) => {
  const m = raw as ToWorker;
  if (kv?.receive(m)) return;
  if (claims?.receive(m)) return;
  switch (m.t) {
    case 'init':
      init(m).catch((e: unknown) => {
        post({ t: 'fatal', error: (e as Error).message });
        void exit(1);
      });
      break;
    case 'conn': {
      const socket = handle as Socket | undefined;
      if (!socket) return;
      const head = bytes(m.head);
      const smb1 = m.smb1 !== undefined ? bytes(m.smb1) : undefined;
      if (exiting) socket.destroy();
      else if (server?.adopt) server.adopt(socket, head, smb1);
      else early.push({ socket, head, smb1 });
      break;
    }
    case 'status':
      if (server) post({ t: 'status-res', id: m.id, status: server.status() });
      break;
    case 'close':
      void exit(0);
      break;
    case 'notify':
      changeFromElsewhere(m);
      break;
    case 'relay':
      relayOn = m.on;
      break;
  }
});
// the primary died or closed the channel: nobody routes to us any more
process.on('disconnect', () => void exit(0));
process.on('unhandledRejection', (e) => post({ t: 'log', line: `unhandled rejection: ${(e as Error)?.stack ?? String(e)}` }));
