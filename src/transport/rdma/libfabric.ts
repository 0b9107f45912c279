// The libfabric RDMA provider: native/fabric (our N-API addon, built when libfabric-dev is
// installed) behind the RdmaProvider interface. The addon's fabric provider is chosen by name:
// `tcp` (RMA emulated over a TCP socket, loopback works, no RDMA NIC needed) or `verbs`
// (InfiniBand, RoCE, iWARP hardware); FI_PROVIDER in the environment restricts the choice as usual.
// Send With Invalidate has no libfabric call on MSG endpoints, so the token travels as remote CQ
// data (fi_senddata) and the receiver deregisters that registration before it sees the message.
import { createRequire } from 'node:module';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  checkRma, emptyStats, RdmaError,
  type EndpointSetup, type RdmaDescriptor, type RdmaEndpoint, type RdmaEndpointEvents, type RdmaListener,
  type RdmaProvider, type RdmaRegistration, type RdmaStats,
} from './provider.js';

type Handle = { readonly __fabricHandle: unique symbol };
type MrHandle = { readonly __fabricMr: unique symbol };
type ConnReq = { readonly __fabricReq: unique symbol };
type EventCb = (kind: number, id: number, len: number, err: number, imm: number, req?: ConnReq) => void;

interface FabricBinding {
  listen(host: string, port: string, prov: string, cb: EventCb): Handle;
  listenPort(h: Handle): number;
  accept(req: ConnReq, cb: EventCb): Handle;
  reject(l: Handle, req: ConnReq): void;
  connect(host: string, port: string, prov: string, cb: EventCb): Handle;
  start(h: Handle): void;
  info(h: Handle): { provider: string; mrMode: number; maxMsg: number };
  regMr(h: Handle, buf: Buffer, access: number, key: bigint): [MrHandle, bigint, bigint];
  deregMr(mr: MrHandle): void;
  recv(h: Handle, buf: Buffer, id: number): void;
  send(h: Handle, buf: Buffer, id: number, imm: number): void;
  read(h: Handle, buf: Buffer, addr: bigint, key: bigint, id: number): void;
  write(h: Handle, buf: Buffer, addr: bigint, key: bigint, id: number): void;
  close(h: Handle): void;
}

const K_SEND = 1, K_RECV = 2, K_READ = 3, K_WRITE = 4, K_CONNECTED = 5, K_SHUTDOWN = 6, K_CMERROR = 7, K_CONNREQ = 8;

let loaded: { binding?: FabricBinding; reason?: string } | undefined;

function load(): { binding?: FabricBinding; reason?: string } {
  if (loaded) return loaded;
  const here = dirname(fileURLToPath(import.meta.url));
  const rel = join('native', 'fabric', 'build', 'Release', 'fabric.node');
  let d = here;
  for (let i = 0; i < 6; i++, d = dirname(d)) {
    const p = join(d, rel);
    if (!existsSync(p)) continue;
    try {
      loaded = { binding: createRequire(import.meta.url)(p) as FabricBinding };
      return loaded;
    } catch (e) {
      loaded = { reason: `native fabric addon does not load: ${(e as Error).message}` };
      return loaded;
    }
  }
  loaded = { reason: 'native fabric addon not built (install libfabric-dev, then npm run build:native)' };
  return loaded;
}

/** Why the libfabric provider is unavailable, or undefined when it is available. */
export function libfabricUnavailable(): string | undefined {
  const l = load();
  return l.binding ? undefined : l.reason;
}

class FabRegistration implements RdmaRegistration {
  registered = true;
  constructor(private readonly ep: FabEndpoint, readonly buffer: Buffer, readonly token: number, private readonly base: bigint, private readonly mr: MrHandle) {}
  descriptor(start = 0, length = this.buffer.length - start): RdmaDescriptor {
    return { offset: this.base + BigInt(start), token: this.token, length };
  }
  deregister(): void {
    if (!this.registered) return;
    this.registered = false;
    this.ep.regs.delete(this.token);
    this.ep.fab.deregMr(this.mr);
  }
}

interface Pending {
  kind: number;
  buf: Buffer;
  resolve: () => void;
  reject: (e: Error) => void;
}

class FabEndpoint implements RdmaEndpoint {
  readonly stats: RdmaStats = emptyStats();
  events: RdmaEndpointEvents = {};
  closed = false;
  handle!: Handle;
  provider = 'libfabric';
  readonly regs = new Map<number, FabRegistration>();
  private readonly ops = new Map<number, Pending>();
  private readonly recvs = new Map<number, Buffer>();
  private nextId = 1;
  private nextToken = 1 + Math.floor(Math.random() * 0x1000000);
  connected?: { resolve: () => void; reject: (e: Error) => void };

  constructor(readonly fab: FabricBinding) {}

  handleEvent: EventCb = (kind, id, len, err, imm) => {
    if (this.closed) return;
    if (kind === K_CONNECTED) { this.connected?.resolve(); this.connected = undefined; return; }
    if (kind === K_SHUTDOWN) { this.close(); return; }
    if (kind === K_CMERROR) { this.close(new RdmaError(`connection failed (${errno(err)})`)); return; }
    if (kind === K_RECV) {
      const buf = this.recvs.get(id);
      this.recvs.delete(id);
      if (!buf) return;
      if (err) { this.close(new RdmaError(`receive failed (${errno(err)})`)); return; }
      return this.received(buf, len, imm);
    }
    const op = this.ops.get(id);
    if (!op) return;
    this.ops.delete(id);
    if (err) {
      const e = new RdmaError(`${kind === K_SEND ? 'send' : kind === K_READ ? 'RDMA read' : 'RDMA write'} failed (${errno(err)})`);
      op.reject(e);
      this.close(e);
      return;
    }
    if (kind === K_SEND) { this.stats.sends++; this.stats.sendBytes += op.buf.length; }
    else if (kind === K_READ) { this.stats.rdmaReads++; this.stats.rdmaReadBytes += op.buf.length; }
    else if (kind === K_WRITE) { this.stats.rdmaWrites++; this.stats.rdmaWriteBytes += op.buf.length; }
    op.resolve();
  };

