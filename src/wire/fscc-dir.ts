// Directory enumeration entries (MS-FSCC 2.4.8/2.4.10/2.4.14/2.4.17/2.4.18/2.4.28 and
// FileIdExtdDirectoryInformation) and the MS-FSA 2.1.4.4 wildcard matcher.
// Common prefix of the "full" classes: NextEntryOffset(4) | FileIndex(4) | CreationTime(8)
// | LastAccessTime(8) | LastWriteTime(8) | ChangeTime(8) | EndOfFile(8) | AllocationSize(8)
// | FileAttributes(4) | FileNameLength(4), then per class:
//   Directory      : FileName                                                   (fixed 64)
//   Full           : EaSize(4) FileName                                         (fixed 68)
//   IdFull         : EaSize(4) Reserved(4) FileId(8) FileName                   (fixed 80)
//   Both           : EaSize(4) ShortNameLength(1) Reserved1(1) ShortName(24) FileName  (fixed 94)
//   IdBoth         : EaSize(4) ShortNameLength(1) Reserved1(1) ShortName(24) Reserved2(2) FileId(8) FileName (fixed 104)
//   IdExtd         : EaSize(4) ReparsePointTag(4) FileId(16) FileName           (fixed 88)
// FileNamesInformation: NextEntryOffset(4) | FileIndex(4) | FileNameLength(4) | FileName (fixed 12).
// Entries are 8-byte aligned; NextEntryOffset is 0 in the last one.
import { Reader, Writer, WireError, utf16, fromUtf16 } from './buf.js';
import { upcase } from './upcase.js';
import { FileInfoClass as C, FileAttributes } from './constants.js';

export interface DirEntryInfo {
  name: string;
  /** 8.3 name for the Both/IdBoth classes (empty or undefined = none). */
  shortName?: string;
  fileIndex: number;
  creationTime: bigint;
  lastAccessTime: bigint;
  lastWriteTime: bigint;
  changeTime: bigint;
  endOfFile: bigint;
  allocationSize: bigint;
  attributes: number;
  /** For entries with FILE_ATTRIBUTE_REPARSE_POINT the EaSize field carries the reparse tag instead. */
  eaSize: number;
  /** 64-bit id (128-bit for FileIdExtdDirectoryInformation). */
  fileId: bigint;
  /** Reparse tag (FileIdExtdDirectoryInformation's ReparsePointTag; EaSize of reparse points otherwise). */
  reparseTag?: number;
}

const FIXED: Record<number, number> = {
  [C.FileDirectoryInformation]: 64,
  [C.FileFullDirectoryInformation]: 68,
  [C.FileIdFullDirectoryInformation]: 80,
  [C.FileBothDirectoryInformation]: 94,
  [C.FileIdBothDirectoryInformation]: 104,
  [C.FileIdExtdDirectoryInformation]: 88,
  [C.FileNamesInformation]: 12,
};

export function isDirInfoClass(infoClass: number): boolean {
  return FIXED[infoClass] !== undefined;
}

function fixedSize(infoClass: number): number {
  const f = FIXED[infoClass];
  if (f === undefined) throw new WireError(`unsupported directory info class ${infoClass}`, 0xc0000003);
  return f;
}

/** Unpadded size of one entry. */
export function dirEntrySize(infoClass: number, e: DirEntryInfo): number {
  return fixedSize(infoClass) + Buffer.byteLength(e.name, 'utf16le');
}

function eaField(e: DirEntryInfo): number {
  return e.attributes & FileAttributes.REPARSE_POINT && e.reparseTag !== undefined ? e.reparseTag : e.eaSize;
}

function writeEntry(w: Writer, infoClass: number, e: DirEntryInfo): void {
  const name = utf16(e.name);
  w.u32(0).u32(e.fileIndex);
  if (infoClass === C.FileNamesInformation) {
    w.u32(name.length).bytes(name);
    return;
  }
  w.u64(e.creationTime).u64(e.lastAccessTime).u64(e.lastWriteTime).u64(e.changeTime);
  w.u64(e.endOfFile).u64(e.allocationSize).u32(e.attributes).u32(name.length);
  switch (infoClass) {
    case C.FileDirectoryInformation: break;
    case C.FileFullDirectoryInformation: w.u32(eaField(e)); break;
    case C.FileIdFullDirectoryInformation: w.u32(eaField(e)).u32(0).u64(e.fileId); break;
    case C.FileBothDirectoryInformation:
    case C.FileIdBothDirectoryInformation: {
      const sn = utf16(e.shortName ?? '').subarray(0, 24);
      w.u32(eaField(e)).u8(sn.length).u8(0).bytes(sn).zeros(24 - sn.length);
      if (infoClass === C.FileIdBothDirectoryInformation) w.u16(0).u64(e.fileId);
      break;
    }
    case C.FileIdExtdDirectoryInformation:
      w.u32(e.attributes & FileAttributes.REPARSE_POINT ? 0 : e.eaSize).u32(e.reparseTag ?? 0);
      w.u64(BigInt.asUintN(64, e.fileId)).u64(BigInt.asUintN(64, e.fileId >> 64n));
      break;
  }
  w.bytes(name);
}

/**
 * Encodes as many entries as fit in `maxBytes` (each starting 8-byte aligned, NextEntryOffset
 * chained). `count` is how many were consumed; 0 means even the first entry does not fit (the
 * server answers STATUS_INFO_LENGTH_MISMATCH / BUFFER_OVERFLOW as MS-SMB2 3.3.5.18 says).
 */
