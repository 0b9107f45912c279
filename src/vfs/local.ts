/**
 * LocalVfs: a share backed by a local directory (node:fs/promises, file handles).
 *
 * Containment: every path is resolved component by component under realpath(root). Symlinks are
 * followed only when their realpath stays inside the share (followSymlinks 'inside', default) or
 * never ('never' -> ACCESS_DENIED). The final open uses O_NOFOLLOW on an already-resolved path, so
 * swapping the last component for a symlink between check and open fails (ELOOP -> ACCESS_DENIED).
 * Residual risk: Node has no openat(), so an attacker with local write access inside the share who
 * swaps an *intermediate* directory for a symlink between the check and the open could win a race.
 * SMB clients themselves cannot create symlinks through this server.
 *
 * DOS attributes and the creation time are stored in Samba's `user.DOSATTRIB` xattr (same format
 * as smbd, so Samba and smbts can serve one directory) when smbts' own native addon is built and
 * the share's filesystem supports user xattrs (./dosstore.ts: probed at first use, cached per
 * inode and validated by ctime; listings read them on the libuv pool). When present, the xattr
 * is authoritative, READONLY included (as Samba with "map readonly = no"). Other metadata Windows
 * has but POSIX lacks (exact 100ns timestamps, change-time overrides, allocation), and DOS
 * attributes when the xattr cannot be used (no addon, no FS support, per-file EPERM), are kept in
 * a per-instance in-memory map keyed by dev:inode, i.e. lost on restart. READONLY on files is
 * also mirrored to the owner-write mode bit.
 *
 * Named streams (MS-FSCC 2.1.4) live in a stream depot OUTSIDE the share (like Samba's
 * vfs_streams_depot): `<streamsDir>/<dev>-<ino>/s-<hex(utf8 name)>`, one host file per stream.
 * streamsDir defaults to `$SMBTS_HOME/streams/<sha256(realpath(root))[0..16]>` (SMBTS_HOME defaults
 * to ~/.smbts), created 0700 on the first stream write. Being keyed by inode, streams follow
 * renames and hard links. Each per-file directory records the file's birth time in `.birth`
 * (when the FS reports a trustworthy one); a mismatch (the inode was reused after a delete that
 * bypassed smbts) discards the stale streams. Best effort: without btime there is no such check.
 * Should streamsDir lie inside the share anyway, it is hidden from listings and unreachable by
 * path. Delete of a file or directory, and overwrite of its main stream, remove its streams.
 * Extended attributes live beside the streams, one `e-<hex(utf8 name)>` file each (flags byte, value).
 * A stored NT security descriptor (VfsHandle.setSecurity) is the file `sd` there; it survives an
 * overwrite. The depot file `.acls` marks that some descriptor was ever stored (until then no
 * lookups are made).
 */
import * as fsp from 'node:fs/promises';
import { constants as C, readdirSync, type BigIntStats } from 'node:fs';
import * as nodePath from 'node:path';
import * as os from 'node:os';
import { createHash } from 'node:crypto';
import {
  FileAttribute, VfsError, eaListSize, nsToFiletime, filetimeToUnixSeconds,
  type DirEntry, type ExtendedAttribute, type FileStat, type FsInfo, type OpenAction, type OpenOptions, type StreamInfo, type TimesUpdate, type Vfs, type VfsHandle,
} from './types.js';
import { NtStatus } from './status.js';
import { punchHole, dataSegments, zeroData } from './space.js';
import { assertSharePath, foldCase, splitPath, splitStream, validateName, validateStreamName, baseName, parentPath } from './path.js';
import { MAX_IO_CHUNK, initialAttributes, mergeSetAttributes, planOpen, reportAttributes, roundAlloc } from './common.js';
import { DosAttribStore, type DosStorage } from './dosstore.js';
import type { XattrBinding } from './xattr.js';
import { NameIndex } from './name-index.js';
import { MetaIo, type FileIo, type MetadataCalls } from './metaio.js';
import { HiddenPaths } from './hidden.js';

export interface LocalVfsOptions {
  /** Default false: names are matched case-insensitively when the exact spelling is missing. */
  caseSensitive?: boolean;
  /** 'inside' (default): follow symlinks whose target stays inside the share; 'never': refuse all. */
  followSymlinks?: 'inside' | 'never';
  /** Volume label reported by statfs. */
  label?: string;
  /** Stream depot directory (see the header comment for the default). Must not be shared. */
  streamsDir?: string;
  /**
   * Where DOS attributes and creation times persist: 'xattr' (default; Samba's user.DOSATTRIB,
   * falls back to memory when the addon or the filesystem cannot) or 'memory' (never persisted).
   */
  dosAttributes?: 'xattr' | 'memory';
  /** @internal tests: a stand-in for the native addon */
  xattrBinding?: XattrBinding;
  /**
   * Per-request metadata calls (lstat/stat/fstat/realpath, ./metaio.ts): 'auto' (default) makes
   * them synchronously when the share is on a local filesystem, 'sync' / 'async' force one way.
   */
  metadataCalls?: MetadataCalls;
  /**
   * Host paths of the server's own state (SMBTS_HOME, the user database ...): when they lie
   * inside the share they are hidden from listings and unreachable (./hidden.ts); when the share
   * lies inside one of them, nothing is served.
   */
  hiddenPaths?: readonly string[];
  /** The one of hiddenPaths a share may lie inside (SMBTS_HOME); see ./hidden.ts. */
  stateHome?: string;
}

interface Override { value: bigint; observedNs: bigint }
interface Meta {
  attrs?: number;
  creationTime?: bigint;
  lastWriteTime?: Override;
  lastAccessTime?: Override;
  changeTime?: Override;
  /** Allocation size set by the client (FileAllocationInformation / AlSi); reported as max(blocks, this). */
  allocation?: bigint;
  /** EaSize of the file's EAs in the depot (kept in step by readEas/writeEas/scanEaSizes). */
  eaSize?: number;
  /** user.DOSATTRIB could not be written for this file: attrs/creationTime here win over it */
  dosLocal?: boolean;
}

interface Resolved {
  /** absolute host path to operate on (symlinks already resolved when followed) */
  abs: string;
  /** share-relative on-disk spelling */
  rel: string;
  exists: boolean;
  st?: BigIntStats;
  /** last component is a symlink that was not followed (followLast=false) */
  isLink: boolean;
  /** last component is a symlink whose target does not exist */
  dangling: boolean;
}

const O_NOFOLLOW = C.O_NOFOLLOW ?? 0;
const O_DIRECTORY = C.O_DIRECTORY ?? 0;

/** Depots (real paths) known to hold the `.acls` marker, for every LocalVfs of this process. */
const ACL_DEPOTS = new Set<string>();
/** How long a LocalVfs trusts "no descriptor stored in the depot" before looking again. */
const NO_SD_TTL_MS = 1000;

function metaKey(st: BigIntStats): string {
  return `${st.dev}:${st.ino}`;
}

function streamFileName(name: string): string {
  return 's-' + Buffer.from(name, 'utf8').toString('hex');
}
function streamNameOf(file: string): string | undefined {
  if (!file.startsWith('s-')) return undefined;
  return Buffer.from(file.slice(2), 'hex').toString('utf8');
}
/**
 * The file's birth time as a staleness stamp, or '' when it cannot be trusted: no btime from the
 * FS (0), or equal to ctime (libuv reports ctime as birthtime without statx; a fresh file too).
 */
function birthOf(st: BigIntStats): string {
  return st.birthtimeNs > 0n && st.birthtimeNs !== st.ctimeNs ? String(st.birthtimeNs) : '';
}

function wrap(err: unknown): VfsError {
  return VfsError.from(err);
}

/** Reads into buf[bufOffset, +length) from `position` until full or end of file (the OS may return
 *  short reads before EOF). Returns the bytes read. */
/** Uncached DOSATTRIBs of one listing batch read synchronously rather than on the pool (sync metadata calls). */
const SYNC_DOS_READS = 4;

async function readFully(fh: FileIo, buf: Buffer, bufOffset: number, length: number, position: bigint): Promise<number> {
  if (bufOffset < 0 || length < 0 || bufOffset + length > buf.length) throw new VfsError(NtStatus.INVALID_PARAMETER);
  let total = 0;
  try {
    while (total < length) {
      const { bytesRead } = await fh.read(buf, bufOffset + total, length - total, Number(position) + total);
      if (bytesRead === 0) break;
      total += bytesRead;
    }
  } catch (e) {
    throw wrap(e);
  }
  return total;
}

