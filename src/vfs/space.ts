/**
 * File space on local filesystems: freeing a range (hole punching) and finding the allocated
 * ranges, through smbts' native addon (native/xattr: fallocate(2), lseek SEEK_DATA/SEEK_HOLE; node
 * has neither). Every call reports "unsupported" (undefined / false) when the addon is missing or
 * the filesystem cannot do it, and the caller falls back.
 *
 * FSCTL_SET_ZERO_DATA on a sparse file deallocates the range (Windows' FSCTL_SET_ZERO_DATA: "if the
 * file is sparse ... NTFS may deallocate disk space"; Samba: fallocate(PUNCH_HOLE | KEEP_SIZE)), so
 * a tiny request can never fill the disk.
 */
import { xattrBinding, errnoCode } from './xattr.js';

const FALLOC_FL_KEEP_SIZE = 0x01;
const FALLOC_FL_PUNCH_HOLE = 0x02;
/** Bytes freed per fallocate call: each is one short syscall, the event loop gets a turn between. */
const PUNCH_STEP = 1n << 30n;

/**
 * Frees [offset, offset+length) of the file (reads return zeros, size unchanged). Returns false
 * when this cannot be done here (no addon, filesystem without hole punching): nothing changed.
 */
export async function punchHole(fd: number, offset: bigint, length: bigint): Promise<boolean> {
  const fallocate = xattrBinding()?.fallocate;
  if (!fallocate || length <= 0n) return !!fallocate;
  for (let pos = offset, end = offset + length; pos < end; pos += PUNCH_STEP) {
    const n = end - pos < PUNCH_STEP ? end - pos : PUNCH_STEP;
    try {
      fallocate(fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, Number(pos), Number(n));
    } catch (e) {
      const c = errnoCode(e);
      // Unsupported before anything was freed: the caller zero-fills instead.
      if (pos === offset && (c === 'ENOTSUP' || c === 'EOPNOTSUPP' || c === 'ENOSYS' || c === 'EINVAL')) return false;
      throw e;
    }
    if (pos + n < end) await new Promise((r) => setImmediate(r));
  }
  return true;
}

/**
 * The data (non-hole) segments of [start, end) as [offset, length] pairs, at most `max` of them,
 * or undefined when holes cannot be seen here (then every byte counts as data).
 */
export function dataSegments(fd: number, start: bigint, end: bigint, max = 4096): Array<[bigint, bigint]> | undefined {
  const seek = xattrBinding()?.seekData;
  if (!seek) return undefined;
  const out: Array<[bigint, bigint]> = [];
  try {
    for (let pos = start; pos < end && out.length < max; ) {
      const d = seek(fd, Number(pos), false);
      if (d < 0 || BigInt(d) >= end) break;
      const h = seek(fd, d, true);
      const segEnd = h < 0 || BigInt(h) > end ? end : BigInt(h);
      out.push([BigInt(d), segEnd - BigInt(d)]);
      pos = segEnd;
    }
  } catch {
    return undefined; // e.g. a filesystem without SEEK_DATA support
  }
  return out;
}

/**
 * Writes zeros over [start, end) in steps of at most `chunk` bytes, but only where the file has
 * data: a hole already reads as zeros, and writing zeros into it would allocate it (so a tiny
 * SET_ZERO_DATA could fill the disk). Without SEEK_DATA every byte counts as data.
 */
export async function zeroData(fd: number, start: bigint, end: bigint, chunk: number,
  write: (data: Buffer, position: bigint) => Promise<unknown>): Promise<void> {
  const zero = Buffer.alloc(Number(end - start < BigInt(chunk) ? end - start : BigInt(chunk)));
  for (let pos = start; pos < end; ) {
    const segs = dataSegments(fd, pos, end, 64) ?? [[pos, end - pos]];
    if (segs.length === 0) return;
    for (const [segStart, segLen] of segs) {
      for (let p = segStart, segEnd = segStart + segLen; p < segEnd; ) {
        const n = segEnd - p < BigInt(zero.length) ? Number(segEnd - p) : zero.length;
        await write(zero.subarray(0, n), p);
        p += BigInt(n);
      }
      pos = segStart + segLen;
    }
  }
}
