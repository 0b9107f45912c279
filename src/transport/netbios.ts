// NetBIOS session service (RFC 1002 4.3) for SMB on port 139: before any SMB2 message the
// client sends a SESSION REQUEST (type 0x81) naming the called and calling NetBIOS names, the
// server answers POSITIVE SESSION RESPONSE (0x82) or NEGATIVE SESSION RESPONSE (0x83 + error).
// After that the stream carries SESSION MESSAGEs (type 0x00 + length), the same 4-byte framing as
// direct TCP (transport/framing.ts), which also skips SESSION KEEP ALIVE (0x85).
import type { Socket } from 'node:net';
import { WireError } from '../wire/buf.js';

export const NBT_SESSION_MESSAGE = 0x00;
export const NBT_SESSION_REQUEST = 0x81;
export const NBT_POSITIVE_RESPONSE = 0x82;
export const NBT_NEGATIVE_RESPONSE = 0x83;
export const NBT_KEEPALIVE = 0x85;
/** Negative response error codes (RFC 1002 4.3.4). */
export const NBT_ERR_CALLED_NAME_NOT_PRESENT = 0x82;
export const NBT_ERR_UNSPECIFIED = 0x8f;

/**
 * First-level encoding of a NetBIOS name (RFC 1001 14.1): the name upper-cased, padded with
 * spaces to 15 bytes plus the suffix byte, each half-byte as 'A' + nibble; as a length-prefixed
 * label (0x20) and the empty scope (0x00): 34 bytes.
 */
export function encodeNetbiosName(name: string, suffix = 0x20): Buffer {
  const raw = Buffer.alloc(16, 0x20);
  Buffer.from(name.toUpperCase().slice(0, 15), 'latin1').copy(raw);
  raw[15] = suffix;
  const out = Buffer.alloc(34);
  out[0] = 32;
  for (let i = 0; i < 16; i++) {
    out[1 + 2 * i] = 0x41 + (raw[i]! >> 4);
    out[2 + 2 * i] = 0x41 + (raw[i]! & 0x0f);
  }
  out[33] = 0;
  return out;
}

/** Decodes one encoded name at b[pos]; returns the name (trailing spaces cut), its suffix and the next position. */
export function decodeNetbiosName(b: Buffer, pos: number): { name: string; suffix: number; next: number } {
  if (pos + 34 > b.length || b[pos] !== 32) throw new WireError('bad NetBIOS name');
  const raw = Buffer.alloc(16);
  for (let i = 0; i < 16; i++) {
    const hi = b[pos + 1 + 2 * i]! - 0x41, lo = b[pos + 2 + 2 * i]! - 0x41;
    if (hi < 0 || hi > 15 || lo < 0 || lo > 15) throw new WireError('bad NetBIOS name encoding');
    raw[i] = (hi << 4) | lo;
  }
  // scope labels (rare): skip them up to the terminating zero length
  let p = pos + 33;
  while (p < b.length && b[p] !== 0) p += 1 + b[p]!;
  if (p >= b.length) throw new WireError('unterminated NetBIOS scope');
  return { name: raw.subarray(0, 15).toString('latin1').replace(/ +$/, ''), suffix: raw[15]!, next: p + 1 };
}

export function encodeSessionRequest(called: string, calling: string): Buffer {
  const body = Buffer.concat([encodeNetbiosName(called), encodeNetbiosName(calling, 0x00)]);
  const h = Buffer.alloc(4);
  h[0] = NBT_SESSION_REQUEST;
  h.writeUInt16BE(body.length, 2);
  return Buffer.concat([h, body]);
}

export function decodeSessionRequest(body: Buffer): { called: string; calling: string } {
  const a = decodeNetbiosName(body, 0);
  const b = decodeNetbiosName(body, a.next);
  return { called: a.name, calling: b.name };
}

export function positiveResponse(): Buffer {
  return Buffer.from([NBT_POSITIVE_RESPONSE, 0, 0, 0]);
}

export function negativeResponse(code: number): Buffer {
  return Buffer.from([NBT_NEGATIVE_RESPONSE, 0, 0, 1, code]);
}

/**
 * Server side: waits for the SESSION REQUEST on a fresh socket (keepalives allowed before it),
 * answers it, and leaves the socket paused with any bytes after the request pushed back. Any
 * called name is accepted (like Samba's smbd, which answers for every name it is asked for).
 */
export function acceptNetbiosSession(socket: Socket, timeoutMs = 10_000): Promise<{ called: string; calling: string }> {
  return new Promise((resolve, reject) => {
    let buf: Buffer = Buffer.alloc(0);
    const done = (err?: Error, v?: { called: string; calling: string }): void => {
      clearTimeout(timer);
      socket.off('data', onData);
      socket.off('error', onError);
      socket.off('close', onClose);
      if (err) { socket.destroy(); reject(err); } else resolve(v!);
    };
    const onError = (e: Error): void => done(e);
    const onClose = (): void => done(new Error('closed before the NetBIOS session request'));
    const onData = (chunk: Buffer): void => {
      buf = buf.length ? Buffer.concat([buf, chunk]) : chunk;
      while (buf.length >= 4) {
        const type = buf[0]!;
        // RFC 1002 4.3.1: 17-bit length (the low bit of the flags byte extends it)
        const len = ((buf[1]! & 1) << 16) | buf.readUInt16BE(2);
        if (type === NBT_KEEPALIVE) { buf = buf.subarray(4 + len); continue; }
        if (type !== NBT_SESSION_REQUEST || len > 1024) {
          socket.write(negativeResponse(NBT_ERR_UNSPECIFIED));
          done(new WireError(`expected a NetBIOS session request, got message type 0x${type.toString(16)}`));
          return;
        }
        if (buf.length < 4 + len) return;
        let names: { called: string; calling: string };
        try {
          names = decodeSessionRequest(buf.subarray(4, 4 + len));
        } catch (e) {
          socket.write(negativeResponse(NBT_ERR_CALLED_NAME_NOT_PRESENT));
          done(e as Error);
          return;
        }
        const rest = buf.subarray(4 + len);
        socket.pause();
        if (rest.length) socket.unshift(rest);
        socket.write(positiveResponse());
        done(undefined, names);
        return;
      }
    };
    const timer = setTimeout(() => done(new Error('no NetBIOS session request in time')), timeoutMs);
    timer.unref();
    socket.on('data', onData);
    socket.on('error', onError);
    socket.on('close', onClose);
  });
}
