// Streaming a large plain WRITE to its file while the rest of the frame is still arriving.
//
// An 8 MiB WRITE otherwise waits for its last byte before the first pwrite starts; by then the
// start of the receive buffer has left the CPU cache, and the response (which frees the client's
// next request) waits for the whole 8 MiB file copy. Here the data goes to the file in 1 MiB steps
// as it arrives (cache-warm, overlapped with the socket), and the WRITE handler only writes what
// is left when the frame completes.
//
// Only requests that the normal path would certainly carry out qualify, judged from the header
// before any data is written: an unsigned, unencrypted, uncompounded SMB2 WRITE with the data right
// after the request, a MessageId the credit window accepts, a valid session that does not require
// signing, a tree without encryption, an open of a regular file with FILE_WRITE_DATA, the current
// ChannelSequence, no byte-range lock in the way and no level II oplock / read lease to break.
// From then until the request is over, a LOCK over the range waits for it (inflight-writes.ts).
// Everything is checked again by the handler when the frame is complete (MS-SMB2 3.3.5.2 ff.);
// the only difference a client could see is after a connection lost mid-request: a prefix of the
// data may be on disk, as it could be with any server that writes before replying.
import { Command, HeaderFlags, Access } from '../wire/constants.js';
import { HEADER_SIZE, PROTOCOL_ID } from '../wire/header.js';
import type { Open } from './types.js';
import type { Session } from './session.js';
import { ioAllowed } from './locks.js';
import { stateOf, isSharedReader } from './open-file.js';
import { channelSequenceOf } from './replay.js';
import { queuedWrite } from './write-queue.js';
import { beginInflightWrite, lockersWaiting } from './inflight-writes.js';

const WRITE_REQ_SIZE = 48;
/** Data starts here in a WRITE whose payload follows the fixed part (DataOffset 0x70). */
export const EARLY_DATA_START = HEADER_SIZE + WRITE_REQ_SIZE;
/** SMBTS_EARLY_WRITE=0 turns this off (for measurements). */
const ENABLED = process.env.SMBTS_EARLY_WRITE !== '0';
/** Bytes per early pwrite; also the least worth starting for. */
const STEP = 1024 * 1024;

/** What early-write needs of the connection (kept narrow so it can be tested alone). */
export interface EarlyWriteHost {
  readonly id: number;
  readonly dialect: number;
  readonly negotiated: boolean;
  readonly supportsMultiCredit: boolean;
  readonly maxWriteSize: number;
  /** Whether the credit window would accept this MessageId/charge (without consuming it). */
  canConsume(messageId: bigint, charge: number): boolean;
  readonly sessions: ReadonlyMap<bigint, Session>;
}

const byBuffer = new WeakMap<ArrayBufferLike, EarlyWrite>();

/** Counters for tests and `smbts status`: requests streamed early, and bytes written early. */
export const earlyWriteStats = { started: 0, bytes: 0 };

export class EarlyWrite {
  /** Bytes of data (from the start) whose pwrite completed. */
  private done = 0;
  /** Bytes of data handed to pwrite so far. */
  private issued = 0;
  /** Bytes of data received so far. */
  private available = 0;
  private running: Promise<void> | undefined;
  private stopped = false;
  private failed = false;
  /** Ends the in-flight registration of the range (idempotent). */
  release: () => void = () => {};

  private constructor(
    private readonly open: Open,
    private readonly frame: Buffer,
    private readonly offset: bigint,
    private readonly length: number,
  ) {}

