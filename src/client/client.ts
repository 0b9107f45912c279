// The fs-like client API (DESIGN.md "Client shape"): connect(url) -> SmbClient -> Session -> Tree
// -> FileHandle. Everything below this file is protocol; this file is about paths and files.
import { randomBytes } from 'node:crypto';
import { close as fsClose, fstat, open as fsOpen, read as fsRead, write as fsWrite } from 'node:fs';
import { Readable, Writable } from 'node:stream';
import { ioPool } from '../transport/bufpool.js';
import { Access, Command, CreateDisposition, CreateOptions, FileAttributes, OplockLevel } from '../wire/constants.js';
import { decodeCreateResponse } from '../wire/create.js';
import { RELATED_FILE_ID } from '../wire/common.js';
import { decodeOplockBreak, encodeLeaseBreakAck, encodeOplockBreak, LEASE_BREAK_FLAG_ACK_REQUIRED } from '../wire/oplock-break.js';
import { Reconnector, type ReconnectHost, type ReconnectOptions } from './reconnect.js';
import { Status } from '../wire/status.js';
import { Connection } from './connection.js';
import { negotiate, type NegotiateResult } from './negotiate.js';
import { setupSession, type GssClient, type Session } from './session.js';
import { ChannelManager, keyId, type ChannelFactory, type ChannelInfo, type MultichannelOptions } from './multichannel.js';
import { connectTree, validateNegotiate, type Tree } from './tree.js';
import { gssFactory } from './auth.js';
import { Krb5Credentials } from './krb5-gss.js';
import { SmbError, abortable, checkAbort, parse } from './errors.js';
import type { SmbUrl } from './url.js';
import { normalizeConnect, type ConnectOptions, type ConnectTarget } from './options.js';
import { candidates, parseServer, type ServerAddress } from './failover.js';
import {
  BULK_CHUNK, BULK_IN_FLIGHT, DEFAULT_CHUNK, DEFAULT_DEPTH, FILE_OPTIONS, WRITE_FRAME_DATA, FileHandle, OpenFlags, closeRequest, createRequest, displayPath, openFile, runPipelined,
  statsFrom, type OpenFlag, type Stats, type TransferOptions,
} from './file.js';
import { listDirectory, renamePath, setTimes, type DirEntry } from './info.js';
import { deleteDirectory, deleteFile, listOnce, writeWhole } from './oneshot.js';
import { HandleLostError, MAX_RECOVERIES, isDisconnect } from './durable-open.js';
import { Dirent } from './stats.js';
import { Dir } from './dir.js';
import { serverCopy } from './copy.js';
import { watchDirectory, type WatchEvent, type WatchOptions } from './watch.js';

import { DfsResolver, SessionPool, type Routed } from './dfs.js';
import { isUnreachable, type DfsCacheInfo } from './dfs-cache.js';

export type { ConnectOptions, ConnectTarget };

export interface ReaddirOptions {
  /** Stats of each entry (from the listing itself). */
  withStats?: boolean;
  /** Dirent objects (name, parentPath, isFile(), isDirectory()) instead of names. */
  withFileTypes?: boolean;
  /** Entries of subdirectories too. */
  recursive?: boolean;
}

export interface ReadFileOptions extends TransferOptions {
  encoding?: BufferEncoding | null;
}

export interface WriteFileOptions extends TransferOptions {
  encoding?: BufferEncoding;
  /** 'w' (default: create or truncate), 'wx' (fail if it exists), 'a' (append). */
  flag?: OpenFlag;
}

export interface RmOptions {
  recursive?: boolean;
  force?: boolean;
}

export interface ServerInfo {
  dialect: number;
  signing: boolean;
  encryption: boolean;
  cipherId: number;
  signingAlgorithm: string;
  maxReadSize: number;
  maxWriteSize: number;
  share: string;
  host: string;
}

/**
 * Connects, authenticates and attaches to a share: connect('smb://user@host[:port]/share[/dir]',
 * { password }) or connect({ host, port, share, username, password, ... }).
 */
export async function connect(target: string | ConnectTarget, options?: ConnectOptions): Promise<SmbClient> {
  const { url: u, options: opts } = normalizeConnect(target, options);
  checkAbort(opts.signal);
  const timeoutMs = opts.timeoutMs ?? 30_000;
  // Several addresses of one clustered server (failover.ts): the first that accepts a connection.
  const servers = (opts.servers ?? []).map((s) => parseServer(s, u.port));
  const primary = { host: u.host, port: u.port };
  const targets = await candidates(primary, servers, primary);
  for (let i = 0; ; i++) {
    const target = targets[i]!;
    const conn = new Connection({
      host: target.host, port: target.port, timeoutMs, keepaliveMs: opts.keepaliveMs ?? 60_000,
      transport: opts.transport, rdmaProvider: opts.rdmaProvider, smbdirect: opts.smbdirect,
    });
    const onAbort = (): void => { void conn.close(); };
    opts.signal?.addEventListener('abort', onAbort, { once: true });
    try {
      try {
        await abortable(conn.connect(), opts.signal);
      } catch (e) {
        if (i + 1 < targets.length && !opts.signal?.aborted) continue; // that node is down: the next one
        throw e;
      }
      return await abortable(setUp(conn, u, opts, timeoutMs, servers, target), opts.signal);
    } catch (e) {
      await conn.close();
      throw e;
    } finally {
      opts.signal?.removeEventListener('abort', onAbort);
    }
  }
}

