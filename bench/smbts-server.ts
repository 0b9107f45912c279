// Child-process entry: runs the smbts server for the bench on 127.0.0.1, port 0 (or argv[3]),
// share [share] at argv[2], user test/test. Prints one JSON line {"port":N} once listening.
// SIGTERM/SIGINT or stdin EOF -> close and exit 0 (so --cpu-prof profiles get written).
// The server API is loaded at run time so the bench compiles whatever state src/ is in.
import { resolve } from 'node:path';

interface ServerHandle {
  port?: number;
  address?: () => unknown;
  close?: () => unknown;
  stop?: () => unknown;
}

const dir = process.argv[2];
const wantPort = Number(process.argv[3] ?? 0);
if (!dir) {
  process.stderr.write('usage: smbts-server.js SHARE_DIR [PORT]\n');
  process.exit(2);
}

const load = (p: string): Promise<Record<string, unknown>> => import(p) as Promise<Record<string, unknown>>;
const serverMod = await load('../src/server/index.js');
const configMod = await load('../src/config/config.js');
const userMod = await load('../src/auth/userdb.js');

const defaultConfig = configMod.defaultConfig as (d: string) => Record<string, unknown>;
const config = defaultConfig(resolve(dir));
config.port = wantPort;
// BENCH_WORKERS: `smbts:workers = N` (worker processes; docs/config.md)
// (coordination 'local' by default; SMBTS_BENCH_WORKERS_COORD=none measures without it)
if (process.env.SMBTS_BENCH_WORKERS) {
  const extra = config.extra as Record<string, string>;
  extra['smbts:workers'] = process.env.SMBTS_BENCH_WORKERS;
  if (process.env.SMBTS_BENCH_WORKERS_COORD) extra['smbts:workerscoordination'] = process.env.SMBTS_BENCH_WORKERS_COORD;
}
const UserDb = userMod.UserDb as { empty(): { add(u: string, p: string): unknown } };
const db = UserDb.empty();
const added = db.add('test', 'test');
const users = added && typeof added === 'object' ? added : db;
const startServer = serverMod.startServer as (o: Record<string, unknown>) => Promise<ServerHandle> | ServerHandle;
const srv = await startServer({ config, users, host: '127.0.0.1', port: wantPort });

function portOf(s: ServerHandle): number {
  if (typeof s.port === 'number' && s.port > 0) return s.port;
  const a = typeof s.address === 'function' ? s.address() : undefined;
  if (a && typeof a === 'object' && typeof (a as { port?: unknown }).port === 'number') return (a as { port: number }).port;
  const inner = (s as unknown as { server?: ServerHandle }).server;
  if (inner && inner !== s) return portOf(inner);
  return wantPort;
}

process.stdout.write(`${JSON.stringify({ port: portOf(srv), pid: process.pid })}\n`);

let closing = false;
async function shutdown(): Promise<void> {
  if (closing) return;
  closing = true;
  const t = setTimeout(() => process.exit(0), 3000);
  t.unref();
  try {
    if (typeof srv.close === 'function') await srv.close();
    else if (typeof srv.stop === 'function') await srv.stop();
  } catch {
    /* exiting anyway */
  }
  process.exit(0);
}
process.on('SIGTERM', () => void shutdown());
process.on('SIGINT', () => void shutdown());
process.stdin.on('end', () => void shutdown());
process.stdin.resume();
