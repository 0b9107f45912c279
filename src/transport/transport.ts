// The transport seam (DESIGN.md rule 6). Byte-stream transports (direct TCP, NetBIOS after its
// session request) are net.Sockets framed by transport/framing.ts, the fast path the server and
// client were built on. A message transport delivers whole SMB2 messages instead: SMB-Direct,
// where MS-SMBD already delimits them, and which can also move READ/WRITE payloads by RDMA.
import type { RdmaDescriptor, RdmaStats } from './rdma/provider.js';

/** The RDMA capability of a transport: payloads of SMB2 READ/WRITE move by buffer descriptor. */
export interface RdmaChannel {
  /** Largest RDMA transfer of one READ/WRITE (MS-SMBD MaxReadWriteSize). */
  readonly maxReadWriteSize: number;
  /** Server: RDMA-writes `data` into the peer's buffers, in descriptor order (SMB2 READ). */
  push(data: Buffer, descs: RdmaDescriptor[]): Promise<void>;
  /** Server: RDMA-reads the peer's buffers into `into`, in descriptor order (SMB2 WRITE). */
  pull(into: Buffer, descs: RdmaDescriptor[]): Promise<void>;
  readonly stats: RdmaStats;
}

export interface MessageTransport {
  readonly kind: 'smbdirect';
  readonly remoteAddress: string;
  readonly localAddress: string;
  /** Largest SMB2 message either way (the peers' MaxFragmentedSize). */
  readonly maxMessageSize: number;
  readonly rdma: RdmaChannel | undefined;
  /** Set by the owner: each whole SMB2 message (or compound, or transform) received. */
  onMessage: ((msg: Buffer) => void) | undefined;
  onClose: ((err?: Error) => void) | undefined;
  /** Sends one SMB2 message given as parts (no 4-byte length: the transport delimits messages).
   *  With `invalidate`, the peer's registration with that token is invalidated (SEND_WITH_INV). */
  send(parts: Buffer[], invalidate?: number): void;
  destroy(): void;
}

export function isMessageTransport(t: object): t is MessageTransport {
  return (t as { kind?: unknown }).kind === 'smbdirect';
}
