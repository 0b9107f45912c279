// Why a known-failing smbtorture subtest fails against smbts. docs/conformance.md shows the
// reason beside each failure, followed by smbtorture's own first message line. First match wins:
// EXACT names, then name PATTERNS (features of later issues), then MESSAGE patterns (what smbts
// answered). A failure with no reason here is a plain bug to fix. Multichannel subtests take
// their reasons from multichannel-reasons.ts (run in network namespaces by multichannel tests).
import { MULTICHANNEL_REASONS } from './multichannel-reasons.js';

export const EXACT: Record<string, string> = {
  'smb2.create.quota-fake-file': 'quotas (not planned): opens $Extend\\$Quota:$Q:$INDEX_ALLOCATION',
  'smb2.create.blob': 'create contexts: allocation size (AlSi) not applied yet',
  'smb2.read.bug14607': 'Samba-private test FSCTL (Samba itself skips it)',
  'smb2.durable-v2-open.app-instance': 'SMB2_CREATE_APP_INSTANCE_ID (closing the previous instance\'s open) not implemented; Samba fails it too',
  'smb2.replay.replay5': 'skipped: persistent handles are advertised only when a share is continuously available, and the conformance share is not (Samba skips it alike); on a CA share smbts passes it (test/interop/durable-gaps.test.ts)',
  'smb2.lock.replay_broken_windows': 'skipped as on Samba: smbts checks LockSequence on every handle of an SMB 3.x connection, as 3.3.5.14 says; the test only checks Windows\' older behaviour',
  'smb2.maxfid': 'slow: one open per round trip',
  'smb2.lease.v2_complex1': 'lease breaks go out on a connection of the lease\'s own opens; Windows uses the client\'s first connection',
  'smb2.lease.v2_rename': 'leases: rename with another open does not break the lease yet',
  'smb2.lease.unlink': 'leases: a delete does not break HANDLE leases yet',
  'smb2.lease.rename_wait': 'leases: a rename does not wait for HANDLE lease breaks yet',
  'smb2.lease.v2_request': 'directory leases (SMB2_GLOBAL_CAP_DIRECTORY_LEASING) not offered',
  'smb2.lease.v2_request_parent': 'directory leases (SMB2_GLOBAL_CAP_DIRECTORY_LEASING) not offered',
  'smb2.lease.dynamic_share': 'dynamic shares not supported (Samba skips it too)',
  'smb2.create.gentest': 'SYNCHRONIZE-only OPEN_IF: gentest wants it refused, smb2.sharemode wants the same open allowed; we follow Samba (which fails gentest too)',
  'smb2.oplock.batch22b': 'needs a Samba-only test hook that blocks the transport (Samba fails it too without it)',
  'smb2.session.reauth5': 'fails at the same line against Samba 4.17 on this machine',
  'smb2.session.bind_negative_smb3signCtoHd': 'expects a bind from a different ClientGUID to succeed (Windows); smbts enforces one ClientGUID per session as MS-SMB2 allows and Samba does (Samba fails it too)',
  'smb2.session.bind_negative_smb3signHtoCd': 'expects a bind from a different ClientGUID to succeed (Windows); smbts enforces one ClientGUID per session as MS-SMB2 allows and Samba does (Samba fails it too)',
  'smb2.notify.mask-change': 'rename reported as separate actions; Samba fails it too',
  'smb2.notify.tree': 'watch of a nested tree path; Samba fails it too',
  'smb2.notify.rec': 'recursive notify counts; Samba fails it too',
  'smb2.acls.ACCESSBASED': 'needs a second share "hideunread" with access-based enumeration (not built yet)',
  'smb2.streams.names3': 'needs FILE_CASE_SENSITIVE_SEARCH (case-sensitive shares), not offered',
  // Suites registered in smbtorture that Samba's selftest only runs on specially prepared shares
  // or drives from its blackbox scripts with extra options; they fail against Samba alike here.
  'smb2.aio_delay': 'needs Samba\'s aio_delay_inject share (a VFS module that delays I/O); Samba times out too',
  'smb2.change_notify_disabled': 'needs a server with `change notify = no`; Samba times out too',
  'smb2.set-sparse-ioctl': 'a tool for Samba\'s blackbox tests: needs --option=torture:filename of a prepared file (Samba fails alike)',
  'smb2.zero-data-ioctl': 'a tool for Samba\'s blackbox tests: needs torture:offset/length of a prepared file (Samba fails alike)',
  'smb2.twrp.listdir': 'needs a snapshot (torture:twrp_snapshot) made by Samba\'s shadow_copy2 blackbox test (Samba fails alike)',
  'smb2.ioctl.bug14769': 'Samba-private test FSCTL (FSCTL_SMBTORTURE_FSP_ASYNC_SLEEP)',
  'smb2.samba3misc.localposixlock1': 'checks a POSIX lock taken on the server\'s local file (torture:localdir); smbts keeps byte-range locks in the server only (Samba with posix locking = no fails alike)',
  'smb2.session-require-signing.bug15397': 'needs a domain member (Samba selftest runs it on ad_member_idmap_rid); Samba standalone fails alike',
  'smb2.mangle': '8.3 names: a short name is reported but cannot yet be used as a path component',
  'smb2.acls_non_canonical.flags': 'non-canonical ACL ordering as stored by acl_xattr (Samba fails alike here)',
  'smb2.ea.acl_xattr': 'needs acl_xattr:xattr name = hackme on the share (Samba fails alike without it)',
  'smb2.kernel-oplocks.kernel_oplocks5': 'needs Linux kernel oplocks (leases on the local file); smbts does not take kernel leases (Samba with kernel oplocks = no fails alike)',
  'smb2.kernel-oplocks.kernel_oplocks7': 'needs Linux kernel oplocks (leases on the local file); smbts does not take kernel leases (Samba with kernel oplocks = no fails alike)',
  'smb2.dosmode': 'needs `hide files`/`hide dot files` on a dosmode share (Samba selftest runs it on simpleserver [dosmode]); Samba fails alike',
  'smb2.maximum_allowed': 'needs a second user without rights to the share\'s root (Samba fails alike here)',
  'smb2.rw.invalid': 'expects END_OF_FILE for a read at 2^63; fails against Samba alike here',
  'smb2.charset.Testing partial surrogate': 'a lone UTF-16 surrogate in a name is refused (issue 9: one name identity); Samba refuses alike',
  'smb2.timestamp_resolution.resolution1': 'expects 1 s timestamp granularity (FAT-like); fails against Samba alike',
};

