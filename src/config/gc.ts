// `smbts:gc threads` of [global] (docs/config.md): how V8 collects garbage in a server process.
//
// `single` (default): young-generation scavenges run on the main thread only (V8's
// --no-parallel-scavenge). A metadata request allocates a few KiB, so a busy server scavenges every
// few hundred requests; a parallel scavenge wakes helper threads on the other cores each time, and on
// a small or virtualised machine those wake-ups (and the cores they take from the clients) cost more
// than the parallel work saves: 500 smbclient `allinfo` took 6-7 % less wall time and up to 7 % less
// server CPU (docs/perf-log.md, session 10). Only this flag: switching concurrent marking off at run
// time (--single-threaded-gc) makes V8 abort at the next full GC.
// `parallel`: V8's default, for a big heap on a machine with cores to spare.
// The flag is process-wide: an application that embeds the server keeps V8's default with
// `parallel`. SMBTS_GC_THREADS in the environment overrides the config (bench A/B runs).
import { setFlagsFromString } from 'node:v8';
import type { ServerConfig } from './config.js';

export const GC_KEYS: ReadonlySet<string> = new Set(['smbts:gcthreads']);

export type GcThreads = 'single' | 'parallel';

export function gcThreadsOf(cfg: ServerConfig): GcThreads {
  const v = (process.env.SMBTS_GC_THREADS ?? cfg.extra['smbts:gcthreads'] ?? 'single').trim().toLowerCase();
  if (v !== 'single' && v !== 'parallel') throw new Error(`smbts:gc threads = ${v}: "single" or "parallel"`);
  return v;
}

let applied: GcThreads | undefined;

/** Applies the setting to this process (once; later servers in the same process keep the first). */
export function applyGcThreads(mode: GcThreads): void {
  if (applied !== undefined) return;
  applied = mode;
  if (mode === 'single') setFlagsFromString('--no-parallel-scavenge');
}
