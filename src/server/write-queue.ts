// One data write at a time per file. The kernel serializes writes to one file anyway (the inode
// lock), and a thread-pool thread blocked there spins on the lock before it sleeps: with two 8 MiB
// WRITEs in flight (smbclient keeps two) plus early writes, that spinning showed in server profiles
// (rwsem_spin_on_owner). Queued here, a waiting write holds no thread.
// Every data write of the server (WRITE handler, early-write.ts) comes through here, so this is
// also where write-time.ts notes them.
import type { Open } from './types.js';
import { stateOf, type FileNode } from './open-file.js';
import { beforeWrite } from './write-time.js';

const tails = new WeakMap<FileNode, Promise<unknown>>();

function enqueue<T>(node: FileNode, job: () => Promise<T>): Promise<T> {
  const prev = tails.get(node);
  const p = prev ? prev.then(job, job) : job();
  const tail = p.catch(() => undefined);
  tails.set(node, tail);
  void tail.then(() => {
    if (tails.get(node) === tail) tails.delete(node);
  });
  return p;
}

/** Writes all of `data` at `position` through the open's handle, after earlier queued writes of the file. */
export function queuedWrite(open: Open, data: Buffer, position: bigint): Promise<number> {
  const node = stateOf(open).node;
  const noted = beforeWrite(open, node);
  const run = async (): Promise<number> => {
    if (noted) await noted;
    let n = 0;
    while (n < data.length) {
      const w = await open.handle!.write(data.subarray(n), position + BigInt(n));
      if (w <= 0) break;
      n += w;
    }
    return n;
  };
  return enqueue(node, run);
}

/** Runs `job` (a metadata update that must follow the data) after the writes queued for the open's file. */
export function afterQueuedWrites<T>(open: Open, job: () => Promise<T>): Promise<T> {
  return enqueue(stateOf(open).node, job);
}
