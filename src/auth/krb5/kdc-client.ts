// Talks to a KDC over TCP (RFC 4120 7.2.2: each message prefixed by its 4-byte big-endian length).
import * as net from 'node:net';

const MAX_REPLY = 1 << 20;

export function kdcExchange(hostPort: string, request: Buffer, timeoutMs = 10_000): Promise<Buffer> {
  const m = /^\[?([^\]]+?)\]?(?::(\d+))?$/.exec(hostPort);
  const host = m?.[1] ?? hostPort;
  const port = m?.[2] ? Number(m[2]) : 88;
  return new Promise((resolve, reject) => {
    const sock = net.connect({ host, port });
    const chunks: Buffer[] = [];
    let have = 0;
    const timer = setTimeout(() => done(new Error(`KDC ${hostPort}: no answer in ${timeoutMs} ms`)), timeoutMs);
    const done = (err?: Error, reply?: Buffer): void => {
      clearTimeout(timer);
      sock.destroy();
      if (err) reject(err);
      else resolve(reply!);
    };
    sock.on('connect', () => {
      const len = Buffer.alloc(4);
      len.writeUInt32BE(request.length);
      sock.write(Buffer.concat([len, request]));
    });
    sock.on('data', (d: Buffer) => {
      chunks.push(d);
      have += d.length;
      if (have < 4) return;
      const all = Buffer.concat(chunks);
      const n = all.readUInt32BE(0);
      if (n > MAX_REPLY) return done(new Error(`KDC ${hostPort}: reply too large`));
      if (have >= 4 + n) done(undefined, all.subarray(4, 4 + n));
    });
    sock.on('error', (e) => done(new Error(`KDC ${hostPort}: ${e.message}`)));
    sock.on('close', () => done(new Error(`KDC ${hostPort}: connection closed`)));
  });
}