  private received(buf: Buffer, len: number, imm: number): void {
    // remote CQ data carries the token the sender invalidated (see the file comment)
    const invalidated = imm >= 0 ? imm : undefined;
    if (invalidated !== undefined) this.regs.get(invalidated)?.deregister();
    this.stats.receives++;
    this.stats.receiveBytes += len;
    this.events.onReceive?.({ data: buf.subarray(0, len), buffer: buf, ...(invalidated !== undefined ? { invalidated } : {}) });
  }

  register(buf: Buffer, access: number): RdmaRegistration {
    if (this.closed) throw new RdmaError('endpoint closed');
    const want = this.nextToken++ >>> 0;
    const [mr, key, base] = this.fab.regMr(this.handle, buf, access, BigInt(want));
    if (key > 0xffffffffn) { this.fab.deregMr(mr); throw new RdmaError('provider key does not fit a 32-bit token'); }
    const r = new FabRegistration(this, buf, Number(key), base, mr);
    this.regs.set(r.token, r);
    return r;
  }

  postReceive(buf: Buffer): void {
    if (this.closed) throw new RdmaError('endpoint closed');
    const id = this.nextId++;
    this.recvs.set(id, buf);
    this.fab.recv(this.handle, buf, id);
  }

  send(msg: Buffer, invalidate?: number): Promise<void> {
    return this.op(K_SEND, msg, (id) => this.fab.send(this.handle, msg, id, invalidate ?? -1));
  }

  read(local: Buffer, remote: RdmaDescriptor): Promise<void> {
    checkRma(local.length, remote);
    return this.op(K_READ, local, (id) => this.fab.read(this.handle, local, remote.offset, BigInt(remote.token), id));
  }

  write(local: Buffer, remote: RdmaDescriptor): Promise<void> {
    checkRma(local.length, remote);
    return this.op(K_WRITE, local, (id) => this.fab.write(this.handle, local, remote.offset, BigInt(remote.token), id));
  }

  private op(kind: number, buf: Buffer, post: (id: number) => void): Promise<void> {
    if (this.closed) return Promise.reject(new RdmaError('connection closed'));
    return new Promise<void>((resolve, reject) => {
      const id = this.nextId++;
      this.ops.set(id, { kind, buf, resolve, reject });
      try { post(id); } catch (e) { this.ops.delete(id); reject(e as Error); }
    });
  }

  close(err?: Error): void {
    if (this.closed) return;
    this.closed = true;
    for (const r of [...this.regs.values()]) r.deregister();
    this.fab.close(this.handle);
    const e = err ?? new RdmaError('connection closed');
    for (const op of this.ops.values()) op.reject(e);
    this.ops.clear();
    this.recvs.clear();
    this.connected?.reject(e);
    this.connected = undefined;
    queueMicrotask(() => this.events.onClose?.(err));
  }
}

function errno(err: number): string {
  const names: Record<number, string> = { 5: 'EIO', 13: 'EACCES', 61: 'ENODATA', 104: 'ECONNRESET', 107: 'ENOTCONN', 111: 'ECONNREFUSED', 125: 'ECANCELED', 265: 'FI_ETRUNC', 262: 'FI_EOTHER' };
  return names[err] ?? `errno ${err}`;
}

/** A libfabric provider using fabric provider `prov` ('tcp' by default; 'verbs' on RDMA hardware). */
export function libfabricProvider(prov = 'tcp'): RdmaProvider {
  const need = (): FabricBinding => {
    const l = load();
    if (!l.binding) throw new RdmaError(l.reason ?? 'libfabric unavailable');
    return l.binding;
  };
  return {
    name: `libfabric:${prov}`,
    async listen(host: string, port: number, onEndpoint: EndpointSetup): Promise<RdmaListener> {
      const fab = need();
      let lh: Handle | undefined;
      const cb: EventCb = (kind, _id, _len, _err, _imm, req) => {
        if (kind !== K_CONNREQ || !req || !lh) return;
        const ep = new FabEndpoint(fab);
        try {
          ep.handle = fab.accept(req, (...a) => ep.handleEvent(...a));
          ep.provider = `libfabric:${fab.info(ep.handle).provider}`;
        } catch {
          try { fab.reject(lh, req); } catch { /* the listener is gone */ }
          return;
        }
        try {
          onEndpoint(ep);
          if (!ep.closed) fab.start(ep.handle);
        } catch (e) {
          ep.close(e as Error);
        }
      };
      lh = fab.listen(host, String(port), prov, cb);
      const h = lh;
      let closed = false;
      return { port: fab.listenPort(h), close: () => { if (!closed) { closed = true; fab.close(h); } } };
    },
    async connect(host: string, port: number, setup: EndpointSetup): Promise<RdmaEndpoint> {
      const fab = need();
      const ep = new FabEndpoint(fab);
      ep.handle = fab.connect(host, String(port), prov, (...a) => ep.handleEvent(...a));
      ep.provider = `libfabric:${fab.info(ep.handle).provider}`;
      const done = new Promise<void>((resolve, reject) => { ep.connected = { resolve, reject }; });
      setup(ep);
      fab.start(ep.handle);
      await done;
      return ep;
    },
  };
}