/** Server-side copy between two handles of this VFS (FSCTL_SRV_COPYCHUNK), in MAX_IO_CHUNK pieces;
 *  stops early at the source's end of file. Returns the bytes copied. */
async function copyLocal(src: VfsHandle, dst: VfsHandle, srcOffset: bigint, dstOffset: bigint, length: number): Promise<number> {
  if (!(src instanceof LocalHandle) && !(src instanceof LocalStreamHandle)) throw new VfsError(NtStatus.INVALID_PARAMETER, 'foreign handle');
  const buf = Buffer.allocUnsafe(Math.min(length, MAX_IO_CHUNK));
  let done = 0;
  while (done < length) {
    const n = await src.read(buf, 0, Math.min(buf.length, length - done), srcOffset + BigInt(done));
    if (n === 0) break;
    await dst.write(buf.subarray(0, n), dstOffset + BigInt(done));
    done += n;
  }
  return done;
}

/** Writes all of `data` at `position` (looping over short writes); a zero-byte write is DISK_FULL. */
async function writeFully(fh: FileIo, data: Buffer, position: bigint): Promise<number> {
  let total = 0;
  try {
    while (total < data.length) {
      const { bytesWritten } = await fh.write(data, total, data.length - total, Number(position) + total);
      if (bytesWritten === 0) throw new VfsError(NtStatus.DISK_FULL);
      total += bytesWritten;
    }
  } catch (e) {
    throw wrap(e);
  }
  return total;
}

/** An entry found while listing a directory. */
interface ListHit {
  name: string;
  st: BigIntStats;
  path: string;
  link: boolean;
  /** dev:ino, when already computed */
  key?: string;
}

export class LocalVfs implements Vfs {
  readonly caseSensitive: boolean;
  private readonly follow: 'inside' | 'never';
  private readonly label: string;
  private rootPromise: Promise<string> | undefined;
  /** @internal */
  readonly meta = new Map<string, Meta>();
  /**
   * How the last stat() resolved its path (fst: the FileStat it returned, null: it found nothing),
   * for open()'s `known`: the CREATE handler's stat then open of one path resolve it once. One
   * slot: another stat in between (another request) only costs the second lookup again.
   */
  private lastStat: { path: string; r: Resolved; fst: FileStat | null } | undefined;
  /** @internal */
  readonly handles = new Set<LocalHandle | LocalStreamHandle>();
  private readonly streamsOpt: string | undefined;
  private depotPromise: Promise<string> | undefined;
  /** realpath of the depot when it lies inside the share (then hidden), else undefined */
  private depotInside: string | undefined;
  private readonly hiddenOpt: readonly string[] | undefined;
  private readonly stateHome: string | undefined;
  /** The server state inside this share (set with the root's real path). */
  private hidden = HiddenPaths.NONE;
  /** @internal user.DOSATTRIB persistence (./dosstore.ts) */
  readonly dos: DosAttribStore;
  /** @internal metadata system calls (./metaio.ts) */
  readonly io: MetaIo;
  /** @internal case-folded names per directory (./name-index.ts) for case-insensitive lookups */
  readonly names: NameIndex;

  constructor(readonly root: string, opts: LocalVfsOptions = {}) {
    this.caseSensitive = opts.caseSensitive ?? false;
    this.follow = opts.followSymlinks ?? 'inside';
    this.label = opts.label ?? nodePath.basename(nodePath.resolve(root));
    this.streamsOpt = opts.streamsDir;
    this.hiddenOpt = opts.hiddenPaths;
    this.stateHome = opts.stateHome;
    this.dos = new DosAttribStore(opts.dosAttributes ?? 'xattr', opts.xattrBinding);
    this.io = new MetaIo(opts.metadataCalls);
    this.names = new NameIndex(undefined, undefined, this.io);
  }

  /** Where DOS attributes persist for this share ('memory' with the reason until/unless xattrs work). */
  async dosAttributeStorage(): Promise<DosStorage> {
    await this.rootReal().catch(() => undefined);
    return this.dos.status();
  }

  // ------------------------------------------------------------------ stream depot

  /** Absolute depot path (not created). */
  private depot(): Promise<string> {
    this.depotPromise ??= (async () => {
      const root = await this.rootReal();
      let dir = this.streamsOpt;
      if (!dir) {
        const home = process.env.SMBTS_HOME || nodePath.join(os.homedir(), '.smbts');
        dir = nodePath.join(home, 'streams', createHash('sha256').update(root).digest('hex').slice(0, 16));
      }
      dir = nodePath.resolve(dir);
      // Compare real paths for the containment check (parents may be symlinks).
      let probe = dir;
      const tail: string[] = [];
      for (;;) {
        try {
          probe = nodePath.join(await fsp.realpath(probe), ...tail);
          break;
        } catch {
          const up = nodePath.dirname(probe);
          if (up === probe) {
            probe = dir;
            break;
          }
          tail.unshift(nodePath.basename(probe));
          probe = up;
        }
      }
      if (this.inside(root, probe)) this.depotInside = probe;
      return probe;
    })();
    return this.depotPromise;
  }

  /** The depot directory of a file; with `create`, made (and stamped) when missing. */
  private async streamDir(st: BigIntStats, create: boolean): Promise<string | undefined> {
    const depot = await this.depot();
    const dir = nodePath.join(depot, `${st.dev}-${st.ino}`);
    // Most files have no depot directory: with synchronous metadata calls an lstat says so without
    // a failing readFile on the thread pool.
    if (!create && this.io.sync && !(await this.io.exists(dir))) return undefined;
    const birth = birthOf(st);
    let stamp: string | undefined;
    try {
      stamp = await fsp.readFile(nodePath.join(dir, '.birth'), 'utf8');
    } catch {
      stamp = undefined;
    }
    if (stamp !== undefined && stamp !== '' && birth !== '' && stamp !== birth) {
      // Stale: the inode belongs to a different file now.
      await fsp.rm(dir, { recursive: true, force: true }).catch(() => {});
      stamp = undefined;
    }
    if (stamp !== undefined) {
      if (stamp === '' && birth !== '') await fsp.writeFile(nodePath.join(dir, '.birth'), birth).catch(() => {});
      return dir;
    }
    if (!create) return undefined;
    try {
      await fsp.mkdir(depot, { recursive: true, mode: 0o700 });
      await fsp.mkdir(dir, { mode: 0o700 }).catch((e: NodeJS.ErrnoException) => { if (e.code !== 'EEXIST') throw e; });
      await fsp.writeFile(nodePath.join(dir, '.birth'), birth);
    } catch (e) {
      throw wrap(e);
    }
    return dir;
  }

  /** Host file name of stream `name` in `dir` (case-insensitive), or undefined. */
  /** The depot file of an existing named stream of `base`, or OBJECT_NAME_NOT_FOUND. */
  private async existingStream(base: string, stream: string, path: string): Promise<{ base: Resolved & { st: BigIntStats }; file: string }> {
    const r = await this.resolveBase(base, path);
    const dir = await this.streamDir(r.st, false);
    const f = dir ? await this.findStream(dir, stream) : undefined;
    if (!dir || !f) throw new VfsError(NtStatus.OBJECT_NAME_NOT_FOUND, path);
    return { base: r, file: nodePath.join(dir, f) };
  }

  private async findStream(dir: string, name: string): Promise<string | undefined> {
    const exact = streamFileName(name);
    try {
      await fsp.lstat(nodePath.join(dir, exact));
      return exact;
    } catch { /* fall through */ }
    const f = foldCase(name);
    let files: string[];
    try {
      files = await fsp.readdir(dir);
    } catch {
      return undefined;
    }
    return files.find((x) => { const n = streamNameOf(x); return n !== undefined && foldCase(n) === f; });
  }

  private eaScan: Promise<void> | undefined;
  /** Once per instance: learn the EaSize of every file with EAs in the depot (stat/readdir report it). */
  private scanEaSizes(): Promise<void> {
    this.eaScan ??= (async () => {
      const depot = await this.depot();
      for (const d of await fsp.readdir(depot).catch(() => [] as string[])) {
        const m = /^(\d+)-(\d+)$/.exec(d);
        if (!m) continue;
        const files = await fsp.readdir(nodePath.join(depot, d)).catch(() => [] as string[]);
        const list: ExtendedAttribute[] = [];
        for (const f of files.sort()) {
          if (!f.startsWith('e-')) continue;
          const b = await fsp.readFile(nodePath.join(depot, d, f)).catch(() => undefined);
          if (b && b.length >= 1) list.push({ flags: b[0]!, name: Buffer.from(f.slice(2), 'hex').toString('utf8'), value: b.subarray(1) });
        }
        if (list.length) {
          const k = `${m[1]}:${m[2]}`;
          let meta = this.meta.get(k);
          if (!meta) this.meta.set(k, (meta = {}));
          meta.eaSize ??= eaListSize(list);
        }
      }
    })();
    return this.eaScan;
  }

