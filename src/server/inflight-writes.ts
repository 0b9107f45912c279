// WRITEs whose data goes to the file before their frame is complete (early-write.ts), as ranges a
// LOCK must wait for.
//
// Such a WRITE began arriving before any LOCK that comes in meanwhile, so it is ordered first: a
// LOCK over its range waits until the WRITE's handler is done. MS-FSA checks a WRITE against the
// locks when it is processed (2.1.5.3) and grants a lock against the locks held (2.1.5.8); neither
// knows a WRITE that is half on disk. Ordering the WRITE first keeps both: it sees no lock, and
// the lock is granted after it. Otherwise the lock would be granted with part of the WRITE already
// on file, and the WRITE, checked again when complete, would fail with its data left behind.
// The wait is bounded by the arrival of the frame (a connection that stalls is closed, which
// abandons the early write); while a LOCK waits, no new WRITE on the file is streamed early.
import type { FileNode } from './open-file.js';
import { overlaps } from './locks.js';

interface Inflight {
  offset: bigint;
  length: bigint;
  done: Promise<void>;
}

interface NodeInflight {
  writes: Set<Inflight>;
  /** LOCK requests waiting for writes of this file to complete. */
  lockers: number;
}

const byNode = new WeakMap<FileNode, NodeInflight>();

function of(node: FileNode): NodeInflight {
  let n = byNode.get(node);
  if (!n) byNode.set(node, (n = { writes: new Set(), lockers: 0 }));
  return n;
}

/** Registers a write of [offset, offset+length) in progress; returns its (idempotent) release. */
export function beginInflightWrite(node: FileNode, offset: bigint, length: bigint): () => void {
  let resolve!: () => void;
  const w: Inflight = { offset, length, done: new Promise<void>((r) => { resolve = r; }) };
  const n = of(node);
  n.writes.add(w);
  return () => {
    if (!n.writes.delete(w)) return;
    resolve();
  };
}

/** Whether a LOCK is waiting for this file's writes (new early writes stay on the normal path). */
export function lockersWaiting(node: FileNode): boolean {
  return (byNode.get(node)?.lockers ?? 0) > 0;
}

/** Completion of the in-flight writes overlapping any of `ranges`, or undefined when there are none. */
export function inflightOverlapping(node: FileNode, ranges: ReadonlyArray<{ offset: bigint; length: bigint }>): Promise<void> | undefined {
  const n = byNode.get(node);
  if (!n || n.writes.size === 0) return undefined;
  const hit: Promise<void>[] = [];
  for (const w of n.writes) {
    if (ranges.some((r) => overlaps(w.offset, w.length, r.offset, r.length))) hit.push(w.done);
  }
  return hit.length ? Promise.all(hit).then(() => undefined) : undefined;
}

/** Waits until no write in progress overlaps `ranges` (returns at once in the common case). */
export async function waitForInflightWrites(node: FileNode, ranges: ReadonlyArray<{ offset: bigint; length: bigint }>): Promise<void> {
  let p = inflightOverlapping(node, ranges);
  if (!p) return;
  const n = of(node);
  n.lockers++;
  try {
    while (p) {
      await p;
      p = inflightOverlapping(node, ranges);
    }
  } finally {
    n.lockers--;
  }
}
