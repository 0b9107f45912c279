// Node failover for scale-out servers (docs/cluster.md): the client knows several addresses of one
// clustered server, from ConnectOptions.servers ('host[:port]') or from a host name that resolves
// to several addresses, and when its node dies it reconnects to another one (reconnect.ts), where
// its persistent handles are reclaimed with DH2C (MS-SMB2 3.2.4.4, 3.3.5.9.12).
import { lookup } from 'node:dns/promises';
import { isIP } from 'node:net';

export interface ServerAddress {
  host: string;
  port: number;
}

/** 'host', 'host:port', '[v6]', '[v6]:port' or a bare IPv6 address; throws with the reason. */
export function parseServer(s: string, defaultPort: number): ServerAddress {
  const t = s.trim();
  let host = t;
  let port = defaultPort;
  const v6 = /^\[([^\]]+)\](?::(\d+))?$/.exec(t);
  if (v6) {
    host = v6[1]!;
    if (v6[2] !== undefined) port = Number(v6[2]);
  } else if (isIP(t) !== 6) {
    const m = /^([^:]+):(\d+)$/.exec(t);
    if (m) {
      host = m[1]!;
      port = Number(m[2]);
    } else if (t.includes(':')) throw new Error(`bad server address "${s}" (expected host or host:port)`);
  }
  if (!host) throw new Error(`bad server address "${s}": no host`);
  if (!(Number.isInteger(port) && port > 0 && port < 65536)) throw new Error(`bad server address "${s}": bad port`);
  return { host, port };
}

/** Every address of a host name (tests pass their own). */
export type Resolver = (host: string) => Promise<string[]>;
const lookupAll: Resolver = async (host) => (await lookup(host, { all: true })).map((a) => a.address);

const same = (a: ServerAddress, b: ServerAddress): boolean => a.host === b.host && a.port === b.port;

/**
 * Where to try to (re)connect, in order: `current` first (a lost connection to a live node gets its
 * opens back in place), then the others of `servers`; with no list, every address `primary.host`
 * resolves to (a cluster name with one record per node). Duplicates are dropped.
 */
export async function candidates(primary: ServerAddress, servers: ServerAddress[], current: ServerAddress, resolve: Resolver = lookupAll): Promise<ServerAddress[]> {
  let all = servers.length ? [primary, ...servers] : [primary];
  if (servers.length === 0 && isIP(primary.host) === 0) {
    try {
      const addrs = await resolve(primary.host);
      if (addrs.length > 1) all = addrs.map((a) => ({ host: a, port: primary.port }));
    } catch {
      /* the name does not resolve now: the connect attempt reports it */
    }
  }
  const out: ServerAddress[] = [current];
  for (const a of all) if (!out.some((o) => same(o, a))) out.push(a);
  return out;
}