  /** @internal EAs of a file */
  async readEas(st: BigIntStats): Promise<ExtendedAttribute[]> {
    const dir = await this.streamDir(st, false);
    if (!dir) {
      const m = this.meta.get(metaKey(st));
      if (m) m.eaSize = 0;
      return [];
    }
    const out: ExtendedAttribute[] = [];
    for (const f of (await fsp.readdir(dir).catch(() => [] as string[])).sort()) {
      if (!f.startsWith('e-')) continue;
      try {
        const b = await fsp.readFile(nodePath.join(dir, f));
        if (b.length < 1) continue;
        out.push({ flags: b[0]!, name: Buffer.from(f.slice(2), 'hex').toString('utf8'), value: b.subarray(1) });
      } catch { /* vanished */ }
    }
    this.metaFor(st).eaSize = eaListSize(out);
    return out;
  }

  /** @internal set / remove (empty value) EAs of a file */
  async writeEas(st: BigIntStats, list: ExtendedAttribute[]): Promise<void> {
    const existing = await this.readEas(st);
    const dir = await this.streamDir(st, list.some((e) => e.value.length > 0));
    if (!dir) return;
    try {
      for (const e of list) {
        const f = foldCase(e.name);
        for (const old of existing) {
          if (foldCase(old.name) === f) await fsp.rm(nodePath.join(dir, 'e-' + Buffer.from(old.name, 'utf8').toString('hex')), { force: true });
        }
        if (e.value.length > 0) {
          await fsp.writeFile(nodePath.join(dir, 'e-' + Buffer.from(e.name, 'utf8').toString('hex')), Buffer.concat([Buffer.from([e.flags & 0xff]), e.value]), { mode: 0o600 });
        }
      }
    } catch (e) {
      throw wrap(e);
    }
    await this.readEas(st); // refresh EaSize
  }

  /** @internal remove every stream of a file (and EAs; the security descriptor too unless keepSecurity) */
  async dropStreams(st: BigIntStats, keepSecurity = false): Promise<void> {
    const m = this.meta.get(metaKey(st));
    if (m) m.eaSize = 0;
    const dir = await this.streamDir(st, false);
    if (!dir) return;
    if (keepSecurity && await this.hasAnySecurity()) {
      for (const f of await fsp.readdir(dir).catch(() => [] as string[])) {
        if (f !== 'sd' && f !== '.birth') await fsp.rm(nodePath.join(dir, f), { recursive: true, force: true }).catch(() => {});
      }
      return;
    }
    await fsp.rm(dir, { recursive: true, force: true }).catch(() => {});
  }

  private anySd: Promise<boolean> | undefined;
  /** until when (Date.now()) a "no descriptor stored" answer is reused */
  private noSdUntil = 0;
  /**
   * Whether any security descriptor was ever stored in this depot (the `.acls` marker). "Yes" is
   * cached for good; another instance on the same root (a second share) that stores the first one
   * says so through ACL_DEPOTS at once; "no" is re-checked on disk after NO_SD_TTL_MS (another
   * process using the same depot).
   */
  private hasAnySecurity(): Promise<boolean> {
    if (this.anySd) return this.anySd;
    const p = this.depot().then(async (d) => {
      if (ACL_DEPOTS.has(d)) return true;
      if (Date.now() < this.noSdUntil) return false;
      const yes = await this.io.exists(nodePath.join(d, '.acls'));
      if (yes) ACL_DEPOTS.add(d);
      else this.noSdUntil = Date.now() + NO_SD_TTL_MS;
      return yes;
    });
    // (the caller gets the rejection through p; this side branch must not raise an unhandled one)
    p.then((yes) => { if (yes) this.anySd = p; }, () => undefined);
    return p;
  }

  /** @internal the stored security descriptor of a file */
  async readSecurity(st: BigIntStats): Promise<Buffer | undefined> {
    if (!(await this.hasAnySecurity())) return undefined;
    const dir = await this.streamDir(st, false);
    if (!dir) return undefined;
    return fsp.readFile(nodePath.join(dir, 'sd')).catch(() => undefined);
  }

  /** @internal store the security descriptor of a file */
  async writeSecurity(st: BigIntStats, sd: Buffer): Promise<void> {
    const dir = await this.streamDir(st, true);
    try {
      if (!(await this.hasAnySecurity())) {
        const depot = await this.depot();
        await fsp.writeFile(nodePath.join(depot, '.acls'), '', { mode: 0o600 });
        ACL_DEPOTS.add(depot);
        this.anySd = Promise.resolve(true);
      }
      await fsp.writeFile(nodePath.join(dir!, 'sd'), sd, { mode: 0o600 });
    } catch (e) {
      throw wrap(e);
    }
  }

  async getSecurity(path: string): Promise<Buffer | undefined> {
    if (!(await this.hasAnySecurity())) return undefined;
    const r = await this.resolve(splitStream(path).base, true);
    if (!r.exists || !r.st) return undefined;
    return this.readSecurity(r.st);
  }

  /** Resolve the base of a stream path; must exist. */
  private async resolveBase(base: string, path: string): Promise<Resolved & { st: BigIntStats }> {
    const r = await this.resolve(base, true);
    if (!r.exists || !r.st) throw new VfsError(NtStatus.OBJECT_NAME_NOT_FOUND, path);
    return r as Resolved & { st: BigIntStats };
  }

  private async openStream(path: string, base: string, stream: string, opts: OpenOptions): Promise<{ handle: VfsHandle; action: OpenAction }> {
    validateStreamName(stream);
    if (opts.directory) throw new VfsError(NtStatus.NOT_A_DIRECTORY, path);
    let r = await this.resolve(base, true);
    let action: OpenAction | undefined;
    if (!r.exists || !r.st) {
      // Creating a stream of a missing file creates the file (NTFS).
      planOpen(false, false, 0, opts);
      const { handle } = await this.open(base, { ...opts, directory: false, nonDirectory: false, write: false });
      await handle.close();
      r = await this.resolveBase(base, path);
      action = 'created';
    }
    const bst = r.st!;
    const isDir = bst.isDirectory();
    const attrs = this.toFileStat(bst, false, r.abs).attributes;
    const dir = await this.streamDir(bst, false);
    const file = dir ? await this.findStream(dir, stream) : undefined;
    const plan = planOpen(file !== undefined, false, attrs, { ...opts, directory: false, nonDirectory: false });
    const baseFh = await this.openFd(r.abs, isDir, false, 0, bst).catch((e: unknown) => { throw wrap(e); });
    try {
      let fh: FileIo;
      let name = stream;
      if (plan.kind === 'create') {
        const d = await this.streamDir(bst, true);
        fh = await fsp.open(nodePath.join(d!, streamFileName(stream)), C.O_CREAT | C.O_EXCL | C.O_RDWR | O_NOFOLLOW, 0o600);
        action = 'created';
      } else {
        name = streamNameOf(file!) ?? stream;
        fh = await fsp.open(nodePath.join(dir!, file!), (opts.write || plan.kind === 'truncate' ? C.O_RDWR : C.O_RDONLY) | O_NOFOLLOW);
        if (plan.kind === 'truncate') {
          await fh.truncate(0);
          action = plan.action;
        }
      }
      const h = new LocalStreamHandle(this, fh, new LocalHandle(this, baseFh, r.rel, isDir, r.abs), `${r.rel}:${name}`, name);
      return { handle: h, action: action ?? 'opened' };
    } catch (e) {
      await baseFh.close().catch(() => {});
      throw wrap(e);
    }
  }

  async listStreams(path: string): Promise<StreamInfo[]> {
    const r = await this.resolveBase(splitStream(path).base, path);
    return this.streamsOf(r.st);
  }

