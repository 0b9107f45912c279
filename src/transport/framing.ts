// Direct-TCP transport framing (MS-SMB2 2.1): each SMB2 message (or compound, or transform)
// is preceded by a 4-byte header: one zero byte and a 24-bit big-endian length.
// The same framing is used on port 139 after NetBIOS session setup (RFC 1002 type 0x00).
import { WireError } from '../wire/buf.js';
import type { BufferPool } from './bufpool.js';

/** Largest frame we accept: 8 MiB of payload plus headers, transform and compound slack. */
export const MAX_FRAME = 8 * 1024 * 1024 + 64 * 1024;

/** A frame size limit, fixed or asked for each frame (a connection lowers it until authentication). */
export type FrameLimit = number | (() => number);

function limitOf(l: FrameLimit): number {
  return typeof l === 'number' ? l : l();
}

export function frameHeader(length: number): Buffer {
  if (length > 0xffffff) throw new WireError('frame too large');
  const h = Buffer.allocUnsafe(4);
  h.writeUInt32BE(length, 0);
  return h;
}

/**
 * Incremental frame splitter: push() socket chunks, get whole frames back as views.
 * Avoids copying when a frame sits inside one chunk; concatenates only across chunk boundaries.
 */
export class FrameReader {
  /** Called for a NetBIOS POSITIVE SESSION RESPONSE (RFC 1002 4.3.3; client on port 139). */
  onSessionResponse?: () => void;
  private chunks: Buffer[] = [];
  private buffered = 0;

  /**
   * With `pool`, frames reassembled from several chunks (large WRITEs, READ responses) are built in
   * pooled buffers; the owner gives them back (pool.release) once nothing refers to them.
   */
  constructor(private readonly maxFrame: FrameLimit = MAX_FRAME, private readonly pool?: BufferPool) {}

  /** Claimed length of the frame begun but not complete (1 while its header is incomplete), or 0. */
  get pendingFrame(): number {
    if (this.buffered === 0) return 0;
    if (this.buffered < 4) return 1;
    return this.peek(4).readUInt32BE(0) & 0xffffff;
  }

  /** Returns the complete frames now available (possibly none). Throws WireError on a bad length. */
  push(chunk: Buffer): Buffer[] {
    this.chunks.push(chunk);
    this.buffered += chunk.length;
    const frames: Buffer[] = [];
    for (;;) {
      if (this.buffered < 4) break;
      const head = this.peek(4);
      const type = head[0]!;
      const len = head.readUInt32BE(0) & 0xffffff;
      if (type === 0x85 || type === 0x82) { // NetBIOS keepalive / positive session response: no payload
        if (this.buffered < 4 + len) break;
        this.consume(4 + len);
        if (type === 0x82) this.onSessionResponse?.();
        continue;
      }
      if (type === 0x83) throw new WireError('NetBIOS session refused (negative session response)');
      if (type !== 0) throw new WireError(`unexpected NetBIOS message type 0x${type.toString(16)}`);
      const max = limitOf(this.maxFrame);
      if (len > max) throw new WireError(`frame of ${len} bytes exceeds the limit of ${max}`);
      if (this.buffered < 4 + len) break;
      this.consume(4);
      frames.push(this.take(len));
    }
    return frames;
  }

  private peek(n: number): Buffer {
    const first = this.chunks[0]!;
    if (first.length >= n) return first.subarray(0, n);
    return Buffer.concat(this.chunks, Math.min(this.buffered, Math.max(n, 0))).subarray(0, n);
  }

  private consume(n: number): void {
    this.take(n);
  }

  private take(n: number): Buffer {
    this.buffered -= n;
    const first = this.chunks[0]!;
    if (first.length === n) { this.chunks.shift(); return first; }
    if (first.length > n) { this.chunks[0] = first.subarray(n); return first.subarray(0, n); }
    const out = this.pool ? this.pool.get(n) : Buffer.allocUnsafe(n);
    let off = 0;
    while (off < n) {
      const c = this.chunks[0]!;
      const want = n - off;
      if (c.length <= want) { c.copy(out, off); off += c.length; this.chunks.shift(); }
      else { c.copy(out, off, 0, want); this.chunks[0] = c.subarray(want); off += want; }
    }
    return out;
  }
}

/** Frames at least this large that are not yet complete get a buffer of their own. */
const DIRECT_MIN = 64 * 1024;
const SCRATCH_SIZE = 256 * 1024;
/**
 * A larger frame is first received into a buffer of this size and gets its full-size buffer only
 * once that is filled: a header claiming 8 MiB followed by silence costs at most this much, and
 * what is held stays within 8x of what arrived (issue 9). One extra copy of 1 MiB per 8 MiB frame.
 */
