// Bounds-checked little-endian reader/writer used by every codec in wire/.
// Decoders validate before they read; a malformed frame surfaces as WireError, never a crash.

export class WireError extends Error {
  /** NTSTATUS to answer the peer with (STATUS_INVALID_PARAMETER unless a codec knows better). */
  constructor(message: string, readonly status: number = 0xc000000d) {
    super(message);
    this.name = 'WireError';
  }
}

export class Reader {
  constructor(readonly buf: Buffer, public pos = 0) {}

  get remaining(): number {
    return this.buf.length - this.pos;
  }

  need(n: number, what = 'field'): void {
    if (n < 0 || this.pos + n > this.buf.length) throw new WireError(`truncated ${what}`);
  }

  u8(): number { this.need(1); return this.buf[this.pos++]!; }
  u16(): number { this.need(2); const v = this.buf.readUInt16LE(this.pos); this.pos += 2; return v; }
  u32(): number { this.need(4); const v = this.buf.readUInt32LE(this.pos); this.pos += 4; return v; }
  u64(): bigint { this.need(8); const v = this.buf.readBigUInt64LE(this.pos); this.pos += 8; return v; }
  skip(n: number): this { this.need(n); this.pos += n; return this; }
  bytes(n: number): Buffer { this.need(n); const v = this.buf.subarray(this.pos, this.pos + n); this.pos += n; return v; }
  guid(): Buffer { return this.bytes(16); }
  at(pos: number): this { if (pos < 0 || pos > this.buf.length) throw new WireError('offset out of range'); this.pos = pos; return this; }

  /** A view of [offset, offset+length) of the whole buffer, validated. */
  slice(offset: number, length: number, what = 'buffer'): Buffer {
    if (length === 0) return this.buf.subarray(0, 0);
    if (offset < 0 || length < 0 || offset + length > this.buf.length) throw new WireError(`${what} out of range`);
    return this.buf.subarray(offset, offset + length);
  }
}

/** Growable writer; finish() returns a view of exactly the bytes written. */
export class Writer {
  buf: Buffer;
  pos = 0;

  constructor(size = 256) {
    this.buf = Buffer.alloc(size);
  }

  private ensure(n: number): void {
    if (this.pos + n <= this.buf.length) return;
    let size = this.buf.length * 2;
    while (size < this.pos + n) size *= 2;
    const next = Buffer.alloc(size);
    this.buf.copy(next, 0, 0, this.pos);
    this.buf = next;
  }

  u8(v: number): this { this.ensure(1); this.buf[this.pos++] = v & 0xff; return this; }
  u16(v: number): this { this.ensure(2); this.buf.writeUInt16LE(v & 0xffff, this.pos); this.pos += 2; return this; }
  u32(v: number): this { this.ensure(4); this.buf.writeUInt32LE(v >>> 0, this.pos); this.pos += 4; return this; }
  u64(v: bigint | number): this { this.ensure(8); this.buf.writeBigUInt64LE(BigInt.asUintN(64, BigInt(v)), this.pos); this.pos += 8; return this; }
  bytes(b: Buffer | Uint8Array): this { this.ensure(b.length); this.buf.set(b, this.pos); this.pos += b.length; return this; }
  zeros(n: number): this { this.ensure(n); this.buf.fill(0, this.pos, this.pos + n); this.pos += n; return this; }
  /** Pad with zeros to a multiple of `n` (relative to the start of this writer). */
  align(n: number): this { const r = this.pos % n; return r ? this.zeros(n - r) : this; }
  /** Overwrite a u16/u32 at an earlier position (offset/length fix-ups). */
  setU16(at: number, v: number): this { this.buf.writeUInt16LE(v & 0xffff, at); return this; }
  setU32(at: number, v: number): this { this.buf.writeUInt32LE(v >>> 0, at); return this; }
  finish(): Buffer { return this.buf.subarray(0, this.pos); }
}

export function utf16(s: string): Buffer {
  return Buffer.from(s, 'utf16le');
}

export function fromUtf16(b: Buffer): string {
  if (b.length % 2) throw new WireError('odd-length UTF-16 string', 0xc0000033);
  return b.toString('utf16le');
}

/** FILETIME (100 ns since 1601-01-01) <-> JS milliseconds. */
const EPOCH_DIFF_100NS = 116444736000000000n;
export function msToFiletime(ms: number): bigint {
  return BigInt(Math.round(ms * 10000)) + EPOCH_DIFF_100NS;
}
export function filetimeToMs(ft: bigint): number {
  return Number(ft - EPOCH_DIFF_100NS) / 10000;
}
