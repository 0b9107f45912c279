// Which worker process owns a new TCP connection: decided from its first frame, before any
// worker sees it. An SMB2 NEGOTIATE carries the client's ClientGuid (MS-SMB2 2.2.3), the same
// on every channel of a multichannel session and on a durable reconnect (3.2.4.2.2.2: the client
// keeps one ClientGuid), so hashing it keeps a client's connections on one worker: session
// binding, lease keys (ClientGuid + LeaseKey) and durable reattach all stay inside one process.
// Frames without one (SMB1 multi-protocol NEGOTIATE, anything else) go round-robin.
import type { Socket } from 'node:net';

/** Direct TCP framing (MS-SMB2 2.1): 0x00 then a 24-bit big-endian length. */
const FRAME_HEADER = 4;
const SMB2_HEADER = 64;
/** NEGOTIATE request body: StructureSize, DialectCount, SecurityMode, Reserved, Capabilities, ClientGuid (2.2.3). */
const CLIENT_GUID_AT = SMB2_HEADER + 12;

/** The ClientGuid of an SMB2 NEGOTIATE request message (no framing), or undefined. */
export function negotiateClientGuid(msg: Buffer): Buffer | undefined {
  if (msg.length < CLIENT_GUID_AT + 16) return undefined;
  if (msg.readUInt32BE(0) !== 0xfe534d42) return undefined; // 0xFE 'SMB'
  if (msg.readUInt16LE(12) !== 0x0000) return undefined; // Command = NEGOTIATE
  if (msg.readUInt16LE(SMB2_HEADER) !== 36) return undefined; // StructureSize
  return msg.subarray(CLIENT_GUID_AT, CLIENT_GUID_AT + 16);
}

/** FNV-1a over the 16 GUID bytes: stable across processes and restarts. */
export function guidHash(guid: Buffer): number {
  let h = 0x811c9dc5;
  for (const b of guid) h = Math.imul(h ^ b, 0x01000193) >>> 0;
  return h;
}

export function workerForGuid(guid: Buffer, workers: number): number {
  return guidHash(guid) % workers;
}

export interface FirstFrame {
  /** Every byte read from the socket so far (the first frame and anything after it). */
  head: Buffer;
  /** The first frame's message (without the 4-byte header). */
  message: Buffer;
}

/**
 * Reads the first direct-TCP frame of `socket` (at most maxBytes, within timeoutMs). Resolves
 * with what was read and the socket paused, or rejects (the caller closes the socket).
 */
export function readFirstFrame(socket: Socket, maxBytes: number, timeoutMs: number): Promise<FirstFrame> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let have = 0;
    const done = (err: Error | undefined, value?: FirstFrame): void => {
      clearTimeout(timer);
      socket.off('data', onData);
      socket.off('close', onClose);
      socket.off('error', onError);
      stopReading(socket);
      if (err) reject(err);
      else resolve(value as FirstFrame);
    };
    const onData = (d: Buffer): void => {
      chunks.push(d);
      have += d.length;
      const head = chunks.length === 1 ? d : Buffer.concat(chunks, have);
      if (head.length >= 1 && head[0] !== 0) return done(new Error(`first frame: not a direct TCP frame (type 0x${(head[0] ?? 0).toString(16)})`));
      if (head.length < FRAME_HEADER) return;
      const len = head.readUInt32BE(0) & 0xffffff;
      if (len + FRAME_HEADER > maxBytes) return done(new Error(`first frame of ${len} bytes exceeds ${maxBytes}`));
      if (head.length < FRAME_HEADER + len) return;
      // a client waits for the NEGOTIATE answer, so normally nothing follows; take what did
      let more: Buffer | null;
      const extra: Buffer[] = [head];
      while ((more = socket.read() as Buffer | null) !== null) extra.push(more);
      const all = extra.length === 1 ? head : Buffer.concat(extra);
      done(undefined, { head: all, message: all.subarray(FRAME_HEADER, FRAME_HEADER + len) });
    };
    const onClose = (): void => done(new Error('closed before its first frame'));
    const onError = (e: Error): void => done(e);
    const timer = setTimeout(() => done(new Error(`no first frame within ${timeoutMs} ms`)), timeoutMs);
    socket.on('data', onData);
    socket.once('close', onClose);
    socket.on('error', onError);
    // a second read (after an SMB1 step, workers/smb1.ts) restarts the handle stopReading stopped:
    // the stream still counts its last read as pending and would not ask again
    const h = handleOf(socket);
    if (h && h.reading === false && typeof h.readStart === 'function') {
      h.reading = true;
      h.readStart();
    }
    socket.resume(); // a paused stream does not flow again by a new 'data' listener alone
  });
}

type Handle = { readStop?: () => number; readStart?: () => number; reading?: boolean };
function handleOf(socket: Socket): Handle | undefined {
  return (socket as unknown as { _handle?: Handle | null })._handle ?? undefined;
}

/**
 * Stops the handle reading, not only the stream: the socket's descriptor is about to be shared
 * with a worker, and until the worker acknowledges it the primary's copy stays open. A paused
 * stream keeps its handle reading (up to the high-water mark), so the primary could swallow the
 * client's next request. net has no public call for this; `_handle.readStop()` is what pause()
 * itself uses for sockets in buffer mode.
 */
function stopReading(socket: Socket): void {
  socket.pause();
  const h = handleOf(socket);
  if (h && typeof h.readStop === 'function') {
    h.reading = false;
    h.readStop();
  }
}
