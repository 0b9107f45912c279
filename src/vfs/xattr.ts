/**
 * Extended attributes through smbts' own optional native addon (native/xattr, built by
 * scripts/build-native.mjs at install time; Node has no xattr API).
 *
 * loadXattr() finds and loads native/xattr/build/Release/xattr.node once per process. When it is
 * missing (not built: no compiler, not Linux, SMBTS_SKIP_NATIVE=1) or disabled with
 * SMBTS_NO_XATTR=1, it reports why and callers keep their in-memory fallback.
 * SMBTS_XATTR_ADDON=/path/xattr.node loads a specific build.
 *
 * The calls are synchronous (about one sync lstat() each; no thread-pool hop) except
 * lgetxattrBatch, which reads many files on the libuv pool for directory listings.
 * Whether a given filesystem supports user.* attributes is a separate question: probeXattr()
 * answers it for a directory (ENOTSUP / EOPNOTSUPP means no, e.g. some tmpfs or network mounts).
 */
import { createRequire } from 'node:module';
import { existsSync } from 'node:fs';
import { constants as osConstants } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export interface XattrBinding {
  /** Value, or undefined when the attribute is absent (ENODATA). */
  fgetxattr(fd: number, name: string): Buffer | undefined;
  fsetxattr(fd: number, name: string, value: Buffer, flags?: number): void;
  /** false when the attribute was absent */
  fremovexattr(fd: number, name: string): boolean;
  /** Does not follow a final symlink. */
  lgetxattr(path: string, name: string): Buffer | undefined;
  lsetxattr(path: string, name: string, value: Buffer, flags?: number): void;
  lremovexattr(path: string, name: string): boolean;
  /** Many lgetxattr on a libuv pool thread: Buffer = value, null = absent, string = errno code. */
  lgetxattrBatch(paths: string[], name: string): Promise<Array<Buffer | null | string>>;
  /** fallocate(2) (./space.ts); absent in builds older than the call. */
  fallocate?(fd: number, mode: number, offset: number, length: number): void;
  /** lseek SEEK_DATA / SEEK_HOLE (./space.ts): the offset, or -1 when no data follows. */
  seekData?(fd: number, offset: number, hole: boolean): number;
  readonly platform: string;
}

export type XattrLoad = { binding: XattrBinding; path: string; reason?: undefined } | { binding?: undefined; path?: undefined; reason: string };

/** setxattr flags (linux/xattr.h) */
export const XATTR_CREATE = 1;
export const XATTR_REPLACE = 2;

let loaded: XattrLoad | undefined;

/** What the .node file exports (lgetxattrMany: packed answer, see native/xattr/xattr.c). */
interface RawBinding extends XattrBinding {
  lgetxattrMany?(joined: string, name: string): Promise<Buffer>;
}

const errnoNames = new Map<number, string>(Object.entries(osConstants.errno).map(([k, v]) => [v, k]));

/** lgetxattrBatch over the packed lgetxattrMany: one string in, one Buffer out (no per-path objects in C). */
function viaMany(raw: RawBinding & { lgetxattrMany(joined: string, name: string): Promise<Buffer> }) {
  return async (paths: string[], name: string): Promise<Array<Buffer | null | string>> => {
    if (paths.length === 0) return [];
    if (paths.some((p) => p === '' || p.includes('\0'))) return raw.lgetxattrBatch(paths, name);
    const b = await raw.lgetxattrMany(paths.join('\0'), name);
    const out: Array<Buffer | null | string> = [];
    let off = 0;
    for (let i = 0; i < paths.length; i++) {
      if (off + 4 > b.length) throw new Error('lgetxattrMany: short answer');
      const st = b.readInt32LE(off);
      off += 4;
      if (st >= 0) {
        if (off + st > b.length) throw new Error('lgetxattrMany: short answer');
        out.push(b.subarray(off, off + st));
        off += st;
      } else if (st === -1) {
        out.push(null);
      } else {
        out.push(errnoNames.get(-2 - st) ?? 'EUNKNOWN');
      }
    }
    return out;
  };
}

