// The smbtorture suites that define smbts conformance: every smb2.* suite registered in the
// installed smbtorture (`smbtorture --list`), each one smbtorture invocation with its own process
// and timeout. docs/conformance.md is generated from these (npm run conformance) and
// test/interop/server-torture.test.ts gates on it.
//
// Per-suite arguments follow Samba's own selftest (source3/selftest/tests.py): notify and oplock
// run with signing, samba3misc and kernel-oplocks get torture:localdir (the share's directory).
import { spawnSync } from 'node:child_process';

export interface Suite {
  /** smbtorture test name (suite or single test). */
  name: string;
  /** Hard limit for this smbtorture run (ms). */
  timeoutMs: number;
  /** Extra smbtorture arguments; `{localdir}` is replaced by the share's directory. */
  args?: string[];
}

/** Suites that are registered but are not conformance tests, with the reason they do not run. */
export const NOT_RUN: Record<string, string> = {
  'smb2.hold-oplock': 'interactive tool: holds an oplock until killed (not a test)',
  'smb2.hold-sharemode': 'interactive tool: holds a share mode until killed (not a test)',
  'smb2.multichannel':
    'needs several server addresses: run in network namespaces by test/interop/multichannel.test.ts (reasons in multichannel-reasons.ts)',
};

const DEFAULT_TIMEOUT = 180_000;

const OVERRIDES: Record<string, Omit<Suite, 'name'>> = {
  smb2: { timeoutMs: 60_000 },
  'smb2.connect': { timeoutMs: 60_000 },
  // maxfid opens up to 0x11000 files one by one (3 round trips each): ~70 s even on Samba. 4096
  // open handles still exercise the open table and fd handling beyond the usual 1024 fd limit.
  'smb2.maxfid': { timeoutMs: 180_000, args: ['--option=torture:maxopenfiles=4096'] },
  'smb2.read': { timeoutMs: 60_000 },
  'smb2.oplock': { timeoutMs: 300_000, args: ['--client-protection=sign'] },
  // Two subtests wait out the 35 s lease break timeout.
  'smb2.lease': { timeoutMs: 400_000 },
  // The whole session suite (reauth1-4 included): binding, encryption, signing.
  'smb2.session': { timeoutMs: 300_000 },
  'smb2.notify': { timeoutMs: 300_000, args: ['--client-protection=sign'] },
  'smb2.replay': { timeoutMs: 400_000 },
  'smb2.durable-open': { timeoutMs: 300_000 },
  'smb2.durable-v2-open': { timeoutMs: 300_000 },
  'smb2.durable-v2-delay': { timeoutMs: 300_000 },
  'smb2.durable-open-disconnect': { timeoutMs: 120_000 },
  'smb2.ioctl': { timeoutMs: 400_000 },
  'smb2.timestamps': { timeoutMs: 300_000 },
  'smb2.samba3misc': { timeoutMs: 120_000, args: ['--option=torture:localdir={localdir}'] },
  'smb2.kernel-oplocks': { timeoutMs: 120_000, args: ['--option=torture:localdir={localdir}'] },
  'smb2.ea': { timeoutMs: 60_000, args: ['--option=torture:acl_xattr_name=hackme'] },
  // smb2.bench.* are load generators with a time limit (default 10 s each).
  'smb2.bench': { timeoutMs: 120_000, args: ['--option=torture:timelimit=3'] },
  // Both need a Samba-only share (aio_delay_inject, change notify disabled): they wait for what
  // never comes on an ordinary share, so a short limit.
  'smb2.aio_delay': { timeoutMs: 45_000 },
  'smb2.change_notify_disabled': { timeoutMs: 45_000 },
};

