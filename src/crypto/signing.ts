// SMB2/3 message signing (MS-SMB2 3.1.4.1). The signature covers the whole message with the
// 16-byte Signature field (header bytes 48..63) taken as zero.
import { createCipheriv, createHmac, timingSafeEqual, type CipherGCM, type Hmac } from 'node:crypto';
import { aesCmac } from './aes-cmac.js';
import { aeadBinding, NATIVE_MAX_PARTS, type MacStream } from './native.js';

export type SigningAlgorithm = 'hmac-sha256' | 'aes-cmac' | 'aes-gmac';

/** MS-SMB2 2.2.3.1.7 SigningAlgorithm ids. */
export const SIGNING_ALGORITHM_ID = { 'hmac-sha256': 0, 'aes-cmac': 1, 'aes-gmac': 2 } as const;

const SIG_OFF = 48;
const SIG_END = 64;
const HEADER_LEN = 64;
const ZERO16 = Buffer.alloc(16);
const FLAG_SERVER_TO_REDIR = 0x1;
const FLAG_SIGNED = 0x8;
/** 0xFE 'S' 'M' 'B' read as a little-endian u32 (MS-SMB2 2.2.1). */
const SMB2_PROTOCOL_ID = 0x424d53fe;
const CMD_CANCEL = 0x000c;

/** The message as parts, with bytes 48..63 replaced by zeros (no copy of the body). */
function zeroedParts(message: Buffer | Buffer[]): Buffer[] {
  const parts = Array.isArray(message) ? message : [message];
  const out: Buffer[] = [];
  let pos = 0;
  let sigDone = false;
  for (const p of parts) {
    const start = pos;
    const end = pos + p.length;
    pos = end;
    if (end <= SIG_OFF || start >= SIG_END) {
      out.push(p);
      continue;
    }
    if (start < SIG_OFF) out.push(p.subarray(0, SIG_OFF - start));
    if (!sigDone) {
      out.push(ZERO16);
      sigDone = true;
    }
    if (end > SIG_END) out.push(p.subarray(SIG_END - start));
  }
  if (pos < HEADER_LEN) throw new RangeError('SMB2 message shorter than its 64-byte header');
  return out;
}

function headerBytes(message: Buffer | Buffer[]): Buffer {
  if (!Array.isArray(message)) return message.subarray(0, HEADER_LEN);
  if (message.length > 0 && message[0]!.length >= HEADER_LEN) return message[0]!.subarray(0, HEADER_LEN);
  return Buffer.concat(message).subarray(0, HEADER_LEN);
}

/** AES-GMAC nonce: MessageId (8 bytes) || 4 bytes {bit0: server->client, bit1: CANCEL} (MS-SMB2 3.1.4.1). */
function gmacNonce(header: Buffer): Buffer {
  const nonce = Buffer.alloc(12);
  header.copy(nonce, 0, 24, 32);
  let b = 0;
  if (header.readUInt32LE(16) & FLAG_SERVER_TO_REDIR) b |= 1;
  if (header.readUInt16LE(12) === CMD_CANCEL) b |= 2;
  nonce.writeUInt32LE(b, 8);
  return nonce;
}

/** 16-byte signature of `message` (whole SMB2 message including its header); input is not modified. */
export function computeSignature(alg: SigningAlgorithm, key: Buffer, message: Buffer | Buffer[]): Buffer {
  const parts = zeroedParts(message);
  switch (alg) {
    case 'hmac-sha256': {
      const h = createHmac('sha256', key);
      for (const p of parts) h.update(p);
      return h.digest().subarray(0, 16);
    }
    case 'aes-cmac': {
      const native = aeadBinding();
      if (native && key.length === 16 && parts.length <= NATIVE_MAX_PARTS) {
        const mac = Buffer.allocUnsafe(16);
        native.cmac(key, parts, mac);
        return mac;
      }
      return aesCmac(key, parts);
    }
    case 'aes-gmac': {
      const native = aeadBinding();
      if (native && parts.length <= NATIVE_MAX_PARTS) {
        const tag = Buffer.allocUnsafe(16);
        native.gmac(key, gmacNonce(headerBytes(message)), parts, tag);
        return tag;
      }
      const name = key.length === 32 ? 'aes-256-gcm' : 'aes-128-gcm';
      const c = createCipheriv(name, key, gmacNonce(headerBytes(message)));
      for (const p of parts) if (p.length) c.setAAD(p);
      c.final();
      return c.getAuthTag();
    }
    default:
      throw new RangeError(`unknown signing algorithm ${String(alg)}`);
  }
}

