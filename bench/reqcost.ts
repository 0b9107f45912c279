// Server CPU per request (issue 17), several servers side by side in one run: smbts builds
// (this tree and e.g. an older build), optionally Samba. Each server gets short alternating passes
// driven by the smbts client from this process; CPU = the server main thread's on-CPU time from
// /proc/PID/schedstat (ns resolution; for Samba the smbd child serving the connection), so the
// numbers hold on a loaded box better than wall time. Passes: QUERY_INFO on an open handle
// (handle.stat), stat by path (CREATE+CLOSE compound), writeFile (CREATE+CLOSE) and unlink.
//   node dist/bench/reqcost.js [ops per pass, 500] [rounds, 8]
//   REQCOST_SERVERS=new,samba,base=/tmp/perf-base   (new = this tree; NAME=DIR another built tree)
//   REQCOST_ONLY=stat     only passes whose name starts with this
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { startSmbts } from './lib/smbts.js';
import { startSamba } from './lib/samba.js';
import { processTree } from './lib/proc.js';
import { median } from './lib/util.js';

interface Stat { size: bigint | number }
interface Handle { stat(): Promise<Stat>; close(): Promise<void> }
interface Client {
  open(p: string, f?: string): Promise<Handle>;
  stat(p: string): Promise<Stat>;
  writeFile(p: string, d: Buffer): Promise<void>;
  unlink(p: string): Promise<void>;
  close(): Promise<void>;
}

const OPS = Number(process.argv[2] ?? 500);
const ROUNDS = Number(process.argv[3] ?? 8);

/** On-CPU ns of every thread of the server's processes (smbd: master and children). */
function cpuNs(pid: number): number {
  let total = 0;
  for (const p of processTree(pid)) {
    try {
      for (const line of readFileSync(`/proc/${p}/task/${p}/schedstat`, 'latin1').split('\n')) {
        if (line) total += Number(line.split(' ')[0]);
      }
    } catch { /* gone */ }
  }
  return total;
}

interface Srv { name: string; pid: number; client: Client; handle: Handle; stop(): Promise<void> }
const base = mkdtempSync('/dev/shm/smbts-reqcost-');
chmodSync(base, 0o755);
const servers: Srv[] = [];
const mod = (await import('../src/client/index.js' as string)) as { connect: (u: string, o: unknown) => Promise<Client> };
try {
  for (const spec of (process.env.REQCOST_SERVERS ?? 'new,samba').split(',')) {
    const [name, tree] = spec.split('=') as [string, string | undefined];
    const dir = join(base, name);
    mkdirSync(dir);
    chmodSync(dir, 0o777);
    writeFileSync(join(dir, 'f'), '', { mode: 0o666 });
    let h: { port: number; pid: number; stop(): Promise<void> };
    if (name === 'samba') h = await startSamba(dir);
    else if (tree) {
      const lib = (await import(join(tree, 'dist/bench/lib/smbts.js'))) as { startSmbts: typeof startSmbts };
      h = await lib.startSmbts(dir);
    } else h = await startSmbts(dir, (process.env.REQCOST_NODEARGS ?? '').split(' ').filter(Boolean));
    const client = await mod.connect(`smb://test@127.0.0.1:${h.port}/share`, { password: 'test', dialects: [0x0311], sign: false, encrypt: false });
    const handle = await client.open('f', 'r');
    servers.push({ name, pid: h.pid, client, handle, stop: () => h.stop() });
  }
  // ECHO: the floor of a round trip (receive, dispatch, send) with no handler work.
  const wire = (await import('../src/wire/echo.js' as string)) as { encodeEchoRequest(): Buffer };
  type Conn = { send(m: { command: number; body: Buffer }, o: { channel: undefined }): Promise<unknown> };
  const echo = (c: Client): Promise<unknown> =>
    (c as unknown as { session: { channels: Array<{ connection: Conn }> } }).session.channels[0]!.connection
      .send({ command: 0x000d, body: wire.encodeEchoRequest() }, { channel: undefined });
  type Pass = [string, (s: Srv, i: number) => Promise<unknown>];
  const all: Pass[] = [
    ['ECHO', (s) => echo(s.client)],
    ['QUERY_INFO (handle.stat)', (s) => s.handle.stat()],
    ['stat (CREATE+CLOSE)', (s) => s.client.stat('f')],
    ['writeFile (CREATE+CLOSE)', (s, i) => s.client.writeFile(`n${i}`, Buffer.alloc(0))],
    ['unlink (CREATE+SET_INFO+CLOSE)', (s, i) => s.client.unlink(`n${i}`)],
  ];
  const passes = all.filter(([n]) => !process.env.REQCOST_ONLY || n.startsWith(process.env.REQCOST_ONLY));
  const res = new Map<string, number[]>();
  for (let round = 0; round <= ROUNDS; round++) {
    const order = round % 2 ? [...servers].reverse() : servers;
    for (const [pass, fn] of passes) {
      for (const s of order) {
        const c0 = cpuNs(s.pid);
        const t0 = process.hrtime.bigint();
        for (let i = 0; i < OPS; i++) await fn(s, i);
        const wall = Number(process.hrtime.bigint() - t0) / OPS / 1000;
        const us = (cpuNs(s.pid) - c0) / OPS / 1000;
        const key = `${pass}\t${s.name}`;
        if (round > 0) { // round 0 warms up
          (res.get(key) ?? res.set(key, []).get(key)!).push(us);
          (res.get(key + '\twall') ?? res.set(key + '\twall', []).get(key + '\twall')!).push(wall);
        }
      }
    }
  }
  console.log(`server CPU us/op (main-thread schedstat) | wall us/op, ${ROUNDS} rounds x ${OPS} ops: median (min)`);
  for (const [pass] of passes) {
    const cells = servers.map((s) => {
      const v = res.get(`${pass}\t${s.name}`) ?? [];
      const w = res.get(`${pass}\t${s.name}\twall`) ?? [];
      return `${s.name} ${median(v).toFixed(1)} (${Math.min(...v).toFixed(1)}) | ${median(w).toFixed(1)} (${Math.min(...w).toFixed(1)})`;
    });
    console.log(`${pass.padEnd(32)} ${cells.join('   ')}`);
  }
} finally {
  for (const s of servers) {
    await s.handle.close().catch(() => undefined);
    await s.client.close().catch(() => undefined);
    await s.stop().catch(() => undefined);
  }
  rmSync(base, { recursive: true, force: true });
}