/** The suites of smbtorture 4.17 as registered (used when smbtorture cannot be asked). */
const KNOWN_417 = [
  'smb2.acls', 'smb2.acls_non_canonical', 'smb2.aio_delay', 'smb2.async_dosmode', 'smb2.bench',
  'smb2.change_notify_disabled', 'smb2.charset', 'smb2.check-sharemode', 'smb2.compound',
  'smb2.compound_async', 'smb2.compound_find', 'smb2.connect', 'smb2.create', 'smb2.create_no_streams',
  'smb2.credits', 'smb2.delete-on-close-perms', 'smb2.deny', 'smb2.dir', 'smb2.dosmode',
  'smb2.durable-open', 'smb2.durable-open-disconnect', 'smb2.durable-v2-delay', 'smb2.durable-v2-open',
  'smb2.ea', 'smb2.fileid', 'smb2.getinfo', 'smb2.hold-oplock', 'smb2.hold-sharemode', 'smb2.ioctl',
  'smb2.ioctl-on-stream', 'smb2.kernel-oplocks', 'smb2.lease', 'smb2.lock', 'smb2.mangle',
  'smb2.maximum_allowed', 'smb2.maxfid', 'smb2.mkdir', 'smb2.multichannel', 'smb2.notify',
  'smb2.notify-inotify', 'smb2.openattr', 'smb2.oplock', 'smb2.read', 'smb2.rename', 'smb2.replay',
  'smb2.rw', 'smb2.samba3misc', 'smb2.scan', 'smb2.sdread', 'smb2.secleak', 'smb2.session',
  'smb2.session-id', 'smb2.session-require-signing', 'smb2.set-sparse-ioctl', 'smb2.setinfo',
  'smb2.sharemode', 'smb2.streams', 'smb2.tcon', 'smb2.timestamp_resolution', 'smb2.timestamps',
  'smb2.twrp', 'smb2.winattr', 'smb2.zero-data-ioctl',
];

/** Top-level smb2.* suites registered in the installed smbtorture, sorted. */
export function registeredSuites(): string[] {
  const r = spawnSync('smbtorture', ['--list'], { encoding: 'utf8', timeout: 30_000 });
  const names = new Set<string>();
  for (const line of (r.stdout ?? '').split('\n')) {
    const m = /^(smb2\.[^.\s]+)/.exec(line.trim());
    if (m) names.add(m[1]!);
  }
  return names.size > 0 ? [...names].sort() : KNOWN_417;
}

function build(): Suite[] {
  return registeredSuites()
    .filter((n) => !(n in NOT_RUN))
    .map((name) => ({ name, ...(OVERRIDES[name] ?? { timeoutMs: DEFAULT_TIMEOUT }) }));
}

export const SUITES: Suite[] = build();

/** A suite's arguments for a server whose share lives in `localdir`. */
export function suiteArgs(suite: Suite, localdir: string): string[] {
  return (suite.args ?? []).map((a) => a.replace('{localdir}', localdir));
}

/** Optional single-suite filter for quick runs: CONFORMANCE_SUITES=smb2.read,smb2.lock */
export function selectedSuites(): Suite[] {
  const f = process.env.CONFORMANCE_SUITES;
  if (!f) return SUITES;
  const want = new Set(f.split(',').map((s) => s.trim()).filter(Boolean));
  return SUITES.filter((s) => want.has(s.name));
}

/**
 * Samba as its own selftest configures its file-server shares (selftest/target/Samba3.pm: the
 * [tmp] and [durable] shares of nt4_dc/fileserver), so the reference column is fair.
 */
export const SAMBA_SELFTEST_SHARE = [
  'vfs objects = acl_xattr streams_xattr',
  'durable handles = yes',
  'kernel oplocks = no',
  'kernel share modes = no',
  'posix locking = no',
  'ea support = yes',
  'store dos attributes = yes',
];
export const SAMBA_SELFTEST_GLOBAL = ['smb2 leases = yes', 'server multi channel support = yes'];

/** Run `jobs` tasks at a time, results in input order. */
export async function inParallel<T, R>(items: T[], jobs: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const out: R[] = new Array(items.length);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) {
      const i = next++;
      out[i] = await fn(items[i]!);
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(jobs, items.length)) }, worker));
  return out;
}
