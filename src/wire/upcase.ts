// The one case-folding rule for case-insensitive names, shared by name lookup (vfs/), the server's
// tables (server/) and wildcard matching (wire/fscc-dir.ts). Pure: no I/O, no state but a table.
/**
 * The one case-folding rule for case-insensitive names: NTFS upcase-table semantics. NTFS and the
 * Windows name routines (FsRtlAreNamesEqual: "converting both strings to uppercase", through an
 * upcase table "indexed by the Unicode character"; NTFS's 128 KiB $UpCase file) map each UTF-16
 * code unit to one code unit, so:
 *  - only simple 1:1 uppercase mappings: no expansions (U+00DF sharp s stays itself, never "SS");
 *  - no mapping from a non-ASCII letter onto ASCII (U+0131 dotless i and U+017F long s stay
 *    themselves: the NTFS table, as mkntfs/ntfs-3g generate it, skips them);
 *  - surrogates and supplementary characters are never folded.
 * Differences to Windows are limited to letters whose case pairs Unicode added after its table.
 * (The same rule as ECMAScript's Canonicalize for /i regular expressions without the u flag.)
 */
export function foldCase(name: string): string {
  // ASCII names (nearly all): the built-in is the same 1:1 mapping there, and fast.
  if (!NON_ASCII.test(name)) return name.toUpperCase();
  const out = new Uint16Array(name.length);
  for (let i = 0; i < name.length; i++) out[i] = upcase(name.charCodeAt(i));
  let s = '';
  for (let i = 0; i < out.length; i += 4096) s += String.fromCharCode(...out.subarray(i, i + 4096));
  return s;
}

const NON_ASCII = /[^\x00-\x7f]/;

/** Upcase table for non-ASCII code units (built on first use; 128 KiB). */
let UPCASE: Uint16Array | undefined;
/** One UTF-16 code unit through the upcase table. */
export function upcase(c: number): number {
  if (c < 0x80) return c >= 0x61 && c <= 0x7a ? c - 32 : c;
  if (!UPCASE) {
    UPCASE = new Uint16Array(0x10000);
    for (let x = 0; x < 0x10000; x++) {
      UPCASE[x] = x;
      if (x < 0x80 || (x >= 0xd800 && x <= 0xdfff)) continue;
      const up = String.fromCharCode(x).toUpperCase();
      if (up.length === 1 && up.charCodeAt(0) >= 0x80) UPCASE[x] = up.charCodeAt(0);
    }
  }
  return UPCASE[c]!;
}

