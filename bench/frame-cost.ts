// JavaScript cost of one request on the server, without the socket (issue 17). Sampling profilers
// misplace time on this VM (their ticks land in system calls), so this measures by replaying: a
// client in a child process drives a real request through the in-process server, the frame is kept,
// and then Connection.onFrame is called with that frame N times with the credit check and the send
// stubbed out. Time in the node:fs sync calls and in the command's handler is measured by wrapping
// them; ECHO (the same header with command 13) is the floor of the request path.
//   node dist/bench/frame-cost.js [qi|qi18|qi21|qi22|snap|stat|echo] [N, 100000]
// qi = QUERY_INFO FileNetworkOpenInformation on an open handle (qi18/qi21/qi22: the same request
// for FileAllInformation, FileAlternateNameInformation, FileStreamInformation, as smbclient's
// allinfo asks), snap = FSCTL_SRV_ENUMERATE_SNAPSHOTS on that handle (allinfo's IOCTL), stat = the
// smbts client's stat (CREATE+CLOSE compound). Uses a private directory under /dev/shm.
import fs from 'node:fs';
import { syncBuiltinESMExports } from 'node:module';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

const kind = process.argv[2] ?? 'qi';
const N = Number(process.argv[3] ?? 100_000);

// node:fs sync calls, timed (before the server modules bind their imports).
const fsNs = new Map<string, bigint>();
const fsMut = fs as unknown as Record<string, (...a: unknown[]) => unknown>;
for (const name of ['lstatSync', 'statSync', 'fstatSync', 'openSync', 'closeSync']) {
  const orig = fsMut[name]!;
  fsMut[name] = function (this: unknown, ...a: unknown[]): unknown {
    const t = process.hrtime.bigint();
    try {
      return orig.apply(this, a);
    } finally {
      fsNs.set(name, (fsNs.get(name) ?? 0n) + process.hrtime.bigint() - t);
    }
  };
}
syncBuiltinESMExports();

type Frame = Buffer;
interface ConnLike { onFrame(f: Frame): Promise<void>; send(...a: unknown[]): void; credits: { consume(...a: unknown[]): boolean } }
const { Connection } = (await import('../src/server/connection.js' as string)) as { Connection: { prototype: ConnLike } };
const { handlers } = (await import('../src/server/handlers/index.js' as string)) as { handlers: Record<number, (ctx: unknown) => Promise<unknown>> };
const { startServer } = (await import('../src/server/index.js' as string)) as { startServer(o: unknown): Promise<{ port: number; close(): Promise<void> }> };
const { defaultConfig } = (await import('../src/config/config.js' as string)) as { defaultConfig(d: string): unknown };
const { UserDb } = (await import('../src/auth/userdb.js' as string)) as { UserDb: { empty(): { add(u: string, p: string): unknown } } };

let handlerNs = 0n;
for (const cmd of [5, 6, 11, 16]) { // CREATE, CLOSE, IOCTL, QUERY_INFO
  const orig = handlers[cmd]!;
  handlers[cmd] = async (ctx: unknown): Promise<unknown> => {
    const t = process.hrtime.bigint();
    try {
      return await orig(ctx);
    } finally {
      handlerNs += process.hrtime.bigint() - t;
    }
  };
}

const dir = mkdtempSync('/dev/shm/smbts-frame-cost-');
writeFileSync(join(dir, 'f'), 'x');
let db = UserDb.empty();
const added = db.add('test', 'test');
if (added && typeof added === 'object' && 'add' in added) db = added as typeof db;
const srv = await startServer({ config: defaultConfig(dir), users: db, host: '127.0.0.1', port: 0 });

const P = Connection.prototype;
const onFrame = P.onFrame;
let last: Frame | undefined;
let conn: ConnLike | undefined;
P.onFrame = function (this: ConnLike, f: Frame, ...rest: unknown[]): Promise<void> {
  last = Buffer.from(f);
  conn = this;
  return (onFrame as (...a: unknown[]) => Promise<void>).call(this, f, ...rest);
};
const client = new URL('../src/client/client.js', import.meta.url).href;
const drive = kind === 'stat' ? "await c.stat('f')" : 'await h.stat()';
const child = spawn(process.execPath, ['--input-type=module', '-e', `
  const { connect } = await import(${JSON.stringify(client)});
  const c = await connect('smb://test:test@127.0.0.1:${srv.port}/share');
  const h = await c.open('f', 'r');
  for (let i = 0; i < 3000; i++) ${drive};
  process.stdout.write('ready\\n');
  setTimeout(() => {}, 120000);
`], { stdio: ['ignore', 'pipe', 'inherit'] });
try {
  await new Promise<void>((resolve, reject) => {
    child.stdout.on('data', (d: Buffer) => { if (String(d).includes('ready')) resolve(); });
    child.once('exit', (code) => reject(new Error(`driver exited ${code}`)));
  });
  P.onFrame = onFrame;
  if (!conn || !last) throw new Error('no frame seen');
  const c: ConnLike = conn;
  let frame: Frame = last;
  if (kind === 'echo') {
    const h = Buffer.from(frame.subarray(0, 64));
    h.writeUInt16LE(13, 12); // ECHO
    h.writeUInt32LE(0, 20); // NextCommand
    frame = Buffer.concat([h, Buffer.from([4, 0, 0, 0])]);
  } else if (/^qi\d+$/.test(kind)) {
    frame = Buffer.from(frame);
    frame[64 + 3] = Number(kind.slice(2)); // FileInfoClass
    frame.writeUInt32LE(64 * 1024, 64 + 4); // OutputBufferLength
  } else if (kind === 'snap') {
    // IOCTL request (MS-SMB2 2.2.31) on the QUERY_INFO's FileId, as smbclient's allinfo sends it
    const h = Buffer.from(frame.subarray(0, 64));
    h.writeUInt16LE(11, 12);
    const b = Buffer.alloc(57); // fixed part and the one-byte Buffer
    b.writeUInt16LE(57, 0);
    b.writeUInt32LE(0x144064, 4); // FSCTL_SRV_ENUMERATE_SNAPSHOTS
    frame.copy(b, 8, 64 + 24, 64 + 40); // FileId
    b.writeUInt32LE(120, 24); // InputOffset
    b.writeUInt32LE(120, 36); // OutputOffset
    b.writeUInt32LE(16, 44); // MaxOutputResponse
    b.writeUInt32LE(1, 48); // SMB2_0_IOCTL_IS_FSCTL
    frame = Buffer.concat([h, b]);
  }
  c.credits.consume = () => true;
  c.send = () => undefined;
  console.log(`${kind}: per frame, ${N} frames a round (µs)`);
  for (let round = 0; round < 4; round++) {
    fsNs.clear();
    handlerNs = 0n;
    const u0 = process.cpuUsage();
    const t0 = process.hrtime.bigint();
    for (let i = 0; i < N; i++) await c.onFrame(frame);
    const wall = Number(process.hrtime.bigint() - t0) / N / 1000;
    const u = process.cpuUsage(u0);
    const fsUs = [...fsNs].map(([k, v]) => `${k} ${(Number(v) / N / 1000).toFixed(2)}`).join(', ');
    // round 0 warms up the JIT
    if (round > 0) console.log(`wall ${wall.toFixed(2)} (user ${(u.user / N).toFixed(2)}, sys ${(u.system / N).toFixed(2)}); handler ${(Number(handlerNs) / N / 1000).toFixed(2)}; ${fsUs || 'no fs calls'}`);
  }
} finally {
  child.kill();
  await srv.close();
  rmSync(dir, { recursive: true, force: true });
}
