// smbts rdma-test serve|run: the seed-004 echo/LBUF test protocol as a tool, on any RDMA provider.
//   serve [--listen HOST:PORT] [--provider tcp|verbs|loopback]
//   run HOST:PORT [--provider ...] [--size BYTES] [--chunk BYTES] [--echo N] [--echo-size BYTES] [--depth N] [--json]
// `run --provider loopback` starts its own in-process server (there is no loopback across processes).
import { EchoClient, runEchoTest } from '../transport/rdma/echo-client.js';
import { startEchoServer } from '../transport/rdma/echo-server.js';
import { libfabricProvider } from '../transport/rdma/libfabric.js';
import { loopbackProvider } from '../transport/rdma/loopback.js';
import type { RdmaProvider } from '../transport/rdma/provider.js';
import { parseArgs, str, UsageError } from './serve-common.js';

const USAGE = `usage: smbts rdma-test serve [--listen HOST:PORT] [--provider tcp|verbs|loopback]
       smbts rdma-test run HOST:PORT [--provider P] [--size 16M] [--chunk 1M] [--echo 200] [--echo-size 64] [--depth 4] [--json]`;

/** The provider named on the command line: 'loopback', or a libfabric provider name (default tcp). */
export function providerByName(name: string | undefined): RdmaProvider {
  if (name === 'loopback') return loopbackProvider;
  return libfabricProvider(name ?? process.env.FI_PROVIDER ?? 'tcp');
}

function size(v: string | undefined, dflt: number): number {
  if (v === undefined) return dflt;
  const m = /^(\d+)([kKmMgG]?)$/.exec(v);
  if (!m) throw new UsageError(`bad size "${v}"`);
  const mul = { '': 1, k: 1024, m: 1024 * 1024, g: 1024 * 1024 * 1024 }[m[2]!.toLowerCase()]!;
  return Number(m[1]) * mul;
}

function hostPort(v: string | undefined, dflt: string): { host: string; port: number } {
  const s = v ?? dflt;
  const i = s.lastIndexOf(':');
  if (i < 0) throw new UsageError(`expected HOST:PORT, got "${s}"`);
  const port = Number(s.slice(i + 1));
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new UsageError(`bad port in "${s}"`);
  return { host: s.slice(0, i).replace(/^\[|\]$/g, ''), port };
}

export async function rdmaTestCommand(argv: string[]): Promise<number> {
  const [sub, ...rest] = argv;
  const p = parseArgs(rest, new Set(['listen', 'provider', 'size', 'chunk', 'echo', 'echo-size', 'depth']));
  const provider = providerByName(str(p, 'provider'));
  if (sub === 'serve') {
    const { host, port } = hostPort(str(p, 'listen'), '0.0.0.0:7474');
    const srv = await startEchoServer(provider, host, port);
    console.log(`rdma-test: serving on ${host}:${srv.port} (${provider.name})`);
    await new Promise<void>((resolve) => {
      const stop = (): void => { srv.close(); resolve(); };
      process.once('SIGINT', stop);
      process.once('SIGTERM', stop);
    });
    return 0;
  }
  if (sub === 'run') {
    const inProcess = provider === loopbackProvider;
    const srv = inProcess ? await startEchoServer(provider, '127.0.0.1', 0) : undefined;
    const target = srv ? { host: '127.0.0.1', port: srv.port } : hostPort(p.positional[0], '');
    const json = p.options.has('json');
    const c = await EchoClient.connect(provider, target.host, target.port, Number(str(p, 'depth') ?? 4));
    try {
      const report = await runEchoTest(c, {
        echoIterations: Number(str(p, 'echo') ?? 200),
        echoSize: size(str(p, 'echo-size'), 64),
        lbufSize: size(str(p, 'size'), 16 * 1024 * 1024),
        chunk: size(str(p, 'chunk'), 1024 * 1024),
        log: json ? undefined : (l) => console.log(`rdma-test (${c.ep.provider}): ${l}`),
      });
      if (json) console.log(JSON.stringify({ provider: c.ep.provider, ...report, stats: c.ep.stats }));
      return 0;
    } finally {
      c.close();
      srv?.close();
    }
  }
  console.error(USAGE);
  return 2;
}