/** Candidate locations of the built addon, from src/vfs (tsx) or dist/src/vfs (compiled). */
function candidates(): string[] {
  const here = dirname(fileURLToPath(import.meta.url));
  const rel = join('native', 'xattr', 'build', 'Release', 'xattr.node');
  const out: string[] = [];
  if (process.env.SMBTS_XATTR_ADDON) out.push(resolve(process.env.SMBTS_XATTR_ADDON));
  for (let d = here, i = 0; i < 5; i++, d = dirname(d)) out.push(join(d, rel));
  return out;
}

/** Load the addon once per process (cached, including the failure). */
export function loadXattr(): XattrLoad {
  if (loaded) return loaded;
  if (process.env.SMBTS_NO_XATTR === '1') return (loaded = { reason: 'disabled by SMBTS_NO_XATTR=1' });
  const file = candidates().find((p) => existsSync(p));
  if (!file) return (loaded = { reason: 'native xattr addon not built (native/xattr; see scripts/build-native.mjs)' });
  try {
    const req = createRequire(import.meta.url);
    const b = req(file) as Partial<RawBinding>;
    if (typeof b.fgetxattr !== 'function' || typeof b.lgetxattr !== 'function' || typeof b.fsetxattr !== 'function' || typeof b.lgetxattrBatch !== 'function') {
      return (loaded = { reason: `${file} is not the smbts xattr addon` });
    }
    if (b.platform !== 'linux') return (loaded = { reason: `xattrs unsupported on ${process.platform}` });
    const raw = b as RawBinding;
    const binding: XattrBinding = {
      fgetxattr: raw.fgetxattr,
      fsetxattr: raw.fsetxattr,
      fremovexattr: raw.fremovexattr,
      lgetxattr: raw.lgetxattr,
      lsetxattr: raw.lsetxattr,
      lremovexattr: raw.lremovexattr,
      lgetxattrBatch: typeof raw.lgetxattrMany === 'function' ? viaMany(raw as Parameters<typeof viaMany>[0]) : raw.lgetxattrBatch,
      ...(typeof raw.fallocate === 'function' ? { fallocate: raw.fallocate } : {}),
      ...(typeof raw.seekData === 'function' ? { seekData: raw.seekData } : {}),
      platform: raw.platform,
    };
    return (loaded = { binding, path: file });
  } catch (e) {
    return (loaded = { reason: `cannot load ${file}: ${e instanceof Error ? e.message.split('\n')[0] : String(e)}` });
  }
}

/** The addon, or undefined when unavailable. */
export function xattrBinding(): XattrBinding | undefined {
  return loadXattr().binding;
}

/** Why the addon is unavailable (undefined when it is available). */
export function xattrUnavailableReason(): string | undefined {
  return loadXattr().reason;
}

/** @internal tests: forget the cached load result */
export function resetXattrForTests(): void {
  loaded = undefined;
}

export function errnoCode(e: unknown): string | undefined {
  return (e as { code?: unknown } | undefined)?.code as string | undefined;
}

/** The filesystem (or this object type) does not support user.* attributes. */
export function isUnsupported(e: unknown): boolean {
  const c = errnoCode(e);
  return c === 'ENOTSUP' || c === 'EOPNOTSUPP';
}

/**
 * Whether `dir`'s filesystem supports user.* xattrs: reads user.DOSATTRIB of `dir` itself
 * (absent or present both mean yes; nothing is written).
 */
export function probeXattr(dir: string, binding: XattrBinding | undefined = xattrBinding()): { ok: true } | { ok: false; reason: string } {
  if (!binding) return { ok: false, reason: xattrUnavailableReason() ?? 'native xattr addon unavailable' };
  try {
    binding.lgetxattr(dir, 'user.DOSATTRIB');
    return { ok: true };
  } catch (e) {
    if (isUnsupported(e)) return { ok: false, reason: `filesystem of ${dir} does not support user xattrs (${errnoCode(e)})` };
    // EACCES/EPERM and the like are per-file matters, not a filesystem limitation.
    return { ok: true };
  }
}
