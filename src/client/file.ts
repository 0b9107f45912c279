// Opens on a tree (MS-SMB2 3.2.4.3 ff.): CREATE helpers and the FileHandle API with pipelined
// READ/WRITE. Large transfers are split into chunks of up to MaxReadSize/MaxWriteSize (multi-credit,
// 3.2.4.1.5) and many chunks are kept in flight; the connection queues a chunk until the server
// has granted the credits it costs, so we never exceed the credit window.
import { Access, CloseFlags, Command, CreateDisposition, CreateOptions, FileAttributes, ImpersonationLevel, OplockLevel, ShareAccess } from '../wire/constants.js';
import { decodeCreateResponse, encodeCreateRequest, type CreateResponse } from '../wire/create.js';
import { decodeCloseResponse, encodeCloseRequest } from '../wire/close.js';
import { decodeReadResponse, encodeReadRequest } from '../wire/read.js';
import { decodeWriteResponse, encodeWriteRequest } from '../wire/write.js';
import { ioPool } from '../transport/bufpool.js';
import { encodeFlushRequest } from '../wire/flush.js';
import { Stats, type FileTimesAndSize } from './stats.js';
import type { FileId } from '../wire/common.js';
import { Status } from '../wire/status.js';
import { FRAME_HEAD, type ClientRdma, type SmbRequest, type SmbResponse } from './connection.js';
import { Channel, Dialect } from '../wire/constants.js';
import { REMOTE_READ, REMOTE_WRITE } from '../transport/rdma/provider.js';
import { encodeBufferDescriptors } from '../transport/smbdirect/wire.js';
import type { Tree } from './tree.js';
import type { RequestOptions } from './session.js';
import { durableGranted, durableRequest, HandleLostError, isDisconnect, MAX_RECOVERIES, type DurableHandleState } from './durable-open.js';
import { SmbError, checkAbort, parse } from './errors.js';
import { queryNetworkOpen, setEndOfFile } from './info.js';

export const DEFAULT_CHUNK = 1024 * 1024;
export const DEFAULT_DEPTH = 8;
/** READ/WRITE size for file-to-file copies (client.download/upload): Samba's and smbts' MaxRead/MaxWrite. */
export const BULK_CHUNK = 8 * 1024 * 1024;
/**
 * Bytes kept in flight by file-to-file copies when no depth is given. Each buffer in flight is a
 * pooled one that is page-faulted in once per process (~6 ms per 8 MiB here): 16 MiB moved as fast
 * as 32 MiB on loopback against Samba and cost less CPU, most with several copies at once.
 */
export const BULK_IN_FLIGHT = 16 * 1024 * 1024;
/** Where the data starts in a buffer for writeFrame(): NetBIOS length, SMB2 header, the 48-byte WRITE request. */
export const WRITE_FRAME_DATA = FRAME_HEAD + 48;
const EMPTY = Buffer.alloc(0);

/** Attributes of `path` (share-relative, '/'-separated). */
export function statsFrom(path: string, v: FileTimesAndSize): Stats {
  return new Stats(path, v);
}

/** '/a/b/' or 'a\\b' -> 'a\\b' (share-relative, no leading separator); '' is the share root. */
export function toSmbPath(p: string): string {
  const parts = p.split(/[\\/]+/).filter((x) => x !== '' && x !== '.');
  for (const x of parts) if (x === '..') throw new SmbError(Status.OBJECT_PATH_SYNTAX_BAD, `".." is not allowed in "${p}"`);
  return parts.join('\\');
}

export interface CreateParams {
  access: number;
  disposition: number;
  options: number;
  attributes?: number;
  share?: number;
}

export function createRequest(path: string, c: CreateParams): SmbRequest {
  return {
    command: Command.CREATE,
    body: encodeCreateRequest({
      securityFlags: 0, requestedOplockLevel: OplockLevel.NONE, impersonationLevel: ImpersonationLevel.IMPERSONATION,
      smbCreateFlags: 0n, desiredAccess: c.access, fileAttributes: c.attributes ?? 0,
      shareAccess: c.share ?? (ShareAccess.READ | ShareAccess.WRITE | ShareAccess.DELETE),
      createDisposition: c.disposition, createOptions: c.options, name: toSmbPath(path), contexts: [],
    }),
  };
}