  /** @internal the named streams of the file `st` identifies */
  async streamsOf(st: BigIntStats): Promise<StreamInfo[]> {
    const dir = await this.streamDir(st, false);
    if (!dir) return [];
    const out: StreamInfo[] = [];
    for (const f of await fsp.readdir(dir).catch(() => [] as string[])) {
      const name = streamNameOf(f);
      if (name === undefined) continue;
      try {
        const st = await fsp.lstat(nodePath.join(dir, f), { bigint: true });
        out.push({ name, size: st.size, allocationSize: st.blocks * 512n });
      } catch { /* vanished */ }
    }
    return out;
  }

  async renameStream(path: string, from: string, to: string, replace: boolean): Promise<void> {
    validateStreamName(to);
    const r = await this.resolveBase(splitStream(path).base, path);
    const dir = await this.streamDir(r.st, false);
    const src = dir ? await this.findStream(dir, from) : undefined;
    if (!dir || !src) throw new VfsError(NtStatus.OBJECT_NAME_NOT_FOUND, from);
    const dst = await this.findStream(dir, to);
    if (dst && dst !== src && !replace) throw new VfsError(NtStatus.OBJECT_NAME_COLLISION, to);
    try {
      if (dst && dst !== src) await fsp.unlink(nodePath.join(dir, dst));
      await fsp.rename(nodePath.join(dir, src), nodePath.join(dir, streamFileName(to)));
    } catch (e) {
      throw wrap(e);
    }
    const fromName = streamNameOf(src) ?? from;
    for (const h of this.handles) h.renamed(`${r.rel}:${fromName}`, `${r.rel}:${to}`);
  }

  private rootReal(): Promise<string> {
    this.rootPromise ??= fsp.realpath(this.root).then(async (root) => {
      this.dos.init(root); // first use: does this filesystem take user xattrs?
      this.io.init(root); // and are its metadata calls local (cheap enough to make synchronously)?
      this.hidden = await HiddenPaths.load(root, this.hiddenOpt, this.stateHome);
      return root;
    }, (e: unknown) => {
      this.rootPromise = undefined;
      throw wrap(e);
    });
    return this.rootPromise;
  }

  private inside(root: string, p: string): boolean {
    if (root === '/') return true;
    return p === root || p.startsWith(root + '/');
  }

  /**
   * Actual name of `name` in directory `dir` (exact first, then case-insensitive), or undefined;
   * with the lstat of an exact match.
   */
  private async matchName(dir: string, name: string): Promise<{ name: string; st?: BigIntStats } | undefined> {
    try {
      const st = await this.io.lstatOrUndefined(nodePath.join(dir, name));
      if (st) return { name, st };
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (code === 'ENOTDIR') throw new VfsError(NtStatus.OBJECT_PATH_NOT_FOUND);
      throw wrap(e);
    }
    if (this.caseSensitive) return undefined;
    let found: string | undefined;
    try {
      found = (await this.names.lookup(dir, name))[0];
    } catch (e) {
      throw wrap(e);
    }
    return found === undefined ? undefined : { name: found };
  }

  /** Resolve a share path to a host path, enforcing containment. */
  private async resolve(p: string, followLast: boolean): Promise<Resolved> {
    const r = await this.resolveInner(p, followLast);
    // A stream depot inside the share is not reachable by path.
    if (this.depotInside !== undefined && (this.inside(this.depotInside, r.abs))) {
      throw new VfsError(NtStatus.OBJECT_NAME_NOT_FOUND, p);
    }
    // The server's own state is neither listed nor reachable, by any spelling (DESIGN.md rule 10).
    if (!this.hidden.empty && await this.hidden.covers(r.abs, (x) => this.io.lstatOrUndefined(x))) {
      throw new VfsError(this.hidden.everything ? NtStatus.ACCESS_DENIED : NtStatus.OBJECT_NAME_NOT_FOUND, p);
    }
    return r;
  }

  private async resolveInner(p: string, followLast: boolean): Promise<Resolved> {
    assertSharePath(p);
    if (splitStream(p).stream !== undefined) throw new VfsError(NtStatus.OBJECT_NAME_INVALID, 'stream path');
    const root = await this.rootReal();
    if (this.eaScan === undefined) await this.scanEaSizes().catch(() => undefined);
    const comps = splitPath(p);
    if (comps.length === 0) {
      const st = await this.io.stat(root).catch((e: unknown) => { throw wrap(e); });
      return { abs: root, rel: '', exists: true, st, isLink: false, dangling: false };
    }
    // Fast path: the exact spelling exists and contains no symlink at all (synchronous metadata
    // calls: lstat of each directory below the root, the root's own real path being known).
    const direct = nodePath.join(root, ...comps);
    try {
      if (this.io.sync ? this.io.plainDirs(root, comps, comps.length - 1) : (await this.io.realpath(direct)) === direct) {
        const st = await this.io.lstatOrUndefined(direct);
        if (st && !st.isSymbolicLink()) return { abs: direct, rel: p, exists: true, st, isLink: false, dangling: false };
      }
    } catch {
      /* fall through to the careful walk */
    }
    let cur = root;
    const real: string[] = [];
    for (let i = 0; i < comps.length; i++) {
      const last = i === comps.length - 1;
      const comp = comps[i]!;
      const match = await this.matchName(cur, comp);
      if (match === undefined) {
        if (last) return { abs: nodePath.join(cur, comp), rel: [...real, comp].join('/'), exists: false, isLink: false, dangling: false };
        throw new VfsError(NtStatus.OBJECT_PATH_NOT_FOUND, p);
      }
      const name = match.name;
      let next = nodePath.join(cur, name);
      let st: BigIntStats;
      try {
        st = match.st ?? await this.io.lstat(next);
      } catch (e) {
        const code = (e as NodeJS.ErrnoException).code;
        if (code === 'ENOENT') {
          if (last) return { abs: next, rel: [...real, name].join('/'), exists: false, isLink: false, dangling: false };
          throw new VfsError(NtStatus.OBJECT_PATH_NOT_FOUND, p);
        }
        throw wrap(e);
      }
      if (st.isSymbolicLink()) {
        if (last && !followLast) {
          return { abs: next, rel: [...real, name].join('/'), exists: true, st, isLink: true, dangling: false };
        }
        if (this.follow === 'never') throw new VfsError(NtStatus.ACCESS_DENIED, 'symlinks are not followed');
        let target: string;
        try {
          target = await this.io.realpath(next);
        } catch (e) {
          const code = (e as NodeJS.ErrnoException).code;
          if ((code === 'ENOENT' || code === 'ELOOP') && last) {
            return { abs: next, rel: [...real, name].join('/'), exists: false, isLink: true, dangling: true };
          }
          if (code === 'ENOENT' || code === 'ENOTDIR') throw new VfsError(NtStatus.OBJECT_PATH_NOT_FOUND, p);
          throw wrap(e);
        }
        if (!this.inside(root, target)) throw new VfsError(NtStatus.ACCESS_DENIED, 'symlink points outside the share');
        next = target;
        try {
          st = await this.io.stat(next);
        } catch (e) {
          throw wrap(e);
        }
      }
      if (!last && !st.isDirectory()) throw new VfsError(NtStatus.OBJECT_PATH_NOT_FOUND, p);
      real.push(name);
      cur = next;
      if (last) return { abs: cur, rel: real.join('/'), exists: true, st, isLink: false, dangling: false };
    }
    /* c8 ignore next */
    throw new VfsError(NtStatus.INTERNAL_ERROR);
  }

  /**
   * @internal Convert host stat + stored metadata to FileStat. `src` (an fd, or a path that is not
   * a symlink to follow) lets a user.DOSATTRIB not yet cached be read.
   */
  toFileStat(st: BigIntStats, isSymlink = false, src?: number | string, key = metaKey(st)): FileStat {
    const m = this.meta.size === 0 ? undefined : this.meta.get(key);
    const isDir = st.isDirectory();
    const x = m?.dosLocal ? undefined : this.dos.get(st, src, key) ?? undefined;
    let stored: number;
    if (x) {
      stored = x.attributes; // READONLY from the xattr, as Samba does
    } else {
      stored = m?.attrs ?? (isDir ? FileAttribute.DIRECTORY : FileAttribute.ARCHIVE);
      if (!isDir) stored = (st.mode & 0o200n) === 0n ? stored | FileAttribute.READONLY : stored & ~FileAttribute.READONLY;
    }
    const ov = (o: Override | undefined, ns: bigint): bigint => (o && o.observedNs === ns ? o.value : nsToFiletime(ns));
    const birth = st.birthtimeNs > 0n ? st.birthtimeNs : st.mtimeNs < st.ctimeNs ? st.mtimeNs : st.ctimeNs;
    return {
      isDirectory: isDir,
      isSymlink,
      size: isDir ? 0n : st.size,
      allocationSize: isDir ? 0n : m?.allocation !== undefined && m.allocation > st.blocks * 512n ? m.allocation : st.blocks * 512n,
      creationTime: x?.creationTime ?? m?.creationTime ?? nsToFiletime(birth),
      lastAccessTime: ov(m?.lastAccessTime, st.atimeNs),
      lastWriteTime: ov(m?.lastWriteTime, st.mtimeNs),
      changeTime: ov(m?.changeTime, st.ctimeNs),
      attributes: reportAttributes(isDir, stored),
      fileId: st.ino,
      identity: key, // (metaKey: the same string, built once)
      nlink: Number(st.nlink),
      eaSize: m?.eaSize ?? 0,
    };
  }

