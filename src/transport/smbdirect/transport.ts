// SMB-Direct as a MessageTransport (transport/transport.ts): whole SMB2 messages over an
// SmbdConnection, and the RDMA capability SMB2 READ/WRITE use with Channel RDMA_V1.
import type { RdmaDescriptor } from '../rdma/provider.js';
import type { MessageTransport, RdmaChannel } from '../transport.js';
import type { SmbdConnection } from './connection.js';

export class SmbdTransport implements MessageTransport {
  readonly kind = 'smbdirect';
  onMessage: ((msg: Buffer) => void) | undefined;
  onClose: ((err?: Error) => void) | undefined;
  readonly rdma: RdmaChannel;

  constructor(readonly conn: SmbdConnection, readonly localAddress: string, readonly remoteAddress: string) {
    conn.onMessage = (m) => this.onMessage?.(m);
    conn.onClose = (err) => this.onClose?.(err);
    const ep = conn.ep;
    this.rdma = {
      maxReadWriteSize: conn.params.maxReadWriteSize,
      stats: ep.stats,
      push: (data, descs) => eachDescriptor(data, descs, (part, d) => ep.write(part, d)),
      pull: (into, descs) => eachDescriptor(into, descs, (part, d) => ep.read(part, d)),
    };
  }

  get maxMessageSize(): number {
    return Math.min(this.conn.params.maxFragmentedSendSize, this.conn.params.maxFragmentedReceiveSize);
  }

  send(parts: Buffer[], invalidate?: number): void {
    // one copy: the caller may reuse its (pooled) parts as soon as this returns
    this.conn.send(Buffer.concat(parts), invalidate).catch(() => { /* the connection closes itself */ });
  }

  destroy(): void {
    this.conn.close();
  }
}

/** Runs one RDMA operation per descriptor over consecutive pieces of `buf`, all in flight at once. */
async function eachDescriptor(buf: Buffer, descs: RdmaDescriptor[], op: (part: Buffer, d: RdmaDescriptor) => Promise<void>): Promise<void> {
  const ops: Promise<void>[] = [];
  let pos = 0;
  for (const d of descs) {
    if (pos >= buf.length) break;
    const n = Math.min(d.length, buf.length - pos);
    ops.push(op(buf.subarray(pos, pos + n), d));
    pos += n;
  }
  if (pos < buf.length) throw new RangeError(`buffer descriptors hold ${pos} of ${buf.length} bytes`);
  await Promise.all(ops);
}
