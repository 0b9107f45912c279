// SMB2 READ/WRITE with Channel SMB2_CHANNEL_RDMA_V1 / RDMA_V1_INVALIDATE (MS-SMB2 3.3.5.12,
// 3.3.5.13): the payload moves by RDMA against the client's buffer descriptors (MS-SMBD 2.2.3.1),
// READ data RDMA-written into them, WRITE data RDMA-read from them; the messages carry no data.
import { Channel, Dialect } from '../wire/constants.js';
import { Status } from '../wire/status.js';
import { decodeBufferDescriptors } from '../transport/smbdirect/wire.js';
import type { RdmaDescriptor } from '../transport/rdma/provider.js';
import type { RdmaChannel } from '../transport/transport.js';
import { fail } from './files/util.js';

/** Response bodies whose send must invalidate a client token (RDMA_V1_INVALIDATE). */
const invalidateOnSend = new WeakMap<Buffer, number>();

export interface RdmaRequest {
  rdma: RdmaChannel;
  descs: RdmaDescriptor[];
  /** Token to invalidate with the response (Channel RDMA_V1_INVALIDATE). */
  invalidate: number | undefined;
}

/**
 * The RDMA part of a READ/WRITE, or undefined for Channel NONE (or a 2.x dialect). A channel the connection cannot
 * serve (no RDMA transport, RDMA_TRANSFORM not negotiated), descriptors that do not parse or
 * cannot hold `length` bytes: STATUS_INVALID_PARAMETER.
 */
export function rdmaRequest(rdma: RdmaChannel | undefined, dialect: number, channel: number, info: Buffer, length: number): RdmaRequest | undefined {
  // Channel is reserved before 3.0 (2.2.19): ignore it there
  if (channel === Channel.NONE || dialect < Dialect.SMB3_00) return undefined;
  if (!rdma || (channel !== Channel.RDMA_V1 && channel !== Channel.RDMA_V1_INVALIDATE)) fail(Status.INVALID_PARAMETER, `channel ${channel} on this transport`);
  // RDMA_V1_INVALIDATE is 3.0.2 and later (2.2.19)
  if (channel === Channel.RDMA_V1_INVALIDATE && dialect < Dialect.SMB3_02) fail(Status.INVALID_PARAMETER, 'RDMA_V1_INVALIDATE before 3.0.2');
  let descs: RdmaDescriptor[];
  try {
    descs = decodeBufferDescriptors(info);
  } catch {
    fail(Status.INVALID_PARAMETER, 'bad RDMA channel info');
  }
  const room = descs.reduce((a, d) => a + d.length, 0);
  if (room < length) fail(Status.INVALID_PARAMETER, `RDMA buffers of ${room} bytes for ${length}`);
  if (length > rdma.maxReadWriteSize) fail(Status.INVALID_PARAMETER, 'larger than MaxReadWriteSize');
  return { rdma, descs, invalidate: channel === Channel.RDMA_V1_INVALIDATE ? descs[0]!.token : undefined };
}

/** Marks a response body: the message carrying it goes as Send With Invalidate of `token`. */
export function invalidateWith(body: Buffer, token: number | undefined): Buffer {
  if (token !== undefined) invalidateOnSend.set(body, token);
  return body;
}

/** The token to invalidate when sending these response parts, if one of them was marked. */
export function rdmaInvalidateToken(parts: Buffer[]): number | undefined {
  for (const p of parts) {
    const t = invalidateOnSend.get(p);
    if (t !== undefined) return t;
  }
  return undefined;
}
