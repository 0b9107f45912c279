// SMB-Direct benchmark rows (not part of npm test): `npm run bench:smbdirect`.
//   1. the seed-004 echo/LBUF tool per RDMA provider: ECHO latency, LBUF read/write throughput
//   2. SMB over SMB-Direct vs SMB over TCP between the smbts client and server on this machine:
//      MB/s each way and CPU seconds per GiB (client and server share this one process)
// Knobs: BENCH_SIZE (bytes per SMB transfer, default 256 MiB), BENCH_LBUF (default 64 MiB),
// BENCH_RUNS (default 3; the median is reported), BENCH_PROVIDERS (default loopback,tcp).
// Prints a markdown table; docs/smbdirect.md keeps the last run by hand.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startServer } from '../src/server/index.js';
import { defaultConfig } from '../src/config/config.js';
import { UserDb } from '../src/auth/userdb.js';
import { connect } from '../src/client/client.js';
import { EchoClient, runEchoTest } from '../src/transport/rdma/echo-client.js';
import { startEchoServer } from '../src/transport/rdma/echo-server.js';
import { libfabricProvider, libfabricUnavailable } from '../src/transport/rdma/libfabric.js';
import { loopbackProvider } from '../src/transport/rdma/loopback.js';
import type { RdmaProvider } from '../src/transport/rdma/provider.js';

const SIZE = Number(process.env.BENCH_SIZE ?? 256 * 1024 * 1024);
const LBUF = Number(process.env.BENCH_LBUF ?? 64 * 1024 * 1024);
const RUNS = Number(process.env.BENCH_RUNS ?? 3);
const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

function providers(): Array<[string, RdmaProvider]> {
  const want = (process.env.BENCH_PROVIDERS ?? 'loopback,tcp').split(',');
  const out: Array<[string, RdmaProvider]> = [];
  for (const w of want) {
    if (w === 'loopback') out.push(['loopback (in process)', loopbackProvider]);
    else if (!libfabricUnavailable()) out.push([`libfabric ${w}`, libfabricProvider(w)]);
  }
  return out;
}

async function echoRows(): Promise<string[]> {
  const rows = ['| provider | ECHO 64 B latency p50 / p99 (µs) | LBUF read (MB/s) | LBUF write (MB/s) |', '| --- | --- | --- | --- |'];
  for (const [name, p] of providers()) {
    const p50: number[] = [], p99: number[] = [], rd: number[] = [], wr: number[] = [];
    for (let i = 0; i < RUNS; i++) {
      const srv = await startEchoServer(p, '127.0.0.1', 0);
      const c = await EchoClient.connect(p, '127.0.0.1', srv.port, 4);
      const r = await runEchoTest(c, { echoIterations: 500, lbufSize: LBUF, chunk: 1024 * 1024 });
      c.close();
      srv.close();
      p50.push(r.echo.p50Us); p99.push(r.echo.p99Us); rd.push(r.read.mbPerSec); wr.push(r.write.mbPerSec);
    }
    rows.push(`| ${name} | ${median(p50).toFixed(0)} / ${median(p99).toFixed(0)} | ${median(rd).toFixed(0)} | ${median(wr).toFixed(0)} |`);
  }
  return rows;
}

async function smbRows(): Promise<string[]> {
  const rows = ['| transport | write (MB/s) | read (MB/s) | CPU s per GiB (client + server) |', '| --- | --- | --- | --- |'];
  const dir = mkdtempSync(join(process.env.BENCH_DIR ?? '/dev/shm', 'smbts-smbd-bench-'));
  const users = UserDb.empty();
  users.add('test', 'test');
  const p = libfabricUnavailable() ? loopbackProvider : libfabricProvider(process.env.FI_PROVIDER ?? 'tcp');
  const srv = await startServer({ config: defaultConfig(dir), users, host: '127.0.0.1', port: 0, smbdirect: { provider: p, port: 0 } });
  const chunk = 8 * 1024 * 1024;
  const data = Buffer.alloc(chunk, 0x5a);
  try {
    for (const transport of ['tcp', 'smbdirect'] as const) {
      const w: number[] = [], r: number[] = [], cpu: number[] = [];
      for (let i = 0; i < RUNS; i++) {
        const port = transport === 'tcp' ? srv.port : srv.smbdirectPort!;
        const c = await connect(`smb://test:test@127.0.0.1:${port}/share`, { transport, rdmaProvider: p });
        const c0 = process.cpuUsage();
        let t = process.hrtime.bigint();
        const f = await c.open('bench.bin', 'w');
        for (let off = 0; off < SIZE; off += chunk) await f.write(data, off);
        await f.close();
        w.push(SIZE / 1e6 / (Number(process.hrtime.bigint() - t) / 1e9));
        t = process.hrtime.bigint();
        const g = await c.open('bench.bin', 'r');
        for (let off = 0; off < SIZE; off += chunk) await g.read(off, chunk);
        await g.close();
        r.push(SIZE / 1e6 / (Number(process.hrtime.bigint() - t) / 1e9));
        const u = process.cpuUsage(c0);
        cpu.push((u.user + u.system) / 1e6 / ((2 * SIZE) / 2 ** 30));
        await c.close();
      }
      const label = transport === 'tcp' ? 'SMB over TCP' : `SMB over SMB-Direct (${p.name})`;
      rows.push(`| ${label} | ${median(w).toFixed(0)} | ${median(r).toFixed(0)} | ${median(cpu).toFixed(2)} |`);
    }
  } finally {
    await srv.close();
    rmSync(dir, { recursive: true, force: true });
  }
  return rows;
}

const lines = [
  `SMB-Direct bench: ${new Date().toISOString()}, SMB ${SIZE / 2 ** 20} MiB per transfer, LBUF ${LBUF / 2 ** 20} MiB, median of ${RUNS}`,
  '',
  ...(await echoRows()),
  '',
  ...(await smbRows()),
];
console.log(lines.join('\n'));
process.exit(0);