async function setUp(conn: Connection, u: SmbUrl, options: ConnectOptions, timeoutMs: number, servers: ServerAddress[], connectedTo: ServerAddress): Promise<SmbClient> {
  // One ClientGUID for every connection of this client: multichannel binding requires it (seed 001).
  const clientGuid = randomBytes(16);
  const neg = await negotiate(conn, {
    dialects: options.dialects, requireSigning: options.sign, ciphers: options.ciphers, signingAlgorithms: options.signingAlgorithms,
    clientGuid, host: u.host, multichannel: (options.multichannel?.maxChannels ?? 1) > 1,
  });
  if (options.encrypt && !neg.cipherId) {
    throw new SmbError(Status.NOT_SUPPORTED, `encryption requested but dialect 0x${neg.dialect.toString(16)} with this server cannot encrypt`);
  }
  const password = options.password ?? u.password ?? '';
  const krb5 = options.krb5 && options.krb5 !== 'off'
    ? { mode: options.krb5, credentials: new Krb5Credentials({ ...options.kerberos, user: u.user, password, host: u.host }) }
    : undefined;
  const gss: () => GssClient = gssFactory({ user: u.user, password, domain: options.domain ?? u.domain, workstation: options.workstation }, krb5);
  const session = await setupSession(conn, neg, {
    gss: gss(),
    requireSigning: !!options.sign,
    timeoutMs,
  });
  if (options.encrypt) session.encryptData = true;
  const tree = await connectTree(session, u.host, u.share, !!options.encrypt);
  await validateNegotiate(tree, neg);
  const client = new SmbClient(conn, neg, session, tree, u.path, options);
  if ((options.reconnect?.attempts ?? 1) > 0) {
    client.enableReconnect({
      host: u.host, port: u.port, servers, connectedTo, timeoutMs, keepaliveMs: options.keepaliveMs ?? 60_000,
      dialects: options.dialects, ciphers: options.ciphers, requireSigning: !!options.sign, encrypt: !!options.encrypt,
      clientGuid, gss, multichannel: (options.multichannel?.maxChannels ?? 1) > 1,
    });
  }
  if (options.dfs !== false) {
    const pool = new SessionPool({
      user: u.user, password, domain: options.domain ?? u.domain, workstation: options.workstation,
      dialects: options.dialects, encrypt: options.encrypt, sign: options.sign, ciphers: options.ciphers,
      timeoutMs, keepaliveMs: options.keepaliveMs ?? 60_000, reconnect: options.reconnect,
    });
    pool.adopt(u.host, u.port, conn, session, tree);
    client.dfs = new DfsResolver(pool, { host: u.host, port: u.port }, options.dfs ?? {});
  }
  if ((options.multichannel?.maxChannels ?? 1) > 1) {
    await client.startMultichannel({
      port: u.port, timeoutMs, keepaliveMs: options.keepaliveMs ?? 60_000, dialects: options.dialects,
      ciphers: options.ciphers, requireSigning: !!options.sign, clientGuid, host: u.host, gss,
    });
  }
  return client;
}

export class SmbClient {
  private readonly opens = new Map<bigint, FileHandle>();
  private mc: ChannelManager | undefined;
  private closing = false;
  /** DFS resolver (connect() sets it unless options.dfs is false). */
  dfs: DfsResolver | undefined;
  /** The DFS target each open handle came through (mid-transfer failover). */
  private readonly routes = new WeakMap<FileHandle, Routed<unknown>['via']>();

  private reconnector: Reconnector | undefined;
  /** Directories whose listing did not fit one answer (list() skips the one-round-trip try). */
  private readonly bigDirs = new Set<string>();

  constructor(
    private conn: Connection,
    private neg: NegotiateResult,
    readonly session: Session,
    readonly tree: Tree,
    /** Path inside the share from the URL; relative paths of the API resolve against it. */
    readonly base: string,
    private readonly options: ConnectOptions,
  ) {
    conn.onOplockBreak = (msg) => { void this.onBreak(msg); };
  }

  /** Reconnects after a lost connection and reopens durable handles (reconnect.ts). */
  enableReconnect(p: Omit<ReconnectHost, 'session' | 'trees' | 'required' | 'adoptConnection'>): void {
    this.reconnector = new Reconnector({
      ...p, session: this.session, required: true,
      // The URL's share first, then other shares of this server reached through DFS links.
      trees: () => [this.tree, ...(this.dfs?.pool.treesOf(this.session).filter((t) => t !== this.tree) ?? [])],
      adoptConnection: (conn, neg) => {
        const old = this.conn;
        this.conn = conn;
        this.neg = neg;
        conn.onOplockBreak = (msg) => { void this.onBreak(msg); };
        this.dfs?.pool.adopt(p.host, p.port, conn, this.session, this.tree);
        // Multichannel: the new connection is channel 1; the other channels bind again.
        this.mc?.recovered();
        void old.close().catch(() => undefined);
      },
    }, this.options.reconnect);
    this.session.recover = () => this.reconnector!.recover();
  }

  /** Reconnects completed so far (0 while the first connection lives). */
  get reconnects(): number {
    return this.reconnector?.reconnects ?? 0;
  }

  /** Durable handles reopened (DH2C) by those reconnects. */
  get reopenedHandles(): number {
    return this.reconnector?.reopened ?? 0;
  }

  /** Binds more channels (ConnectOptions.multichannel); failures to bind leave fewer channels, never an error. */
  async startMultichannel(factory: Omit<ChannelFactory, 'onConnection'>): Promise<void> {
    const opts = this.options.multichannel;
    if (!opts || this.mc) return;
    this.mc = new ChannelManager(this.session, {
      ...factory,
      onConnection: (c) => { c.onOplockBreak = (msg) => { void this.onBreak(msg); }; },
    }, opts);
    await this.mc.start(this.tree, this.neg);
  }

  /** The session's channels: state, server interface, link speed, bytes each way, requests in flight. */
  channels(): ChannelInfo[] {
    if (this.mc) return this.mc.channels();
    const c = this.conn;
    const key = this.session.signingKey;
    return [{
      id: 1, state: c.closed ? 'failed' : 'active', interface: c.opts.host, local: c.localAddress, remote: c.remoteAddress,
      speed: 0, rss: false, rdma: false, signingKeyId: keyId(key), bytesSent: c.bytesSent, bytesReceived: c.bytesReceived,
      inFlight: c.inFlight, requests: c.requestsSent, failures: c.closed ? 1 : 0,
    }];
  }

  get info(): ServerInfo {
    return {
      dialect: this.neg.dialect, signing: this.session.signingRequired,
      encryption: this.tree.encrypt || this.session.encryptData, cipherId: this.session.cipherId,
      signingAlgorithm: this.neg.signingAlg, maxReadSize: this.neg.maxReadSize, maxWriteSize: this.neg.maxWriteSize,
      share: this.tree.share, host: this.conn.opts.host,
    };
  }

  /** Resolves an API path: absolute ('/x') from the share root, relative from the URL's path. */
  resolve(p: string): string {
    if (p.startsWith('/') || p.startsWith('\\')) return p.replace(/^[\\/]+/, '');
    return this.base ? `${this.base}/${p}` : p;
  }

  /**
   * Runs `op` where `p` (share-relative, already resolved) really lives: on this tree, or through
   * DFS referrals and the cache on a target's tree (STATUS_PATH_NOT_COVERED is followed).
   */
  private async at<T>(p: string, op: (tree: Tree, rel: string) => Promise<T>): Promise<Routed<T>> {
    if (!this.dfs) return { value: await op(this.tree, p), tree: this.tree };
    if (this.dfs.cache.size === 0) {
      // No DFS link known yet: straight to this share (what route() would pick); a path that turns
      // out to be behind a link (PATH_NOT_COVERED, nothing done) goes through route() below.
      try {
        return { value: await op(this.tree, p), tree: this.tree };
      } catch (e) {
        if (!(e instanceof SmbError) || e.status !== Status.PATH_NOT_COVERED) throw e;
      }
    }
    const unc = `\\${this.conn.opts.host}\\${this.tree.share}\\${p.replace(/\//g, '\\')}`;
    return this.dfs.route(unc, (tree, rel) => op(tree, rel.replace(/\\/g, '/')));
  }

