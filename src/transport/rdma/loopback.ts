// In-process RDMA provider for tests: two endpoints in one process, with the rules of a real
// queue pair. A send needs a receive posted by the peer and must fit it (else the connection
// breaks, like an RNR or length error); RDMA read/write go only to a live registration with the
// right access and within its bounds (else the operation fails and the connection breaks).
import {
  checkRma, emptyStats, RdmaError, REMOTE_READ, REMOTE_WRITE,
  type EndpointSetup, type RdmaDescriptor, type RdmaEndpoint, type RdmaEndpointEvents, type RdmaListener,
  type RdmaProvider, type RdmaRegistration, type RdmaStats,
} from './provider.js';

const listeners = new Map<number, EndpointSetup>();
let nextPort = 40000;

class LoopRegistration implements RdmaRegistration {
  registered = true;
  constructor(private readonly ep: LoopEndpoint, readonly buffer: Buffer, readonly token: number, readonly access: number) {}
  descriptor(start = 0, length = this.buffer.length - start): RdmaDescriptor {
    return { offset: BigInt(start), token: this.token, length };
  }
  deregister(): void {
    if (!this.registered) return;
    this.registered = false;
    this.ep.regs.delete(this.token);
  }
}

class LoopEndpoint implements RdmaEndpoint {
  readonly provider = 'loopback';
  readonly stats: RdmaStats = emptyStats();
  events: RdmaEndpointEvents = {};
  closed = false;
  peer?: LoopEndpoint;
  readonly regs = new Map<number, LoopRegistration>();
  private readonly receives: Buffer[] = [];
  private nextToken = 1 + Math.floor(Math.random() * 0x10000);

  register(buf: Buffer, access: number): RdmaRegistration {
    if (this.closed) throw new RdmaError('endpoint closed');
    const token = this.nextToken++ >>> 0;
    const r = new LoopRegistration(this, buf, token, access);
    this.regs.set(token, r);
    return r;
  }

  postReceive(buf: Buffer): void {
    if (this.closed) throw new RdmaError('endpoint closed');
    this.receives.push(buf);
  }

  async send(msg: Buffer, invalidate?: number): Promise<void> {
    const peer = this.live();
    const copy = Buffer.from(msg); // the send buffer is the caller's again once this resolves
    this.stats.sends++;
    this.stats.sendBytes += msg.length;
    await tick();
    if (peer.closed) throw new RdmaError('connection closed');
    peer.deliver(copy, invalidate);
  }

  private deliver(msg: Buffer, invalidate?: number): void {
    const buf = this.receives.shift();
    if (!buf) return this.fail(new RdmaError('message arrived with no receive posted (receiver not ready)'));
    if (msg.length > buf.length) return this.fail(new RdmaError(`message of ${msg.length} bytes exceeds the posted receive of ${buf.length}`));
    msg.copy(buf);
    if (invalidate !== undefined) this.regs.get(invalidate)?.deregister();
    this.stats.receives++;
    this.stats.receiveBytes += msg.length;
    this.events.onReceive?.({ data: buf.subarray(0, msg.length), buffer: buf, ...(invalidate !== undefined ? { invalidated: invalidate } : {}) });
  }

  async read(local: Buffer, remote: RdmaDescriptor): Promise<void> {
    const src = this.remote(remote, local.length, REMOTE_READ);
    await tick();
    src.copy(local);
    this.stats.rdmaReads++;
    this.stats.rdmaReadBytes += local.length;
  }

  async write(local: Buffer, remote: RdmaDescriptor): Promise<void> {
    const dst = this.remote(remote, local.length, REMOTE_WRITE);
    await tick();
    local.copy(dst);
    this.stats.rdmaWrites++;
    this.stats.rdmaWriteBytes += local.length;
  }

  /** The peer's memory a descriptor names, checked as a NIC checks it. */
  private remote(d: RdmaDescriptor, len: number, need: number): Buffer {
    const peer = this.live();
    try {
      checkRma(len, d);
      const r = peer.regs.get(d.token);
      if (!r) throw new RdmaError(`remote token 0x${d.token.toString(16)} is not registered`);
      if ((r.access & need) === 0) throw new RdmaError('remote access not granted');
      const off = Number(d.offset);
      if (d.offset < 0n || off + len > r.buffer.length) throw new RdmaError('RDMA outside the remote registration');
      return r.buffer.subarray(off, off + len);
    } catch (e) {
      this.fail(e as Error);
      throw e;
    }
  }

  private live(): LoopEndpoint {
    if (this.closed || !this.peer) throw new RdmaError('connection closed');
    return this.peer;
  }

  private fail(err: Error): void {
    this.close(err);
  }

  close(err?: Error): void {
    if (this.closed) return;
    this.closed = true;
    for (const r of [...this.regs.values()]) r.deregister();
    this.receives.length = 0;
    const peer = this.peer;
    queueMicrotask(() => this.events.onClose?.(err));
    if (peer && !peer.closed) peer.close(err ? new RdmaError(`peer failed: ${err.message}`) : undefined);
  }
}

function tick(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

export const loopbackProvider: RdmaProvider = {
  name: 'loopback',
  async listen(_host: string, port: number, onEndpoint: EndpointSetup): Promise<RdmaListener> {
    if (port === 0) while (listeners.has(nextPort)) nextPort++;
    const p = port || nextPort++;
    if (listeners.has(p)) throw new RdmaError(`loopback port ${p} in use`);
    listeners.set(p, onEndpoint);
    return { port: p, close: () => { listeners.delete(p); } };
  },
  async connect(_host: string, port: number, setup: EndpointSetup): Promise<RdmaEndpoint> {
    const accept = listeners.get(port);
    if (!accept) throw new RdmaError(`connection refused (loopback port ${port})`);
    const a = new LoopEndpoint();
    const b = new LoopEndpoint();
    a.peer = b;
    b.peer = a;
    setup(a);
    accept(b);
    await tick();
    return a;
  },
};
