// Why a known-failing smbtorture subtest fails against smbts: the feature it needs belongs to a
// later issue. docs/conformance.md shows these beside each failure. First match wins; exact
// names go in EXACT, families in PATTERNS.

export const EXACT: Record<string, string> = {
  // 'smb2.create.blob': 'create contexts beyond MxAc/QFid/leases not implemented',
};

export const PATTERNS: Array<[RegExp, string]> = [
  [/lease/i, 'leases (later issue)'],
  [/durable|persistent|reconnect/i, 'durable handles (later issue)'],
  [/stream|\$data|ads/i, 'alternate data streams (later issue)'],
  [/acl|secdesc|sec_desc|\.sd|inherit|owner|mxac|maximal_access|perms/i, 'ACLs / security descriptors (later issue)'],
  [/\.ea|_ea|eas|extended.?attr/i, 'extended attributes (later issue)'],
  [/quota/i, 'quotas (not planned)'],
  [/notify/i, 'change notify (later issue)'],
  [/multichannel|channel/i, 'multichannel (later issue)'],
  [/scan\.(getinfo|setinfo|find)/i, 'exhaustive info-level scan: levels not implemented are expected to fail'],
  [/brl|lock\..*(async|cancel|zerobyte|contend|overlap)/i, 'byte-range lock edge case (locks issue)'],
];

export function reasonFor(name: string): string {
  if (EXACT[name]) return EXACT[name]!;
  for (const [re, why] of PATTERNS) if (re.test(name)) return why;
  return '';
}