export function closeRequest(fileId: FileId, postQuery = false, related = false): SmbRequest {
  return {
    command: Command.CLOSE,
    body: encodeCloseRequest({ flags: postQuery ? CloseFlags.POSTQUERY_ATTRIB : 0, fileId }),
    ...(related ? { flags: 0x4 } : {}),
  };
}

/**
 * Opens `path` and returns a handle. With `durable` (SMB 3.x) the open asks for a durable v2 handle
 * (persistent on a share with CONTINUOUS_AVAILABILITY) so it survives a lost connection
 * (reconnect.ts reopens it).
 */
export async function openFile(tree: Tree, path: string, c: CreateParams, durable = false): Promise<FileHandle> {
  const req = durable ? durableRequest(tree, path, c) : undefined;
  const res = await tree.request(req?.req ?? createRequest(path, c), { path: displayPath(path) });
  const created = parse(() => decodeCreateResponse(res.msg));
  const h = new FileHandle(tree, path, created);
  if (req) h.durable = durableGranted(created, req.state, c);
  tree.handles.add(h);
  return h;
}

export function displayPath(p: string): string {
  return '/' + toSmbPath(p).replace(/\\/g, '/');
}

export interface TransferOptions {
  /** Bytes per READ/WRITE (capped by the server's MaxReadSize/MaxWriteSize). */
  chunkSize?: number;
  /** READ/WRITE requests kept in flight. */
  depth?: number;
  onProgress?: (bytes: number) => void;
  /** Aborts the transfer: the call rejects with AbortError (name 'AbortError', code 'ABORT_ERR'). */
  signal?: AbortSignal;
}

/** Transfers from this size up go by RDMA on an SMB-Direct connection (smaller ones inline). */
const RDMA_MIN = 4096;

export class FileHandle {
  /** Changes when a reconnect reopens the handle (the server may give a new volatile part). */
  fileId: FileId;
  private closed = false;
  /** Set when the handle is durable: what a reconnect needs to reclaim it (reconnect.ts). */
  durable: DurableHandleState | undefined;
  /** Set when a reconnect could not reclaim the handle: every later call throws it. */
  lost: SmbError | undefined;
  /** Size as of the open, kept current by our own writes/truncates. */
  size: number;

  constructor(readonly tree: Tree, readonly path: string, readonly created: CreateResponse) {
    this.fileId = created.fileId;
    this.size = Number(created.endOfFile);
  }

  get isDirectory(): boolean {
    return (this.created.fileAttributes & FileAttributes.DIRECTORY) !== 0;
  }

  /** Limits of a live channel; with none left, the last ones seen (the next request then fails with a rejection, never a throw here). */
  private get conn(): { maxReadSize: number; maxWriteSize: number; byCredits: number } {
    const live = this.tree.session.liveChannels();
    if (live.length === 0) return this.lastLimits;
    const c = live[0]!.connection;
    this.lastLimits = { maxReadSize: c.params.maxReadSize, maxWriteSize: c.params.maxWriteSize, byCredits: c.maxPayloadByCredits };
    return this.lastLimits;
  }

  private lastLimits = { maxReadSize: DEFAULT_CHUNK, maxWriteSize: DEFAULT_CHUNK, byCredits: DEFAULT_CHUNK };

  readChunkSize(o: TransferOptions = {}): number {
    const c = this.conn;
    return Math.max(1, Math.min(o.chunkSize ?? DEFAULT_CHUNK, c.maxReadSize, c.byCredits));
  }

  writeChunkSize(o: TransferOptions = {}): number {
    const c = this.conn;
    return Math.max(1, Math.min(o.chunkSize ?? DEFAULT_CHUNK, c.maxWriteSize, c.byCredits));
  }

  /**
   * The RDMA capability to use for a transfer of `length` bytes, if any: an SMB-Direct connection,
   * one channel (a registration belongs to one connection), no encryption (data placed by RDMA is
   * not sealed; MS-SMB2 3.1.1 would need an RDMA transform) and at least RDMA_MIN bytes.
   */
  private rdmaFor(length: number): ClientRdma | undefined {
    const live = this.tree.session.liveChannels();
    const rdma = live.length === 1 ? live[0]!.connection.rdma : undefined;
    if (!rdma || length < RDMA_MIN || length > rdma.maxReadWriteSize) return undefined;
    if (this.tree.encrypt || this.tree.session.encryptData || this.tree.session.dialect < Dialect.SMB3_00) return undefined;
    return rdma;
  }

