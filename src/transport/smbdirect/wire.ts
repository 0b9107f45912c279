// MS-SMBD 2.2 messages: pure codec. Negotiate Request (2.2.1), Negotiate Response (2.2.2), Data
// Transfer (2.2.3) and the Buffer Descriptor V1 list SMB2 READ/WRITE carry (2.2.3.1).
import { Reader, WireError, Writer } from '../../wire/buf.js';
import type { RdmaDescriptor } from '../rdma/provider.js';

export const SMBD_VERSION = 0x0100;
export const NEGOTIATE_REQUEST_SIZE = 20;
export const NEGOTIATE_RESPONSE_SIZE = 32;
/** Data Transfer header without padding; a message carrying data starts it at DATA_OFFSET. */
export const DATA_HEADER_SIZE = 20;
export const DATA_OFFSET = 24;
export const SMB_DIRECT_RESPONSE_REQUESTED = 0x0001;
/** Smallest MaxReceiveSize / MaxFragmentedSize a peer may announce (3.1.5.6, 3.1.5.7). */
export const MIN_RECEIVE_SIZE = 128;
export const MIN_FRAGMENTED_SIZE = 131072;
export const BUFFER_DESCRIPTOR_SIZE = 16;

export interface NegotiateRequest {
  minVersion: number;
  maxVersion: number;
  creditsRequested: number;
  preferredSendSize: number;
  maxReceiveSize: number;
  maxFragmentedSize: number;
}

export interface NegotiateResponse {
  minVersion: number;
  maxVersion: number;
  negotiatedVersion: number;
  creditsRequested: number;
  creditsGranted: number;
  status: number;
  maxReadWriteSize: number;
  preferredSendSize: number;
  maxReceiveSize: number;
  maxFragmentedSize: number;
}

export interface DataTransfer {
  creditsRequested: number;
  creditsGranted: number;
  flags: number;
  remainingDataLength: number;
  /** View of the payload inside the received message (empty for a credit/keepalive message). */
  data: Buffer;
}

export function encodeNegotiateRequest(m: NegotiateRequest): Buffer {
  return new Writer(NEGOTIATE_REQUEST_SIZE).u16(m.minVersion).u16(m.maxVersion).u16(0).u16(m.creditsRequested)
    .u32(m.preferredSendSize).u32(m.maxReceiveSize).u32(m.maxFragmentedSize).finish();
}

export function decodeNegotiateRequest(b: Buffer): NegotiateRequest {
  if (b.length < NEGOTIATE_REQUEST_SIZE) throw new WireError(`SMB-Direct negotiate request of ${b.length} bytes`);
  const r = new Reader(b);
  const minVersion = r.u16(), maxVersion = r.u16();
  r.skip(2);
  return { minVersion, maxVersion, creditsRequested: r.u16(), preferredSendSize: r.u32(), maxReceiveSize: r.u32(), maxFragmentedSize: r.u32() };
}

export function encodeNegotiateResponse(m: NegotiateResponse): Buffer {
  return new Writer(NEGOTIATE_RESPONSE_SIZE).u16(m.minVersion).u16(m.maxVersion).u16(m.negotiatedVersion).u16(0)
    .u16(m.creditsRequested).u16(m.creditsGranted).u32(m.status).u32(m.maxReadWriteSize)
    .u32(m.preferredSendSize).u32(m.maxReceiveSize).u32(m.maxFragmentedSize).finish();
}

export function decodeNegotiateResponse(b: Buffer): NegotiateResponse {
  if (b.length < NEGOTIATE_RESPONSE_SIZE) throw new WireError(`SMB-Direct negotiate response of ${b.length} bytes`);
  const r = new Reader(b);
  const minVersion = r.u16(), maxVersion = r.u16(), negotiatedVersion = r.u16();
  r.skip(2);
  return {
    minVersion, maxVersion, negotiatedVersion, creditsRequested: r.u16(), creditsGranted: r.u16(), status: r.u32(),
    maxReadWriteSize: r.u32(), preferredSendSize: r.u32(), maxReceiveSize: r.u32(), maxFragmentedSize: r.u32(),
  };
}

/** The 24-byte header of a Data Transfer message carrying `dataLength` bytes (none: 20 bytes). */
export function encodeDataHeader(m: Omit<DataTransfer, 'data'>, dataLength: number): Buffer {
  const w = new Writer(DATA_OFFSET).u16(m.creditsRequested).u16(m.creditsGranted).u16(m.flags).u16(0)
    .u32(m.remainingDataLength).u32(dataLength ? DATA_OFFSET : 0).u32(dataLength);
  if (dataLength) w.u32(0); // Padding up to the 8-byte aligned DataOffset
  return w.finish();
}

/**
 * Decodes a Data Transfer message with the checks of MS-SMBD 3.1.5.8: at least 20 bytes,
 * CreditsRequested >= 1, DataOffset 8-byte aligned, DataOffset + DataLength within the message,
 * DataLength + RemainingDataLength <= maxFragmentedSize. Any failure is a WireError (the caller
 * terminates the connection).
 */
export function decodeDataTransfer(b: Buffer, maxFragmentedSize: number): DataTransfer {
  if (b.length < DATA_HEADER_SIZE) throw new WireError(`SMB-Direct data transfer of ${b.length} bytes (at least 20)`);
  const r = new Reader(b);
  const creditsRequested = r.u16(), creditsGranted = r.u16(), flags = r.u16();
  r.skip(2);
  const remainingDataLength = r.u32(), dataOffset = r.u32(), dataLength = r.u32();
  if (creditsRequested < 1) throw new WireError('SMB-Direct CreditsRequested is 0');
  if (dataOffset % 8 !== 0) throw new WireError(`SMB-Direct DataOffset ${dataOffset} is not 8-byte aligned`);
  if (dataLength && (dataOffset < DATA_HEADER_SIZE || dataOffset + dataLength > b.length)) throw new WireError('SMB-Direct data beyond the message');
  if (dataLength + remainingDataLength > maxFragmentedSize) throw new WireError(`SMB-Direct message of ${dataLength + remainingDataLength} bytes exceeds MaxFragmentedSize ${maxFragmentedSize}`);
  return { creditsRequested, creditsGranted, flags, remainingDataLength, data: dataLength ? b.subarray(dataOffset, dataOffset + dataLength) : b.subarray(0, 0) };
}

/** SMB2 READ/WRITE channel info: an array of Buffer Descriptor V1 (MS-SMBD 2.2.3.1). */
export function encodeBufferDescriptors(descs: RdmaDescriptor[]): Buffer {
  const w = new Writer(descs.length * BUFFER_DESCRIPTOR_SIZE);
  for (const d of descs) w.u64(d.offset).u32(d.token).u32(d.length);
  return w.finish();
}

export function decodeBufferDescriptors(b: Buffer): RdmaDescriptor[] {
  if (b.length === 0 || b.length % BUFFER_DESCRIPTOR_SIZE !== 0) throw new WireError(`RDMA channel info of ${b.length} bytes is not a list of buffer descriptors`);
  const r = new Reader(b);
  const out: RdmaDescriptor[] = [];
  while (r.remaining) out.push({ offset: r.u64(), token: r.u32(), length: r.u32() });
  return out;
}
