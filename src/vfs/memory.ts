/**
 * MemoryVfs: a complete in-memory share for tests. Same semantics as LocalVfs
 * (open dispositions, case-insensitive lookup, READONLY enforcement, POSIX-like unlink of open files).
 */
import {
  FileAttribute, VfsError, eaListSize, nowFiletime,
  type DirEntry, type ExtendedAttribute, type FileStat, type FsInfo, type OpenAction, type OpenOptions, type StreamInfo, type TimesUpdate, type Vfs, type VfsHandle,
} from './types.js';
import { NtStatus } from './status.js';
import { assertSharePath, foldCase, splitPath, splitStream, validateStreamName } from './path.js';
import { initialAttributes, mergeSetAttributes, planOpen, reportAttributes, roundAlloc } from './common.js';

/** Data of one stream (the main stream lives in MemNode itself). */
interface MemData {
  data: Buffer;
  size: number;
  allocation: bigint;
}

class MemStream implements MemData {
  data = Buffer.alloc(0);
  size = 0;
  allocation = 0n;
  constructor(public name: string) {}
}

class MemNode implements MemData {
  children: Map<string, MemNode> | undefined;
  /** Named streams, keyed by folded name. */
  streams = new Map<string, MemStream>();
  /** Extended attributes, keyed by folded name. */
  eas = new Map<string, ExtendedAttribute>();
  /** Stored NT security descriptor (VfsHandle.setSecurity), opaque. */
  sd: Buffer | undefined;
  data = Buffer.alloc(0);
  size = 0;
  attrs: number;
  creationTime: bigint;
  lastAccessTime: bigint;
  lastWriteTime: bigint;
  changeTime: bigint;
  nlink = 1;
  allocation = 0n;
  /** changeTime was set by a client (FileBasicInformation) and not bumped by a write since. */
  changeTimeSet = false;
  constructor(readonly id: bigint, readonly isDir: boolean, attrs: number) {
    if (isDir) this.children = new Map();
    this.attrs = attrs;
    const now = nowFiletime();
    this.creationTime = this.lastAccessTime = this.lastWriteTime = this.changeTime = now;
  }
  touchWrite(): void {
    this.lastWriteTime = this.changeTime = nowFiletime();
    this.changeTimeSet = false;
  }
}

export interface MemoryVfsOptions {
  caseSensitive?: boolean;
  /** Total capacity; writes beyond it fail with DISK_FULL. Default 1 GiB. */
  capacity?: number;
}

/** Distinguishes MemoryVfs instances in FileStat.identity. */
let memoryVfsSerial = 0;

export class MemoryVfs implements Vfs {
  readonly caseSensitive: boolean;
  private readonly serial = ++memoryVfsSerial;
  private readonly root: MemNode;
  private nextId = 2n;
  private readonly capacity: number;
  private used = 0;
  /** @internal open handles, for path updates on rename */
  readonly handles = new Set<MemHandle>();

  constructor(opts: MemoryVfsOptions = {}) {
    this.caseSensitive = opts.caseSensitive ?? false;
    this.capacity = opts.capacity ?? 1 << 30;
    this.root = new MemNode(1n, true, FileAttribute.DIRECTORY);
  }

  private newNode(isDir: boolean, attrs: number): MemNode {
    return new MemNode(this.nextId++, isDir, attrs);
  }

  private child(dir: MemNode, name: string): [string, MemNode] | undefined {
    const exact = dir.children!.get(name);
    if (exact) return [name, exact];
    if (this.caseSensitive) return undefined;
    const f = foldCase(name);
    for (const [k, v] of dir.children!) if (foldCase(k) === f) return [k, v];
    return undefined;
  }

  /** Walk to the parent directory of p. Returns the parent node and the on-disk path of the parent. */
  private walkParent(p: string): { dir: MemNode; dirPath: string; name: string } {
    assertSharePath(p);
    if (splitStream(p).stream !== undefined) throw new VfsError(NtStatus.OBJECT_NAME_INVALID, 'stream path');
    const comps = splitPath(p);
    let cur = this.root;
    const real: string[] = [];
    for (let i = 0; i < comps.length - 1; i++) {
      const c = this.child(cur, comps[i]!);
      if (!c || !c[1].isDir) throw new VfsError(NtStatus.OBJECT_PATH_NOT_FOUND, p);
      real.push(c[0]);
      cur = c[1];
    }
    return { dir: cur, dirPath: real.join('/'), name: comps[comps.length - 1] ?? '' };
  }