  /** The DFS referral cache: entries, TTL left, targets and the hint (like /proc/fs/cifs/dfscache). */
  dfsCache(): DfsCacheInfo[] {
    return this.dfs?.list() ?? [];
  }

  private xfer(o: TransferOptions = {}): TransferOptions {
    return { chunkSize: this.options.chunkSize, depth: this.options.depth ?? DEFAULT_DEPTH, ...o };
  }

  /** We ask for no oplocks, but acknowledge a break if a server sends one anyway (3.2.5.19.1). */
  private async onBreak(msg: Buffer): Promise<void> {
    try {
      const b = decodeOplockBreak(msg);
      if (b.kind === 'lease-notification') {
        // Our durable opens hold read+handle leases and cache nothing: agree at once (3.2.5.19.2).
        if (!(b.flags & LEASE_BREAK_FLAG_ACK_REQUIRED)) return;
        await this.tree.request({ command: Command.OPLOCK_BREAK, body: encodeLeaseBreakAck({ flags: 0, leaseKey: b.leaseKey, leaseState: b.newLeaseState, leaseDuration: 0n }) });
        return;
      }
      if (b.kind !== 'oplock') return;
      const h = this.opens.get(b.fileId.volatile);
      if (!h) return;
      await h.tree.request({ command: Command.OPLOCK_BREAK, body: encodeOplockBreak({ oplockLevel: OplockLevel.NONE, fileId: b.fileId }) });
    } catch { /* the open may be gone already */ }
  }

  async open(path: string, flags: OpenFlag = 'r'): Promise<FileHandle> {
    const f = OpenFlags[flags];
    if (!f) throw new SmbError(Status.INVALID_PARAMETER, `unknown open flags "${String(flags)}"`);
    const r = await this.at(this.resolve(path), (t, p) => openFile(t, p, { access: f.access, disposition: f.disposition, options: FILE_OPTIONS }, this.options.durable !== false));
    const h = r.value;
    if (r.via) this.routes.set(h, r.via);
    if (flags.startsWith('a')) appendMode(h);
    this.track(h);
    return h;
  }

  private track(h: FileHandle): void {
    const key = h.fileId.volatile;
    this.opens.set(key, h);
    const close = h.close.bind(h);
    h.close = async () => { this.opens.delete(key); await close(); };
  }

  /** As fs/promises readFile: a Buffer, or a string with an encoding ('utf8' or { encoding }). */
  async readFile(path: string, o: BufferEncoding | (ReadFileOptions & { encoding: BufferEncoding })): Promise<string>;
  async readFile(path: string, o?: ReadFileOptions): Promise<Buffer>;
  async readFile(path: string, opt: BufferEncoding | ReadFileOptions = {}): Promise<Buffer | string> {
    const o: ReadFileOptions = typeof opt === 'string' ? { encoding: opt } : opt;
    checkAbort(o.signal);
    const data = await abortable(this.readWithFailover(path, o), o.signal);
    return o.encoding ? data.toString(o.encoding) : data;
  }

  private async readWithFailover(path: string, o: TransferOptions): Promise<Buffer> {
    for (let failovers = 0; ; failovers++) {
      const h = await this.open(path, 'r');
      let data: Buffer;
      try {
        data = await this.readAll(h, o);
      } catch (e) {
        await h.close().catch(() => undefined);
        if (this.failedOver(h, e, failovers)) continue; // read it again from the next target
        throw e;
      }
      await h.close();
      return data;
    }
  }

  /**
   * DFS failover (seed 003) for an operation on `h` that failed with `e`: true when `h` came
   * through a DFS link, the target is unreachable and another target is left to try (the hint
   * has moved past the dead one, so the next open goes there).
   */
  private failedOver(h: FileHandle, e: unknown, failovers: number): boolean {
    const via = this.routes.get(h);
    if (!via || !this.dfs || !isUnreachable(e) || failovers + 1 >= via.entry.targets.length) return false;
    this.dfs.targetFailed(via);
    return true;
  }

  private async readAll(h: FileHandle, o: TransferOptions): Promise<Buffer> {
    checkAbort(o.signal);
    const data = await h.read(0, undefined, this.xfer(o));
    // The file may have grown since the open: keep reading until a short read.
    if (data.length === h.size) {
      const more: Buffer[] = [data];
      let off = data.length;
      for (;;) {
        checkAbort(o.signal);
        const c = await h.readChunk(off, h.readChunkSize(this.xfer(o)));
        if (c.length === 0) break;
        more.push(Buffer.from(c));
        off += c.length;
      }
      return more.length === 1 ? data : Buffer.concat(more);
    }
    return data;
  }

  /** As fs/promises writeFile: creates or truncates (flag 'w'), or appends with flag 'a'; strings in `encoding` (utf8). */
  async writeFile(path: string, data: Buffer | Uint8Array | string, opt: BufferEncoding | WriteFileOptions = {}): Promise<void> {
    const o: WriteFileOptions = typeof opt === 'string' ? { encoding: opt } : opt;
    checkAbort(o.signal);
    const buf = typeof data === 'string' ? Buffer.from(data, o.encoding ?? 'utf8') : data;
    if ((o.flag ?? 'w') === 'w' && buf.length <= this.wholeWriteMax()) {
      await abortable(this.writeSmall(path, Buffer.isBuffer(buf) ? buf : Buffer.from(buf.buffer, buf.byteOffset, buf.byteLength)), o.signal);
      return;
    }
    await abortable((async () => {
      const h = await this.open(path, o.flag ?? 'w');
      try {
        checkAbort(o.signal);
        await h.write(buf, (o.flag ?? 'w').startsWith('a') ? h.size : 0, this.xfer(o));
      } finally {
        await h.close();
      }
    })(), o.signal);
  }

  /**
   * Largest writeFile sent as one CREATE + WRITE + CLOSE compound: 64 KiB (one credit), within
   * MaxWriteSize and the chunk size. Larger files go the pipelined way on a durable handle, where
   * one round trip more is nothing beside the transfer.
   */
  private wholeWriteMax(): number {
    const c = this.tree.session.liveChannels()[0]?.connection;
    if (!c) return 0;
    return Math.min(SMALL_WRITE, this.options.chunkSize ?? DEFAULT_CHUNK, c.params.maxWriteSize);
  }

