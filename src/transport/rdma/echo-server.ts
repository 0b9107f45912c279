// Server of the seed-004 test protocol on any RdmaProvider. LBUFs ("files") are server-wide, at
// most `maxLbufs` of them and `maxLbufBytes` in all. Data moves only by RDMA: READ-LBUF-TO-DESCS
// RDMA-writes LBUF bytes into the client's descriptors, WRITE-DESCS-TO-LBUF RDMA-reads them.
import { Status } from '../../wire/status.js';
import { decodeRequest, encodeReply, fillPattern, Op, SEND_WITH_INV, type EchoReply, type EchoRequest } from './echo-wire.js';
import { emptyStats, type RdmaDescriptor, type RdmaEndpoint, type RdmaProvider, type RdmaStats } from './provider.js';

export interface EchoServerOptions {
  /** Size of each posted receive, so the largest message either side may send (default 64 KiB). */
  maxMessage?: number;
  /** Receives posted per connection (default 32): the client keeps fewer requests in flight. */
  receives?: number;
  maxLbufs?: number;
  /** Bytes of all LBUFs together (default 256 MiB). */
  maxLbufBytes?: number;
}

export interface EchoServer {
  readonly port: number;
  /** Totals over the connections that have closed plus the live ones. */
  stats(): RdmaStats;
  close(): void;
}

export const ECHO_MAX_MESSAGE = 64 * 1024;
export const ECHO_RECEIVES = 32;

export async function startEchoServer(provider: RdmaProvider, host: string, port: number, opts: EchoServerOptions = {}): Promise<EchoServer> {
  const maxMessage = opts.maxMessage ?? ECHO_MAX_MESSAGE;
  const receives = opts.receives ?? ECHO_RECEIVES;
  const maxLbufs = opts.maxLbufs ?? 64;
  const maxLbufBytes = opts.maxLbufBytes ?? 256 * 1024 * 1024;
  const lbufs = new Map<number, Buffer>();
  const live = new Set<RdmaEndpoint>();
  const done = emptyStats();
  const lbufBytes = (): number => [...lbufs.values()].reduce((a, b) => a + b.length, 0);

  async function handle(ep: RdmaEndpoint, req: EchoRequest): Promise<{ reply: EchoReply; invalidate?: number }> {
    const { messageId } = req;
    switch (req.op) {
      case Op.ECHO: {
        // the data echo_factor times, cut to max_response and to what one message can hold
        const room = maxMessage - 16;
        const len = Math.min(req.data.length * req.echoFactor, req.maxResponse, room);
        const data = Buffer.alloc(len);
        for (let o = 0; o < len; o += req.data.length || len) req.data.copy(data, o, 0, Math.min(req.data.length, len - o));
        return { reply: { op: Op.ECHO, messageId, status: Status.SUCCESS, data } };
      }
      case Op.SETUP_LBUF: {
        const old = lbufs.get(req.lbufIdx)?.length ?? 0;
        if (req.lbufIdx >= maxLbufs || lbufBytes() - old + req.size > maxLbufBytes) {
          return { reply: { op: Op.SETUP_LBUF, messageId, status: Status.INSUFFICIENT_RESOURCES } };
        }
        const buf = Buffer.allocUnsafe(req.size);
        fillPattern(buf, req.nonce);
        lbufs.set(req.lbufIdx, buf);
        return { reply: { op: Op.SETUP_LBUF, messageId, status: Status.SUCCESS } };
      }
      case Op.READ_LBUF_TO_DESCS:
      case Op.WRITE_DESCS_TO_LBUF: {
        const read = req.op === Op.READ_LBUF_TO_DESCS;
        const lbuf = lbufs.get(req.lbufIdx);
        const room = req.descs.reduce((a, d) => a + d.length, 0);
        const bad = !lbuf || req.offset + req.length > lbuf.length || req.length > room;
        const invalidate = req.flags & SEND_WITH_INV && req.descs.length ? req.descs[0]!.token : undefined;
        const fail = (status: number): { reply: EchoReply; invalidate?: number } =>
          ({ reply: read ? { op: Op.READ_LBUF_TO_DESCS, messageId, status, nread: 0 } : { op: Op.WRITE_DESCS_TO_LBUF, messageId, status, nwritten: 0 }, invalidate });
        if (bad) return fail(Status.INVALID_PARAMETER);
        await moveByRdma(ep, lbuf.subarray(req.offset, req.offset + req.length), req.descs, read);
        return {
          reply: read ? { op: Op.READ_LBUF_TO_DESCS, messageId, status: Status.SUCCESS, nread: req.length } : { op: Op.WRITE_DESCS_TO_LBUF, messageId, status: Status.SUCCESS, nwritten: req.length },
          invalidate,
        };
      }
    }
  }

  const listener = await provider.listen(host, port, (ep) => {
    live.add(ep);
    ep.events.onReceive = (r) => {
      let req: EchoRequest;
      try {
        req = decodeRequest(Buffer.from(r.data));
      } catch (e) {
        ep.close(e as Error); // a malformed request costs its connection only
        return;
      }
      ep.postReceive(r.buffer);
      handle(ep, req).then(({ reply, invalidate }) => ep.send(encodeReply(reply), invalidate)).catch((e: Error) => ep.close(e));
    };
    ep.events.onClose = () => {
      live.delete(ep);
      for (const k of Object.keys(done) as Array<keyof RdmaStats>) done[k] += ep.stats[k];
    };
    for (let i = 0; i < receives; i++) ep.postReceive(Buffer.alloc(maxMessage));
  });

  return {
    port: listener.port,
    stats(): RdmaStats {
      const s = { ...done };
      for (const ep of live) for (const k of Object.keys(s) as Array<keyof RdmaStats>) s[k] += ep.stats[k];
      return s;
    },
    close(): void {
      listener.close();
      for (const ep of [...live]) ep.close();
    },
  };
}

/** Moves `data` to (read) or from (write) the descriptors in order, one RDMA per descriptor. */
async function moveByRdma(ep: RdmaEndpoint, data: Buffer, descs: RdmaDescriptor[], toClient: boolean): Promise<void> {
  const ops: Promise<void>[] = [];
  let pos = 0;
  for (const d of descs) {
    if (pos >= data.length) break;
    const n = Math.min(d.length, data.length - pos);
    const part = data.subarray(pos, pos + n);
    ops.push(toClient ? ep.write(part, d) : ep.read(part, d));
    pos += n;
  }
  await Promise.all(ops);
}
