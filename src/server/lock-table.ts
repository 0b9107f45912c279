// The byte-range locks of one file, kept so that a conflict check costs O(log n) and not a scan of
// every lock held (issue 9: one LOCK of 65,535 elements against a linear list held the event loop
// for 30 s; 10,000 held locks made each new lock take 0.4 ms).
//
// Two sorted interval lists: exclusive locks and shared locks, each ordered by (offset, end) with a
// running maximum of the ends. Ranges overlap when start < other end && end > other start; this
// one rule also covers zero-length ranges (MS-FSA 2.1.5.7: a zero-length range conflicts only with a
// range strictly containing its offset) and identical ranges. Exclusive locks never overlap one
// another (any two would conflict), so walking the exclusive list for the overlaps of a range
// visits only the locks that do overlap it.
import type { Open } from './types.js';

export interface ByteLock {
  open: Open;
  offset: bigint;
  length: bigint;
  exclusive: boolean;
}

/** A lock with its end and the largest end of the entries up to it. */
interface Entry {
  lock: ByteLock;
  end: bigint;
  maxEnd: bigint;
}

/** Locks sorted by (offset, end) with prefix maxima of the ends (one array: one splice per change). */
class IntervalList {
  private readonly list: Entry[] = [];

  get size(): number {
    return this.list.length;
  }

  get locks(): ByteLock[] {
    return this.list.map((e) => e.lock);
  }

  /** Index of the first lock whose offset is >= `at` (every lock before it starts below `at`). */
  private startsBelow(at: bigint): number {
    let lo = 0;
    let hi = this.list.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.list[mid]!.lock.offset < at) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  /**
   * Recomputes maxEnd from `from` on, stopping where it agrees with the value already there (from
   * then on every value is the same): after an insert or a removal usually only a short run changes.
   */
  private refresh(from: number, early = true): void {
    const list = this.list;
    let m = from > 0 ? list[from - 1]!.maxEnd : -1n;
    for (let i = from; i < list.length; i++) {
      const e = list[i]!;
      if (e.end > m) m = e.end;
      if (early && i > from && e.maxEnd === m) return;
      e.maxEnd = m;
    }
  }

  add(lock: ByteLock): void {
    const end = lock.offset + lock.length;
    // After every lock with a smaller offset, or an equal offset and an end not above ours.
    let i = this.startsBelow(lock.offset);
    while (i < this.list.length && this.list[i]!.lock.offset === lock.offset && this.list[i]!.end <= end) i++;
    this.list.splice(i, 0, { lock, end, maxEnd: end });
    this.refresh(i);
  }

  /** Removes the first lock of `open` with exactly this range; false if none. */
  remove(open: Open, offset: bigint, length: bigint): boolean {
    for (let i = this.startsBelow(offset); i < this.list.length && this.list[i]!.lock.offset === offset; i++) {
      const l = this.list[i]!.lock;
      if (l.open === open && l.length === length) {
        this.list.splice(i, 1);
        this.refresh(i);
        return true;
      }
    }
    return false;
  }

  /** Removes every lock of `open`; true if there was one. */
  removeOpen(open: Open): boolean {
    const n = this.list.length;
    let w = 0;
    for (let r = 0; r < n; r++) {
      const e = this.list[r]!;
      if (e.lock.open !== open) this.list[w++] = e;
    }
    if (w === n) return false;
    this.list.length = w;
    this.refresh(0, false);
    return true;
  }

  /** Does any lock overlap [start, end)? O(log n). */
  anyOverlap(start: bigint, end: bigint): boolean {
    const n = this.startsBelow(end);
    return n > 0 && this.list[n - 1]!.maxEnd > start;
  }

  /** Is there a lock overlapping [start, end) that `pred` accepts? Visits candidates from the right. */
  findOverlap(start: bigint, end: bigint, pred: (l: ByteLock) => boolean): boolean {
    for (let i = this.startsBelow(end) - 1; i >= 0 && this.list[i]!.maxEnd > start; i--) {
      const e = this.list[i]!;
      if (e.end > start && pred(e.lock)) return true;
    }
    return false;
  }
}

export class LockTable {
  private readonly exclusive = new IntervalList();
  private readonly shared = new IntervalList();

  get size(): number {
    return this.exclusive.size + this.shared.size;
  }

  *[Symbol.iterator](): IterableIterator<ByteLock> {
    yield* this.exclusive.locks;
    yield* this.shared.locks;
  }

  /**
   * Would a new lock by `open` conflict with one held? (Samba brl_conflict.) An exclusive lock
   * conflicts with any overlapping lock; a shared one with another open's exclusive lock (a shared
   * lock may stack on an exclusive lock of the same open).
   */
  conflicts(open: Open, offset: bigint, length: bigint, exclusive: boolean): boolean {
    const end = offset + length;
    if (exclusive) return this.exclusive.anyOverlap(offset, end) || this.shared.anyOverlap(offset, end);
    return this.exclusive.findOverlap(offset, end, (l) => l.open !== open);
  }

  /**
   * Is I/O by `open` on [offset, offset+length) blocked? (Samba brl_conflict_other.) Other opens'
   * exclusive locks block reads and writes; any shared lock, the open's own too, blocks writes.
   */
  blocksIo(open: Open, offset: bigint, length: bigint, write: boolean): boolean {
    const end = offset + length;
    if (write && this.shared.anyOverlap(offset, end)) return true;
    return this.exclusive.findOverlap(offset, end, (l) => l.open !== open);
  }

  add(lock: ByteLock): void {
    (lock.exclusive ? this.exclusive : this.shared).add(lock);
  }

  /** Removes a lock of `open` with exactly this range, an exclusive one first; false if none. */
  remove(open: Open, offset: bigint, length: bigint): boolean {
    return this.exclusive.remove(open, offset, length) || this.shared.remove(open, offset, length);
  }

  /** Removes every lock of `open` (at close); true if it held any. */
  removeOpen(open: Open): boolean {
    const a = this.exclusive.removeOpen(open);
    const b = this.shared.removeOpen(open);
    return a || b;
  }
}