export const PATTERNS: Array<[RegExp, string]> = [
  [/smb2\.replay\.dhv2-pending3/, 'needs a Samba-only test hook that blocks the transport (Samba fails it too)'],
  [/smb2\.replay\.dhv2-pending.*-windows$/, 'expects Windows\' ACCESS_DENIED / SHARING_VIOLATION for the replay of a pending CREATE; smbts answers as Samba (FILE_NOT_AVAILABLE), and Samba fails it too'],
  [/durable|persistent|reconnect|replay/i, 'durable handles: case not covered yet (server/durable.ts)'],
  [/lease/i, 'leases: not covered yet (server/leases.ts)'],
  [/delete-on-close-perms\.\w+ Existing/, 'ACLs / security descriptors (later issue): needs a DACL that denies delete'],
  [/stream|\$data/i, 'alternate data streams (later issue)'],
  [/\.acl|secdesc|sec_desc|nulldacl|inherit|owner|mxac|maximal_access/i, 'ACLs / security descriptors (later issue)'],
  [/\.ea\b|_ea\b|\.eas\b|extended.?attr/i, 'extended attributes (later issue)'],
  [/quota/i, 'quotas (not planned)'],
  [/multichannel|session\.bind/i, 'multichannel: needs several addresses (see test/conformance/multichannel-reasons.ts)'],
];

export const MESSAGE_PATTERNS: Array<[RegExp, string]> = [
  [/NT_STATUS_NOT_IMPLEMENTED - should be|status was NT_STATUS_NOT_IMPLEMENTED/, 'smbts answered NOT_IMPLEMENTED (an FSCTL, info level or option not implemented yet)'],
  [/status was NT_STATUS_OBJECT_NAME_INVALID|Incorrect status NT_STATUS_OBJECT_NAME_INVALID/, 'name refused by vfs/path.ts (stream syntax `name:stream` until alternate data streams, a later issue)'],
  [/smb2_util_verify_sd|DACL/, 'ACLs / security descriptors (later issue)'],
  [/^timeout after/, 'timed out'],
];

export function reasonFor(name: string, message = ''): string {
  if (EXACT[name]) return EXACT[name]!;
  if (MULTICHANNEL_REASONS[name]) return MULTICHANNEL_REASONS[name]!;
  for (const [re, why] of PATTERNS) if (re.test(name)) return why;
  for (const [re, why] of MESSAGE_PATTERNS) if (re.test(message)) return why;
  return '';
}