  /** RDMA_V1_INVALIDATE from 3.0.2 on (the server then invalidates our registration), RDMA_V1 on 3.0. */
  private rdmaChannel(): number {
    return this.tree.session.dialect >= Dialect.SMB3_02 ? Channel.RDMA_V1_INVALIDATE : Channel.RDMA_V1;
  }

  /** READ with an RDMA channel: the server RDMA-writes into our buffer (MS-SMB2 3.2.4.6). */
  private async readByRdma(rdma: ClientRdma, offset: number, length: number, pooled: boolean): Promise<Buffer> {
    // pooled: memory already faulted in (fresh multi-MiB buffers cost page faults per READ)
    const buf = pooled ? ioPool.get(length) : Buffer.allocUnsafe(length);
    const reg = rdma.register(buf, REMOTE_WRITE);
    try {
      const res = await this.tree.request({
        command: Command.READ,
        body: encodeReadRequest({
          padding: 0x50, flags: 0, length, offset: BigInt(offset), fileId: this.fileId, minimumCount: 0,
          channel: this.rdmaChannel(), remainingBytes: 0, readChannelInfo: encodeBufferDescriptors([reg.descriptor()]),
        }),
        payloadSize: length,
      }, { allow: [Status.END_OF_FILE], path: displayPath(this.path) });
      if (res.header.status === Status.END_OF_FILE) { ioPool.release(buf); return Buffer.alloc(0); }
      const r = parse(() => decodeReadResponse(res.msg));
      // 3.2.5.12: with an RDMA channel DataRemaining is the byte count placed in our buffer
      const n = r.data.length ? r.data.copy(buf) : r.dataRemaining;
      if (n > length) throw new SmbError(Status.INVALID_NETWORK_RESPONSE, `READ placed ${n} bytes in a ${length}-byte buffer`);
      return buf.subarray(0, n);
    } finally {
      reg.deregister(); // a no-op when the server invalidated it with the response
    }
  }

  /** WRITE with an RDMA channel: the server RDMA-reads the data from our buffer (MS-SMB2 3.2.4.7). */
  private async writeByRdma(rdma: ClientRdma, offset: number, data: Buffer): Promise<number> {
    const reg = rdma.register(data, REMOTE_READ);
    try {
      const body = encodeWriteRequest({
        offset: BigInt(offset), fileId: this.fileId, channel: this.rdmaChannel(), remainingBytes: data.length, flags: 0,
        data: EMPTY, writeChannelInfo: encodeBufferDescriptors([reg.descriptor()]),
      });
      const res = await this.tree.request({ command: Command.WRITE, body, payloadSize: data.length }, { path: displayPath(this.path) });
      const count = parse(() => decodeWriteResponse(res.msg)).count;
      if (offset + count > this.size) this.size = offset + count;
      return count;
    } finally {
      reg.deregister();
    }
  }

  private check(): void {
    if (this.closed) throw new SmbError(Status.FILE_CLOSED, 'file handle is closed', displayPath(this.path));
    if (this.lost) throw this.lost;
  }

  /**
   * Sends a request about this handle. When the session lost its every connection meanwhile, the
   * session's recover() reconnects and reopens the handle, and the request (rebuilt with the new
   * FileId) goes again with SMB2_FLAGS_REPLAY_OPERATION (MS-SMB2 3.2.4.1.1 / 3.2.5.1.5).
   */
  private async call(build: () => SmbRequest, o: RequestOptions): Promise<SmbResponse> {
    for (let attempt = 0; ; attempt++) {
      try {
        // Built after any reconnect in progress: the FileId may change with it.
        await this.tree.session.ready();
        if (this.lost) throw this.lost;
        return await this.tree.request(build(), attempt > 0 ? Object.assign({}, o, { replay: true }) : o);
      } catch (e) {
        const session = this.tree.session;
        if (!session.recover || !this.durable || attempt >= MAX_RECOVERIES || !isDisconnect(e)) throw e;
        try {
          await session.recover();
        } catch (re) {
          // Every reconnect attempt failed (the server or DFS target is gone): the handle is lost
          // for good, with the reconnect's status (CONNECTION_DISCONNECTED, LOGON_FAILURE ...).
          if (!(re instanceof SmbError)) throw re;
          this.lost ??= new HandleLostError(re.status, displayPath(this.path), `could not reconnect: ${re.message}`);
        }
        if (this.lost) throw this.lost;
      }
    }
  }