  private lookup(p: string): { node: MemNode; path: string } | undefined {
    if (p === '') return { node: this.root, path: '' };
    const { dir, dirPath, name } = this.walkParent(p);
    const c = this.child(dir, name);
    if (!c) return undefined;
    return { node: c[1], path: dirPath ? `${dirPath}/${c[0]}` : c[0] };
  }

  private mustLookup(p: string): { node: MemNode; path: string } {
    const r = this.lookup(p);
    if (!r) throw new VfsError(NtStatus.OBJECT_NAME_NOT_FOUND, p);
    return r;
  }

  /** @internal stat of a named stream: the file's, with the stream's sizes. */
  statStream(n: MemNode, s: MemStream): FileStat {
    const st = this.statNode(n);
    const size = BigInt(s.size);
    return { ...st, isDirectory: false, size, allocationSize: roundAlloc(size) > s.allocation ? roundAlloc(size) : s.allocation };
  }

  private dropStreams(n: MemNode): void {
    for (const s of n.streams.values()) this.used -= s.size;
    n.streams.clear();
  }

  private async openStream(path: string, base: string, stream: string, opts: OpenOptions): Promise<{ handle: VfsHandle; action: OpenAction }> {
    validateStreamName(stream);
    if (opts.directory) throw new VfsError(NtStatus.NOT_A_DIRECTORY, path);
    let found = this.lookup(base);
    let action: OpenAction | undefined;
    if (!found) {
      // Creating a stream of a missing file creates the file (NTFS).
      planOpen(false, false, 0, opts);
      const { handle } = await this.open(base, { ...opts, directory: false, nonDirectory: false });
      await handle.close();
      found = this.mustLookup(base);
      action = 'created';
    }
    const { node, path: real } = found;
    const key = foldCase(stream);
    const existing = node.streams.get(key);
    const plan = planOpen(!!existing, false, node.attrs, { ...opts, directory: false, nonDirectory: false });
    let s = existing;
    if (plan.kind === 'create') {
      s = new MemStream(stream);
      node.streams.set(key, s);
      node.changeTime = nowFiletime();
      action = 'created';
    } else if (plan.kind === 'truncate') {
      this.resize(s!, 0);
      s!.allocation = 0n;
      action = plan.action;
    }
    return { handle: new MemHandle(this, node, `${real}:${s!.name}`, s), action: action ?? 'opened' };
  }

  async listStreams(path: string): Promise<StreamInfo[]> {
    const { node } = this.mustLookup(splitStream(path).base);
    return [...node.streams.values()].map((s) => {
      const st = this.statStream(node, s);
      return { name: s.name, size: st.size, allocationSize: st.allocationSize };
    });
  }

  async renameStream(path: string, from: string, to: string, replace: boolean): Promise<void> {
    validateStreamName(to);
    const { node, path: real } = this.mustLookup(splitStream(path).base);
    const s = node.streams.get(foldCase(from));
    if (!s) throw new VfsError(NtStatus.OBJECT_NAME_NOT_FOUND, from);
    const dst = node.streams.get(foldCase(to));
    if (dst && dst !== s) {
      if (!replace) throw new VfsError(NtStatus.OBJECT_NAME_COLLISION, to);
      this.used -= dst.size;
    }
    node.streams.delete(foldCase(from));
    s.name = to;
    node.streams.set(foldCase(to), s);
    for (const h of this.handles) h.renamed(`${real}:${from}`, `${real}:${to}`);
  }

  /** @internal */
  statNode(n: MemNode): FileStat {
    return {
      isDirectory: n.isDir,
      isSymlink: false,
      size: n.isDir ? 0n : BigInt(n.size),
      allocationSize: n.isDir ? 0n : (roundAlloc(BigInt(n.size)) > n.allocation ? roundAlloc(BigInt(n.size)) : n.allocation),
      creationTime: n.creationTime,
      lastAccessTime: n.lastAccessTime,
      lastWriteTime: n.lastWriteTime,
      changeTime: n.changeTime,
      attributes: reportAttributes(n.isDir, n.attrs),
      fileId: n.id,
      identity: `mem${this.serial}:${n.id}`,
      nlink: n.nlink,
      eaSize: eaListSize([...n.eas.values()]),
    };
  }