/** Writes the signature into bytes 48..63 of `message` (the caller sets SMB2_FLAGS_SIGNED first). */
export function signMessage(alg: SigningAlgorithm, key: Buffer, message: Buffer): void {
  computeSignature(alg, key, message).copy(message, SIG_OFF);
}

/** Timing-safe check of the signature in bytes 48..63. */
export function verifySignature(alg: SigningAlgorithm, key: Buffer, message: Buffer): boolean {
  if (message.length < HEADER_LEN) return false;
  const expected = computeSignature(alg, key, message);
  return timingSafeEqual(expected, message.subarray(SIG_OFF, SIG_END));
}

/** Least new data worth a streaming update (smaller remainders wait for more, or for finish()). */
const STREAM_STEP = 256 * 1024;

/**
 * Verifies the signature of one SMB2 message (not a compound) while its frame is still arriving:
 * update(filled) feeds what has been received, finish() the rest and compares (timing-safe). The
 * same answer as verifySignature(), spread over the arrival instead of done at the end. AES-CMAC
 * streams only with the native addon; without it start() returns undefined for CMAC.
 */
export class StreamingVerifier {
  /** How many were started (tests, status). */
  static started = 0;
  private done = SIG_END;
  private constructor(
    readonly alg: SigningAlgorithm,
    readonly key: Buffer,
    readonly frame: Buffer,
    private readonly hmac: Hmac | undefined,
    private readonly mac: MacStream | undefined,
    private readonly gcm: CipherGCM | undefined,
  ) {
    this.feed(frame.subarray(0, SIG_OFF));
    this.feed(ZERO16);
    StreamingVerifier.started++;
  }

  /**
   * For a frame holding one signed SMB2 message (not a compound) of which `filled` bytes (at least
   * the 64-byte header) are final (feeds what is there already); else undefined.
   */
  static start(alg: SigningAlgorithm, key: Buffer, frame: Buffer, filled: number): StreamingVerifier | undefined {
    const v = StreamingVerifier.create(alg, key, frame, filled);
    v?.update(filled);
    return v;
  }

  private static create(alg: SigningAlgorithm, key: Buffer, frame: Buffer, filled: number): StreamingVerifier | undefined {
    if (filled < HEADER_LEN || frame.length < HEADER_LEN || key.length === 0) return undefined;
    if (frame.readUInt32LE(0) !== SMB2_PROTOCOL_ID || !(frame.readUInt32LE(16) & FLAG_SIGNED) || frame.readUInt32LE(20) !== 0) return undefined;
    const native = aeadBinding();
    switch (alg) {
      case 'hmac-sha256':
        return new StreamingVerifier(alg, key, frame, createHmac('sha256', key), undefined, undefined);
      case 'aes-cmac':
        if (!native || key.length !== 16) return undefined;
        return new StreamingVerifier(alg, key, frame, undefined, native.macStart('cmac', key, ZERO16), undefined);
      case 'aes-gmac': {
        if (key.length !== 16 && key.length !== 32) return undefined;
        const nonce = gmacNonce(frame.subarray(0, HEADER_LEN));
        if (native) return new StreamingVerifier(alg, key, frame, undefined, native.macStart('gmac', key, nonce), undefined);
        return new StreamingVerifier(alg, key, frame, undefined, undefined, createCipheriv(key.length === 32 ? 'aes-256-gcm' : 'aes-128-gcm', key, nonce) as CipherGCM);
      }
      default:
        return undefined;
    }
  }

  /** `filled` bytes of the frame are final. */
  update(filled: number): void {
    const upTo = Math.min(filled, this.frame.length);
    if (upTo - this.done < STREAM_STEP) return;
    this.feed(this.frame.subarray(this.done, upTo));
    this.done = upTo;
  }

  /** The frame is complete: true when its signature is right. */
  finish(): boolean {
    if (this.done < this.frame.length) this.feed(this.frame.subarray(this.done));
    this.done = this.frame.length;
    let sig: Buffer;
    if (this.hmac) {
      sig = this.hmac.digest().subarray(0, 16);
    } else if (this.mac) {
      sig = Buffer.allocUnsafe(16);
      aeadBinding()!.macFinal(this.mac, sig);
    } else {
      this.gcm!.final();
      sig = this.gcm!.getAuthTag();
    }
    return timingSafeEqual(sig, this.frame.subarray(SIG_OFF, SIG_END));
  }

  private feed(data: Buffer): void {
    if (data.length === 0) return;
    if (this.hmac) this.hmac.update(data);
    else if (this.mac) aeadBinding()!.macUpdate(this.mac, data);
    else this.gcm!.setAAD(data);
  }
}
