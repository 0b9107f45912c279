// The host paths of this server's own state, which no share may expose (DESIGN.md rule 10):
// SMBTS_HOME (default ~/.smbts: user database, stream depots, admin sockets, anything persisted
// later), the configured user database, and whatever the embedding program adds
// (ServerConfig.privatePaths, e.g. `smbts serve` adds its admin socket).
import * as os from 'node:os';
import * as nodePath from 'node:path';
import type { ServerConfig } from '../config/config.js';

export function stateHome(): string {
  return nodePath.resolve(process.env.SMBTS_HOME || nodePath.join(os.homedir(), '.smbts'));
}

/** Every path; a share may lie inside stateHome() (not the others: the stream depots...). */
export function privateStatePaths(config: Pick<ServerConfig, 'userDb' | 'privatePaths'>): string[] {
  const home = stateHome();
  const all = [home, nodePath.join(home, 'streams'), ...(config.userDb ? [config.userDb] : []), ...(config.privatePaths ?? [])];
  return [...new Set(all.map((p) => nodePath.resolve(p)))];
}
