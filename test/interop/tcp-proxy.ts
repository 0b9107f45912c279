// A TCP proxy on loopback in front of a server, whose connections a test can cut (both sides
// destroyed at once, as a network failure): for reconnect tests without network namespaces.
import net from 'node:net';

export interface TcpProxy {
  readonly port: number;
  /** Connections accepted so far. */
  readonly accepted: number;
  /** Destroys every live connection through the proxy; new ones are still accepted. */
  cut(): void;
  close(): Promise<void>;
}

export async function startProxy(targetPort: number, host = '127.0.0.1'): Promise<TcpProxy> {
  const pairs = new Set<[net.Socket, net.Socket]>();
  let accepted = 0;
  const srv = net.createServer((client) => {
    accepted++;
    const upstream = net.connect({ host, port: targetPort });
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
  await new Promise<void>((r) => srv.listen(0, host, r));
  const port = (srv.address() as net.AddressInfo).port;
  return {
    port,
    get accepted() { return accepted; },
    cut() {
      for (const [a, b] of [...pairs]) {
        a.destroy();
        b.destroy();
      }
      pairs.clear();
    },
    close: () => new Promise<void>((r) => {
      for (const [a, b] of pairs) { a.destroy(); b.destroy(); }
      srv.close(() => r());
    }),
  };
}
