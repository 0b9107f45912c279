// The server's listeners besides direct TCP: the NetBIOS session service (port 139) and
// SMB-Direct on an RDMA provider. Each hands the request path (connection.ts) a transport.
import * as net from 'node:net';
import { acceptNetbiosSession } from '../transport/netbios.js';
import type { RdmaProvider } from '../transport/rdma/provider.js';
import { smbdListen, type SmbdOptions } from '../transport/smbdirect/connection.js';
import { SmbdTransport } from '../transport/smbdirect/transport.js';
import type { MessageTransport } from '../transport/transport.js';

export interface SmbdirectListenOptions {
  provider: RdmaProvider;
  /** Default 5445 (the port Windows uses for SMB-Direct over iWARP); 0 = ephemeral. */
  port?: number;
  options?: SmbdOptions;
}

interface Listening {
  port: number;
  close(): void;
}

/** SMB over NBT: each connection does the RFC 1002 session request first, then is a TCP connection. */
export async function listenNetbios(host: string, port: number, accept: (s: net.Socket) => void, log: (l: string) => void): Promise<Listening> {
  const server = net.createServer({ noDelay: true }, (socket) => {
    socket.on('error', () => { /* reported by the connection, or the handshake below */ });
    acceptNetbiosSession(socket).then(({ called, calling }) => {
      log(`netbios: session ${calling} -> ${called} from ${socket.remoteAddress}`);
      accept(socket);
      socket.resume();
    }, (e: Error) => log(`netbios: ${e.message}`));
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => { server.off('error', reject); resolve(); });
  });
  return { port: (server.address() as net.AddressInfo).port, close: () => server.close() };
}

export async function listenSmbdirect(host: string, o: SmbdirectListenOptions, accept: (t: MessageTransport) => void, log: (l: string) => void): Promise<Listening> {
  let n = 0;
  const l = await smbdListen(o.provider, host, o.port ?? 5445, (conn) => {
    accept(new SmbdTransport(conn, `${host}:${l.port}`, `${o.provider.name}#${++n}`));
  }, o.options);
  log(`smbdirect: listening on ${host}:${l.port} (${o.provider.name})`);
  return l;
}