  /**
   * Called with a large frame being received and how much of it is filled; returns the EarlyWrite
   * when the request qualifies (see the top of this file), else undefined.
   */
  static start(host: EarlyWriteHost, frame: Buffer, filled: number): EarlyWrite | undefined {
    if (!ENABLED || filled < EARLY_DATA_START || !host.negotiated) return undefined;
    const f = frame;
    if (f.readUInt32LE(0) !== PROTOCOL_ID || f.readUInt16LE(12) !== Command.WRITE) return undefined;
    const flags = f.readUInt32LE(16);
    const refused = HeaderFlags.SIGNED | HeaderFlags.RELATED_OPERATIONS | HeaderFlags.ASYNC_COMMAND |
      HeaderFlags.REPLAY_OPERATION | HeaderFlags.SERVER_TO_REDIR;
    if (flags & refused || f.readUInt32LE(20) !== 0) return undefined;
    // WRITE request (2.2.21): StructureSize 49, DataOffset 0x70, Length = the rest of the frame.
    if (f.readUInt16LE(HEADER_SIZE) !== 49 || f.readUInt16LE(HEADER_SIZE + 2) !== EARLY_DATA_START) return undefined;
    const length = f.readUInt32LE(HEADER_SIZE + 4);
    if (length !== f.length - EARLY_DATA_START || length < 2 * STEP || length > host.maxWriteSize) return undefined;
    const offset = f.readBigUInt64LE(HEADER_SIZE + 8);
    if (offset > BigInt(Number.MAX_SAFE_INTEGER) - BigInt(length)) return undefined;
    // Channel (RDMA) and WriteChannelInfo must be absent; no WRITE_THROUGH/unbuffered flags.
    if (f.readUInt32LE(HEADER_SIZE + 32) !== 0 || f.readUInt32LE(HEADER_SIZE + 40) !== 0 || f.readUInt32LE(HEADER_SIZE + 44) !== 0) return undefined;
    // Sequence window and credit charge (3.3.5.2.3, 3.3.5.2.5), not consumed here.
    const charge = host.supportsMultiCredit ? Math.max(1, f.readUInt16LE(6)) : 1;
    if (!host.supportsMultiCredit || charge < 1 + Math.floor((length - 1) / 65536)) return undefined;
    if (!host.canConsume(f.readBigUInt64LE(24), charge)) return undefined;
    // Session, signing, encryption (3.3.5.2.9) and tree (3.3.5.2.11).
    const session = host.sessions.get(f.readBigUInt64LE(40));
    if (!session || session.state !== 'valid' || session.signingRequired || session.encryptData) return undefined;
    if (session.expiresAt !== undefined && Date.now() > session.expiresAt) return undefined;
    if (!session.channelFor(host.id)) return undefined;
    const tree = session.trees.get(f.readUInt32LE(36));
    if (!tree || tree.encrypt || tree.isIpc) return undefined;
    // The open (3.3.5.13): a regular file written through FILE_WRITE_DATA (not append-only).
    const open = session.opens.get(f.readBigUInt64LE(HEADER_SIZE + 24));
    if (!open || open.fileId.persistent !== f.readBigUInt64LE(HEADER_SIZE + 16) || open.tree.id !== tree.id) return undefined;
    if (open.pipe || open.isDirectory || !open.handle || !(open.grantedAccess & Access.FILE_WRITE_DATA)) return undefined;
    if (host.dialect >= 0x0300) {
      const seq = channelSequenceOf(open);
      if (f.readUInt16LE(8) !== seq.seq || seq.pre > 0) return undefined;
    }
    const node = stateOf(open).node;
    // Another open's read caching (level II, a lease) would have to be broken first; the writer's
    // own lease is not (handlers/write.ts breaks the others only), so it does not count here.
    const othersReading = node.sharedReaders - (isSharedReader(open.oplockLevel) ? 1 : 0);
    if (!ioAllowed(open, offset, BigInt(length), true) || othersReading > 0 || lockersWaiting(node)) return undefined;
    const ew = new EarlyWrite(open, frame, offset, length);
    // A LOCK over the range now waits for this WRITE to be done (inflight-writes.ts).
    ew.release = beginInflightWrite(node, offset, BigInt(length));
    byBuffer.set(frame.buffer, ew);
    earlyWriteStats.started++;
    ew.progress(filled);
    return ew;
  }

  /** More of the frame has arrived: start the next pwrite when a whole step is waiting. */
  progress(filled: number): void {
    this.available = Math.max(0, Math.min(filled, this.frame.length) - EARLY_DATA_START);
    this.pump();
  }

  private pump(): void {
    if (this.running || this.stopped || this.failed) return;
    // Leave the tail to the handler: it is written when the frame completes anyway.
    const ready = Math.floor((this.available - this.issued) / STEP) * STEP;
    if (ready <= 0 || this.issued + ready >= this.length) return;
    const start = this.issued;
    this.issued += ready;
    const data = this.frame.subarray(EARLY_DATA_START + start, EARLY_DATA_START + start + ready);
    this.running = queuedWrite(this.open, data, this.offset + BigInt(start)).then((n) => {
      if (n < ready) throw new Error('short write');
      this.done = start + ready;
      earlyWriteStats.bytes += ready;
    }).catch(() => {
      this.failed = true; // the handler writes from `done` and reports the error itself
    }).finally(() => {
      this.running = undefined;
      this.pump();
    });
  }

  /**
   * For the WRITE handler once the frame is complete: stops streaming, waits for the pwrite in
   * progress and returns how many bytes from the start of the data are on file.
   */
  async finish(): Promise<number> {
    this.stopped = true;
    byBuffer.delete(this.frame.buffer);
    while (this.running) await this.running;
    return this.done;
  }

  /** Drops an early write whose frame will never complete (connection closed). */
  abandon(): void {
    this.stopped = true;
    byBuffer.delete(this.frame.buffer);
    void this.settle();
  }

  /** The request is over (handled or dropped): waits for any pwrite and lets waiting LOCKs go. */
  async settle(): Promise<void> {
    try {
      await this.finish();
    } finally {
      this.release();
    }
  }

  /** The early write streaming `data` (the WRITE handler's req.data), if any. */
  static of(data: Buffer, open: Open, offset: bigint): EarlyWrite | undefined {
    const ew = byBuffer.get(data.buffer);
    if (!ew || ew.open !== open || ew.offset !== offset || ew.length !== data.length) return undefined;
    if (data.byteOffset !== ew.frame.byteOffset + EARLY_DATA_START) return undefined;
    return ew;
  }
}

