// startServer's embedding options turned into what the server runs on: the share list (shares
// named only in `vfs` added with default settings), the user database (a plain user -> password
// map accepted), and the check that every disk share's directory exists, so a wrong path is an
// error at start rather than a failure at the first client request.
import { stat } from 'node:fs/promises';
import { parseConfig, type ServerConfig, type ShareConfig } from '../config/config.js';
import { UserDb } from '../auth/userdb.js';
import type { Vfs } from '../vfs/types.js';

export interface EmbedOptions {
  config?: ServerConfig;
  users: UserDb | Record<string, string>;
  vfs?: Record<string, Vfs>;
}

export async function resolveShares(opts: EmbedOptions): Promise<{ config: ServerConfig; users: UserDb }> {
  const base = opts.config ?? parseConfig('');
  const byName = new Set(base.shares.map((s) => s.name.toLowerCase()));
  const added: ShareConfig[] = [];
  for (const name of Object.keys(opts.vfs ?? {})) {
    if (!/^[^\\/:*?"<>|\x00-\x1f]{1,80}$/.test(name) || name.toLowerCase() === 'ipc$') throw new Error(`vfs: "${name}" is not a valid share name`);
    if (byName.has(name.toLowerCase())) continue;
    added.push({ name, path: '', readOnly: false, guestOk: false, validUsers: [], browseable: true, comment: '', encrypt: 'default' });
  }
  const config: ServerConfig = added.length ? { ...base, shares: [...added, ...base.shares] } : base;
  const withVfs = new Set(Object.keys(opts.vfs ?? {}).map((n) => n.toLowerCase()));
  for (const share of config.shares) {
    // IPC$ and a DFS proxy share (smb.conf "msdfs proxy": a referral, no local data) have no directory.
    if (share.ipc || share.msdfs?.proxy !== undefined || withVfs.has(share.name.toLowerCase())) continue;
    const st = await stat(share.path).catch((e: NodeJS.ErrnoException) => e);
    if (st instanceof Error) throw new Error(`share [${share.name}]: cannot serve path "${share.path}" (${st.code ?? st.message})`);
    if (!st.isDirectory()) throw new Error(`share [${share.name}]: path "${share.path}" is not a directory`);
  }
  return { config, users: opts.users instanceof UserDb ? opts.users : usersFrom(opts.users) };
}

function usersFrom(map: Record<string, string>): UserDb {
  const db = UserDb.empty();
  for (const [user, password] of Object.entries(map)) db.add(user, password);
  return db;
}
