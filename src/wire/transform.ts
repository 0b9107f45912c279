// SMB2 TRANSFORM_HEADER (MS-SMB2 2.2.41): the 52-byte prefix of an encrypted message.
//   0  ProtocolId  0xFD 'S' 'M' 'B'
//   4  Signature   16 bytes (AEAD tag)
//  20  Nonce       16 bytes (AES-CCM: 11 used, AES-GCM: 12 used, rest zero)
//  36  OriginalMessageSize u32
//  40  Reserved u16
//  42  Flags / EncryptionAlgorithm u16 (0x0001 = Encrypted)
//  44  SessionId u64
// The AEAD's associated data is bytes 20..51 (everything after the Signature).
import { WireError } from './buf.js';

export const TRANSFORM_PROTOCOL_ID = 0x424d53fd; // bytes FD 53 4D 42 read little-endian
export const TRANSFORM_HEADER_SIZE = 52;
export const TRANSFORM_FLAG_ENCRYPTED = 0x0001;
/** Offset of the associated data (Nonce..SessionId) within the header. */
export const TRANSFORM_AAD_OFFSET = 20;

export interface TransformHeader {
  signature: Buffer; // 16 bytes
  nonce: Buffer; // 16 bytes
  originalMessageSize: number;
  flags: number;
  sessionId: bigint;
}

export function isTransformHeader(frame: Buffer): boolean {
  return frame.length >= 4 && frame.readUInt32LE(0) === TRANSFORM_PROTOCOL_ID;
}

export function encodeTransformHeader(h: TransformHeader): Buffer {
  if (h.signature.length !== 16 || h.nonce.length !== 16) throw new RangeError('signature/nonce must be 16 bytes');
  const b = Buffer.alloc(TRANSFORM_HEADER_SIZE);
  b.writeUInt32LE(TRANSFORM_PROTOCOL_ID, 0);
  h.signature.copy(b, 4);
  h.nonce.copy(b, 20);
  b.writeUInt32LE(h.originalMessageSize >>> 0, 36);
  b.writeUInt16LE(0, 40);
  b.writeUInt16LE(h.flags, 42);
  b.writeBigUInt64LE(BigInt.asUintN(64, h.sessionId), 44);
  return b;
}

/** Decodes the header; the returned signature/nonce are views into `frame`. */
export function decodeTransformHeader(frame: Buffer): TransformHeader {
  if (frame.length < TRANSFORM_HEADER_SIZE) throw new WireError('truncated SMB2 TRANSFORM_HEADER');
  if (!isTransformHeader(frame)) throw new WireError('not an SMB2 TRANSFORM_HEADER');
  return {
    signature: frame.subarray(4, 20),
    nonce: frame.subarray(20, 36),
    originalMessageSize: frame.readUInt32LE(36),
    flags: frame.readUInt16LE(42),
    sessionId: frame.readBigUInt64LE(44),
  };
}

export function transformSessionId(frame: Buffer): bigint {
  if (frame.length < TRANSFORM_HEADER_SIZE || !isTransformHeader(frame)) throw new WireError('not an SMB2 TRANSFORM_HEADER');
  return frame.readBigUInt64LE(44);
}
