// The host paths of this server's own state, which no share may expose (DESIGN.md rule 10):
// SMBTS_HOME (default ~/.smbts: user database, stream depots, admin sockets, anything persisted
// later), the configured user database, and whatever the embedding program adds
// (ServerConfig.privatePaths, e.g. `smbts serve` adds its admin socket).
import * as os from 'node:os';
import * as nodePath from 'node:path';
import type { ServerConfig } from '../config/config.js';

export function privateStatePaths(config: Pick<ServerConfig, 'userDb' | 'privatePaths'>): string[] {
  const home = process.env.SMBTS_HOME || nodePath.join(os.homedir(), '.smbts');
  const all = [home, ...(config.userDb ? [config.userDb] : []), ...(config.privatePaths ?? [])];
  return [...new Set(all.map((p) => nodePath.resolve(p)))];
}