  /**
   * writeFile with flag 'w' of data that fits one WRITE: CREATE(OVERWRITE_IF) + WRITE + CLOSE in one
   * round trip, no durable handle (there is no handle left to reclaim). A connection lost under it
   * is waited out (reconnect) and the compound sent again: it writes the same whole file.
   */
  private async writeSmall(path: string, buf: Buffer): Promise<void> {
    const p = this.resolve(path);
    const name = displayPath(p);
    const f = OpenFlags.w;
    for (let attempt = 0; ; attempt++) {
      try {
        const n = (await this.at(p, (t, rel) => writeWhole(t, rel, { access: f.access, disposition: f.disposition, options: FILE_OPTIONS }, buf, name))).value;
        // A server that took less than all of it: the rest the ordinary way.
        if (n < buf.length) {
          if (n <= 0) throw new SmbError(Status.DISK_FULL, 'server wrote nothing', name);
          const h = await this.open(path, 'r+');
          try {
            await h.write(buf.subarray(n), n, this.xfer());
          } finally {
            await h.close();
          }
        }
        return;
      } catch (e) {
        if (!this.session.recover || attempt >= MAX_RECOVERIES || !isDisconnect(e)) throw e;
      }
    }
  }

  /** As fs/promises appendFile. */
  async appendFile(path: string, data: Buffer | Uint8Array | string, opt: BufferEncoding | WriteFileOptions = {}): Promise<void> {
    const o: WriteFileOptions = typeof opt === 'string' ? { encoding: opt } : opt;
    return this.writeFile(path, data, { ...o, flag: 'a' });
  }

  /**
   * Attributes of `path`, in one round trip: CREATE + CLOSE compounded. The CREATE response carries
   * every attribute a stat needs (MS-SMB2 2.2.14); this open changes nothing, so the close has
   * nothing newer to tell and is not asked for POSTQUERY_ATTRIB (one fstat less on the server).
   */
  async stat(path: string): Promise<Stats> {
    const p = this.resolve(path);
    const name = displayPath(p);
    const close = closeRequest(RELATED_FILE_ID, false, true);
    const cr = (await this.at(p, async (tree, rel) => {
      const rs = await tree.compound([createRequest(rel, { access: Access.FILE_READ_ATTRIBUTES, disposition: CreateDisposition.OPEN, options: 0 }), close], { path: name }, false);
      if (rs[0]!.header.status !== Status.SUCCESS) throw new SmbError(rs[0]!.header.status, undefined, name);
      return rs[0]!;
    })).value;
    return statsFrom(name, parse(() => decodeCreateResponse(cr.msg)));
  }

  /**
   * As fs/promises access: resolves when `path` exists and (mode R_OK/W_OK, from fs.constants)
   * this user may read/write it; rejects with code ENOENT or EACCES otherwise.
   */
  async access(path: string, mode = 0): Promise<void> {
    const p = this.resolve(path);
    let access = Access.FILE_READ_ATTRIBUTES;
    if (mode & 4) access |= Access.FILE_READ_DATA; // R_OK (also FILE_LIST_DIRECTORY)
    if (mode & 2) access |= Access.FILE_WRITE_DATA; // W_OK (also FILE_ADD_FILE)
    const create = createRequest(p, { access, disposition: CreateDisposition.OPEN, options: 0 });
    const close = closeRequest({ persistent: 0xffffffffffffffffn, volatile: 0xffffffffffffffffn }, false, true);
    const [cr] = await this.tree.compound([create, close], { path: displayPath(p) }, false);
    if (cr!.header.status !== Status.SUCCESS) throw new SmbError(cr!.header.status, undefined, displayPath(p));
  }

  async exists(path: string): Promise<boolean> {
    try {
      await this.stat(path);
      return true;
    } catch (e) {
      if (e instanceof SmbError && isNotFound(e.status)) return false;
      throw e;
    }
  }

  async mkdir(path: string, o: { recursive?: boolean } = {}): Promise<void> {
    const p = this.resolve(path);
    const mk = async (dir: string): Promise<void> => {
      const create = createRequest(dir, {
        access: Access.FILE_READ_ATTRIBUTES, disposition: CreateDisposition.CREATE, options: CreateOptions.DIRECTORY_FILE,
        attributes: FileAttributes.DIRECTORY,
      });
      const close = closeRequest({ persistent: 0xffffffffffffffffn, volatile: 0xffffffffffffffffn }, false, true);
      await this.at(dir, async (tree, rel) => {
        const [cr] = await tree.compound([rel === dir ? create : createRequest(rel, {
          access: Access.FILE_READ_ATTRIBUTES, disposition: CreateDisposition.CREATE, options: CreateOptions.DIRECTORY_FILE, attributes: FileAttributes.DIRECTORY,
        }), close], {}, false);
        if (cr!.header.status !== Status.SUCCESS) throw new SmbError(cr!.header.status, undefined, displayPath(dir));
      });
    };
    if (!o.recursive) return mk(p);
    const parts = p.split(/[\\/]+/).filter(Boolean);
    for (let i = 1; i <= parts.length; i++) {
      const dir = parts.slice(0, i).join('/');
      try {
        await mk(dir);
      } catch (e) {
        if (!(e instanceof SmbError && e.status === Status.OBJECT_NAME_COLLISION)) throw e;
        if (i === parts.length && !(await this.stat('/' + dir)).isDirectory()) throw new SmbError(Status.NOT_A_DIRECTORY, undefined, displayPath(dir));
      }
    }
  }

  /**
   * As fs/promises readdir, without '.' and '..': names; Dirent objects with withFileTypes; Stats
   * with withStats (one listing, no extra round trips). With recursive, names are paths relative
   * to `path` ('sub/file.txt') and Dirent/Stats carry their parentPath.
   */
  async readdir(path: string, o: ReaddirOptions & { withFileTypes: true }): Promise<Dirent[]>;
  async readdir(path: string, o: ReaddirOptions & { withStats: true }): Promise<Stats[]>;
  async readdir(path: string, o?: ReaddirOptions): Promise<string[]>;
  async readdir(path: string, o: ReaddirOptions = {}): Promise<string[] | Stats[] | Dirent[]> {
    const top = displayPath(this.resolve(path));
    const found: Stats[] = [];
    // Breadth-first; each directory is one listing (bounded by what the share holds).
    const queue = [top];
    for (let dir = queue.shift(); dir !== undefined; dir = queue.shift()) {
      const entries = await this.list(dir);
      for (const e of entries) {
        const st = statsFrom(dir === '/' ? `/${e.name}` : `${dir}/${e.name}`, e);
        found.push(st);
        if (o.recursive && st.isDirectory() && !st.isSymbolicLink()) queue.push(st.path);
      }
    }
    if (o.withStats) return found;
    if (o.withFileTypes) return found.map((st) => new Dirent(st.name, st.parentPath, st.attributes));
    const cut = top === '/' ? 1 : top.length + 1;
    return found.map((st) => (o.recursive ? st.path.slice(cut) : st.name));
  }

