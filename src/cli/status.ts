// smbts status [--users FILE] [--port N] [--json]: asks running servers (admin unix sockets next
// to the user database) for their sessions, channels and connections.
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as nodePath from 'node:path';
import type { ServerStatus } from '../server/index.js';
import { defaultUsersFile, parseArgs, str } from './serve-common.js';

function query(path: string, timeoutMs = 3000): Promise<ServerStatus> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    const sock = net.connect(path);
    const timer = setTimeout(() => {
      sock.destroy();
      reject(new Error('timed out'));
    }, timeoutMs);
    sock.on('data', (c) => chunks.push(c));
    sock.on('error', (e) => {
      clearTimeout(timer);
      reject(e);
    });
    sock.on('end', () => {
      clearTimeout(timer);
      try {
        resolve(JSON.parse(Buffer.concat(chunks).toString('utf8')) as ServerStatus);
      } catch (e) {
        reject(e as Error);
      }
    });
  });
}

function print(s: ServerStatus): void {
  console.log(`server ${s.address}:${s.port}  up since ${s.startedAt}  open files ${s.openFiles}`);
  if (s.workers) {
    console.log(`  workers: ${s.workers.length}`);
    for (const w of s.workers) console.log(`    worker ${w.index} pid ${w.pid || '(restarting)'}  restarts ${w.restarts}  connections ${w.connections}  sessions ${w.sessions}  open files ${w.openFiles}`);
  }
  console.log(`  connections: ${s.connections.length}`);
  for (const c of s.connections) {
    console.log(`    #${c.id}${c.worker !== undefined ? ` (worker ${c.worker})` : ''} ${c.remoteAddress} -> ${c.localAddress}  SMB ${c.dialect}  in ${c.bytesIn} B  out ${c.bytesOut} B  in flight ${c.requestsInFlight}`);
  }
  console.log(`  sessions: ${s.sessions.length}`);
  for (const x of s.sessions) {
    const who = x.anonymous ? '(anonymous)' : `${x.domain ? x.domain + '\\' : ''}${x.user}${x.guest ? ' (guest)' : ''}`;
    const flags = [x.encrypted ? 'encrypted' : '', x.signingRequired ? 'signing required' : ''].filter(Boolean).join(', ');
    console.log(`    ${x.sessionId}${x.worker !== undefined ? ` (worker ${x.worker})` : ''} ${who}  SMB ${x.dialect}  ${x.state}${flags ? '  ' + flags : ''}  trees [${x.trees.join(', ')}]  open files ${x.openFiles}`);
    for (const ch of x.channels) {
      console.log(`      channel conn #${ch.connectionId} ${ch.remoteAddress} -> ${ch.localAddress}  signing key ${ch.signingKeyId}  in ${ch.bytesIn} B  out ${ch.bytesOut} B  in flight ${ch.requestsInFlight}`);
    }
  }
  const dis = s.disconnectedOpens ?? [];
  console.log(`  disconnected opens: ${dis.length}`);
  for (const d of dis) {
    console.log(`    [${d.share}] ${d.path || '\\'}  ${d.kind}  ${d.user}  ${d.lease}  locks ${d.locks}  closes in ${d.remainingSeconds} s`);
  }
}

export const STATUS_USAGE = `usage: smbts status [--users FILE] [--port N] [--json]
       smbts status --cluster --config smb.conf [--json]
  asks the smbts servers running with this user database (their admin sockets sit next to it) for
  their connections, sessions, channels and open files
  --users     the servers' user database (default ~/.smbts/smbpasswd or SMBTS_HOME)
  --port      only the server on this port
  --json      one JSON document: an array with one status object per server
  --cluster   the cluster's nodes, their liveness and its opens, locks, oplocks and leases, read
              from the etcd endpoints of the config (docs/cluster-coordination.md)`;

export async function statusCommand(argv: string[]): Promise<number> {
  const args = parseArgs(argv, new Set(['users', 'u', 'port', 'p', 'config']));
  if (args.options.has('help') || args.options.has('h')) {
    console.log(STATUS_USAGE);
    return 0;
  }
  if (args.options.has('cluster')) return (await import('./status-cluster.js')).clusterStatusCommand(str(args, 'config'), args.options.has('json'));
  const dir = nodePath.dirname(nodePath.resolve(str(args, 'users', 'u') ?? defaultUsersFile()));
  const port = str(args, 'port', 'p');
  let sockets: string[] = [];
  try {
    sockets = fs.readdirSync(dir).filter((f) => /^smbts-\d+\.sock$/.test(f)).map((f) => nodePath.join(dir, f));
  } catch {
    // no directory: no servers
  }
  if (port !== undefined) sockets = sockets.filter((p) => p.endsWith(`smbts-${port}.sock`));
  const found: ServerStatus[] = [];
  let failed = false;
  for (const p of sockets) {
    try {
      found.push(await query(p));
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (code === 'ECONNREFUSED' || code === 'ENOENT') {
        // Nobody listens: the socket of a server that did not exit cleanly. Remove it (serve
        // would on its next start) and carry on.
        try { fs.unlinkSync(p); } catch { /* gone, or not ours to remove */ }
        continue;
      }
      console.error(`${p}: ${(e as Error).message}`);
      failed = true;
    }
  }
  if (found.length === 0 && !failed) {
    console.error(`no running smbts server found (looked for smbts-*.sock in ${dir})`);
    return 1;
  }
  if (args.options.has('json')) console.log(JSON.stringify(found, null, 2));
  else for (const s of found) print(s);
  return failed ? 1 : 0;
}
