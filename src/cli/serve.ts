// smbts serve [DIR] [--config smb.conf] [--port N] [--host ADDR] [--users FILE] [--quiet]
// Without --config, DIR (default ./smbts-share, created if missing) is shared as [share].
// Without a user database, one is created with user "smbts" and a random password (printed once).
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as nodePath from 'node:path';
import * as os from 'node:os';
import { randomBytes } from 'node:crypto';
import { defaultConfig, loadConfig, type ServerConfig } from '../config/config.js';
import { UserDb } from '../auth/userdb.js';
import { startServer, type SmbServer } from '../server/index.js';
import { adminSocketPath, defaultUsersFile, parseArgs, str, UsageError } from './serve-common.js';
import { providerByName } from './rdma-test.js';

export const SERVE_USAGE = `usage: smbts serve [DIR] [--config smb.conf] [--port N] [--host ADDR] [--users FILE] [--quiet]
  DIR         directory to share as [share] when no --config is given (default ./smbts-share)
  --config    Samba-style smb.conf (shares, protocol range, signing, encryption)
  --port      TCP port (default: the config's "smb ports", 4450); 0 = any free port
  --host      address to listen on (default 0.0.0.0)
  --users     smbpasswd-format user database (default ~/.smbts/smbpasswd or SMBTS_HOME)
  --quiet     no per-connection log lines
  --netbios-port N    also serve SMB over NetBIOS (RFC 1002 session service; 139)
  --smbdirect-port N  also serve SMB-Direct (MS-SMBD) on an RDMA provider (5445; docs/smbdirect.md)
  --rdma-provider P   libfabric provider for SMB-Direct (tcp, verbs; default $FI_PROVIDER or tcp)`;

function randomPassword(): string {
  // 18 url-safe characters (~108 bits); no shell metacharacters, easy to paste.
  return randomBytes(14).toString('base64url').slice(0, 18);
}

function localAddresses(): string[] {
  const out: string[] = [];
  for (const list of Object.values(os.networkInterfaces())) {
    for (const a of list ?? []) if (a.family === 'IPv4' && !a.internal) out.push(a.address);
  }
  return out;
}

interface Users {
  db: UserDb;
  file: string;
  created?: { user: string; password: string };
}

function loadOrCreateUsers(file: string): Users {
  if (fs.existsSync(file)) return { db: UserDb.load(file), file };
  const db = UserDb.empty();
  const password = process.env.SMBTS_PASSWORD || randomPassword();
  db.add('smbts', password);
  fs.mkdirSync(nodePath.dirname(file), { recursive: true, mode: 0o700 });
  db.save(file);
  return { db, file, created: { user: 'smbts', password } };
}

/** Serves status() as JSON on a unix socket next to the user database (for `smbts status`). */
function startAdminSocket(path: string, server: SmbServer): net.Server | undefined {
  try {
    if (fs.existsSync(path)) {
      // A stale socket from a crashed server: remove it (a live one would still accept).
      fs.unlinkSync(path);
    }
    const admin = net.createServer((sock) => {
      sock.on('error', () => undefined);
      // with worker processes the status is gathered from each of them (server/workers/primary.ts)
      const st = server.statusAsync ? server.statusAsync() : Promise.resolve(server.status());
      st.then((s) => sock.end(JSON.stringify(s) + '\n'), () => sock.destroy());
    });
    admin.on('error', () => undefined);
    admin.listen(path, () => {
      try {
        fs.chmodSync(path, 0o600);
      } catch {
        // not fatal
      }
    });
    return admin;
  } catch {
    return undefined;
  }
}

