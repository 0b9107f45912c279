// A small pool of large I/O buffers (READ responses, reassembled WRITE frames).
// Fresh multi-MiB Buffers are mmap'd, page-faulted and zero-filled by the kernel on first touch and
// then collected by V8 as external memory: on loopback that cost as much as the data copies. Buffers
// are handed out whole (callers use subarrays) and must be given back only once nothing reads them.

/** Size classes are multiples of this; requests below MIN_POOLED are plain allocations. */
const GRAIN = 64 * 1024;
const MIN_POOLED = 256 * 1024;
/** At most this many idle bytes are kept (all classes together). */
const MAX_IDLE_BYTES = 96 * 1024 * 1024;
/** Idle buffers are dropped after this long without use. */
const IDLE_MS = 10_000;

export class BufferPool {
  private readonly free = new Map<number, ArrayBuffer[]>();
  private readonly owned = new WeakSet<ArrayBuffer>();
  private idleBytes = 0;
  private timer: NodeJS.Timeout | undefined;
  private lastUse = 0;

  constructor(private readonly maxIdleBytes = MAX_IDLE_BYTES) {}

  /** A buffer of at least `size` bytes (exactly `size` long); pooled when large. */
  get(size: number): Buffer {
    if (size < MIN_POOLED) return Buffer.allocUnsafe(size);
    const cls = Math.ceil(size / GRAIN) * GRAIN;
    this.lastUse = Date.now();
    const list = this.free.get(cls);
    const ab = list?.pop();
    if (ab) {
      this.idleBytes -= cls;
      return Buffer.from(ab, 0, size);
    }
    const fresh = new ArrayBuffer(cls);
    this.owned.add(fresh);
    return Buffer.from(fresh, 0, size);
  }

  /** Whether `buf` (or a view of it) came from this pool. */
  owns(buf: Buffer): boolean {
    return this.owned.has(buf.buffer as ArrayBuffer);
  }

  /** Gives a pooled buffer back (any view of it); others are ignored. Never release twice. */
  release(buf: Buffer): void {
    const ab = buf.buffer as ArrayBuffer;
    if (!this.owned.has(ab)) return;
    const cls = ab.byteLength;
    if (this.idleBytes + cls > this.maxIdleBytes) return;
    let list = this.free.get(cls);
    if (!list) this.free.set(cls, (list = []));
    if (list.includes(ab)) return;
    list.push(ab);
    this.idleBytes += cls;
    this.arm();
  }

  private arm(): void {
    if (this.timer) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      if (Date.now() - this.lastUse >= IDLE_MS) {
        this.free.clear();
        this.idleBytes = 0;
      } else if (this.idleBytes > 0) {
        this.arm();
      }
    }, IDLE_MS);
    this.timer.unref();
  }
}

/** The process-wide pool for the data path. */
export const ioPool = new BufferPool();
