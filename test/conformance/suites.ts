// The smbtorture suites that define smbts conformance. Each entry is one smbtorture invocation
// (its own process and timeout). docs/conformance.md is generated from these
// (npm run conformance) and test/interop/server-torture.test.ts gates on it.

export interface Suite {
  /** smbtorture test name (suite or single test). */
  name: string;
  /** Hard limit for this smbtorture run against smbts (ms). */
  timeoutMs: number;
  /** Extra smbtorture arguments for this suite. */
  args?: string[];
  /** Settings of the reference Samba for this suite (peers.ts startSamba). */
  samba?: { extraGlobal?: string[]; shareOptions?: string[] };
}

/** Samba selftest's durable-handle share (issue 10): what the durable and replay suites need there. */
const SAMBA_DURABLE = {
  extraGlobal: ['smb2 leases = yes'],
  shareOptions: ['durable handles = yes', 'vfs objects = acl_xattr streams_xattr', 'kernel oplocks = no', 'kernel share modes = no', 'posix locking = no'],
};

export const SUITES: Suite[] = [
  { name: 'smb2.connect', timeoutMs: 60_000 },
  // maxfid opens up to 0x11000 files one by one (3 round trips each): ~70 s even on Samba. 4096
  // open handles still exercise the open table and fd handling beyond the usual 1024 fd limit.
  { name: 'smb2.maxfid', timeoutMs: 180_000, args: ['--option=torture:maxopenfiles=4096'] },
  { name: 'smb2.read', timeoutMs: 60_000 },
  { name: 'smb2.scan', timeoutMs: 180_000 },
  { name: 'smb2.dir', timeoutMs: 180_000 },
  { name: 'smb2.rename', timeoutMs: 120_000 },
  { name: 'smb2.sharemode', timeoutMs: 180_000 },
  { name: 'smb2.compound', timeoutMs: 120_000 },
  { name: 'smb2.create', timeoutMs: 180_000 },
  { name: 'smb2.delete-on-close-perms', timeoutMs: 120_000 },
  { name: 'smb2.oplock', timeoutMs: 300_000 },
  // Two subtests wait out the 35 s lease break timeout.
  { name: 'smb2.lease', timeoutMs: 400_000 },
  // The whole session suite (reauth1-4 of the issue included): binding, encryption, signing.
  { name: 'smb2.session', timeoutMs: 300_000 },
  { name: 'smb2.lock', timeoutMs: 180_000 },
  { name: 'smb2.credits', timeoutMs: 120_000 },
  { name: 'smb2.getinfo', timeoutMs: 120_000 },
  { name: 'smb2.setinfo', timeoutMs: 60_000 },
  { name: 'smb2.streams', timeoutMs: 120_000 },
  { name: 'smb2.notify', timeoutMs: 300_000 },
  { name: 'smb2.acls', timeoutMs: 180_000 },
  // Durable, resilient and persistent handles (server/durable.ts), against Samba's durable share.
  { name: 'smb2.durable-open', timeoutMs: 120_000, samba: SAMBA_DURABLE },
  { name: 'smb2.durable-v2-open', timeoutMs: 120_000, samba: SAMBA_DURABLE },
  { name: 'smb2.durable-v2-delay', timeoutMs: 120_000, samba: SAMBA_DURABLE },
  { name: 'smb2.durable-open-disconnect', timeoutMs: 60_000, samba: SAMBA_DURABLE },
  // Several subtests wait out break and durable timeouts: ~3.5 min on Samba.
  { name: 'smb2.replay', timeoutMs: 400_000, samba: SAMBA_DURABLE },
];

/** Optional single-suite filter for quick runs: CONFORMANCE_SUITES=smb2.read,smb2.lock */
export function selectedSuites(): Suite[] {
  const f = process.env.CONFORMANCE_SUITES;
  if (!f) return SUITES;
  const want = new Set(f.split(',').map((s) => s.trim()).filter(Boolean));
  return SUITES.filter((s) => want.has(s.name));
}