export async function serveCommand(argv: string[]): Promise<number> {
  const args = parseArgs(argv, new Set(['config', 'c', 'port', 'p', 'host', 'users', 'u', 'netbios-port', 'smbdirect-port', 'rdma-provider']));
  if (args.options.has('help') || args.options.has('h')) {
    console.log(SERVE_USAGE);
    return 0;
  }
  if (args.positional.length > 1) throw new UsageError(`serve takes at most one directory\n${SERVE_USAGE}`);
  const configPath = str(args, 'config', 'c');
  const portArg = str(args, 'port', 'p');
  const host = str(args, 'host') ?? '0.0.0.0';
  const quiet = args.options.has('quiet');

  let config: ServerConfig;
  if (configPath) {
    config = loadConfig(configPath);
    if (args.positional.length) throw new UsageError('give either DIR or --config, not both');
  } else {
    const dir = nodePath.resolve(args.positional[0] ?? 'smbts-share');
    if (!fs.existsSync(dir)) {
      fs.mkdirSync(dir, { recursive: true });
      console.log(`created ${dir}`);
    } else if (!fs.statSync(dir).isDirectory()) {
      throw new UsageError(`${dir} is not a directory`);
    }
    config = defaultConfig(dir);
  }
  for (const w of config.warnings) console.error(`config: ${w}`);

  let port = config.port;
  if (portArg !== undefined) {
    port = Number(portArg);
    if (!Number.isInteger(port) || port < 0 || port > 65535) throw new UsageError(`bad port ${portArg}`);
  }
  const usersFile = nodePath.resolve(str(args, 'users', 'u') ?? config.userDb ?? defaultUsersFile());
  const users = loadOrCreateUsers(usersFile);

  // Last line of defence: a stray rejection is logged, never fatal (the request path guards its own).
  process.on('unhandledRejection', (e) => console.error(`unhandled rejection: ${(e as Error)?.stack ?? String(e)}`));
  const log = quiet ? undefined : (line: string): void => console.log(`${new Date().toISOString()} ${line}`);
  const portOf = (name: string): number | undefined => {
    const v = str(args, name);
    if (v === undefined) return undefined;
    const n = Number(v);
    if (!Number.isInteger(n) || n < 0 || n > 65535) throw new UsageError(`bad --${name} ${v}`);
    return n;
  };
  const netbiosPort = portOf('netbios-port');
  const smbdirectPort = portOf('smbdirect-port');
  // Worker processes (smbts:workers) get the config when they start: name the private paths now.
  config.privatePaths = [...(config.privatePaths ?? []), usersFile, ...(port ? [adminSocketPath(usersFile, port)] : [])];
  const server = await startServer({
    config, users: users.db, host, port, log, netbiosPort,
    ...(smbdirectPort !== undefined ? { smbdirect: { provider: providerByName(str(args, 'rdma-provider')), port: smbdirectPort } } : {}),
  });
  if (server.netbiosPort !== undefined) console.log(`smbts: NetBIOS session service on ${server.address}:${server.netbiosPort}`);
  if (server.smbdirectPort !== undefined) console.log(`smbts: SMB-Direct on ${server.address}:${server.smbdirectPort}`);
  const adminPath = adminSocketPath(usersFile, server.port);
  // Never served by a share (read when a share is first used, i.e. after this line).
  config.privatePaths = [...(config.privatePaths ?? []), usersFile, adminPath];
  const admin = startAdminSocket(adminPath, server);

  const shown = host === '0.0.0.0' || host === '::' ? (localAddresses()[0] ?? '127.0.0.1') : host;
  const shares = config.shares.filter((s) => !s.ipc);
  const first = shares[0]?.name ?? 'share';
  const user = users.created?.user ?? users.db.list()[0] ?? 'USER';
  const pass = users.created?.password ?? 'PASSWORD';
  console.log(`smbts listening on ${server.address}:${server.port}`);
  for (const s of shares) console.log(`  [${s.name}] ${s.path}${s.readOnly ? ' (read only)' : ''}`);
  if (users.created) {
    console.log(`created user database ${usersFile}`);
    console.log(`  user: ${users.created.user}   password: ${users.created.password}   (shown only now; change with "smbts user add smbts")`);
  } else {
    console.log(`users from ${usersFile}: ${users.db.list().join(', ') || '(none: add one with "smbts user add NAME")'}`);
  }
  console.log('connect with:');
  console.log(`  smbclient //${shown}/${first} -p ${server.port} -U ${user}%${pass}`);
  console.log(`  sudo mount -t cifs //${shown}/${first} /mnt -o port=${server.port},username=${user},password=${pass},vers=3.1.1`);
  console.log(`  UNC path: \\\\${shown}\\${first}${server.port !== 445 ? `   (Windows only connects on port 445)` : ''}`);
  if (admin) console.log(`status: smbts status --users ${usersFile}`);

  await new Promise<void>((resolve) => {
    let stopping = false;
    const stop = (sig: string): void => {
      if (stopping) return;
      stopping = true;
      console.log(`${sig}: stopping`);
      admin?.close();
      try {
        fs.unlinkSync(adminPath);
      } catch {
        // already gone
      }
      server.close().then(resolve, resolve);
    };
    process.once('SIGINT', () => stop('SIGINT'));
    process.once('SIGTERM', () => stop('SIGTERM'));
  });
  return 0;
}
