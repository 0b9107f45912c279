// Client of the seed-004 test protocol, and the run that `smbts rdma-test run` and the tests use:
// ECHO latency, LBUF read and write throughput, every byte verified against the nonce pattern.
import { randomBytes } from 'node:crypto';
import { Status } from '../../wire/status.js';
import { ECHO_MAX_MESSAGE, ECHO_RECEIVES } from './echo-server.js';
import { checkPattern, decodeReply, encodeRequest, fillPattern, Op, SEND_WITH_INV, type EchoReply, type EchoRequest } from './echo-wire.js';
import { RdmaError, REMOTE_READ, REMOTE_WRITE, type RdmaDescriptor, type RdmaEndpoint, type RdmaProvider } from './provider.js';

type Body<T> = T extends unknown ? Omit<T, 'messageId'> : never;

export class EchoClient {
  private nextId = 1;
  private readonly pending = new Map<number, { resolve: (r: EchoReply) => void; reject: (e: Error) => void; invalidated?: number }>();
  private readonly waiting: Array<() => void> = [];
  private inFlight = 0;
  private closedWith?: Error;

  private constructor(readonly ep: RdmaEndpoint, private readonly window: number) {}

  /** Connects; keeps at most `window` requests in flight (below the server's posted receives). */
  static async connect(provider: RdmaProvider, host: string, port: number, window = ECHO_RECEIVES / 2): Promise<EchoClient> {
    let client: EchoClient | undefined;
    const ep = await provider.connect(host, port, (e) => {
      client = new EchoClient(e, Math.max(1, Math.min(window, ECHO_RECEIVES - 1)));
      e.events.onReceive = (r) => client!.onReply(r.data, r.buffer, r.invalidated);
      e.events.onClose = (err) => client!.onClose(err);
      for (let i = 0; i < ECHO_RECEIVES; i++) e.postReceive(Buffer.alloc(ECHO_MAX_MESSAGE));
    });
    void ep;
    return client!;
  }

  private onReply(data: Buffer, buffer: Buffer, invalidated?: number): void {
    let rep: EchoReply;
    try {
      rep = decodeReply(Buffer.from(data));
    } catch (e) {
      this.ep.close(e as Error);
      return;
    }
    this.ep.postReceive(buffer);
    const p = this.pending.get(rep.messageId);
    if (!p) { this.ep.close(new RdmaError(`reply to unknown message ${rep.messageId}`)); return; }
    this.pending.delete(rep.messageId);
    p.invalidated = invalidated;
    p.resolve(rep);
  }

  private onClose(err?: Error): void {
    this.closedWith = err ?? new RdmaError('connection closed');
    for (const p of this.pending.values()) p.reject(this.closedWith);
    this.pending.clear();
    for (const w of this.waiting.splice(0)) w();
  }

  /** Sends a request and waits for its reply; `invalidated` is the token the reply invalidated. */
  async request(body: Body<EchoRequest>): Promise<{ reply: EchoReply; invalidated?: number }> {
    while (this.inFlight >= this.window && !this.closedWith) await new Promise<void>((r) => this.waiting.push(r));
    if (this.closedWith) throw this.closedWith;
    this.inFlight++;
    try {
      const messageId = this.nextId++;
      const entry = { resolve: (_r: EchoReply) => {}, reject: (_e: Error) => {}, invalidated: undefined as number | undefined };
      const done = new Promise<EchoReply>((resolve, reject) => { entry.resolve = resolve; entry.reject = reject; });
      this.pending.set(messageId, entry);
      await this.ep.send(encodeRequest({ ...body, messageId } as EchoRequest));
      const reply = await done;
      if (reply.op !== body.op) throw new RdmaError(`reply opcode ${reply.op} to request ${body.op}`);
      return { reply, ...(entry.invalidated !== undefined ? { invalidated: entry.invalidated } : {}) };
    } finally {
      this.inFlight--;
      this.waiting.shift()?.();
    }
  }

  async echo(data: Buffer, echoFactor: number, maxResponse: number): Promise<Buffer> {
    const { reply } = await this.request({ op: Op.ECHO, echoFactor, maxResponse, data });
    if (reply.op !== Op.ECHO || reply.status !== Status.SUCCESS) throw new RdmaError(`ECHO failed (status 0x${reply.status.toString(16)})`);
    return reply.data;
  }

  async setupLbuf(lbufIdx: number, size: number, nonce: bigint): Promise<void> {
    const { reply } = await this.request({ op: Op.SETUP_LBUF, lbufIdx, size, nonce });
    if (reply.status !== Status.SUCCESS) throw new RdmaError(`SETUP-LBUF failed (status 0x${reply.status.toString(16)})`);
  }