  /** @internal resize file data, enforcing capacity */
  resize(n: MemData, size: number): void {
    if (size === n.size) return;
    const delta = size - n.size;
    if (delta > 0 && this.used + delta > this.capacity) throw new VfsError(NtStatus.DISK_FULL);
    if (size > n.data.length) {
      const nb = Buffer.alloc(Math.max(size, Math.min(n.data.length * 2, size + (64 << 20))));
      n.data.copy(nb, 0, 0, n.size);
      n.data = nb;
    } else if (size < n.size) {
      n.data.fill(0, size, n.size);
    }
    this.used += delta;
    n.size = size;
  }

  async open(path: string, opts: OpenOptions): Promise<{ handle: VfsHandle; action: OpenAction }> {
    const sp = splitStream(path);
    if (sp.stream !== undefined) return this.openStream(path, sp.base, sp.stream, opts);
    const found = this.lookup(path);
    const plan = planOpen(!!found, found?.node.isDir ?? false, found?.node.attrs ?? 0, opts);
    if (plan.kind === 'create') {
      if (path === '') throw new VfsError(NtStatus.OBJECT_NAME_COLLISION);
      const { dir, dirPath, name } = this.walkParent(path);
      const isDir = !!opts.directory;
      const node = this.newNode(isDir, initialAttributes(isDir, opts.attributes));
      dir.children!.set(name, node);
      dir.touchWrite();
      const h = new MemHandle(this, node, dirPath ? `${dirPath}/${name}` : name);
      return { handle: h, action: 'created' };
    }
    const { node, path: real } = found!;
    if (plan.kind === 'truncate') {
      this.resize(node, 0);
      node.allocation = 0n;
      this.dropStreams(node); // overwriting the main stream drops the named ones (as Samba)
      node.eas.clear();
      node.attrs = initialAttributes(false, opts.attributes) | (node.attrs & (FileAttribute.HIDDEN | FileAttribute.SYSTEM));
      node.touchWrite();
      return { handle: new MemHandle(this, node, real), action: plan.action };
    }
    return { handle: new MemHandle(this, node, real), action: 'opened' };
  }

  async stat(path: string): Promise<FileStat> {
    const sp = splitStream(path);
    if (sp.stream !== undefined) {
      const { node } = this.mustLookup(sp.base);
      const s = node.streams.get(foldCase(sp.stream));
      if (!s) throw new VfsError(NtStatus.OBJECT_NAME_NOT_FOUND, path);
      return this.statStream(node, s);
    }
    return this.statNode(this.mustLookup(path).node);
  }

  async readdir(path: string): Promise<DirEntry[]> {
    const { node } = this.mustLookup(path);
    if (!node.isDir) throw new VfsError(NtStatus.NOT_A_DIRECTORY, path);
    return [...node.children!].map(([name, n]) => ({ name, stat: this.statNode(n) }));
  }

  async unlink(path: string): Promise<void> {
    if (path === '') throw new VfsError(NtStatus.ACCESS_DENIED);
    const sp = splitStream(path);
    if (sp.stream !== undefined) {
      const { node } = this.mustLookup(sp.base);
      const key = foldCase(sp.stream);
      const s = node.streams.get(key);
      if (!s) throw new VfsError(NtStatus.OBJECT_NAME_NOT_FOUND, path);
      node.streams.delete(key);
      this.used -= s.size;
      node.changeTime = nowFiletime();
      return;
    }
    const { dir, name } = this.walkParent(path);
    const c = this.child(dir, name);
    if (!c) throw new VfsError(NtStatus.OBJECT_NAME_NOT_FOUND, path);
    if (c[1].isDir) throw new VfsError(NtStatus.FILE_IS_A_DIRECTORY, path);
    if (c[1].attrs & FileAttribute.READONLY) throw new VfsError(NtStatus.CANNOT_DELETE, path);
    dir.children!.delete(c[0]);
    c[1].nlink = 0;
    this.used -= c[1].size; // data stays reachable for open handles; capacity is released now
    this.dropStreams(c[1]);
    dir.touchWrite();
  }

  async rmdir(path: string): Promise<void> {
    if (path === '') throw new VfsError(NtStatus.ACCESS_DENIED, 'cannot remove share root');
    const { dir, name } = this.walkParent(path);
    const c = this.child(dir, name);
    if (!c) throw new VfsError(NtStatus.OBJECT_NAME_NOT_FOUND, path);
    if (!c[1].isDir) throw new VfsError(NtStatus.NOT_A_DIRECTORY, path);
    if (c[1].children!.size > 0) throw new VfsError(NtStatus.DIRECTORY_NOT_EMPTY, path);
    if (c[1].attrs & FileAttribute.READONLY) throw new VfsError(NtStatus.CANNOT_DELETE, path);
    dir.children!.delete(c[0]);
    c[1].nlink = 0;
    this.dropStreams(c[1]);
    dir.touchWrite();
  }

