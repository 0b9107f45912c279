// Small frames written to the socket's file descriptor at once (write(2) on the non-blocking fd),
// instead of through the stream's write path.
//
// Why: a metadata request/response is one small write each way, and node's Writable path (WriteWrap,
// completion callback, the extra event-loop turn that delivers it) costs ~5 us of CPU per write on
// this box against ~1 us for the syscall itself (measured in docs/perf-log.md, session 10). Only
// taken when nothing is queued in the stream or in libuv (so bytes stay in order); whatever the
// kernel does not take at once (EAGAIN, a partial write, any error) goes through socket.write, which
// queues it and reports errors the usual way.
import { writeSync } from 'node:fs';
import type { Socket } from 'node:net';

/** The live handle's fd; undefined once the socket is closed (libuv closes the fd in handle.close). */
interface HandleView { _handle?: { fd?: number; writeQueueSize?: number } | null }

const ENABLED = process.env.SMBTS_WRITE_NOW !== '0' && process.platform !== 'win32';

/** Writes `buf` (a whole frame or the rest of one) to `socket`, synchronously when it can. */
export function writeNow(socket: Socket, buf: Buffer): void {
  if (ENABLED && socket.writableLength === 0 && !socket.destroyed && !socket.writableEnded && !socket.connecting) {
    const h = (socket as unknown as HandleView)._handle;
    const fd = h?.fd;
    if (typeof fd === 'number' && fd >= 0 && (h!.writeQueueSize ?? 0) === 0) {
      let n = 0;
      try {
        n = writeSync(fd, buf, 0, buf.length);
      } catch {
        n = 0; // EAGAIN (socket buffer full) or an error: the stream path queues or reports it
      }
      if (n === buf.length) return;
      socket.write(n === 0 ? buf : buf.subarray(n));
      return;
    }
  }
  socket.write(buf);
}