  /** As fs/promises opendir: a Dir to read() entry by entry or iterate with for await. */
  async opendir(path: string): Promise<Dir> {
    const dir = displayPath(this.resolve(path));
    const entries = await this.list(dir);
    return new Dir(dir, entries.map((e) => new Dirent(e.name, dir, e.fileAttributes)));
  }

  private async list(path: string): Promise<DirEntry[]> {
    const p = this.resolve(path);
    // Most directories: open, list and close in one round trip (oneshot.ts). One that needed more
    // than that is listed the usual way from then on (the one-shot try is read again from the start).
    if (!this.bigDirs.has(p)) {
      const whole = (await this.at(p, (t, rel) => listOnce(t, rel, displayPath(p)))).value;
      if (whole) return whole.filter((e) => e.name !== '.' && e.name !== '..');
      if (this.bigDirs.size >= 256) this.bigDirs.clear();
      this.bigDirs.add(p);
    }
    const h = (await this.at(p, (t, rel) => openFile(t, rel, {
      access: Access.FILE_LIST_DIRECTORY | Access.FILE_READ_ATTRIBUTES | Access.SYNCHRONIZE,
      disposition: CreateDisposition.OPEN, options: CreateOptions.DIRECTORY_FILE,
    }))).value;
    try {
      return (await listDirectory(h)).filter((e) => e.name !== '.' && e.name !== '..');
    } finally {
      await h.close();
    }
  }

  /**
   * As fs/promises watch: an async iterable of { eventType, filename } for changes in directory
   * `path` (recursive: and below), ended by `signal` (AbortError) or by leaving the loop.
   */
  watch(path: string, o: WatchOptions = {}): AsyncIterable<WatchEvent> {
    const open = (): Promise<FileHandle> => {
      checkAbort(o.signal);
      return openFile(this.tree, this.resolve(path), {
        access: Access.FILE_LIST_DIRECTORY | Access.FILE_READ_ATTRIBUTES | Access.SYNCHRONIZE,
        disposition: CreateDisposition.OPEN, options: CreateOptions.DIRECTORY_FILE,
      });
    };
    return { [Symbol.asyncIterator]: () => lazyWatch(open, o) };
  }

  /** Removes a file or (empty, or with recursive) directory. */
  async rm(path: string, o: RmOptions = {}): Promise<void> {
    const p = this.resolve(path);
    if (!p) throw new SmbError(Status.ACCESS_DENIED, 'refusing to remove the share root');
    // A file in one round trip; FILE_IS_A_DIRECTORY says it is a directory (nothing was opened).
    try {
      await this.deletePath(p, false);
      return;
    } catch (e) {
      if (!(e instanceof SmbError)) throw e;
      if (o.force && isNotFound(e.status)) return;
      if (e.status !== Status.FILE_IS_A_DIRECTORY) throw e;
    }
    if (o.recursive) {
      const entries = await this.list('/' + p);
      await runPipelined(entries.length, 8, async (i) => {
        const e = entries[i]!;
        const child = `/${p}/${e.name}`;
        if (e.fileAttributes & FileAttributes.DIRECTORY) await this.rm(child, { recursive: true });
        else await this.deletePath(child.slice(1), false);
      });
    }
    await this.deletePath(p, true);
  }

  /** As fs/promises unlink: removes a file (EISDIR for a directory). */
  async unlink(path: string): Promise<void> {
    await this.deletePath(this.resolve(path), false);
  }

  /** As fs/promises rmdir: removes an empty directory (ENOTEMPTY, ENOTDIR otherwise). */
  async rmdir(path: string): Promise<void> {
    const p = this.resolve(path);
    if (!p) throw new SmbError(Status.ACCESS_DENIED, 'refusing to remove the share root');
    await this.deletePath(p, true);
  }

  /** One round trip (oneshot.ts): a file by delete-on-close, a directory by SET_INFO disposition. */
  private async deletePath(p: string, dir: boolean): Promise<void> {
    const name = displayPath(p);
    await this.at(p, (t, rel) => (dir ? deleteDirectory(t, rel, name) : deleteFile(t, rel, name)));
  }

  /** As fs/promises truncate: cuts (or zero-extends) the file to `length` bytes. */
  async truncate(path: string, length = 0): Promise<void> {
    const h = await openFile(this.tree, this.resolve(path), { access: Access.FILE_WRITE_DATA | Access.FILE_READ_ATTRIBUTES, disposition: CreateDisposition.OPEN, options: FILE_OPTIONS });
    try {
      await h.truncate(length);
    } finally {
      await h.close();
    }
  }

  /** As fs/promises utimes: sets the last access and last write times (Date, or seconds since the epoch). */
  async utimes(path: string, atime: Date | number, mtime: Date | number): Promise<void> {
    const h = await openFile(this.tree, this.resolve(path), { access: Access.FILE_WRITE_ATTRIBUTES | Access.FILE_READ_ATTRIBUTES, disposition: CreateDisposition.OPEN, options: 0 });
    try {
      await setTimes(h, toMs(atime), toMs(mtime));
    } finally {
      await h.close();
    }
  }

  /**
   * As fs/promises copyFile, on the server (FSCTL_SRV_COPYCHUNK_WRITE, copy.ts): the data never
   * crosses the network. mode fs.constants.COPYFILE_EXCL (1) fails with EEXIST if `dest` exists.
   */
  async copyFile(src: string, dest: string, mode = 0): Promise<void> {
    const s = await openFile(this.tree, this.resolve(src), { access: Access.GENERIC_READ, disposition: CreateDisposition.OPEN, options: FILE_OPTIONS });
    try {
      const d = await openFile(this.tree, this.resolve(dest), {
        access: Access.GENERIC_READ | Access.GENERIC_WRITE,
        disposition: mode & 1 ? CreateDisposition.CREATE : CreateDisposition.OVERWRITE_IF, options: FILE_OPTIONS,
      });
      try {
        if (s.size > 0) await serverCopy(s, d, s.size);
      } finally {
        await d.close();
      }
    } finally {
      await s.close();
    }
  }

  /** Renames/moves within the share; replaces an existing file when `replace` is set. */
  async rename(from: string, to: string, o: { replace?: boolean } = {}): Promise<void> {
    const src = this.resolve(from);
    const dst = this.resolve(to);
    const h = (await this.at(src, (t, rel) => openFile(t, rel, { access: Access.DELETE | Access.FILE_READ_ATTRIBUTES | Access.SYNCHRONIZE, disposition: CreateDisposition.OPEN, options: 0 }))).value;
    try {
      // The target name is relative to the share the source resolved to (a cached link maps it too).
      const d = await this.at(dst, async (t, rel) => ({ t, rel }));
      if (d.value.t !== h.tree) throw new SmbError(Status.NOT_SAME_DEVICE, `cannot rename across DFS targets`, displayPath(dst));
      await renamePath(h, d.value.rel, !!o.replace);
    } catch (e) {
      // These are about the new name, not the file being renamed: say so with its path.
      if (e instanceof SmbError && TARGET_ERRORS.has(e.status)) throw new SmbError(e.status, undefined, displayPath(dst));
      throw e;
    } finally {
      await h.close();
    }
  }

