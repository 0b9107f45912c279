// One data write at a time per file. The kernel serializes writes to one file anyway (the inode
// lock), and a thread-pool thread blocked there spins on the lock before it sleeps: with two 8 MiB
// WRITEs in flight (smbclient keeps two) plus early writes, that spinning showed in server profiles
// (rwsem_spin_on_owner). Queued here, a waiting write holds no thread.
import type { Open } from './types.js';
import { stateOf, type FileNode } from './open-file.js';

const tails = new WeakMap<FileNode, Promise<unknown>>();

/** Writes all of `data` at `position` through the open's handle, after earlier queued writes of the file. */
export function queuedWrite(open: Open, data: Buffer, position: bigint): Promise<number> {
  const node = stateOf(open).node;
  const prev = tails.get(node);
  const run = async (): Promise<number> => {
    let n = 0;
    while (n < data.length) {
      const w = await open.handle!.write(data.subarray(n), position + BigInt(n));
      if (w <= 0) break;
      n += w;
    }
    return n;
  };
  const p = prev ? prev.then(run, run) : run();
  const tail = p.catch(() => undefined);
  tails.set(node, tail);
  void tail.then(() => {
    if (tails.get(node) === tail) tails.delete(node);
  });
  return p;
}
