// Direct-TCP transport framing (MS-SMB2 2.1): each SMB2 message (or compound, or transform)
// is preceded by a 4-byte header: one zero byte and a 24-bit big-endian length.
// The same framing is used on port 139 after NetBIOS session setup (RFC 1002 type 0x00).
import { WireError } from '../wire/buf.js';
import type { BufferPool } from './bufpool.js';

/** Largest frame we accept: 8 MiB of payload plus headers, transform and compound slack. */
export const MAX_FRAME = 8 * 1024 * 1024 + 64 * 1024;

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
  private chunks: Buffer[] = [];
  private buffered = 0;

  /**
   * With `pool`, frames reassembled from several chunks (large WRITEs, READ responses) are built in
   * pooled buffers; the owner gives them back (pool.release) once nothing refers to them.
   */
  constructor(private readonly maxFrame = MAX_FRAME, private readonly pool?: BufferPool) {}

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
      if (type === 0x85) { // NetBIOS keepalive: no payload to deliver
        this.consume(4 + len);
        continue;
      }
      if (type !== 0) throw new WireError(`unexpected NetBIOS message type 0x${type.toString(16)}`);
      if (len > this.maxFrame) throw new WireError(`frame of ${len} bytes exceeds limit`);
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