  /**
   * @internal Persist a file's DOS attributes and creation time to user.DOSATTRIB (when enabled;
   * callers have already updated the in-memory meta). Returns whether it was written, i.e.
   * whether the file's ctime changed.
   */
  saveDos(st: BigIntStats, src: number | string, attributes: number, creationTime: bigint): boolean {
    if (!this.dos.enabled) return false;
    const m = this.metaFor(st);
    const isDir = st.isDirectory();
    const attrs = (isDir ? attributes | FileAttribute.DIRECTORY : attributes & ~FileAttribute.DIRECTORY) & ~FileAttribute.NORMAL;
    if (this.dos.write(st, src, attrs, creationTime)) {
      m.dosLocal = false;
      return true;
    }
    // This file cannot hold it: memory wins from now on (with the values the caller set).
    m.dosLocal = true;
    m.creationTime ??= creationTime;
    return false;
  }

  /** @internal */
  metaFor(st: BigIntStats): Meta {
    const k = metaKey(st);
    let m = this.meta.get(k);
    if (!m) this.meta.set(k, (m = {}));
    return m;
  }

  /** `st`: what resolve saw at abs (undefined: creating); only regular files and directories open synchronously. */
  private async openFd(abs: string, isDir: boolean, write: boolean, extra: number, st: BigIntStats | undefined): Promise<FileIo> {
    const flags = O_NOFOLLOW | extra | (isDir ? C.O_RDONLY | O_DIRECTORY : write ? C.O_RDWR : C.O_RDONLY);
    return this.io.open(abs, flags, 0o666, !st || st.isFile() || st.isDirectory());
  }

  async open(path: string, opts: OpenOptions): Promise<{ handle: VfsHandle; action: OpenAction }> {
    const sp = splitStream(path);
    if (sp.stream !== undefined) return this.openStream(path, sp.base, sp.stream, opts);
    // The resolution behind opts.known (same path) stands in for a second resolve on the first
    // attempt; a race with a rename/unlink since shows as EEXIST/ENOENT/ELOOP and is resolved again.
    let seen = this.lastStat;
    if (seen && (opts.known === undefined || seen.fst !== opts.known || seen.path !== path)) seen = undefined;
    this.lastStat = undefined;
    for (let attempt = 0; ; attempt++) {
      const r = attempt === 0 && seen ? seen.r : await this.resolve(path, true);
      const st = r.st;
      const attrs = r.exists && st ? this.toFileStat(st, false, r.abs).attributes : 0;
      const plan = planOpen(r.exists, st?.isDirectory() ?? false, attrs, opts);
      try {
        if (plan.kind === 'create') {
          if (r.dangling) throw new VfsError(NtStatus.ACCESS_DENIED, 'dangling symlink');
          const isDir = !!opts.directory;
          let fh: FileIo;
          if (isDir) {
            await fsp.mkdir(r.abs, 0o777);
            fh = await this.openFd(r.abs, true, false, 0, undefined);
          } else {
            fh = await this.openFd(r.abs, false, opts.write, C.O_CREAT | C.O_EXCL, undefined);
          }
          await this.names.added(nodePath.dirname(r.abs), nodePath.basename(r.abs));
          const nst = await this.io.fstat(fh);
          const want = initialAttributes(isDir, opts.attributes);
          this.meta.set(metaKey(nst), { attrs: want & ~FileAttribute.READONLY });
          // As smbd: every new object gets its user.DOSATTRIB (attributes + creation time).
          this.saveDos(nst, fh.fd, want, this.toFileStat(nst).creationTime);
          if (!isDir && want & FileAttribute.READONLY) await fh.chmod(Number(nst.mode & 0o7777n) & ~0o222);
          if (isDir && want & FileAttribute.READONLY) this.metaFor(nst).attrs = want;
          return { handle: new LocalHandle(this, fh, r.rel, isDir, r.abs), action: 'created' };
        }
        const isDir = st!.isDirectory();
        if (plan.kind === 'truncate') {
          const fh = await this.openFd(r.abs, false, true, C.O_TRUNC, st);
          const nst = await this.io.fstat(fh);
          const m = this.metaFor(nst);
          const before = this.toFileStat(nst, false, fh.fd);
          const keep = before.attributes & (FileAttribute.HIDDEN | FileAttribute.SYSTEM);
          // MS-FSA 2.1.5.1.2.1: the new attributes, READONLY included (smb2.openattr), plus HIDDEN/SYSTEM kept.
          m.attrs = initialAttributes(false, opts.attributes) | keep;
          this.saveDos(nst, fh.fd, m.attrs, before.creationTime);
          delete m.lastWriteTime;
          delete m.changeTime;
          delete m.allocation;
          await this.dropStreams(nst, true); // overwriting the main stream drops the named ones (as Samba)
          return { handle: new LocalHandle(this, fh, r.rel, false, r.abs), action: plan.action };
        }
        const fh = await this.openFd(r.abs, isDir, opts.write && !isDir, 0, st);
        return { handle: new LocalHandle(this, fh, r.rel, isDir, r.abs), action: 'opened' };
      } catch (e) {
        const code = (e as NodeJS.ErrnoException).code;
        // Lost a race (created/removed concurrently): retry the decision once.
        if (attempt === 0 && (code === 'EEXIST' || code === 'ENOENT') && opts.create !== 'create' && !r.dangling) continue;
        if (attempt === 0 && r === seen?.r && (code === 'ENOENT' || code === 'ELOOP' || code === 'ENOTDIR')) continue;
        throw wrap(e);
      }
    }
  }

  async stat(path: string): Promise<FileStat> {
    const sp = splitStream(path);
    if (sp.stream !== undefined) {
      const { base: r, file } = await this.existingStream(sp.base, sp.stream, path);
      const sst = await fsp.lstat(file, { bigint: true }).catch((e: unknown) => { throw wrap(e); });
      return Object.assign(this.toFileStat(r.st, false, r.abs), { isDirectory: false, size: sst.size, allocationSize: sst.blocks * 512n });
    }
    this.lastStat = undefined; // (a resolve that throws leaves no answer behind)
    const r = await this.resolve(path, true);
    if (!r.exists || !r.st) {
      this.lastStat = r.exists || r.isLink ? undefined : { path, r, fst: null };
      throw new VfsError(NtStatus.OBJECT_NAME_NOT_FOUND, path);
    }
    const fst = this.toFileStat(r.st, false, r.abs);
    this.lastStat = { path, r, fst };
    return fst;
  }

  /** The directory at `path` (its absolute path) and the share root, for listings. */
  private async listedDir(path: string): Promise<{ abs: string; root: string }> {
    const r = await this.resolve(path, true);
    if (!r.exists || !r.st) throw new VfsError(NtStatus.OBJECT_NAME_NOT_FOUND, path);
    if (!r.st.isDirectory()) throw new VfsError(NtStatus.NOT_A_DIRECTORY, path);
    return { abs: r.abs, root: await this.rootReal() };
  }

  /** Whether a directory entry is listed: not the depot, and a name SMB can express. */
  private listable(abs: string, name: string): boolean {
    const hidden = this.depotInside;
    if (hidden !== undefined && this.inside(hidden, abs)) return false;
    if (!this.hidden.empty && this.hidden.listed(abs, undefined)) return false;
    try {
      validateName(name);
      return true;
    } catch {
      return false;
    }
  }

