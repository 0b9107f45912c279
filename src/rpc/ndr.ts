/**
 * Minimal NDR20 (little-endian) marshalling, C706 chapter 14 / MS-RPCE 2.2.5.
 *
 * Pointer handling: `uniquePtr(v, fn)` writes a referent id now and defers the referent `fn` until
 * `flush()` (call it after writing a structure / an array of structures). Deferred referents are
 * written depth-first: a referent's own embedded pointers are flushed right after it, which is the
 * order C706 14.3.12.3 prescribes for embedded pointers. Top-level [unique] parameters: call
 * `uniquePtr` then `flush()` immediately.
 */

export class NdrError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'NdrError';
  }
}

export class NdrWriter {
  private buf: Buffer;
  private pos = 0;
  private nextRef = 0x00020000;
  private queue: Array<() => void> = [];

  constructor(initial = 256) {
    this.buf = Buffer.alloc(initial);
  }

  get length(): number {
    return this.pos;
  }

  private ensure(n: number): void {
    if (this.pos + n <= this.buf.length) return;
    const nb = Buffer.alloc(Math.max(this.buf.length * 2, this.pos + n));
    this.buf.copy(nb, 0, 0, this.pos);
    this.buf = nb;
  }

  align(n: number): this {
    const pad = (n - (this.pos % n)) % n;
    this.ensure(pad);
    this.buf.fill(0, this.pos, this.pos + pad);
    this.pos += pad;
    return this;
  }
  u8(v: number): this {
    this.ensure(1);
    this.buf.writeUInt8(v & 0xff, this.pos);
    this.pos += 1;
    return this;
  }
  u16(v: number): this {
    this.align(2).ensure(2);
    this.buf.writeUInt16LE(v & 0xffff, this.pos);
    this.pos += 2;
    return this;
  }
  u32(v: number): this {
    this.align(4).ensure(4);
    this.buf.writeUInt32LE(v >>> 0, this.pos);
    this.pos += 4;
    return this;
  }
  i32(v: number): this {
    this.align(4).ensure(4);
    this.buf.writeInt32LE(v | 0, this.pos);
    this.pos += 4;
    return this;
  }
  u64(v: bigint): this {
    this.align(8).ensure(8);
    this.buf.writeBigUInt64LE(BigInt.asUintN(64, v), this.pos);
    this.pos += 8;
    return this;
  }
  bytes(b: Buffer): this {
    this.ensure(b.length);
    b.copy(this.buf, this.pos);
    this.pos += b.length;
    return this;
  }

  /** Write a [unique] (or [ptr]) pointer: a referent id (0 for null) and defer the referent. */
  uniquePtr<T>(value: T | undefined | null, write: (w: this, v: T) => void): this {
    if (value === undefined || value === null) return this.u32(0);
    this.u32(this.nextRef);
    this.nextRef += 4;
    this.queue.push(() => write(this, value));
    return this;
  }

  /** Write all deferred referents (depth-first). */
  flush(): this {
    while (this.queue.length) {
      const q = this.queue;
      this.queue = [];
      for (const f of q) {
        f();
        this.flush();
      }
    }
    return this;
  }

  /** Conformant varying UTF-16 string with terminating NUL ([string] wchar_t*). */
  wstring(s: string): this {
    const n = s.length + 1;
    this.u32(n).u32(0).u32(n);
    this.ensure(n * 2);
    this.pos += this.buf.write(s, this.pos, 'utf16le');
    this.buf.writeUInt16LE(0, this.pos);
    this.pos += 2;
    return this;
  }

  /** Unique pointer to a [string] wchar_t* (null when s is undefined). */
  wstringPtr(s: string | undefined): this {
    return this.uniquePtr(s, (w, v) => w.wstring(v));
  }

  /** Conformant array of structures: max_count, all element scalars, then their deferred referents. */
  conformantArray<T>(items: readonly T[], writeScalars: (w: this, v: T) => void): this {
    this.u32(items.length);
    for (const it of items) writeScalars(this, it);
    return this.flush();
  }

  finish(): Buffer {
    this.flush();
    return this.buf.subarray(0, this.pos);
  }
}

export class NdrReader {
  private pos = 0;
  constructor(private readonly buf: Buffer) {}

  get offset(): number {
    return this.pos;
  }
  get remaining(): number {
    return this.buf.length - this.pos;
  }

  private need(n: number): void {
    if (n < 0 || this.pos + n > this.buf.length) throw new NdrError(`NDR: need ${n} bytes at ${this.pos}, have ${this.buf.length - this.pos}`);
  }
  align(n: number): this {
    const pad = (n - (this.pos % n)) % n;
    this.need(pad);
    this.pos += pad;
    return this;
  }
  u8(): number {
    this.need(1);
    return this.buf.readUInt8(this.pos++);
  }
  u16(): number {
    this.align(2).need(2);
    const v = this.buf.readUInt16LE(this.pos);
    this.pos += 2;
    return v;
  }
  u32(): number {
    this.align(4).need(4);
    const v = this.buf.readUInt32LE(this.pos);
    this.pos += 4;
    return v;
  }
  i32(): number {
    this.align(4).need(4);
    const v = this.buf.readInt32LE(this.pos);
    this.pos += 4;
    return v;
  }
  u64(): bigint {
    this.align(8).need(8);
    const v = this.buf.readBigUInt64LE(this.pos);
    this.pos += 8;
    return v;
  }
  bytes(n: number): Buffer {
    this.need(n);
    const b = this.buf.subarray(this.pos, this.pos + n);
    this.pos += n;
    return b;
  }
  /** Referent id of a unique pointer (0 = null). */
  ptr(): number {
    return this.u32();
  }
  /** Conformant varying UTF-16 string; the trailing NUL (if present) is stripped. */
  wstring(): string {
    const max = this.u32();
    const offset = this.u32();
    const actual = this.u32();
    if (offset !== 0 || actual > max) throw new NdrError('NDR: bad varying string bounds');
    const raw = this.bytes(actual * 2);
    let s = raw.toString('utf16le');
    if (s.endsWith('\0')) s = s.slice(0, -1);
    return s;
  }
  /** Unique pointer to a [string] wchar_t*: undefined when null. */
  wstringPtr(): string | undefined {
    return this.ptr() === 0 ? undefined : this.wstring();
  }
}