const STAGE = 1024 * 1024;

/**
 * Frame splitter for sockets that read into buffers we choose (see direct-read.ts): small frames
 * are read into a scratch buffer and copied out; a large frame (an 8 MiB WRITE or READ response) is
 * read by the kernel straight into a pooled buffer of its own size, so it is neither chunked nor
 * reassembled. Use: read into next(), then commit(bytesRead) returns the complete frames.
 */
export class DirectFrameReader {
  private readonly scratch = Buffer.allocUnsafeSlow(SCRATCH_SIZE);
  private start = 0;
  private end = 0;
  /** Called for a NetBIOS POSITIVE SESSION RESPONSE (RFC 1002 4.3.3; client on port 139). */
  onSessionResponse?: () => void;
  private big: Buffer | undefined;
  private bigFilled = 0;
  /** Claimed length of the frame in `big` (larger than big.length while it is the staging buffer). */
  private bigLength = 0;

  /**
   * `pool` supplies frame buffers: a BufferPool, or anything with get(size) (e.g. Buffer.allocUnsafe).
   * `onPartial(frame, filled)` is told about a large frame while it is being received (the first
   * `filled` bytes of `frame` are final), so its owner may start on it early (early-write.ts).
   */
  constructor(
    private readonly pool: Pick<BufferPool, 'get'> & Partial<Pick<BufferPool, 'release'>>,
    private readonly maxFrame: FrameLimit = MAX_FRAME,
    private readonly onPartial?: (frame: Buffer, filled: number) => void,
  ) {}

  /** Claimed length of the frame begun but not complete (1 while its header is incomplete), or 0. */
  get pendingFrame(): number {
    if (this.big) return this.bigLength;
    const avail = this.end - this.start;
    if (avail === 0) return 0;
    return avail < 4 ? 1 : this.scratch.readUInt32BE(this.start) & 0xffffff;
  }

  /** Where the next read should land (never past the end of the frame being received). */
  next(): Buffer {
    if (this.big) return this.big.subarray(this.bigFilled);
    if (this.scratch.length - this.end < DIRECT_MIN + 4) {
      // An incomplete frame left here is under DIRECT_MIN bytes: move it to the front.
      this.scratch.copy(this.scratch, 0, this.start, this.end);
      this.end -= this.start;
      this.start = 0;
    }
    return this.scratch.subarray(this.end);
  }

  /** `n` bytes were read into the last next(); returns the frames now complete. Throws WireError. */
  commit(n: number): Buffer[] {
    const frames: Buffer[] = [];
    if (this.big) {
      this.bigFilled += n;
      if (this.big.length < this.bigLength) {
        if (this.bigFilled < this.big.length) return frames;
        // The staging buffer is full: the frame gets its own buffer now.
        const f = this.pool.get(this.bigLength);
        this.big.copy(f, 0, 0, this.bigFilled);
        this.pool.release?.(this.big);
        this.big = f;
      }
      if (this.bigFilled >= this.big.length) {
        frames.push(this.big);
        this.big = undefined;
      } else {
        this.onPartial?.(this.big, this.bigFilled);
      }
      return frames;
    }
    this.end += n;
    const s = this.scratch;
    while (this.end - this.start >= 4) {
      const avail = this.end - this.start;
      const type = s[this.start]!;
      const len = s.readUInt32BE(this.start) & 0xffffff;
      if (type === 0x85 || type === 0x82) { // NetBIOS keepalive / positive session response
        if (avail < 4 + len) break;
        this.start += 4 + len;
        if (type === 0x82) this.onSessionResponse?.();
        continue;
      }
      if (type === 0x83) throw new WireError('NetBIOS session refused (negative session response)');
      if (type !== 0) throw new WireError(`unexpected NetBIOS message type 0x${type.toString(16)}`);
      const max = limitOf(this.maxFrame);
      if (len > max) throw new WireError(`frame of ${len} bytes exceeds the limit of ${max}`);
      if (avail >= 4 + len) {
        const f = this.pool.get(len);
        s.copy(f, 0, this.start + 4, this.start + 4 + len);
        frames.push(f);
        this.start += 4 + len;
        continue;
      }
      if (len >= DIRECT_MIN) {
        const f = this.pool.get(Math.min(len, STAGE));
        this.bigFilled = s.copy(f, 0, this.start + 4, this.end);
        this.big = f;
        this.bigLength = len;
        this.start = this.end = 0;
        if (f.length === len) this.onPartial?.(f, this.bigFilled);
      }
      break;
    }
    if (this.start === this.end) this.start = this.end = 0;
    return frames;
  }
}
