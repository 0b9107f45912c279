/**
 * SMB wire path -> safe share-relative path.
 *
 * Result form: components joined by '/', no leading/trailing '/', '' for the share root.
 * Rules (MS-FSCC 2.1.5 "Pathname", MS-SMB2 3.3.5.9; error choices follow Samba/Windows):
 *  - '\' is the separator ('/' too, as in Samba); one leading and one trailing separator are tolerated.
 *  - '..' component                         -> OBJECT_PATH_SYNTAX_BAD (Samba check_path_syntax)
 *  - '.' component                         -> OBJECT_NAME_INVALID
 *  - repeated separators inside a path ('a\\\\b') count as one, as Samba (check_path_syntax) and
 *    Windows clients expect
 *  - UNC ('\\srv\x') or drive ('C:\x') forms -> OBJECT_PATH_SYNTAX_BAD
 *  - NUL, control chars 0x01-0x1F, and " < > | * ? in a name -> OBJECT_NAME_INVALID
 *  - name longer than 255 UTF-16 units -> OBJECT_NAME_INVALID
 *  - streams (MS-FSCC 2.1.4): 'name::$DATA' and 'name:' are the main stream; 'name:s' and
 *    'name:s:$DATA' (type case-insensitive) are the named stream 's', kept in the result as
 *    'name:s'. Any other type ('name:s:$FOO', 'name::$INDEX_ALLOCATION', 'name:s:') and
 *    ':' in a non-final component -> OBJECT_NAME_INVALID. Stream names may hold any character but
 *    NUL, '\', '/' and ':' (NTFS allows control characters and wildcards there).
 */
import { VfsError } from './types.js';
import { NtStatus } from './status.js';

export const MAX_NAME_LENGTH = 255;
/** Characters MS-FSCC 2.1.5.2 forbids in a file name, besides control chars, '\' and ':' (char codes). */
const FORBIDDEN = new Set(['"', '<', '>', '|', '*', '?', '/'].map((ch) => ch.charCodeAt(0)));

function invalidName(msg: string): VfsError {
  return new VfsError(NtStatus.OBJECT_NAME_INVALID, msg);
}
function syntaxBad(msg: string): VfsError {
  return new VfsError(NtStatus.OBJECT_PATH_SYNTAX_BAD, msg);
}

/** Validate a single name component (no separators, no stream suffix). Throws VfsError. */
export function validateName(name: string): void {
  if (name.length === 0) throw invalidName('empty name');
  if (name === '..') throw syntaxBad("'..' not allowed");
  if (name === '.') throw invalidName("'.' not allowed");
  if (name.length > MAX_NAME_LENGTH) throw invalidName('name too long');
  // Invalid UTF-16 would collapse to U+FFFD on disk, aliasing distinct names (Samba refuses it too).
  if (hasLoneSurrogate(name)) throw invalidName('invalid UTF-16 in name');
  for (let i = 0; i < name.length; i++) {
    const c = name.charCodeAt(i);
    if (c < 0x20) throw invalidName('control character in name');
    if (FORBIDDEN.has(c)) throw invalidName(`character ${JSON.stringify(name[i])} not allowed`);
    if (c === 0x3a /* ':' */ || c === 0x5c /* '\\' */) throw invalidName('separator in name');
  }
}

/** Validate a stream name (the part between the first and an optional second ':'). */
export function validateStreamName(name: string): void {
  if (name.length === 0) throw invalidName('empty stream name');
  if (name.length > MAX_NAME_LENGTH) throw invalidName('stream name too long');
  if (hasLoneSurrogate(name)) throw invalidName('invalid UTF-16 in stream name');
  for (let i = 0; i < name.length; i++) {
    const c = name.charCodeAt(i);
    if (c === 0 || c === 0x3a || c === 0x5c || c === 0x2f) throw invalidName('bad character in stream name');
  }
}

/** Split a last component 'base[:stream[:type]]' into base and named stream (undefined = main stream). */
function parseStream(comp: string): { base: string; stream: string | undefined; explicitData: boolean } {
  const i = comp.indexOf(':');
  if (i < 0) return { base: comp, stream: undefined, explicitData: false };
  const base = comp.slice(0, i);
  const rest = comp.slice(i + 1); // "" | ":$DATA" | "stream" | "stream:$DATA"
  if (rest === '') return { base, stream: undefined, explicitData: false };
  const j = rest.indexOf(':');
  const name = j < 0 ? rest : rest.slice(0, j);
  if (j >= 0 && rest.slice(j + 1).toUpperCase() !== '$DATA') throw invalidName('unsupported stream type');
  if (name === '') return { base, stream: undefined, explicitData: true };
  validateStreamName(name);
  return { base, stream: name, explicitData: j >= 0 };
}

