// smbtorture smb2.multichannel / smb2.session.bind* against smbts, run by
// test/interop/multichannel.test.ts inside network namespaces (netns.ts: 2+ veth links, server in
// its own namespace, smbtorture with --option=torture:use_iptables=yes in the client namespace,
// so it can block a channel with iptables there).
//
// For the conformance engineer: these are the subtests that cannot pass yet and why; a subtest
// listed here that starts passing should be removed (the test reports it). Everything not listed
// must pass. The generic reasons.ts still says "multichannel (later issue)" for smb2.multichannel
// in the loopback conformance run (one address only); please point that pattern here instead:
//   import { MULTICHANNEL_REASONS } from './multichannel-reasons.js'
//
// smbts today: the 10 must-pass subtests pass (oplocks.test2 needs iptables); 6 known failures below.
// Conformance engineer: smb2.replay.channel-sequence, replay-commands and replay-regular pass against
// smbts now (they also run on loopback); the /replay/ pattern in reasons.ts ("durable handles") no
// longer applies to them — consider adding them to suites.ts.
// Reference (Samba 4.17 smbd in the same topology): interface_info, num_channels, oplocks.test1,
// oplocks.test3_specification, leases.test1, leases.test3, session.bind1/bind2 pass; Samba itself
// fails oplocks.test2, oplocks.test3_windows and leases.test2.

/** Subtests that must pass against smbts (the test fails when one does not). */
export const MULTICHANNEL_MUST_PASS = [
  'smb2.session.bind1',
  'smb2.session.bind2',
  'smb2.multichannel.generic.interface_info',
  'smb2.multichannel.generic.num_channels',
  'smb2.multichannel.oplocks.test1',
  'smb2.multichannel.bugs.bug_15346',
  // Replay / ChannelSequence (server/replay.ts, MS-SMB2 3.3.5.2.10).
  'smb2.replay.channel-sequence',
  'smb2.replay.replay-commands',
  'smb2.replay.replay-regular',
] as const;

/** Known failures: subtest -> reason. */
export const MULTICHANNEL_REASONS: Record<string, string> = {
  'smb2.multichannel.oplocks.test3_windows':
    'Windows-specific choice of channel for a break after channels are blocked ("Got oplock break on wrong channel"): ' +
    'smbts sends a break on the connection the open was made on while it lives, else on another live channel ' +
    '(Samba 4.17 fails this subtest too)',
  'smb2.multichannel.oplocks.test3_specification':
    'expects an unacknowledged break to be sent again on the other channels (break count > 1); smbts sends each break ' +
    'once and does not retransmit on an acknowledgement timeout',
  'smb2.multichannel.leases.test1': 'leases are not granted by smbts yet (later issue): lease_version 0 in the CREATE response',
  'smb2.multichannel.leases.test2': 'leases are not granted by smbts yet (later issue)',
  'smb2.multichannel.leases.test3': 'leases are not granted by smbts yet (later issue)',
  'smb2.multichannel.leases.test4': 'leases are not granted by smbts yet (later issue)',
};

/** Must pass too when smbtorture can block a channel (iptables present): the break goes to the
 *  open's channel, and another channel once that connection is gone. */
export const MULTICHANNEL_MUST_PASS_IPTABLES = ['smb2.multichannel.oplocks.test2'] as const;

/** What CI runs: the must-pass subtests (the blocked-channel oplock tests wait for timeouts,
 *  ~2.5 min, so the whole suite runs only with SMBTS_MC_TORTURE_ALL=1). */
export const MULTICHANNEL_SUITES_CI: readonly string[] = MULTICHANNEL_MUST_PASS;
/** Everything (suites expand to the subtests above). */
export const MULTICHANNEL_SUITES = ['smb2.session.bind1', 'smb2.session.bind2', 'smb2.multichannel'];

/** Extra smbtorture arguments: let it block a channel with iptables inside the client namespace. */
export const MULTICHANNEL_TORTURE_ARGS = ['--option=torture:use_iptables=yes'];

export function multichannelReason(name: string): string | undefined {
  return MULTICHANNEL_REASONS[name];
}