  /** One listed entry: symlinks inside the share report their target; undefined if it vanished. */
  private async listEntry(name: string, abs: string, root: string): Promise<ListHit | undefined> {
    try {
      const lst = await this.io.lstat(abs);
      if (!lst.isSymbolicLink()) return { name, st: lst, path: abs, link: false };
      if (this.follow === 'inside') {
        try {
          const target = await this.io.realpath(abs);
          if (this.inside(root, target)) return { name, st: await this.io.stat(target), path: target, link: true };
        } catch {
          /* dangling: report the link itself */
        }
      }
      return { name, st: lst, path: abs, link: true };
    } catch {
      return undefined; // vanished meanwhile
    }
  }

  /** Lists a directory (no '.' / '..'; names that SMB cannot express are skipped). */
  async readdir(path: string): Promise<DirEntry[]> {
    const { abs: dir, root } = await this.listedDir(path);
    const sync = this.io.sync;
    let names: string[];
    try {
      // Synchronous metadata calls: the names too (the entries are lstat'ed synchronously below
      // anyway); a scandir on the thread pool costs two thread hand-offs per listing.
      names = sync ? readdirSync(dir) : await fsp.readdir(dir);
    } catch (e) {
      throw wrap(e);
    }
    names = names.filter((n) => this.listable(nodePath.join(dir, n), n));
    const out: DirEntry[] = [];
    const BATCH = 64;
    for (let i = 0; i < names.length; i += BATCH) {
      const batch = names.slice(i, i + BATCH);
      let part: Array<ListHit | undefined> | undefined;
      if (sync) {
        // Synchronous metadata calls: a plain loop (no promise per entry); symlinks go the long way.
        part = [];
        for (const name of batch) {
          const abs = dir + '/' + name;
          const lst = this.io.lstatNow(abs);
          if (lst?.isSymbolicLink()) {
            part = undefined;
            break;
          }
          if (lst) part.push({ name, st: lst, path: abs, link: false, key: metaKey(lst) });
        }
      }
      part ??= await Promise.all(batch.map((name) => this.listEntry(name, nodePath.join(dir, name), root)));
      // Server state: also a symlink to it and the same directory under another spelling.
      const hits = part.filter((h): h is ListHit => h !== undefined && (this.hidden.empty || !this.hidden.listed(h.path, h.st)));
      // DOSATTRIB of the entries not cached yet, read on the libuv pool (not one sync call each);
      // with synchronous metadata calls a few are read synchronously (toFileStat) instead.
      await this.dos.prefetch(hits, sync ? SYNC_DOS_READS : 0);
      for (const h of hits) out.push({ name: h.name, stat: this.toFileStat(h.st, h.link, h.path, h.key) });
    }
    return out;
  }

  /** readdir(path) restricted to the names equal to `name` (Vfs.readdirMatch); uses the name index. */
  async readdirMatch(path: string, name: string): Promise<DirEntry[]> {
    const { abs: dir, root } = await this.listedDir(path);
    let names: string[];
    try {
      if (this.caseSensitive) names = (await this.io.exists(nodePath.join(dir, name))) ? [name] : [];
      else names = await this.names.lookup(dir, name);
    } catch (e) {
      throw wrap(e);
    }
    const out: DirEntry[] = [];
    for (const n of names) {
      const abs = nodePath.join(dir, n);
      if (!this.listable(abs, n)) continue;
      const hit = await this.listEntry(n, abs, root);
      if (!hit || (!this.hidden.empty && this.hidden.listed(hit.path, hit.st))) continue;
      await this.dos.prefetch([hit]);
      out.push({ name: hit.name, stat: this.toFileStat(hit.st, hit.link, hit.path) });
    }
    return out;
  }

  async unlink(path: string): Promise<void> {
    if (path === '') throw new VfsError(NtStatus.ACCESS_DENIED);
    const sp = splitStream(path);
    if (sp.stream !== undefined) {
      const { file } = await this.existingStream(sp.base, sp.stream, path);
      await fsp.unlink(file).catch((e: unknown) => { throw wrap(e); });
      return;
    }
    const r = await this.resolve(path, false);
    if (!r.exists || !r.st) throw new VfsError(NtStatus.OBJECT_NAME_NOT_FOUND, path);
    if (!r.isLink) {
      if (r.st.isDirectory()) throw new VfsError(NtStatus.FILE_IS_A_DIRECTORY, path);
      if (this.toFileStat(r.st, false, r.abs).attributes & FileAttribute.READONLY) throw new VfsError(NtStatus.CANNOT_DELETE, path);
    }
    try {
      await fsp.unlink(r.abs);
    } catch (e) {
      throw wrap(e);
    }
    await this.names.removed(nodePath.dirname(r.abs), nodePath.basename(r.abs));
    if (r.st.nlink <= 1n && !r.isLink) {
      this.meta.delete(metaKey(r.st));
      this.dos.forget(r.st);
      await this.dropStreams(r.st);
    }
  }

  async rmdir(path: string): Promise<void> {
    if (path === '') throw new VfsError(NtStatus.ACCESS_DENIED, 'cannot remove share root');
    const r = await this.resolve(path, false);
    if (!r.exists || !r.st) throw new VfsError(NtStatus.OBJECT_NAME_NOT_FOUND, path);
    try {
      if (r.isLink) {
        await fsp.unlink(r.abs); // a directory symlink behaves like a directory reparse point
        await this.names.removed(nodePath.dirname(r.abs), nodePath.basename(r.abs));
        return;
      }
      if (!r.st.isDirectory()) throw new VfsError(NtStatus.NOT_A_DIRECTORY, path);
      if (this.toFileStat(r.st, false, r.abs).attributes & FileAttribute.READONLY) throw new VfsError(NtStatus.CANNOT_DELETE, path);
      await fsp.rmdir(r.abs);
    } catch (e) {
      throw wrap(e);
    }
    this.names.drop(r.abs);
    await this.names.removed(nodePath.dirname(r.abs), nodePath.basename(r.abs));
    this.meta.delete(metaKey(r.st));
    this.dos.forget(r.st);
    await this.dropStreams(r.st);
  }

  async rename(from: string, to: string, replace: boolean): Promise<void> {
    if (from === '' || to === '') throw new VfsError(NtStatus.ACCESS_DENIED, 'cannot rename share root');
    const src = await this.resolve(from, false);
    if (!src.exists || !src.st) throw new VfsError(NtStatus.OBJECT_NAME_NOT_FOUND, from);
    const dst = await this.resolve(to, false);
    const wanted = baseName(to);
    const targetAbs = nodePath.join(nodePath.dirname(dst.abs), wanted);
    const toRel = [parentPath(dst.rel), wanted].filter((x) => x !== '').join('/');
    try {
      if (dst.exists && dst.st) {
        const same = dst.st.ino === src.st.ino && dst.st.dev === src.st.dev;
        if (!same) {
          this.mayReplace(dst, dst.st, to, replace);
          if (dst.abs !== targetAbs) await this.unlinkName(dst.abs); // differently-cased existing name
          await this.forgetReplaced(dst, dst.st);
        }
      }
      await fsp.rename(src.abs, targetAbs);
      if (src.st.isDirectory()) this.names.drop(src.abs);
      await this.names.removed(nodePath.dirname(src.abs), nodePath.basename(src.abs));
      await this.names.added(nodePath.dirname(targetAbs), nodePath.basename(targetAbs));
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (code === 'EISDIR' || code === 'ENOTEMPTY') throw new VfsError(NtStatus.ACCESS_DENIED, 'target is a directory');
      throw wrap(e);
    }
    for (const h of this.handles) h.renamed(src.rel, toRel);
  }

  /** An existing target of a rename or link may go only with `replace`, and never a directory or READONLY file. */
  private mayReplace(dst: Resolved, st: BigIntStats, to: string, replace: boolean): void {
    if (!replace) throw new VfsError(NtStatus.OBJECT_NAME_COLLISION, to);
    if (st.isDirectory() && !dst.isLink) throw new VfsError(NtStatus.ACCESS_DENIED, 'target is a directory');
    if (!dst.isLink && this.toFileStat(st, false, dst.abs).attributes & FileAttribute.READONLY) {
      throw new VfsError(NtStatus.ACCESS_DENIED, 'target is read-only');
    }
  }

  private async unlinkName(abs: string): Promise<void> {
    await fsp.unlink(abs);
    await this.names.removed(nodePath.dirname(abs), nodePath.basename(abs));
  }

