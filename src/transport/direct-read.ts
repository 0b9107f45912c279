// Receive into buffers we choose instead of a fresh 64 KiB Buffer per socket read.
// node:net offers this as the `onread` option of net.connect (documented); sockets accepted by a
// net.Server cannot be given it, so for those the same internal slots are set on the socket. When
// they are not found (another Node version) nothing changes and 'data' events are used.
import type { Socket } from 'node:net';

type Slots = Record<symbol, unknown>;

function slot(o: object, name: string): symbol | undefined {
  return Object.getOwnPropertySymbols(o).find((s) => s.description === name);
}

/**
 * Makes `socket` read into `next()` and call `onRead(bytes)` after each read (which must not throw).
 * Returns false (and changes nothing) when the runtime does not support it or SMBTS_DIRECT_READ=0.
 */
export function receiveInto(socket: Socket, next: () => Buffer, onRead: (n: number) => void): boolean {
  if (process.env.SMBTS_DIRECT_READ === '0') return false;
  const kBuffer = slot(socket, 'kBuffer');
  const kBufferGen = slot(socket, 'kBufferGen');
  const kBufferCb = slot(socket, 'kBufferCb');
  const handle = (socket as unknown as { _handle?: { useUserBuffer?: (b: Uint8Array) => void } })._handle;
  if (!kBuffer || !kBufferGen || !kBufferCb || typeof handle?.useUserBuffer !== 'function') return false;
  const s = socket as unknown as Slots;
  const first = next();
  s[kBufferGen] = next;
  s[kBufferCb] = (n: number): undefined => {
    onRead(n);
    return undefined;
  };
  s[kBuffer] = first;
  handle.useUserBuffer(first);
  return true;
}