  /**
   * One READ of at most one chunk; returns fewer bytes at end of file, empty at/after it.
   * With `pooled`, the data may be a view of a transport/bufpool ioPool buffer: the caller gives it
   * back (ioPool.release(data)) once nothing reads it any more.
   */
  async readChunk(offset: number, length: number, pooled = false): Promise<Buffer> {
    this.check();
    const rdma = this.rdmaFor(length);
    if (rdma) return this.readByRdma(rdma, offset, length, pooled);
    const res = await this.call(() => ({
      command: Command.READ,
      body: encodeReadRequest({
        padding: 0x50, flags: 0, length, offset: BigInt(offset), fileId: this.fileId,
        minimumCount: 0, channel: 0, remainingBytes: 0, readChannelInfo: EMPTY,
      }),
      payloadSize: length,
      pooledResponse: pooled,
    }), { allow: [Status.END_OF_FILE], path: displayPath(this.path) });
    if (res.header.status === Status.END_OF_FILE) return Buffer.alloc(0);
    return parse(() => decodeReadResponse(res.msg)).data;
  }

  /**
   * One WRITE whose data already sits in `frame` at WRITE_FRAME_DATA (the bytes before it are
   * filled in here): the request goes out as that one buffer. Returns the count the server wrote.
   * The caller keeps `frame` (it may give a pooled one back once this resolves).
   */
  async writeFrame(offset: number, frame: Buffer): Promise<number> {
    this.check();
    const n = frame.length - WRITE_FRAME_DATA;
    if (n <= 0) throw new RangeError('writeFrame needs data after WRITE_FRAME_DATA');
    const rdma = this.rdmaFor(n);
    if (rdma) return this.writeByRdma(rdma, offset, frame.subarray(WRITE_FRAME_DATA));
    const res = await this.call(() => {
      encodeWriteRequest({
        offset: BigInt(offset), fileId: this.fileId, channel: 0, remainingBytes: 0, flags: 0,
        data: EMPTY, writeChannelInfo: EMPTY,
      }).copy(frame, FRAME_HEAD, 0, 48);
      frame.writeUInt32LE(n, FRAME_HEAD + 4); // Length (2.2.21); DataOffset already 0x70
      return { command: Command.WRITE, body: EMPTY, frame, payloadSize: n };
    }, { path: displayPath(this.path) });
    const count = parse(() => decodeWriteResponse(res.msg)).count;
    if (offset + count > this.size) this.size = offset + count;
    return count;
  }

  /** One WRITE of one chunk (one buffer, or pieces sent as they are); returns the count the server wrote. */
  async writeChunk(offset: number, data: Buffer | Buffer[]): Promise<number> {
    this.check();
    // Encode the fixed part only and send the data as its own body part(s) (no extra copy here).
    const parts = Array.isArray(data) ? data : [data];
    let len = 0;
    for (const p of parts) len += p.length;
    const rdma = this.rdmaFor(len);
    if (rdma) return this.writeByRdma(rdma, offset, parts.length === 1 ? parts[0]! : Buffer.concat(parts, len));
    const res = await this.call(() => {
      const head = encodeWriteRequest({
        offset: BigInt(offset), fileId: this.fileId, channel: 0, remainingBytes: 0, flags: 0,
        data: EMPTY, writeChannelInfo: EMPTY,
      }).subarray(0, 48);
      head.writeUInt32LE(len, 4); // Length (2.2.21); DataOffset already 0x70
      return { command: Command.WRITE, body: [head, ...parts], payloadSize: len };
    }, { path: displayPath(this.path) });
    const count = parse(() => decodeWriteResponse(res.msg)).count;
    if (offset + count > this.size) this.size = offset + count;
    return count;
  }

  /**
   * Reads `length` bytes at `position` (default: to the end of the file as known at open),
   * pipelining chunk reads. Returns fewer bytes when the file is shorter.
   */
  async read(position = 0, length?: number, o: TransferOptions = {}): Promise<Buffer> {
    this.check();
    const total = length ?? Math.max(0, this.size - position);
    if (total === 0) return Buffer.alloc(0);
    const chunk = this.readChunkSize(o);
    const out = Buffer.allocUnsafe(total);
    let eofAt = total;
    await runPipelined(Math.ceil(total / chunk), o.depth ?? DEFAULT_DEPTH, async (i) => {
      const off = i * chunk;
      const want = Math.min(chunk, total - off);
      let got = 0;
      // A short read is only end of file when a further read returns nothing (3.2.5.12).
      while (got < want && off + got < eofAt) {
        checkAbort(o.signal);
        const data = await this.readChunk(position + off + got, want - got, true);
        if (data.length === 0) { eofAt = Math.min(eofAt, off + got); break; }
        data.copy(out, off + got);
        ioPool.release(data);
        got += data.length;
        o.onProgress?.(data.length);
      }
    });
    return eofAt < total ? out.subarray(0, eofAt) : out;
  }

