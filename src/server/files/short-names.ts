// 8.3 names (MS-FSCC 2.1.5.2.1) for FileBothDirectoryInformation and FileAlternateNameInformation.
// Valid 8.3 names are reported as themselves (upper-cased); others get a stable hash-mangled name
// "XXXXXX~N.EXT" so the two views agree (smb2.dir.one compares them).
import type { Vfs } from '../../vfs/types.js';
import { foldCase, splitStream } from '../../vfs/path.js';
const VALID = /^[A-Za-z0-9!#$%&'()\-@^_`{}~]{1,8}(\.[A-Za-z0-9!#$%&'()\-@^_`{}~]{1,3})?$/;

export function shortName(name: string): string {
  if (name === '.' || name === '..') return '';
  if (VALID.test(name)) return name.toUpperCase();
  const dot = name.lastIndexOf('.');
  const base = (dot > 0 ? name.slice(0, dot) : name).toUpperCase().replace(/[^A-Z0-9]/g, '');
  const ext = (dot > 0 ? name.slice(dot + 1) : '').toUpperCase().replace(/[^A-Z0-9]/g, '').slice(0, 3);
  let h = 0x811c9dc5;
  for (let i = 0; i < name.length; i++) h = Math.imul(h ^ name.charCodeAt(i), 0x01000193) >>> 0;
  const tag = (h % 1296).toString(36).toUpperCase().padStart(2, '0');
  const stem = (base.slice(0, 4) || 'X') + tag;
  return ext ? `${stem}~1.${ext}` : `${stem}~1`;
}

// Mangled names handed out to clients, per share backend, so that one of them used as a path
// component names its long name again (Samba's mangle cache: smb2.mangle deletes and recreates a
// file by its short name, then deletes it by its long name). Bounded: the oldest are forgotten.
const MAX_REMEMBERED = 10_000;
const handedOut = new WeakMap<object, Map<string, string>>();

function keyOf(dir: string, short: string): string {
  return `${foldCase(dir)}/${short.toUpperCase()}`;
}

/** The short name of `dir/name`, remembered when it is a mangled one. */
export function rememberShortName(backend: object, dir: string, name: string): string {
  const s = shortName(name);
  if (s === '' || s === name.toUpperCase()) return s;
  let m = handedOut.get(backend);
  if (!m) handedOut.set(backend, (m = new Map()));
  const k = keyOf(dir, s);
  m.delete(k);
  m.set(k, name);
  if (m.size > MAX_REMEMBERED) m.delete(m.keys().next().value!);
  return s;
}

/** The long name behind a mangled short name handed out for `dir`, if any. */
export function longNameOf(backend: object, dir: string, short: string): string | undefined {
  if (!short.includes('~')) return undefined;
  return handedOut.get(backend)?.get(keyOf(dir, short));
}

/**
 * `path` with each component that is a mangled name handed out earlier, and that does not exist
 * under its own spelling, replaced by its long name (share-relative '/' paths; a ':stream' suffix
 * of the last component is kept).
 */
export async function expandShortNames(vfs: Vfs, path: string): Promise<string> {
  if (!path.includes('~') || !handedOut.has(vfs)) return path;
  const { base, stream } = splitStream(path);
  const comps = base.split('/');
  let changed = false;
  for (let i = 0; i < comps.length; i++) {
    const dir = comps.slice(0, i).join('/');
    const long = longNameOf(vfs, dir, comps[i]!);
    if (long === undefined) continue;
    const literal = [...comps.slice(0, i), comps[i]!].join('/');
    const exists = await vfs.stat(literal).then(() => true, () => false);
    if (!exists) {
      comps[i] = long;
      changed = true;
    }
  }
  if (!changed) return path;
  const b = comps.join('/');
  return stream === undefined ? b : `${b}:${stream}`;
}