  /**
   * READ-LBUF-TO-DESCS (server -> `into`) or WRITE-DESCS-TO-LBUF (`into` -> server) of
   * into.length bytes at `offset`: registers `into` for this one request, describes it with
   * `descs` descriptors and asks for SEND_WITH_INV, so the registration must be gone when the reply
   * arrives. Returns nread / nwritten.
   */
  async transfer(kind: 'read' | 'write', lbufIdx: number, offset: number, into: Buffer, descs = 2): Promise<number> {
    const reg = this.ep.register(into, kind === 'read' ? REMOTE_WRITE : REMOTE_READ);
    try {
      const list: RdmaDescriptor[] = [];
      const step = Math.ceil(into.length / descs);
      for (let o = 0; o < into.length; o += step) list.push(reg.descriptor(o, Math.min(step, into.length - o)));
      const op = kind === 'read' ? Op.READ_LBUF_TO_DESCS : Op.WRITE_DESCS_TO_LBUF;
      const { reply, invalidated } = await this.request({ op, lbufIdx, flags: SEND_WITH_INV, offset, length: into.length, descs: list });
      if (reply.status !== Status.SUCCESS) throw new RdmaError(`${kind} LBUF failed (status 0x${reply.status.toString(16)})`);
      if (invalidated !== reg.token || reg.registered) throw new RdmaError('the reply did not invalidate the registration (SEND_WITH_INV)');
      return reply.op === Op.READ_LBUF_TO_DESCS ? reply.nread : reply.op === Op.WRITE_DESCS_TO_LBUF ? reply.nwritten : 0;
    } finally {
      reg.deregister();
    }
  }

  close(): void {
    this.ep.close();
  }
}

export interface EchoRunOptions {
  echoIterations?: number;
  echoSize?: number;
  lbufSize?: number;
  chunk?: number;
  log?: (line: string) => void;
}

export interface EchoRunReport {
  echo: { iterations: number; size: number; avgUs: number; p50Us: number; p99Us: number };
  read: { bytes: number; seconds: number; mbPerSec: number };
  write: { bytes: number; seconds: number; mbPerSec: number };
}

/** Runs ECHO (verified), SETUP-LBUF, LBUF -> client (verified), client -> LBUF (read back, verified). */
export async function runEchoTest(c: EchoClient, opts: EchoRunOptions = {}): Promise<EchoRunReport> {
  const iterations = opts.echoIterations ?? 200;
  const size = opts.echoSize ?? 64;
  const lbufSize = opts.lbufSize ?? 16 * 1024 * 1024;
  const chunk = Math.min(opts.chunk ?? 1024 * 1024, lbufSize);
  const log = opts.log ?? (() => {});

  // ECHO: factor 3 cut by max_response, then plain latency
  const probe = randomBytes(100);
  const cut = await c.echo(probe, 3, 250);
  if (!cut.equals(Buffer.concat([probe, probe, probe]).subarray(0, 250))) throw new RdmaError('ECHO data differs');
  const lat: number[] = [];
  const data = randomBytes(size);
  for (let i = 0; i < iterations; i++) {
    const t = process.hrtime.bigint();
    const back = await c.echo(data, 1, size);
    lat.push(Number(process.hrtime.bigint() - t) / 1000);
    if (!back.equals(data)) throw new RdmaError('ECHO data differs');
  }
  lat.sort((a, b) => a - b);
  const echo = { iterations, size, avgUs: lat.reduce((a, b) => a + b, 0) / lat.length, p50Us: lat[Math.floor(lat.length / 2)]!, p99Us: lat[Math.floor(lat.length * 0.99)]! };
  log(`echo: ${iterations} x ${size} bytes, latency avg ${echo.avgUs.toFixed(1)} us, p50 ${echo.p50Us.toFixed(1)} us, p99 ${echo.p99Us.toFixed(1)} us`);

  const nonce = BigInt.asUintN(64, randomBytes(8).readBigUInt64LE());
  await c.setupLbuf(0, lbufSize, nonce);

  // touched before timing: first-touch page faults are not what this measures
  const region = Buffer.allocUnsafe(lbufSize).fill(0);
  const pass = async (kind: 'read' | 'write'): Promise<{ bytes: number; seconds: number; mbPerSec: number }> => {
    const t = process.hrtime.bigint();
    const jobs: Promise<void>[] = [];
    for (let o = 0; o < lbufSize; o += chunk) {
      const part = region.subarray(o, Math.min(o + chunk, lbufSize));
      jobs.push(c.transfer(kind, 0, o, part).then((n) => { if (n !== part.length) throw new RdmaError(`${kind} moved ${n} of ${part.length} bytes`); }));
    }
    await Promise.all(jobs);
    const seconds = Number(process.hrtime.bigint() - t) / 1e9;
    return { bytes: lbufSize, seconds, mbPerSec: lbufSize / 1e6 / seconds };
  };

  const read = await pass('read');
  const bad = checkPattern(region, nonce);
  if (bad >= 0) throw new RdmaError(`LBUF data read back differs at offset ${bad}`);
  log(`read:  ${lbufSize} bytes in ${chunk}-byte requests, ${read.mbPerSec.toFixed(1)} MB/s, verified`);

  const nonce2 = nonce ^ 0x5a5a5a5a00000000n;
  fillPattern(region, nonce2);
  const write = await pass('write');
  region.fill(0);
  await pass('read');
  const bad2 = checkPattern(region, nonce2);
  if (bad2 >= 0) throw new RdmaError(`LBUF data written differs at offset ${bad2}`);
  log(`write: ${lbufSize} bytes in ${chunk}-byte requests, ${write.mbPerSec.toFixed(1)} MB/s, verified by reading back`);
  return { echo, read, write };
}
