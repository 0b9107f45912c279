// Entry of a worker process (forked by primary.ts): one ordinary smbts server state machine
// without a listener. It serves the connections the primary hands it, answers status requests,
// and exits when told to or when the primary goes away.
import type { Socket } from 'node:net';
import { UserDb } from '../../auth/userdb.js';
import { startServer, type SmbServer } from '../index.js';
import { IpcKv } from './ipc-kv.js';
import { bytes, type FromWorker, type InitMsg, type ToWorker } from './messages.js';

const post = (m: FromWorker): boolean => {
  try {
    return process.send?.(m) ?? false;
  } catch {
    return false;
  }
};

let server: SmbServer | undefined;
let kv: IpcKv | undefined;
let exiting = false;
/** connections that arrived before the server was up (the primary waits for ready, so rare) */
const early: Array<{ socket: Socket; head: Buffer }> = [];

async function init(m: InitMsg): Promise<void> {
  const users = UserDb.parse(m.users, 'primary');
  if (m.coordination) {
    kv = new IpcKv((req) => post(req));
    // the cluster coordinator runs on `kv` here once server/cluster/ has one (primary.ts
    // COORDINATION_AVAILABLE); until then the primary refuses coordination 'local'
  }
  server = await startServer({
    config: m.config, users, port: 0, host: '127.0.0.1',
    ...(m.log ? { log: (line: string) => { post({ t: 'log', line }); } } : {}),
    worker: { serverGuid: bytes(m.serverGuid) },
  });
  for (const x of early.splice(0)) server.adopt?.(x.socket, x.head);
  post({ t: 'ready' });
}

async function exit(code: number): Promise<void> {
  if (exiting) return;
  exiting = true;
  const t = setTimeout(() => process.exit(code), 3_000);
  t.unref();
  try {
    await server?.close();
    await kv?.close();
  } finally {
    process.exit(code);
  }
}

process.on('message', (raw: unknown, handle: unknown) => {
  const m = raw as ToWorker;
  if (kv?.receive(m)) return;
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
      if (exiting) socket.destroy();
      else if (server?.adopt) server.adopt(socket, head);
      else early.push({ socket, head });
      break;
    }
    case 'status':
      if (server) post({ t: 'status-res', id: m.id, status: server.status() });
      break;
    case 'close':
      void exit(0);
      break;
  }
});
// the primary died or closed the channel: nobody routes to us any more
process.on('disconnect', () => void exit(0));
process.on('unhandledRejection', (e) => post({ t: 'log', line: `unhandled rejection: ${(e as Error)?.stack ?? String(e)}` }));