  /** A replaced file's own state (metadata, DOS attributes, streams) goes with its last name. */
  private async forgetReplaced(dst: Resolved, st: BigIntStats): Promise<void> {
    if (st.nlink > 1n || dst.isLink) return;
    this.meta.delete(metaKey(st));
    this.dos.forget(st);
    await this.dropStreams(st);
  }

  async link(from: string, to: string, replace: boolean): Promise<void> {
    const src = await this.resolve(from, false);
    if (!src.exists || !src.st) throw new VfsError(NtStatus.OBJECT_NAME_NOT_FOUND, from);
    if (src.st.isDirectory()) throw new VfsError(NtStatus.FILE_IS_A_DIRECTORY, 'cannot link a directory');
    const dst = await this.resolve(to, false);
    const targetAbs = nodePath.join(nodePath.dirname(dst.abs), baseName(to));
    try {
      if (dst.exists && dst.st) {
        if (dst.st.ino === src.st.ino && dst.st.dev === src.st.dev) return; // already a name of this file
        this.mayReplace(dst, dst.st, to, replace);
        await this.unlinkName(dst.abs);
        await this.forgetReplaced(dst, dst.st);
      }
      await fsp.link(src.abs, targetAbs);
      await this.names.added(nodePath.dirname(targetAbs), nodePath.basename(targetAbs));
    } catch (e) {
      throw wrap(e);
    }
  }

  async statfs(): Promise<FsInfo> {
    const root = await this.rootReal();
    try {
      const s = await fsp.statfs(root, { bigint: true });
      const st = await fsp.stat(root, { bigint: true });
      const bsize = s.bsize > 0n ? s.bsize : 4096n;
      const bytesPerSector = 512;
      return {
        totalBytes: s.blocks * bsize,
        freeBytes: s.bfree * bsize,
        availBytes: s.bavail * bsize,
        bytesPerSector,
        sectorsPerUnit: Math.max(1, Number(bsize) / bytesPerSector),
        fsName: 'NTFS',
        serial: Number((st.dev ^ (st.ino << 8n)) & 0xffffffffn),
        label: this.label,
        maxNameLength: 255,
      };
    } catch (e) {
      throw wrap(e);
    }
  }

  async resolveCase(path: string): Promise<string | undefined> {
    try {
      const r = await this.resolve(path, false);
      return r.exists ? r.rel : undefined;
    } catch (e) {
      if (e instanceof VfsError && e.status === NtStatus.OBJECT_PATH_NOT_FOUND) return undefined;
      throw e;
    }
  }
}

class LocalHandle implements VfsHandle {
  private closed = false;
  constructor(
    private readonly vfs: LocalVfs,
    /** @internal */ readonly fh: FileIo,
    public path: string,
    readonly isDirectory: boolean,
    private readonly abs: string,
  ) {
    vfs.handles.add(this);
  }

  /** @internal */
  renamed(from: string, to: string): void {
    if (this.path === from) this.path = to;
    else if (this.path.startsWith(from + '/')) this.path = to + this.path.slice(from.length);
  }

  private check(file: boolean): FileIo {
    if (this.closed) throw new VfsError(NtStatus.FILE_CLOSED);
    if (file && this.isDirectory) throw new VfsError(NtStatus.INVALID_DEVICE_REQUEST, 'is a directory');
    return this.fh;
  }

  /** stat()'s fstat until getEas/getSecurity takes it (identityStat). */
  private lastStat: BigIntStats | undefined;

  private async rawStat(): Promise<BigIntStats> {
    try {
      return await this.vfs.io.fstat(this.check(false));
    } catch (e) {
      throw wrap(e);
    }
  }

  async read(buf: Buffer, bufOffset: number, length: number, position: bigint): Promise<number> {
    return readFully(this.check(true), buf, bufOffset, length, position);
  }

  async write(data: Buffer, position: bigint): Promise<number> {
    return writeFully(this.check(true), data, position);
  }

  async truncate(size: bigint): Promise<void> {
    try {
      await this.check(true).truncate(Number(size));
    } catch (e) {
      throw wrap(e);
    }
  }

  async flush(): Promise<void> {
    try {
      await this.check(false).sync();
    } catch (e) {
      throw wrap(e);
    }
  }

  stat(): Promise<FileStat> {
    // Synchronous metadata calls (metaio.ts): fstat now and hand back a settled promise, without
    // the async layers of rawStat (the QUERY_INFO path).
    if (!this.vfs.io.sync) return this.statAsync();
    let st: BigIntStats;
    try {
      st = this.vfs.io.fstatNow(this.check(false));
    } catch (e) {
      return Promise.reject(wrap(e));
    }
    this.lastStat = st;
    try {
      return Promise.resolve(this.vfs.toFileStat(st, false, this.fh.fd));
    } catch (e) {
      return Promise.reject(e);
    }
  }

  private async statAsync(): Promise<FileStat> {
    const st = await this.rawStat();
    this.lastStat = st;
    return this.vfs.toFileStat(st, false, this.fh.fd);
  }

  /**
   * The fstat of the stat() just before, taken once: QUERY_INFO asks stat() then getEas() (EaSize of
   * FileAllInformation) or getSecurity(), and those only need the file's identity (dev, ino, birth
   * time), which an open descriptor keeps. Saves an fstat (and its BigInt stats) per such query.
   */
  private identityStat(): Promise<BigIntStats> {
    const st = this.lastStat;
    this.lastStat = undefined;
    return st && !this.closed ? Promise.resolve(st) : this.rawStat();
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.vfs.handles.delete(this);
    try {
      await this.fh.close();
    } catch (e) {
      throw wrap(e);
    }
  }

  async setTimes(t: TimesUpdate): Promise<void> {
    const fh = this.check(false);
    let st = await this.rawStat();
    const m = this.vfs.metaFor(st);
    // A change time the client set sticks across our own metadata updates (utimes bumps ctime).
    const keepChange = t.changeTime === undefined && m.changeTime && m.changeTime.observedNs === st.ctimeNs ? m.changeTime.value : undefined;
    if (t.creationTime !== undefined) {
      const attrs = this.vfs.toFileStat(st, false, fh.fd).attributes;
      m.creationTime = t.creationTime;
      if (this.vfs.saveDos(st, fh.fd, attrs, t.creationTime)) st = await this.rawStat(); // ctime moved
    }
    if (t.lastAccessTime !== undefined || t.lastWriteTime !== undefined) {
      const cur = this.vfs.toFileStat(st, false, fh.fd);
      const at = t.lastAccessTime ?? cur.lastAccessTime;
      const mt = t.lastWriteTime ?? cur.lastWriteTime;
      try {
        await fh.utimes(filetimeToUnixSeconds(at), filetimeToUnixSeconds(mt));
      } catch (e) {
        throw wrap(e);
      }
      st = await this.rawStat();
      // Keep the exact 100ns value the client set while the host value is unchanged.
      m.lastAccessTime = { value: at, observedNs: st.atimeNs };
      m.lastWriteTime = { value: mt, observedNs: st.mtimeNs };
    }
    if (t.changeTime !== undefined) m.changeTime = { value: t.changeTime, observedNs: st.ctimeNs };
    else if (keepChange !== undefined) m.changeTime = { value: keepChange, observedNs: st.ctimeNs };
  }

  async setAttributes(attrs: number): Promise<void> {
    const fh = this.check(false);
    const st = await this.rawStat();
    const m = this.vfs.metaFor(st);
    const curStat = this.vfs.toFileStat(st, false, fh.fd);
    const next = mergeSetAttributes(curStat.attributes, attrs);
    try {
      let touched = false;
      if (!this.isDirectory) {
        const mode = Number(st.mode & 0o7777n);
        const want = next & FileAttribute.READONLY ? mode & ~0o222 : mode | 0o200;
        if (want !== mode) {
          await fh.chmod(want);
          touched = true;
        }
        m.attrs = next & ~FileAttribute.READONLY;
      } else {
        m.attrs = next | FileAttribute.DIRECTORY;
      }
      if (this.vfs.saveDos(st, fh.fd, next, curStat.creationTime)) touched = true;
      // Keep a client-set change time across the chmod / xattr write (they bump the host ctime).
      if (touched && m.changeTime && m.changeTime.observedNs === st.ctimeNs) m.changeTime.observedNs = (await this.rawStat()).ctimeNs;
    } catch (e) {
      throw wrap(e);
    }
  }