  private bulk(o: TransferOptions, maxChunk: number): { chunk: number; depth: number } {
    const chunk = Math.max(1, Math.min(o.chunkSize ?? this.options.chunkSize ?? BULK_CHUNK, maxChunk));
    return { chunk, depth: Math.max(1, o.depth ?? this.options.depth ?? Math.max(2, Math.ceil(BULK_IN_FLIGHT / chunk))) };
  }

  /**
   * Copies the remote file `path` to the local file `localPath` (created or truncated), like
   * smbclient's get; resolves with the bytes copied. READs of up to 8 MiB are pipelined (16 MiB in
   * flight), their answers received into pooled buffers and written to the file from there, in
   * order, one write at a time (so `localPath` may also be a device or a FIFO). Reads until the
   * server reports the end.
   */
  async download(path: string, localPath: string, o: TransferOptions = {}): Promise<number> {
    checkAbort(o.signal);
    let h = await this.open(path, 'r');
    let fd: number | undefined;
    const done = { bytes: 0 };
    let reopened = false;
    try {
      checkAbort(o.signal);
      fd = await fsCall<number>((cb) => fsOpen(localPath, 'w', 0o666, cb));
      for (let failovers = 0; ; failovers++) {
        try {
          await downloadTo(h, fd, this.bulk(o, h.readChunkSize({ chunkSize: Number.MAX_SAFE_INTEGER })), o.onProgress, done, o.signal);
          return done.bytes;
        } catch (e) {
          // DFS failover (seed 003): the target died mid-transfer. Reopen the path (the next target,
          // the hint moved past the dead one) and go on from the bytes already written.
          if (this.failedOver(h, e, failovers)) {
            await h.close().catch(() => undefined);
            h = await this.open(path, 'r');
            continue;
          }
          // The session came back but the server refused the durable reopen (see upload): go on
          // from the bytes written on a new open, once, if the file is provably the one being read
          // (same size, last write and change time as at the first open); else the HandleLostError.
          if (!(e instanceof HandleLostError) || reopened || o.signal?.aborted) throw e;
          const again = await this.open(path, 'r');
          const a = h.created;
          const b = again.created;
          if (a.endOfFile !== b.endOfFile || a.lastWriteTime !== b.lastWriteTime || a.changeTime !== b.changeTime) {
            await again.close().catch(() => undefined);
            throw e;
          }
          await h.close().catch(() => undefined);
          h = again;
          reopened = true;
        }
      }
    } finally {
      const f = fd;
      if (f !== undefined) await fsCall<void>((cb) => fsClose(f, cb)).catch(() => undefined);
      await h.close().catch(() => undefined);
    }
  }

  /**
   * Copies the local file `localPath` to the remote `path` (created or truncated; `flags: 'a'`
   * appends), like smbclient's put; resolves with the bytes copied. The file is read straight into
   * pooled WRITE request buffers behind the headers, and each WRITE (up to 8 MiB, 16 MiB in flight)
   * goes out as that one buffer. A lost connection is survived by the durable handle (reconnect.ts);
   * if the server refuses to give the handle back, an upload of a regular file without `flags: 'a'`
   * is done once more from the start on a new open (onProgress then counts those bytes again).
   */
  async upload(localPath: string, path: string, o: TransferOptions & { flags?: OpenFlag } = {}): Promise<number> {
    checkAbort(o.signal);
    const fd = await fsCall<number>((cb) => fsOpen(localPath, 'r', cb));
    try {
      const seekable = (await fsCall<{ isFile(): boolean }>((cb) => fstat(fd, cb))).isFile();
      checkAbort(o.signal);
      const flags = o.flags ?? 'w';
      const appending = flags.startsWith('a');
      let h = await this.open(path, flags);
      try {
        for (let restarts = 0; ; restarts++) {
          try {
            return await uploadFrom(h, fd, seekable, appending ? h.size : 0, this.bulk(o, h.writeChunkSize({ chunkSize: Number.MAX_SAFE_INTEGER })), o.onProgress, o.signal);
          } catch (e) {
            // The connection came back but the server would not give the handle back (a refused
            // DH2C: Samba answers OBJECT_NAME_NOT_FOUND when any of its reconnect checks fails, e.g.
            // a file stat that moved during its teardown). A whole-file upload from a seekable
            // source is idempotent: open the path again (truncating, as the first open did) and
            // write it all once more, as cifs.ko falls back to a plain open. An append cannot be
            // redone, a pipe cannot be read twice.
            if (!(e instanceof HandleLostError) || appending || !seekable || restarts >= 1 || o.signal?.aborted) throw e;
            await h.close().catch(() => undefined);
            h = await this.open(path, flags);
          }
        }
      } finally {
        await h.close();
      }
    } finally {
      await fsCall<void>((cb) => fsClose(fd, cb)).catch(() => undefined);
    }
  }