  /** Writes all of `data` at `position`, pipelining chunk writes. */
  async write(data: Buffer | Uint8Array, position = 0, o: TransferOptions = {}): Promise<number> {
    this.check();
    const buf = Buffer.isBuffer(data) ? data : Buffer.from(data.buffer, data.byteOffset, data.byteLength);
    if (buf.length === 0) return 0;
    const chunk = this.writeChunkSize(o);
    await runPipelined(Math.ceil(buf.length / chunk), o.depth ?? DEFAULT_DEPTH, async (i) => {
      const part = buf.subarray(i * chunk, Math.min(buf.length, (i + 1) * chunk));
      let done = 0;
      while (done < part.length) {
        checkAbort(o.signal);
        const n = await this.writeChunk(position + i * chunk + done, part.subarray(done));
        if (n <= 0) throw new SmbError(Status.DISK_FULL, 'server wrote nothing', displayPath(this.path));
        done += n;
      }
      o.onProgress?.(part.length);
    });
    return buf.length;
  }

  async flush(): Promise<void> {
    this.check();
    await this.call(() => ({ command: Command.FLUSH, body: encodeFlushRequest({ fileId: this.fileId }) }), { path: displayPath(this.path) });
  }

  /** Current attributes (QUERY_INFO FileNetworkOpenInformation). */
  async stat(): Promise<Stats> {
    this.check();
    return queryNetworkOpen(this);
  }

  async truncate(length = 0): Promise<void> {
    this.check();
    await setEndOfFile(this, length);
    this.size = length;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.tree.handles.delete(this);
    if (this.lost) return;
    try {
      // A durable handle is closed even across a reconnect (else the server keeps it until it expires).
      await this.call(() => closeRequest(this.fileId), { path: displayPath(this.path), allow: [Status.FILE_CLOSED] });
    } catch (e) {
      if (e instanceof SmbError && (e.status === Status.CONNECTION_DISCONNECTED || e.status === Status.NETWORK_NAME_DELETED)) return;
      throw e;
    }
  }
}

/** Runs `task(0..n-1)` with at most `depth` in flight; the first failure wins, the rest drain. */
export async function runPipelined(n: number, depth: number, task: (i: number) => Promise<void>): Promise<void> {
  let next = 0;
  let failed: unknown;
  const worker = async (): Promise<void> => {
    while (next < n && failed === undefined) {
      const i = next++;
      try { await task(i); } catch (e) { if (failed === undefined) failed = e; }
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(depth, n)) }, worker));
  if (failed !== undefined) throw failed;
}

export const OpenFlags = {
  r: { access: Access.GENERIC_READ, disposition: CreateDisposition.OPEN },
  'r+': { access: Access.GENERIC_READ | Access.GENERIC_WRITE, disposition: CreateDisposition.OPEN },
  w: { access: Access.GENERIC_WRITE | Access.FILE_READ_ATTRIBUTES, disposition: CreateDisposition.OVERWRITE_IF },
  'w+': { access: Access.GENERIC_READ | Access.GENERIC_WRITE, disposition: CreateDisposition.OVERWRITE_IF },
  wx: { access: Access.GENERIC_WRITE | Access.FILE_READ_ATTRIBUTES, disposition: CreateDisposition.CREATE },
  'wx+': { access: Access.GENERIC_READ | Access.GENERIC_WRITE, disposition: CreateDisposition.CREATE },
  a: { access: Access.GENERIC_WRITE | Access.FILE_READ_ATTRIBUTES, disposition: CreateDisposition.OPEN_IF },
  'a+': { access: Access.GENERIC_READ | Access.GENERIC_WRITE, disposition: CreateDisposition.OPEN_IF },
} as const;
export type OpenFlag = keyof typeof OpenFlags;

export { Stats };
export const FILE_OPTIONS = CreateOptions.NON_DIRECTORY_FILE;
export { decodeCloseResponse, type SmbResponse };
