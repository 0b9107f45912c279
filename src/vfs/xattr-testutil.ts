/** Test helper (not used at runtime): whether tests that need user xattrs can run. */
import { loadXattr, probeXattr } from './xattr.js';

/**
 * Why xattr-dependent tests cannot run in `dir`, or undefined when they can. Under CI=true a
 * missing addon throws (the build at `npm ci` is expected to work there, so a broken build is
 * noticed) unless it was switched off on purpose (SMBTS_NO_XATTR=1 / SMBTS_SKIP_NATIVE=1); a
 * filesystem without user xattrs is always a skip.
 */
export function xattrSkipReason(dir: string): string | undefined {
  const l = loadXattr();
  if (!l.binding) {
    if (process.env.CI === 'true' && process.env.SMBTS_NO_XATTR !== '1' && process.env.SMBTS_SKIP_NATIVE !== '1') {
      throw new Error(`CI: the native xattr addon failed to build or load: ${l.reason}`);
    }
    return l.reason;
  }
  const p = probeXattr(dir, l.binding);
  return p.ok ? undefined : p.reason;
}