  /** A Readable over the file; chunk reads are pipelined and paused by backpressure. */
  createReadStream(path: string, o: TransferOptions & { start?: number; end?: number } = {}): Readable {
    const x = this.xfer(o);
    let h: FileHandle | undefined;
    let pos = o.start ?? 0;
    let limit = Infinity;
    interface Req { off: number; want: number; p: Promise<Buffer> }
    let inflight: Req[] = [];
    const depth = Math.max(1, x.depth ?? DEFAULT_DEPTH);
    const issue = (off: number, want: number): Req => {
      const p = h!.readChunk(off, want);
      p.catch(() => undefined);
      return { off, want, p };
    };
    const fill = (): void => {
      if (!h) return;
      const chunk = h.readChunkSize(x);
      while (inflight.length < depth && pos < limit) {
        const want = Math.min(chunk, limit - pos);
        inflight.push(issue(pos, want));
        pos += want;
      }
    };
    let failovers = 0;
    const readable = new Readable({
      highWaterMark: 4 * 1024 * 1024,
      signal: o.signal,
      construct: (cb) => {
        this.open(path, 'r').then((fh) => {
          h = fh;
          // Read to the size known at open (or `end`); a file that grows meanwhile is read on
          // by the EOF probe below.
          limit = o.end !== undefined ? Math.min(o.end + 1, Number.MAX_SAFE_INTEGER) : Math.max(fh.size, pos + 1);
          cb();
        }, (e: Error) => cb(e));
      },
      read(this: Readable) {
        pull(this);
      },
      destroy: (err, cb) => {
        const fh = h;
        h = undefined;
        Promise.allSettled(inflight.map((r) => r.p)).then(() => (fh ? fh.close() : undefined)).then(() => cb(err), () => cb(err));
      },
    });
    const pull = (stream: Readable): void => {
      try {
        fill();
      } catch (e) {
        stream.destroy(e as Error);
        return;
      }
      const next = inflight.shift();
      if (!next) { stream.push(null); return; }
      next.p.then((data) => {
        if (data.length === 0) { inflight = []; limit = pos; stream.push(null); return; }
        if (data.length < next.want) {
          // Short read: what was queued after it starts at the wrong offset; re-issue from here.
          inflight = [];
          pos = next.off + data.length;
          if (o.end === undefined) limit = Math.max(limit, pos + 1);
        } else if (o.end === undefined && pos >= limit && inflight.length === 0) {
          limit = pos + h!.readChunkSize(x); // probe for growth / EOF with one more read
        }
        x.onProgress?.(data.length);
        stream.push(data);
      }, (e: Error) => {
        // DFS failover: the target died under the stream. Everything before next.off was pushed;
        // reopen on the next target and go on from there.
        const dead = h;
        if (!dead || !this.failedOver(dead, e, failovers++)) { stream.destroy(e); return; }
        inflight = [];
        pos = next.off;
        h = undefined;
        void dead.close().catch(() => undefined);
        this.open(path, 'r').then((fh) => { h = fh; pull(stream); }, (e2: Error) => stream.destroy(e2));
      });
    };
    return readable;
  }

  /** A Writable to the file (created/truncated); chunk writes are pipelined within `depth`. */
  createWriteStream(path: string, o: TransferOptions & { flags?: OpenFlag } = {}): Writable {
    const x = this.xfer(o);
    let h: FileHandle | undefined;
    let pos = 0;
    const depth = Math.max(1, x.depth ?? DEFAULT_DEPTH);
    const inflight = new Set<Promise<void>>();
    let failed: Error | undefined;
    // Chunks handed to us wait here until they fill a WRITE; they go out as they are (writev, or
    // sealed straight from the pieces), never joined.
    let pendingBuf: Buffer[] = [];
    let pendingLen = 0;
    const issue = (parts: Buffer[], len: number): void => {
      const off = pos;
      pos += len;
      const p = writeParts(h!, off, parts, len).then(() => { inflight.delete(p); x.onProgress?.(len); },
        (e: Error) => { inflight.delete(p); failed ??= e; });
      inflight.add(p);
    };
    const drainTo = async (n: number): Promise<void> => {
      while (inflight.size > n) await Promise.race(inflight);
      if (failed) throw failed;
    };
    const flushPending = async (all: boolean): Promise<void> => {
      const chunk = h!.writeChunkSize(x);
      while (pendingLen >= chunk || (all && pendingLen > 0)) {
        const want = Math.min(chunk, pendingLen);
        const parts: Buffer[] = [];
        let got = 0;
        while (got < want) {
          const c = pendingBuf[0]!;
          if (c.length <= want - got) {
            parts.push(c);
            got += c.length;
            pendingBuf.shift();
          } else {
            parts.push(c.subarray(0, want - got));
            pendingBuf[0] = c.subarray(want - got);
            got = want;
          }
        }
        pendingLen -= want;
        await drainTo(depth - 1);
        issue(parts, want);
      }
    };
    return new Writable({
      highWaterMark: 4 * 1024 * 1024,
      signal: o.signal,
      construct: (cb) => {
        this.open(path, o.flags ?? 'w').then((fh) => { h = fh; if (o.flags?.startsWith('a')) pos = fh.size; cb(); }, (e: Error) => cb(e));
      },
      // Every failure reaches the stream through cb(err) (a throw here would escape into whoever
      // called write(), e.g. pipeline's 'data' handler, and end the process).
      write: (chunk: Buffer, _enc, cb) => {
        if (chunk.length === 0) { cb(); return; }
        if (failed) { cb(failed); return; }
        pendingBuf.push(chunk);
        pendingLen += chunk.length;
        if (pendingLen < h!.writeChunkSize(x)) { cb(); return; }
        flushPending(false).then(() => cb(), (e: Error) => cb(e));
      },
      final: (cb) => {
        flushPending(true).then(() => drainTo(0)).then(() => h!.close()).then(() => { h = undefined; cb(); }, (e: Error) => cb(e));
      },
      destroy: (err, cb) => {
        const fh = h;
        h = undefined;
        pendingBuf = [];
        Promise.allSettled([...inflight]).then(() => (fh ? fh.close() : undefined)).then(() => cb(err), () => cb(err));
      },
    });
  }

  /** `await using client = await connect(...)` closes it at the end of the block. */
  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }

  /** Disconnects the tree, logs off, closes the connection. Safe to call twice. */
  async close(): Promise<void> {
    if (this.closing) return;
    this.closing = true;
    this.session.recover = undefined;
    await this.dfs?.close(this.conn);
    if (this.session.liveChannels().length === 0) {
      await this.mc?.close();
      await this.conn.close();
      return;
    }
    // Polite goodbye, but bounded: a stalled server must not make close() hang.
    const polite = (async () => {
      await Promise.all([...this.opens.values()].map((h) => h.close().catch(() => undefined)));
      await this.tree.disconnect();
      await this.session.logoff();
    })();
    let timer: NodeJS.Timeout | undefined;
    const limit = new Promise<void>((r) => { timer = setTimeout(r, Math.min(5000, this.options.timeoutMs ?? 30_000)); });
    await Promise.race([polite.catch(() => undefined), limit]);
    clearTimeout(timer);
    await this.mc?.close();
    await this.conn.close();
  }
}

/** One WRITE of `parts` (len bytes) at `off`; a short write is finished with ordinary writes. */
async function writeParts(h: FileHandle, off: number, parts: Buffer[], len: number): Promise<void> {
  const n = await h.writeChunk(off, parts.length === 1 ? parts[0]! : parts);
  if (n <= 0) throw new SmbError(Status.DISK_FULL, 'server wrote nothing', displayPath(h.path));
  if (n < len) await h.write(Buffer.concat(parts, len).subarray(n), off + n, { depth: 1 });
}

function fsCall<T>(f: (cb: (err: NodeJS.ErrnoException | null, v: T) => void) => void): Promise<T> {
  return new Promise((resolve, reject) => f((err, v) => (err ? reject(err) : resolve(v))));
}