export interface ParsedSmbPath {
  /** share-relative path; for a named stream the last component is 'base:stream'. */
  path: string;
  /** share-relative path of the file itself (no stream). */
  base: string;
  /** named stream, undefined for the main (unnamed $DATA) stream. */
  stream: string | undefined;
  /** the name carried an explicit ':$DATA' type ('f::$DATA' or 'f:s:$DATA'). */
  explicitData: boolean;
}

/** Like normalizeSmbPath, with the stream parts broken out. */
export function parseSmbPath(smbPath: string): ParsedSmbPath {
  // '/' separates like '\\' (Samba's check_path_syntax; smbtorture's smb2.timestamps sends
  // 'dir/file'). Stream names cannot hold '/' either, so nothing is lost.
  let p = smbPath.indexOf('/') >= 0 ? smbPath.replace(/\//g, '\\') : smbPath;
  if (p.indexOf('\0') >= 0) throw invalidName('NUL in path');
  if (p.startsWith('\\\\')) throw syntaxBad('UNC path not allowed');
  if (/^[A-Za-z]:/.test(p)) throw syntaxBad('drive path not allowed');
  if (p.startsWith('\\')) p = p.slice(1);
  if (p.endsWith('\\')) p = p.slice(0, -1);
  if (p === '') return { path: '', base: '', stream: undefined, explicitData: false };
  const comps = p.split('\\').filter((c) => c !== '');
  if (comps.length === 0) return { path: '', base: '', stream: undefined, explicitData: false };
  const last = comps.length - 1;
  const ps = parseStream(comps[last]!);
  comps[last] = ps.base;
  // 'file::$DATA' on the root ('\\::$DATA') would leave an empty last comp: invalid.
  for (const c of comps) validateName(c);
  const base = comps.join('/');
  return { path: ps.stream === undefined ? base : `${base}:${ps.stream}`, base, stream: ps.stream, explicitData: ps.explicitData };
}

/** Split a share-relative path whose last component may be 'base:stream'. */
export function splitStream(p: string): { base: string; stream: string | undefined } {
  const slash = p.lastIndexOf('/');
  const i = p.indexOf(':', slash + 1);
  if (i < 0) return { base: p, stream: undefined };
  return { base: p.slice(0, i), stream: p.slice(i + 1) };
}

/**
 * Convert an SMB path (as received in SMB2 CREATE etc.) into a share-relative path.
 * Throws VfsError(OBJECT_NAME_INVALID | OBJECT_PATH_SYNTAX_BAD).
 */
export function normalizeSmbPath(smbPath: string): string {
  return parseSmbPath(smbPath).path;
}

/** Split a share-relative path into components ('' -> []). */
export function splitPath(p: string): string[] {
  return p === '' ? [] : p.split('/');
}
/** Join share-relative components. */
export function joinPath(...parts: string[]): string {
  return parts.filter((x) => x !== '').join('/');
}
/** Parent of a share-relative path ('' for top-level names and for the root). */
export function parentPath(p: string): string {
  const i = p.lastIndexOf('/');
  return i < 0 ? '' : p.slice(0, i);
}
/** Last component of a share-relative path ('' for the root). */
export function baseName(p: string): string {
  const i = p.lastIndexOf('/');
  return i < 0 ? p : p.slice(i + 1);
}

/**
 * Defensive check for paths handed to a Vfs directly (already '/'-separated):
 * rejects '..', '.', empty components, leading '/', backslashes and forbidden chars.
 */
export function assertSharePath(p: string): void {
  if (p === '') return;
  if (p.startsWith('/')) throw syntaxBad('absolute path not allowed');
  const { base, stream } = splitStream(p);
  if (base === '') throw invalidName('stream on the share root');
  for (const c of base.split('/')) validateName(c);
  if (stream !== undefined) validateStreamName(stream);
}

/** The one case-folding rule for names (NTFS upcase-table semantics): see wire/upcase.ts. */
export { foldCase } from '../wire/upcase.js';

/** Whether a name holds a lone (unpaired) UTF-16 surrogate: it has no UTF-8 form on disk. */
export function hasLoneSurrogate(name: string): boolean {
  for (let i = 0; i < name.length; i++) {
    const c = name.charCodeAt(i);
    if (c < 0xd800 || c > 0xdfff) continue;
    if (c >= 0xdc00) return true;
    const d = name.charCodeAt(i + 1);
    if (!(d >= 0xdc00 && d <= 0xdfff)) return true;
    i++;
  }
  return false;
}
