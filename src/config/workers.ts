// `smbts:workers` keys of [global] (docs/config.md): worker processes that own connections
// (server/workers/). Kept in ServerConfig.extra by config.ts (WORKER_KEYS) and read here.
import { availableParallelism } from 'node:os';
import type { ServerConfig } from './config.js';

/** Canonical (lower-case, space-free) keys this module reads. */
export const WORKER_KEYS: ReadonlySet<string> = new Set(['smbts:workers', 'smbts:workerscoordination']);

/**
 * How workers keep cross-worker state (share modes, byte-range locks, leases/oplocks) correct:
 * `local` = cluster coordination on a KV hosted by the primary; `none` = not enforced across
 * workers (only with this explicit acknowledgement).
 */
export type WorkersCoordination = 'local' | 'none';

export interface WorkersConfig {
  /** 1 = no worker processes (the default: one event loop, as before). */
  count: number;
  coordination: WorkersCoordination;
}

/** Upper bound: more workers than this is a configuration mistake, not a big machine. */
export const MAX_WORKERS = 256;

/** Reads the keys; throws with a clear message on a bad value (a server must not start on a guess). */
export function workersOf(cfg: ServerConfig): WorkersConfig {
  const raw = (cfg.extra['smbts:workers'] ?? '1').trim().toLowerCase();
  let count: number;
  if (raw === '0' || raw === 'auto') count = availableParallelism();
  else {
    count = Number(raw);
    if (!Number.isInteger(count) || count < 1 || count > MAX_WORKERS) {
      throw new Error(`smbts:workers = ${raw}: a number of worker processes 1..${MAX_WORKERS}, or 0 / auto for one per core`);
    }
  }
  const c = (cfg.extra['smbts:workerscoordination'] ?? 'local').trim().toLowerCase();
  if (c !== 'local' && c !== 'none') throw new Error(`smbts:workers coordination = ${c}: "local" or "none"`);
  return { count, coordination: c };
}
