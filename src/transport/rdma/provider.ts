// The RDMA provider seam (DESIGN.md rule 6, seed 004): a connected endpoint that moves messages
// (send into a receive the peer posted) and moves data by RDMA read/write against memory the peer
// registered and described to us. SMB-Direct (transport/smbdirect/) and the seed-004 echo/LBUF
// test protocol (echo-*.ts) sit on this; providers: loopback.ts (in process) and libfabric.ts.

/**
 * A remote buffer: MS-SMBD 2.2.3.1 Buffer Descriptor V1 (Offset, Token, Length), the same layout
 * as the seed's DESCRIPTOR {iova, rkey, length}. `offset` is what the provider's RMA calls take as
 * the remote address (a virtual address or an offset into the region, provider's choice).
 */
export interface RdmaDescriptor {
  offset: bigint;
  token: number;
  length: number;
}

/** Access a registration grants the peer. */
export const REMOTE_READ = 1;
export const REMOTE_WRITE = 2;

/** Memory registered on one endpoint; valid until deregistered (or invalidated by the peer). */
export interface RdmaRegistration {
  readonly buffer: Buffer;
  readonly token: number;
  readonly registered: boolean;
  /** The descriptor of buffer[start, start + length). */
  descriptor(start?: number, length?: number): RdmaDescriptor;
  deregister(): void;
}

/** A message that arrived into a posted receive buffer. */
export interface RdmaReceived {
  /** View of the posted buffer holding the message. */
  data: Buffer;
  /** The buffer that was posted (to post it again). */
  buffer: Buffer;
  /** Token of our registration the sender invalidated with this message (send with invalidate). */
  invalidated?: number;
}

/** Bytes and operations an endpoint moved, so tests can tell RDMA traffic from send/receive. */
export interface RdmaStats {
  sends: number;
  sendBytes: number;
  receives: number;
  receiveBytes: number;
  rdmaReads: number;
  rdmaReadBytes: number;
  rdmaWrites: number;
  rdmaWriteBytes: number;
}

export function emptyStats(): RdmaStats {
  return { sends: 0, sendBytes: 0, receives: 0, receiveBytes: 0, rdmaReads: 0, rdmaReadBytes: 0, rdmaWrites: 0, rdmaWriteBytes: 0 };
}

export interface RdmaEndpointEvents {
  /** A message arrived (completion of a posted receive). */
  onReceive?: (r: RdmaReceived) => void;
  /** The connection is gone (peer shutdown, error, or our close); called once. */
  onClose?: (err?: Error) => void;
}

/** A connected endpoint (a queue pair). */
export interface RdmaEndpoint {
  readonly provider: string;
  readonly stats: RdmaStats;
  readonly closed: boolean;
  /** Receive and close handlers; set them in the setup callback, before the peer can send. */
  events: RdmaEndpointEvents;
  register(buf: Buffer, access: number): RdmaRegistration;
  /** Posts a receive buffer; each incoming message consumes one, in order. */
  postReceive(buf: Buffer): void;
  /** Sends one message; with `invalidate`, the peer's registration with that token is invalidated
   *  before the peer sees the message (RDMA Send With Invalidate). */
  send(msg: Buffer, invalidate?: number): Promise<void>;
  /** RDMA read: remote -> local (local.length bytes, at most remote.length). */
  read(local: Buffer, remote: RdmaDescriptor): Promise<void>;
  /** RDMA write: local -> remote (local.length bytes, at most remote.length). */
  write(local: Buffer, remote: RdmaDescriptor): Promise<void>;
  close(err?: Error): void;
}

export interface RdmaListener {
  readonly port: number;
  close(): void;
}

/** Called with a new endpoint before it starts: post receives and set events here. */
export type EndpointSetup = (ep: RdmaEndpoint) => void;

export interface RdmaProvider {
  readonly name: string;
  /** Listens; `onEndpoint` runs for each connection before it is accepted. */
  listen(host: string, port: number, onEndpoint: EndpointSetup): Promise<RdmaListener>;
  /** Connects; `setup` runs before the connection starts; resolves once connected. */
  connect(host: string, port: number, setup: EndpointSetup): Promise<RdmaEndpoint>;
}

/** Error for RDMA operations and connection failures. */
export class RdmaError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'RdmaError';
  }
}

/** Checks an RMA against a descriptor the way a NIC would: length fits the remote buffer. */
export function checkRma(length: number, remote: RdmaDescriptor): void {
  if (length > remote.length) throw new RdmaError(`RDMA of ${length} bytes exceeds remote buffer of ${remote.length}`);
}