  async rename(from: string, to: string, replace: boolean): Promise<void> {
    if (from === '' || to === '') throw new VfsError(NtStatus.ACCESS_DENIED, 'cannot rename share root');
    const src = this.walkParent(from);
    const s = this.child(src.dir, src.name);
    if (!s) throw new VfsError(NtStatus.OBJECT_NAME_NOT_FOUND, from);
    const dst = this.walkParent(to);
    // refuse moving a directory into itself
    if (s[1].isDir) {
      const srcReal = src.dirPath ? `${src.dirPath}/${s[0]}` : s[0];
      if (dst.dirPath === srcReal || dst.dirPath.startsWith(srcReal + '/')) throw new VfsError(NtStatus.INVALID_PARAMETER, 'rename into itself');
    }
    const existing = this.child(dst.dir, dst.name);
    if (existing && existing[1] !== s[1]) {
      if (!replace) throw new VfsError(NtStatus.OBJECT_NAME_COLLISION, to);
      if (existing[1].isDir) throw new VfsError(NtStatus.ACCESS_DENIED, 'target is a directory');
      if (existing[1].attrs & FileAttribute.READONLY) throw new VfsError(NtStatus.ACCESS_DENIED, 'target is read-only');
      dst.dir.children!.delete(existing[0]);
      existing[1].nlink = 0;
      this.used -= existing[1].size;
      this.dropStreams(existing[1]);
    }
    src.dir.children!.delete(s[0]);
    dst.dir.children!.set(dst.name, s[1]);
    s[1].changeTime = nowFiletime();
    src.dir.touchWrite();
    dst.dir.touchWrite();
    const fromReal = src.dirPath ? `${src.dirPath}/${s[0]}` : s[0];
    const toReal = dst.dirPath ? `${dst.dirPath}/${dst.name}` : dst.name;
    for (const h of this.handles) h.renamed(fromReal, toReal);
  }

  async statfs(): Promise<FsInfo> {
    const total = BigInt(this.capacity);
    const free = BigInt(Math.max(0, this.capacity - this.used));
    return {
      totalBytes: total, freeBytes: free, availBytes: free, bytesPerSector: 512, sectorsPerUnit: 8,
      fsName: 'NTFS', serial: 0x4d454d31, label: 'memory', maxNameLength: 255,
    };
  }

  async getSecurity(path: string): Promise<Buffer | undefined> {
    const sd = this.lookup(splitStream(path).base)?.node.sd;
    return sd ? Buffer.from(sd) : undefined;
  }

  async resolveCase(path: string): Promise<string | undefined> {
    try {
      return this.lookup(path)?.path;
    } catch (e) {
      if (e instanceof VfsError && e.status === NtStatus.OBJECT_PATH_NOT_FOUND) return undefined;
      throw e;
    }
  }
}

