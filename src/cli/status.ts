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
  console.log(`  connections: ${s.connections.length}`);
  for (const c of s.connections) {
    console.log(`    #${c.id} ${c.remoteAddress} -> ${c.localAddress}  SMB ${c.dialect}  in ${c.bytesIn} B  out ${c.bytesOut} B  in flight ${c.requestsInFlight}`);
  }
  console.log(`  sessions: ${s.sessions.length}`);
  for (const x of s.sessions) {
    const who = x.anonymous ? '(anonymous)' : `${x.domain ? x.domain + '\\' : ''}${x.user}${x.guest ? ' (guest)' : ''}`;
    const flags = [x.encrypted ? 'encrypted' : '', x.signingRequired ? 'signing required' : ''].filter(Boolean).join(', ');
    console.log(`    ${x.sessionId} ${who}  SMB ${x.dialect}  ${x.state}${flags ? '  ' + flags : ''}  trees [${x.trees.join(', ')}]  open files ${x.openFiles}`);
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

export async function statusCommand(argv: string[]): Promise<number> {
  const args = parseArgs(argv, new Set(['users', 'u', 'port', 'p']));
  const dir = nodePath.dirname(nodePath.resolve(str(args, 'users', 'u') ?? defaultUsersFile()));
  const port = str(args, 'port', 'p');
  let sockets: string[] = [];
  try {
    sockets = fs.readdirSync(dir).filter((f) => /^smbts-\d+\.sock$/.test(f)).map((f) => nodePath.join(dir, f));
  } catch {
    // no directory: no servers
  }
  if (port !== undefined) sockets = sockets.filter((p) => p.endsWith(`smbts-${port}.sock`));
  if (sockets.length === 0) {
    console.error(`no running smbts server found (looked for smbts-*.sock in ${dir})`);
    return 1;
  }
  let rc = 0;
  for (const p of sockets) {
    try {
      const s = await query(p);
      if (args.options.has('json')) console.log(JSON.stringify(s, null, 2));
      else print(s);
    } catch (e) {
      console.error(`${p}: ${(e as Error).message} (stale socket of a stopped server?)`);
      rc = 1;
    }
  }
  return rc;
}