  async setAllocation(size: bigint): Promise<void> {
    const st = await this.rawStat();
    if (this.isDirectory) throw new VfsError(NtStatus.INVALID_DEVICE_REQUEST);
    // Allocation below EOF truncates (MS-FSCC 2.4.4). Node has no fallocate: the requested size is
    // recorded (rounded to the cluster size) and reported while larger than what the FS allocated.
    if (size < st.size) await this.truncate(size);
    this.vfs.metaFor(st).allocation = roundAlloc(size);
  }

  async zeroRange(offset: bigint, length: bigint): Promise<void> {
    const fh = this.check(true);
    const st = await this.rawStat();
    const start = offset < st.size ? offset : st.size;
    const endReq = offset + length;
    const end = endReq < st.size ? endReq : st.size;
    if (end <= start) return;
    try {
      // FSCTL_SET_ZERO_DATA: a sparse file's range is deallocated (as NTFS and Samba: fallocate
      // PUNCH_HOLE | KEEP_SIZE); otherwise zeros are written.
      const sparse = (this.vfs.toFileStat(st, false, fh.fd).attributes & FileAttribute.SPARSE_FILE) !== 0;
      if (sparse && await punchHole(fh.fd, start, end - start)) return;
      if (end === st.size) {
        // Zeroing to EOF: truncate down and back up, which leaves a hole (sparse) on Linux FSes.
        await fh.truncate(Number(start));
        await fh.truncate(Number(st.size));
        return;
      }
      // Zeros over the data segments only (space.ts): NTFS files that are not sparse have no
      // holes; Linux ones may, and writing zeros there would allocate them.
      await zeroData(fh.fd, start, end, MAX_IO_CHUNK, (d, p) => this.write(d, p));
    } catch (e) {
      throw wrap(e);
    }
  }

  async allocatedRanges(offset: bigint, length: bigint): Promise<Array<[bigint, bigint]>> {
    const fh = this.check(true);
    const st = await this.rawStat();
    if (offset >= st.size || length <= 0n) return [];
    const end = offset + length < st.size ? offset + length : st.size;
    // A sparse file reports its data segments (SEEK_DATA/SEEK_HOLE through the addon, ./space.ts),
    // or none when nothing is allocated; any other file is fully allocated: one range, as Samba's
    // fsctl_qar and Windows (smb2.ioctl sparse_punch zeroes a non-sparse file and expects it).
    if (this.vfs.toFileStat(st, false, fh.fd).attributes & FileAttribute.SPARSE_FILE) {
      const segs = dataSegments(fh.fd, offset, end);
      if (segs) return segs;
      if (st.blocks === 0n) return [];
    }
    return [[offset, end - offset]];
  }

  async getEas(): Promise<ExtendedAttribute[]> {
    return this.vfs.readEas(await this.identityStat());
  }

  async listStreams(): Promise<StreamInfo[]> {
    return this.vfs.streamsOf(await this.identityStat());
  }

  async setEas(list: ExtendedAttribute[]): Promise<void> {
    await this.vfs.writeEas(await this.rawStat(), list);
  }

  async getSecurity(): Promise<Buffer | undefined> {
    return this.vfs.readSecurity(await this.identityStat());
  }

  async setSecurity(sd: Buffer): Promise<void> {
    await this.vfs.writeSecurity(await this.rawStat(), sd);
  }

  async setSparse(on: boolean): Promise<void> {
    this.check(true);
    const st = await this.rawStat();
    const m = this.vfs.metaFor(st);
    const fst = this.vfs.toFileStat(st, false, this.fh.fd);
    const cur = fst.attributes & ~(FileAttribute.READONLY | FileAttribute.NORMAL);
    m.attrs = on ? cur | FileAttribute.SPARSE_FILE : cur & ~FileAttribute.SPARSE_FILE;
    const ro = fst.attributes & FileAttribute.READONLY;
    if (this.vfs.saveDos(st, this.fh.fd, m.attrs | ro, fst.creationTime) && m.changeTime && m.changeTime.observedNs === st.ctimeNs) {
      m.changeTime.observedNs = (await this.rawStat()).ctimeNs;
    }
  }

  async copyRange(src: VfsHandle, srcOffset: bigint, dstOffset: bigint, length: number): Promise<number> {
    this.check(true);
    return copyLocal(src, this, srcOffset, dstOffset, length);
  }

  /** @internal host path at open time (diagnostics only) */
  get hostPath(): string {
    return this.abs;
  }
}


/**
 * A named stream: data in a depot file, metadata (times, attributes) on the file through `base`
 * (a read-only handle of the file, kept open so renames of the file do not matter).
 */
class LocalStreamHandle implements VfsHandle {
  readonly isDirectory = false;
  private closed = false;
  private allocation: bigint | undefined;
  constructor(
    private readonly vfs: LocalVfs,
    private readonly fh: FileIo,
    private readonly base: LocalHandle,
    public path: string,
    private readonly name: string,
  ) {
    vfs.handles.delete(base);
    vfs.handles.add(this);
  }

  /** @internal */
  renamed(from: string, to: string): void {
    if (this.path === from) this.path = to;
    else if (this.path.startsWith(from + ':') || this.path.startsWith(from + '/')) this.path = to + this.path.slice(from.length);
  }

  private check(): FileIo {
    if (this.closed) throw new VfsError(NtStatus.FILE_CLOSED);
    return this.fh;
  }

  async read(buf: Buffer, bufOffset: number, length: number, position: bigint): Promise<number> {
    return readFully(this.check(), buf, bufOffset, length, position);
  }

  async write(data: Buffer, position: bigint): Promise<number> {
    return writeFully(this.check(), data, position);
  }

  async truncate(size: bigint): Promise<void> {
    try {
      await this.check().truncate(Number(size));
    } catch (e) {
      throw wrap(e);
    }
  }

  async flush(): Promise<void> {
    try {
      await this.check().sync();
    } catch (e) {
      throw wrap(e);
    }
  }

  async stat(): Promise<FileStat> {
    const fh = this.check();
    const st = await this.base.stat();
    let sst: BigIntStats;
    try {
      sst = await fh.stat({ bigint: true });
    } catch (e) {
      throw wrap(e);
    }
    const blocks = sst.blocks * 512n;
    const alloc = this.allocation !== undefined && this.allocation > blocks ? this.allocation : blocks;
    return Object.assign({}, st, { isDirectory: false, size: sst.size, allocationSize: alloc });
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.vfs.handles.delete(this);
    await this.base.close().catch(() => {});
    try {
      await this.fh.close();
    } catch (e) {
      throw wrap(e);
    }
  }

  setTimes(t: TimesUpdate): Promise<void> {
    this.check();
    return this.base.setTimes(t);
  }

  setAttributes(attrs: number): Promise<void> {
    this.check();
    return this.base.setAttributes(attrs);
  }

  async setAllocation(size: bigint): Promise<void> {
    const st = await this.stat();
    if (size < st.size) await this.truncate(size);
    this.allocation = roundAlloc(size);
  }

  async zeroRange(offset: bigint, length: bigint): Promise<void> {
    const st = await this.stat();
    const start = offset < st.size ? offset : st.size;
    const endReq = offset + length;
    const end = endReq < st.size ? endReq : st.size;
    if (end <= start) return;
    // Never into holes (space.ts): a stream extended with SET_EOF is one.
    await zeroData(this.check().fd, start, end, MAX_IO_CHUNK, (d, p) => this.write(d, p));
  }

  async allocatedRanges(offset: bigint, length: bigint): Promise<Array<[bigint, bigint]>> {
    const st = await this.stat();
    if (offset >= st.size || length <= 0n) return [];
    const end = offset + length < st.size ? offset + length : st.size;
    return [[offset, end - offset]];
  }

  async setSparse(_on: boolean): Promise<void> {
    this.check();
  }

  getEas(): Promise<ExtendedAttribute[]> {
    this.check();
    return this.base.getEas();
  }

  setEas(list: ExtendedAttribute[]): Promise<void> {
    this.check();
    return this.base.setEas(list);
  }

  getSecurity(): Promise<Buffer | undefined> {
    this.check();
    return this.base.getSecurity();
  }

  setSecurity(sd: Buffer): Promise<void> {
    this.check();
    return this.base.setSecurity(sd);
  }

  async copyRange(src: VfsHandle, srcOffset: bigint, dstOffset: bigint, length: number): Promise<number> {
    this.check();
    return copyLocal(src, this, srcOffset, dstOffset, length);
  }

  /** @internal stream name as stored */
  get streamName(): string {
    return this.name;
  }
}