class MemHandle implements VfsHandle {
  private closed = false;
  readonly isDirectory: boolean;
  /** The data this handle reads and writes: the node (main stream) or a named stream. */
  private readonly d: MemData;
  constructor(private readonly vfs: MemoryVfs, private readonly node: MemNode, public path: string, private readonly stream?: MemStream) {
    this.isDirectory = stream ? false : node.isDir;
    this.d = stream ?? node;
    vfs.handles.add(this);
  }
  /** @internal */
  renamed(from: string, to: string): void {
    if (this.path === from) this.path = to;
    else if (this.path.startsWith(from + '/')) this.path = to + this.path.slice(from.length);
  }
  private check(file: boolean): MemNode {
    if (this.closed) throw new VfsError(NtStatus.FILE_CLOSED);
    if (file && this.isDirectory) throw new VfsError(NtStatus.INVALID_DEVICE_REQUEST, 'is a directory');
    return this.node;
  }
  async read(buf: Buffer, bufOffset: number, length: number, position: bigint): Promise<number> {
    const n = this.check(true);
    const d = this.d;
    if (bufOffset < 0 || length < 0 || bufOffset + length > buf.length) throw new VfsError(NtStatus.INVALID_PARAMETER);
    if (position >= BigInt(d.size)) return 0;
    const pos = Number(position);
    const cnt = Math.min(length, d.size - pos);
    d.data.copy(buf, bufOffset, pos, pos + cnt);
    n.lastAccessTime = nowFiletime();
    return cnt;
  }
  async write(data: Buffer, position: bigint): Promise<number> {
    const n = this.check(true);
    const end = position + BigInt(data.length);
    if (end > BigInt(Number.MAX_SAFE_INTEGER)) throw new VfsError(NtStatus.DISK_FULL);
    if (Number(end) > this.d.size) this.vfs.resize(this.d, Number(end));
    data.copy(this.d.data, Number(position));
    n.touchWrite();
    return data.length;
  }
  async truncate(size: bigint): Promise<void> {
    const n = this.check(true);
    if (size > BigInt(Number.MAX_SAFE_INTEGER)) throw new VfsError(NtStatus.DISK_FULL);
    this.vfs.resize(this.d, Number(size));
    n.touchWrite();
  }
  async flush(): Promise<void> {
    this.check(false);
  }
  async stat(): Promise<FileStat> {
    const n = this.check(false);
    return this.stream ? this.vfs.statStream(n, this.stream) : this.vfs.statNode(n);
  }
  async close(): Promise<void> {
    this.closed = true;
    this.vfs.handles.delete(this);
  }
  async setTimes(t: TimesUpdate): Promise<void> {
    const n = this.check(false);
    if (t.creationTime !== undefined) n.creationTime = t.creationTime;
    if (t.lastAccessTime !== undefined) n.lastAccessTime = t.lastAccessTime;
    if (t.lastWriteTime !== undefined) n.lastWriteTime = t.lastWriteTime;
    if (t.changeTime !== undefined) {
      n.changeTime = t.changeTime;
      n.changeTimeSet = true;
    }
  }
  async setAttributes(attrs: number): Promise<void> {
    const n = this.check(false);
    n.attrs = mergeSetAttributes(n.attrs, attrs) | (n.isDir ? FileAttribute.DIRECTORY : 0);
    // A change time the client set sticks across attribute changes (as LocalVfs).
    if (!n.changeTimeSet) n.changeTime = nowFiletime();
  }
  async setAllocation(size: bigint): Promise<void> {
    this.check(true);
    const d = this.d;
    if (size < BigInt(d.size)) this.vfs.resize(d, Number(size));
    d.allocation = roundAlloc(size);
  }
  async zeroRange(offset: bigint, length: bigint): Promise<void> {
    const n = this.check(true);
    const d = this.d;
    const start = Math.min(Number(offset), d.size);
    const end = Math.min(Number(offset + length), d.size);
    if (end > start) d.data.fill(0, start, end);
    n.touchWrite();
  }
  async allocatedRanges(offset: bigint, length: bigint): Promise<Array<[bigint, bigint]>> {
    this.check(true);
    const size = BigInt(this.d.size);
    if (offset >= size || length <= 0n) return [];
    const end = offset + length < size ? offset + length : size;
    return [[offset, end - offset]];
  }
  async getEas(): Promise<ExtendedAttribute[]> {
    return [...this.check(false).eas.values()].map((e) => ({ ...e, value: Buffer.from(e.value) }));
  }
  async setEas(list: ExtendedAttribute[]): Promise<void> {
    const n = this.check(false);
    for (const e of list) {
      const k = foldCase(e.name);
      if (e.value.length === 0) n.eas.delete(k);
      else n.eas.set(k, { flags: e.flags, name: e.name, value: Buffer.from(e.value) });
    }
    n.changeTime = nowFiletime();
  }
  async getSecurity(): Promise<Buffer | undefined> {
    const sd = this.check(false).sd;
    return sd ? Buffer.from(sd) : undefined;
  }
  async setSecurity(sd: Buffer): Promise<void> {
    const n = this.check(false);
    n.sd = Buffer.from(sd);
    n.changeTime = nowFiletime();
  }
  async setSparse(on: boolean): Promise<void> {
    const n = this.check(true);
    n.attrs = on ? n.attrs | FileAttribute.SPARSE_FILE : n.attrs & ~FileAttribute.SPARSE_FILE;
  }
  async copyRange(src: VfsHandle, srcOffset: bigint, dstOffset: bigint, length: number): Promise<number> {
    this.check(true);
    if (!(src instanceof MemHandle)) throw new VfsError(NtStatus.INVALID_PARAMETER, 'foreign handle');
    const buf = Buffer.alloc(length);
    const got = await src.read(buf, 0, length, srcOffset);
    if (got === 0) return 0;
    return this.write(buf.subarray(0, got), dstOffset);
  }
}

