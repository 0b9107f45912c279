// The floor of a Node.js SMB server (issue 17): a process that does no file-system or protocol
// work for the requests it has seen before. It sits in front of a real server (argv[2] = its port)
// and forwards everything while it records; after a line `replay` on stdin, a request whose kind
// it recorded (command, info class / FSCTL; a compound by its command list) is answered from
// memory with the recorded response, only MessageIds and credits rewritten. NEGOTIATE, SESSION_SETUP
// and TREE_CONNECT always go to the real server, so every session is a real one up to its first
// file request. Signed or encrypted traffic is forwarded untouched (nothing recorded).
// Prints {"port":N,"pid":P} once listening; stdin EOF -> exit.
//   node dist/bench/replay-responder.js UPSTREAM_PORT
// Used by bench/allinfo.ts (ALLINFO_FLOOR=1): the time this responder needs per request is what
// the socket, the event loop and the client cost without any server work.
import net from 'node:net';

const upstreamPort = Number(process.argv[2]);
if (!(upstreamPort > 0)) {
  process.stderr.write('usage: replay-responder.js UPSTREAM_PORT\n');
  process.exit(2);
}

const SMB2_MAGIC = 0x424d53fe;
const SIGNED = 0x8;
const recorded = new Map<string, Buffer>();
let replaying = false;

/** Offsets of the members of a compound SMB2 message (MS-SMB2 3.3.5.2.7), [] if not SMB2. */
function members(msg: Buffer): number[] {
  const out: number[] = [];
  let o = 0;
  for (let i = 0; i < 64 && o + 64 <= msg.length && msg.readUInt32LE(o) === SMB2_MAGIC; i++) {
    out.push(o);
    const next = msg.readUInt32LE(o + 20);
    if (!next) return out;
    o += next;
  }
  return out.length && o + 64 <= msg.length ? out : [];
}

/** What a request asks, for requests worth recording: command, plus QUERY_INFO class / FSCTL code. */
function kindOf(msg: Buffer, at: number[]): string | undefined {
  const parts: string[] = [];
  for (const o of at) {
    const cmd = msg.readUInt16LE(o + 12);
    if (cmd <= 1 || cmd === 3 || (msg.readUInt32LE(o + 16) & SIGNED) !== 0) return undefined; // NEGOTIATE, SESSION_SETUP, TREE_CONNECT, signed
    if (cmd === 16) parts.push(`16/${msg[o + 64 + 2]}/${msg[o + 64 + 3]}`);
    else if (cmd === 11) parts.push(`11/${msg.readUInt32LE(o + 64 + 4)}`);
    else parts.push(String(cmd));
  }
  return parts.join('+');
}

/** Calls onFrame with each whole frame (4-byte length + message) of a byte stream, in order. */
function frames(socket: net.Socket, onFrame: (frame: Buffer, msg: Buffer) => void): void {
  let pending: Buffer = Buffer.alloc(0);
  socket.on('data', (d: Buffer) => {
    pending = pending.length ? Buffer.concat([pending, d]) : d;
    while (pending.length >= 4) {
      const len = pending.readUInt32BE(0) & 0xffffff;
      if (pending.length < 4 + len) break;
      const frame = pending.subarray(0, 4 + len);
      pending = pending.subarray(4 + len);
      onFrame(frame, frame.subarray(4));
    }
  });
}

net.createServer({ noDelay: true }, (client) => {
  const up = net.connect({ port: upstreamPort, host: '127.0.0.1', noDelay: true });
  const asked = new Map<bigint, string>(); // first MessageId of a forwarded request -> its kind
  frames(client, (frame, msg) => {
    const at = members(msg);
    const kind = at.length ? kindOf(msg, at) : undefined;
    const canned = replaying && kind !== undefined ? recorded.get(kind) : undefined;
    if (canned) {
      const out = Buffer.from(canned);
      const rat = members(out.subarray(4));
      for (let i = 0; i < rat.length && i < at.length; i++) {
        const q = at[i]!;
        const r = 4 + rat[i]!;
        msg.copy(out, r + 24, q + 24, q + 32); // MessageId
        out.writeUInt16LE(Math.max(1, msg.readUInt16LE(q + 14)), r + 14); // credits granted = requested
      }
      client.write(out);
      return;
    }
    if (kind !== undefined && !replaying) asked.set(msg.readBigUInt64LE(at[0]! + 24), kind);
    up.write(frame);
  });
  frames(up, (frame, msg) => {
    const at = members(msg);
    if (at.length) {
      const mid = msg.readBigUInt64LE(at[0]! + 24);
      const kind = asked.get(mid);
      const interim = msg.readUInt32LE(8) === 0x103 && (msg.readUInt32LE(16) & 0x2) !== 0; // STATUS_PENDING
      if (kind !== undefined && !interim) {
        asked.delete(mid);
        // only successful answers, or the answer to an FSCTL (smbclient's allinfo expects an error there)
        const ok = at.every((o) => msg.readUInt32LE(o + 8) === 0 && (msg.readUInt32LE(o + 16) & SIGNED) === 0);
        if (ok || kind.startsWith('11/')) recorded.set(kind, Buffer.from(frame));
      }
    }
    client.write(frame);
  });
  const end = (): void => {
    client.destroy();
    up.destroy();
  };
  for (const s of [client, up]) {
    s.on('error', end);
    s.on('close', end);
  }
}).listen(0, '127.0.0.1', function (this: net.Server) {
  const a = this.address() as net.AddressInfo;
  process.stdout.write(`${JSON.stringify({ port: a.port, pid: process.pid })}\n`);
});

let line = '';
process.stdin.on('data', (d: Buffer) => {
  line += d.toString();
  if (line.includes('replay')) replaying = true;
});
process.stdin.on('end', () => process.exit(0));
