// Child-process entry for the concurrency rows (bench/lib/concurrency.ts): K independent smbts
// client connections (each connect() has its own ClientGUID), each looping the metadata mix in a
// directory of its own until the deadline. Prints "ready" once every connection is set up, waits
// for "go" on stdin, then one JSON line {ops, start, end, cpu, perOp} or {error}.
import { performance } from 'node:perf_hooks';

interface Job {
  port: number;
  share: string;
  /** connections in this process */
  clients: number;
  /** the first client's number (directories c<n>) */
  first: number;
  /** root directory of the pass on the share */
  dir: string;
  durationMs: number;
}

interface FileHandle { close(): Promise<unknown> }
interface Client {
  writeFile(p: string, data: Buffer): Promise<unknown>;
  stat(p: string): Promise<unknown>;
  readdir(p: string): Promise<unknown[]>;
  rm(p: string): Promise<unknown>;
  mkdir(p: string): Promise<unknown>;
  open(p: string, flags?: string): Promise<FileHandle>;
  close(): Promise<unknown>;
}

/** Files every client keeps in its directory (what stat, open-close and list see). */
export const MIX_FILES = 16;

const now = (): number => performance.timeOrigin + performance.now();

async function main(): Promise<void> {
  const job = JSON.parse(process.argv[2] ?? '{}') as Job;
  const mod = (await import('../src/client/index.js' as string)) as { connect: (u: string, o: unknown) => Promise<Client> };
  const empty = Buffer.alloc(0);
  const clients: Array<{ c: Client; dir: string }> = [];
  try {
    for (let i = 0; i < job.clients; i++) {
      const c = await mod.connect(`smb://test@127.0.0.1:${job.port}/${job.share}`, { password: 'test', dialects: [0x0311], sign: false, encrypt: false });
      const dir = `${job.dir}/c${job.first + i}`;
      await c.mkdir(dir);
      for (let f = 0; f < MIX_FILES; f++) await c.writeFile(`${dir}/k${f}`, empty);
      clients.push({ c, dir });
    }
    process.stdout.write('ready\n');
    const go = await new Promise<boolean>((resolve) => {
      let buf = '';
      process.stdin.on('data', (d: Buffer) => { buf += d.toString(); if (buf.includes('go\n')) resolve(true); });
      process.stdin.once('end', () => resolve(false));
    });
    process.stdin.pause();
    if (!go) throw new Error('aborted before start');
    const cpu0 = process.cpuUsage();
    const start = now();
    const deadline = start + job.durationMs;
    const perOp = { create: 0, stat: 0, openclose: 0, list: 0, delete: 0 };
    // one cycle = create, stat, open-close, list, stat, delete (6 operations); strictly sequential
    // per connection, all connections at once
    await Promise.all(clients.map(async ({ c, dir }, ci) => {
      for (let n = 0; now() < deadline; n++) {
        const tmp = `${dir}/t${n}`;
        const k = `${dir}/k${(n + ci) % MIX_FILES}`;
        await c.writeFile(tmp, empty); perOp.create++;
        await c.stat(tmp); perOp.stat++;
        await (await c.open(k, 'r')).close(); perOp.openclose++;
        await c.readdir(dir); perOp.list++;
        await c.stat(k); perOp.stat++;
        await c.rm(tmp); perOp.delete++;
      }
    }));
    const end = now();
    const cpu = process.cpuUsage(cpu0);
    const ops = Object.values(perOp).reduce((a, b) => a + b, 0);
    process.stdout.write(`${JSON.stringify({ ops, start, end, cpu: (cpu.user + cpu.system) / 1e6, perOp })}\n`);
  } finally {
    await Promise.all(clients.map(({ c }) => c.close().catch(() => undefined)));
  }
}

main().then(
  () => process.exit(0),
  (e: unknown) => {
    process.stdout.write(`${JSON.stringify({ error: e instanceof Error ? `${e.name}: ${e.message}` : String(e) })}\n`);
    process.exit(1);
  },
);