/** Writes all of `buf` at the file's current position. */
async function writeAll(fd: number, buf: Buffer): Promise<void> {
  let off = 0;
  while (off < buf.length) {
    off += await fsCall<number>((cb) => fsWrite(fd, buf, off, buf.length - off, null, cb));
  }
}

/** download(): READs in order of offset, `depth` in flight; answers are written in the same order. */
async function downloadTo(h: FileHandle, fd: number, x: { chunk: number; depth: number }, onProgress?: (n: number) => void,
  done: { bytes: number } = { bytes: 0 }, signal?: AbortSignal): Promise<number> {
  interface Req { off: number; want: number; p: Promise<Buffer> }
  const queue: Req[] = [];
  // Resumes at done.bytes (a failover reopened the file elsewhere); fd's position is there already.
  const start = done.bytes;
  let next = start;
  // Read up to the size known at open, then probe with one more READ for growth or the end.
  let limit = Math.max(h.size, start + 1);
  let written = start;
  let writing: Promise<void> = Promise.resolve();
  let writeError: unknown;
  const issue = (): void => {
    while (queue.length < x.depth && next < limit) {
      const want = Math.min(x.chunk, limit - next);
      const p = h.readChunk(next, want, true);
      p.catch(() => undefined);
      queue.push({ off: next, want, p });
      next += want;
    }
  };
  const drop = (): void => {
    // READs already sent for offsets we no longer want: give their buffers back when they land.
    for (const r of queue.splice(0)) r.p.then((d) => ioPool.release(d), () => undefined);
  };
  try {
    for (;;) {
      checkAbort(signal);
      issue();
      const r = queue.shift();
      if (!r) break;
      const data = await r.p;
      if (writeError !== undefined) throw writeError;
      if (data.length === 0) break; // end of file (3.2.5.12)
      const end = r.off + data.length;
      if (data.length < r.want) {
        // Short read: what was queued after it starts at the wrong offset; go on from here.
        drop();
        next = end;
        limit = Math.max(limit, end + 1);
      } else if (next >= limit && queue.length === 0) {
        limit = next + x.chunk; // probe for growth / the end
      }
      writing = writing.then(() => writeAll(fd, data)).then(() => {
        ioPool.release(data);
        written += data.length;
        done.bytes = written;
        onProgress?.(data.length);
      }, (e: unknown) => { writeError ??= e; });
      // At most one chunk waiting for the disk besides the one being written: the READs wait
      // meanwhile (backpressure, and fewer pooled buffers to fault in).
      if (end - written > 2 * x.chunk) await writing;
    }
    await writing;
    if (writeError !== undefined) throw writeError;
    return written - start;
  } catch (e) {
    await writing; // never leave a write running on an fd the caller is about to close
    throw e;
  } finally {
    drop();
  }
}

/** upload(): the file is read in order (one read at a time) into pooled WRITE frames, `depth` WRITEs in flight. */
async function uploadFrom(h: FileHandle, fd: number, seekable: boolean, base: number, x: { chunk: number; depth: number }, onProgress?: (n: number) => void, signal?: AbortSignal): Promise<number> {
  let pos = 0;
  let eof = false;
  let reading: Promise<unknown> = Promise.resolve();
  /** Reads the next chunk into a new frame (serialised: a FIFO has no offsets); undefined at the end. */
  const readNext = (): Promise<{ off: number; frame: Buffer } | undefined> => {
    const p = reading.then(async () => {
      if (eof) return undefined;
      const frame = ioPool.get(WRITE_FRAME_DATA + x.chunk);
      const off = pos;
      let got = 0;
      try {
        while (got < x.chunk) {
          const n = await fsCall<number>((cb) => fsRead(fd, frame, WRITE_FRAME_DATA + got, x.chunk - got, seekable ? off + got : null, cb));
          if (n === 0) { eof = true; break; }
          got += n;
        }
      } catch (e) {
        eof = true;
        ioPool.release(frame);
        throw e;
      }
      pos += got;
      if (got === 0) { ioPool.release(frame); return undefined; }
      return { off, frame: got === x.chunk ? frame : frame.subarray(0, WRITE_FRAME_DATA + got) };
    });
    reading = p.catch(() => undefined);
    return p;
  };
  let total = 0;
  let failed: unknown;
  const worker = async (): Promise<void> => {
    while (failed === undefined) {
      checkAbort(signal);
      const c = await readNext();
      if (!c) return;
      const len = c.frame.length - WRITE_FRAME_DATA;
      const n = await h.writeFrame(base + c.off, c.frame);
      if (n < len) {
        // The server took less than all of it: write the rest the ordinary way.
        let done = n;
        while (done < len) {
          const m = await h.writeChunk(base + c.off + done, Buffer.from(c.frame.subarray(WRITE_FRAME_DATA + done)));
          if (m <= 0) throw new SmbError(Status.DISK_FULL, 'server wrote nothing', displayPath(h.path));
          done += m;
        }
      }
      ioPool.release(c.frame);
      total += len;
      onProgress?.(len);
    }
  };
  await Promise.all(Array.from({ length: x.depth }, () => worker().catch((e: unknown) => { failed ??= e; eof = true; })));
  if (failed !== undefined) throw failed;
  return total;
}

/** writeFile data up to this size goes in one compound with its CREATE and CLOSE. */
const SMALL_WRITE = 64 * 1024;

/** Rename failures caused by the target name (MS-FSA 2.1.5.14.11). */
const TARGET_ERRORS = new Set<number>([
  Status.OBJECT_PATH_NOT_FOUND, Status.OBJECT_NAME_NOT_FOUND, Status.OBJECT_NAME_COLLISION, Status.OBJECT_NAME_INVALID,
  Status.OBJECT_PATH_SYNTAX_BAD, Status.NOT_A_DIRECTORY,
]);

function toMs(t: Date | number): number {
  return t instanceof Date ? t.getTime() : t * 1000;
}

/** watch()'s iterator: the directory is opened at the first next(), so an unused watch costs nothing. */
function lazyWatch(open: () => Promise<FileHandle>, o: WatchOptions): AsyncIterator<WatchEvent> {
  let inner: AsyncGenerator<WatchEvent, void, undefined> | undefined;
  const start = async (): Promise<AsyncGenerator<WatchEvent, void, undefined>> => (inner ??= watchDirectory(await open(), o));
  return {
    next: async () => (await start()).next(),
    return: async () => { await inner?.return(); return { done: true, value: undefined }; },
  };
}

function appendMode(h: FileHandle): void {
  const write = h.write.bind(h);
  h.write = (data, position, o) => write(data, position ?? h.size, o);
}

export function isNotFound(status: number): boolean {
  return status === Status.OBJECT_NAME_NOT_FOUND || status === Status.OBJECT_PATH_NOT_FOUND || status === Status.NO_SUCH_FILE;
}
