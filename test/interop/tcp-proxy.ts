// A TCP proxy on loopback in front of a server, whose connections a test can cut (both sides
// destroyed at once, as a network failure): for reconnect tests without network namespaces.
import net from 'node:net';

export interface TcpProxy {
  readonly port: number;
  /** Connections accepted so far. */
  readonly accepted: number;
  /** Connections through the proxy now. */
  readonly live: number;
  /** Destroys every live connection through the proxy; new ones are still accepted. */
  cut(): void;
  /** Destroys the oldest live connection only (one channel of a multichannel session). */
  cutOne(): boolean;
  /** New connections go to this port from now on (a server restarted elsewhere). */
  retarget(port: number): void;
  close(): Promise<void>;
}

/**
 * A proxy on `host` (port 0 = any free one; `listenPort` picks one, e.g. 445 for DFS targets) to
 * `targetHost`:`targetPort` (default: the same host).
 */
export async function startProxy(targetPort: number, host = '127.0.0.1', o: { listenPort?: number; targetHost?: string } = {}): Promise<TcpProxy> {
  const pairs = new Set<[net.Socket, net.Socket]>();
  let accepted = 0;
  let to = targetPort;
  const srv = net.createServer((client) => {
    accepted++;
    const upstream = net.connect({ host: o.targetHost ?? host, port: to });
    const pair: [net.Socket, net.Socket] = [client, upstream];
    pairs.add(pair);
    const end = (): void => {
      pairs.delete(pair);
      client.destroy();
      upstream.destroy();
    };
    client.on('error', end).on('close', end);
    upstream.on('error', end).on('close', end);
    client.pipe(upstream);
    upstream.pipe(client);
  });
  await new Promise<void>((resolve, reject) => {
    srv.once('error', reject);
    srv.listen(o.listenPort ?? 0, host, () => { srv.off('error', reject); resolve(); });
  });
  const port = (srv.address() as net.AddressInfo).port;
  return {
    port,
    get accepted() { return accepted; },
    get live() { return pairs.size; },
    cut() {
      for (const [a, b] of [...pairs]) {
        a.destroy();
        b.destroy();
      }
      pairs.clear();
    },
    retarget(port) { to = port; },
    cutOne() {
      const first = pairs.values().next();
      if (first.done) return false;
      const [a, b] = first.value;
      pairs.delete(first.value);
      a.destroy();
      b.destroy();
      return true;
    },
    close: () => new Promise<void>((r) => {
      for (const [a, b] of pairs) { a.destroy(); b.destroy(); }
      srv.close(() => r());
    }),
  };
}