export function encodeDirEntries(infoClass: number, entries: DirEntryInfo[], maxBytes: number): { buf: Buffer; count: number } {
  fixedSize(infoClass);
  const w = new Writer(Math.min(Math.max(maxBytes, 64), 65536));
  let prev = -1;
  let count = 0;
  for (const e of entries) {
    const start = (w.pos + 7) & ~7;
    if (start + dirEntrySize(infoClass, e) > maxBytes) break;
    w.zeros(start - w.pos);
    if (prev >= 0) w.setU32(prev, start - prev);
    writeEntry(w, infoClass, e);
    prev = start;
    count++;
  }
  return { buf: w.finish(), count };
}

export function decodeDirEntries(infoClass: number, buf: Buffer): DirEntryInfo[] {
  const fixed = fixedSize(infoClass);
  const out: DirEntryInfo[] = [];
  let off = 0;
  const r = new Reader(buf);
  while (buf.length > 0) {
    if (out.length > 100000) throw new WireError('too many directory entries');
    r.at(off);
    r.need(fixed, 'directory entry');
    const next = r.u32();
    const fileIndex = r.u32();
    const e: DirEntryInfo = {
      name: '', fileIndex, creationTime: 0n, lastAccessTime: 0n, lastWriteTime: 0n, changeTime: 0n,
      endOfFile: 0n, allocationSize: 0n, attributes: 0, eaSize: 0, fileId: 0n,
    };
    let nameLen: number;
    if (infoClass === C.FileNamesInformation) {
      nameLen = r.u32();
    } else {
      e.creationTime = r.u64(); e.lastAccessTime = r.u64(); e.lastWriteTime = r.u64(); e.changeTime = r.u64();
      e.endOfFile = r.u64(); e.allocationSize = r.u64(); e.attributes = r.u32();
      nameLen = r.u32();
      if (infoClass !== C.FileDirectoryInformation) e.eaSize = r.u32();
      switch (infoClass) {
        case C.FileIdFullDirectoryInformation: r.skip(4); e.fileId = r.u64(); break;
        case C.FileBothDirectoryInformation:
        case C.FileIdBothDirectoryInformation: {
          const snLen = Math.min(r.u8(), 24);
          r.skip(1);
          const sn = r.bytes(24);
          e.shortName = fromUtf16(sn.subarray(0, snLen & ~1));
          if (infoClass === C.FileIdBothDirectoryInformation) { r.skip(2); e.fileId = r.u64(); }
          break;
        }
        case C.FileIdExtdDirectoryInformation: {
          e.reparseTag = r.u32();
          const lo = r.u64();
          const hi = r.u64();
          e.fileId = (hi << 64n) | lo;
          break;
        }
      }
      if (infoClass !== C.FileIdExtdDirectoryInformation && e.attributes & FileAttributes.REPARSE_POINT) e.reparseTag = e.eaSize;
    }
    const end = next ? off + next : buf.length;
    if (end > buf.length || r.pos + nameLen > end) throw new WireError('directory entry name out of range');
    e.name = fromUtf16(r.bytes(nameLen));
    out.push(e);
    if (!next) break;
    off += next;
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// MS-FSA 2.1.4.4 IsNameInExpression, including the DOS wildcards (the same rules
// FsRtlIsNameInExpression applies):
//   *  zero or more characters          ?  exactly one character
//   <  (DOS_STAR) zero or more characters, but never past the last '.' of the name
//   >  (DOS_QM)   one character; at a '.' or the end of the name it matches nothing
//   "  (DOS_DOT)  a '.' or zero characters at the end of the name

/** One character through the names' upcase table (wire/upcase.ts), as every name comparison. */
function fold(c: string): number {
  return upcase(c.charCodeAt(0));
}

export function matchWildcard(pattern: string, name: string, caseInsensitive: boolean): boolean {
  if (pattern === '*') return true;
  const P = pattern.length;
  const N = name.length;
  const lastDot = name.lastIndexOf('.');
  const eq = caseInsensitive ? (a: string, b: string) => a === b || fold(a) === fold(b) : (a: string, b: string) => a === b;
  // Bottom-up DP over (pattern position p, name position n): next[n] = match(p + 1, n),
  // cur[n] = match(p, n). No recursion, so a hostile 32K-character pattern cannot blow the stack.
  let next = new Uint8Array(N + 1);
  let cur = new Uint8Array(N + 1);
  next[N] = 1; // empty pattern matches only the empty rest of the name
  for (let p = P - 1; p >= 0; p--) {
    const c = pattern[p]!;
    for (let n = N; n >= 0; n--) {
      let res: boolean;
      switch (c) {
        case '*': res = next[n] === 1 || (n < N && cur[n + 1] === 1); break;
        case '?': res = n < N && next[n + 1] === 1; break;
        // DOS_STAR: may consume name[n] unless it is the last dot of the name.
        case '<': res = next[n] === 1 || (n < N && n !== lastDot && cur[n + 1] === 1); break;
        // DOS_QM: one non-dot character, or nothing at a dot / the end.
        case '>': res = n < N && name[n] !== '.' ? next[n + 1] === 1 : next[n] === 1; break;
        // DOS_DOT: a dot, or nothing at the end of the name.
        case '"': res = n < N && name[n] === '.' ? next[n + 1] === 1 : n === N && next[n] === 1; break;
        default: res = n < N && eq(c, name[n]!) && next[n + 1] === 1;
      }
      cur[n] = res ? 1 : 0;
    }
    [next, cur] = [cur, next];
  }
  return next[0] === 1;
}

/** True when a pattern contains any wildcard character (so a single-name lookup suffices otherwise). */
export function hasWildcard(pattern: string): boolean {
  return /[*?<>"]/.test(pattern);
}
