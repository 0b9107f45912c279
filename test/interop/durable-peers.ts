// Shared settings of the durable-handle interop tests.

/** Samba selftest's durable share settings (issue 10). */
export const SAMBA_DURABLE_SHARE = [
  'durable handles = yes', 'vfs objects = acl_xattr streams_xattr', 'kernel oplocks = no',
  'kernel share modes = no', 'posix locking = no',
];
