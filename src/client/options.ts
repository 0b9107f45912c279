// connect()'s two forms, checked before anything goes on the wire: connect('smb://user@host/share',
// options) and connect({ host, share, username, password, ... }). An option name we do not know or
// a value of the wrong type is an error (a typo must not be ignored silently), and a missing user
// name is said as such instead of surfacing later as ACCESS_DENIED.
import { Status } from '../wire/status.js';
import { SmbError } from './errors.js';
import type { MultichannelOptions } from './multichannel.js';
import { parseSmbUrl, type SmbUrl } from './url.js';
import { parseServer } from './failover.js';
import type { KerberosOptions, Krb5Mode } from './krb5-gss.js';
import type { ReconnectOptions } from './reconnect.js';
import type { ClientTransport } from './connection.js';
import type { RdmaProvider } from '../transport/rdma/provider.js';
import type { SmbdOptions } from '../transport/smbdirect/connection.js';
import type { DfsOptions } from './dfs.js';

export interface ConnectOptions {
  password?: string;
  domain?: string;
  /** User name; overrides the one in the URL. */
  username?: string;
  /** Dialects to offer (default 2.1, 3.0, 3.0.2, 3.1.1). */
  dialects?: number[];
  /** Encrypt everything (needs SMB 3.x); the server may require it anyway. */
  encrypt?: boolean;
  /** Require signing (the server may require it anyway). */
  sign?: boolean;
  /** Per-request timeout (and connect timeout), ms. Default 30 s. */
  timeoutMs?: number;
  /** Idle ECHO interval, ms (default 60 s; 0 = off). */
  keepaliveMs?: number;
  /** Bytes per READ/WRITE (default 1 MiB, capped by the server). */
  chunkSize?: number;
  /** READ/WRITE requests in flight per transfer (default 8). */
  depth?: number;
  /** Ciphers to offer for 3.1.1, in preference order (CipherId values). */
  ciphers?: number[];
  /** Signing algorithms to offer for 3.1.1, in preference order (SigningAlgorithmId values). */
  signingAlgorithms?: number[];
  workstation?: string;
  /**
   * SMB3 multichannel: after the session is up, query the server's interfaces and bind up to
   * maxChannels-1 more connections to it (default maxChannels 1 = off). See multichannel.ts.
   */
  multichannel?: MultichannelOptions;
  /** Aborts the connect (rejects with AbortError). */
  signal?: AbortSignal;
  /** Kerberos: 'off' (default) NTLM only; 'auto' Kerberos when the server offers it and a ticket
   *  can be had (ccache, password or keytab), else NTLM; 'required' Kerberos or fail. */
  krb5?: Krb5Mode;
  kerberos?: KerberosOptions;
  /**
   * Files opened through this API ask for durable v2 handles (persistent on shares with
   * continuous availability), so a lost connection is survived (default true; SMB 3.x only).
   */
  durable?: boolean;
  /** Reconnect after a lost connection (reconnect.ts); `{ attempts: 0 }` turns it off. */
  reconnect?: ReconnectOptions;
  /**
   * Other addresses of the same clustered server ('host' or 'host:port'; the port defaults to the
   * URL's): connect() takes the first that answers, and a reconnect after the node died moves to
   * another one and reclaims the persistent handles there (failover.ts, docs/cluster.md).
   */
  servers?: string[];
  /**
   * 'tcp' (direct TCP, default), 'netbios' (NetBIOS session service, RFC 1002; port 139) or
   * 'smbdirect' (MS-SMBD over `rdmaProvider`; READ/WRITE payloads move by RDMA). See docs/smbdirect.md.
   */
  transport?: ClientTransport;
  rdmaProvider?: RdmaProvider;
  smbdirect?: SmbdOptions;
  /** DFS (dfs.ts): follow referrals (default on; false = never). */
  dfs?: DfsOptions | false;
}

/** The object form of connect(): where to connect plus the ConnectOptions. */
export interface ConnectTarget extends ConnectOptions {
  host: string;
  /** Default 445. */
  port?: number;
  share: string;
  /** Directory inside the share that relative paths resolve against. Default: the share root. */
  path?: string;
}

type Kind = 'string' | 'number' | 'boolean' | 'number[]' | 'string[]' | 'object' | 'object|false' | 'signal';
const OPTION_KINDS: Record<keyof ConnectOptions, Kind> = {
  password: 'string', domain: 'string', username: 'string', dialects: 'number[]', encrypt: 'boolean', sign: 'boolean',
  timeoutMs: 'number', keepaliveMs: 'number', chunkSize: 'number', depth: 'number', ciphers: 'number[]', signingAlgorithms: 'number[]',
  workstation: 'string', multichannel: 'object', signal: 'signal', krb5: 'string', kerberos: 'object', dfs: 'object|false',
  durable: 'boolean', reconnect: 'object', transport: 'string', rdmaProvider: 'object', smbdirect: 'object', servers: 'string[]',
};
const TARGET_KINDS: Record<'host' | 'port' | 'share' | 'path', Kind> = { host: 'string', port: 'number', share: 'string', path: 'string' };

function bad(msg: string): SmbError {
  return new SmbError(Status.INVALID_PARAMETER, `connect: ${msg}`);
}

function check(o: object, kinds: Record<string, Kind>): void {
  for (const [k, v] of Object.entries(o)) {
    const kind = kinds[k];
    if (!kind) throw bad(`unknown option "${k}" (known: ${Object.keys(kinds).join(', ')})`);
    if (v === undefined) continue;
    const ok = kind === 'number[]' ? Array.isArray(v) && v.every((x) => typeof x === 'number')
      : kind === 'string[]' ? Array.isArray(v) && v.every((x) => typeof x === 'string')
      : kind === 'signal' ? v instanceof AbortSignal
        : kind === 'object' ? typeof v === 'object' && v !== null
          : kind === 'object|false' ? v === false || (typeof v === 'object' && v !== null)
          : kind === 'number' ? typeof v === 'number' && Number.isFinite(v) && v >= 0
            : typeof v === kind;
    if (!ok) throw bad(`option "${k}" must be ${kind === 'signal' ? 'an AbortSignal' : kind === 'number' ? 'a number >= 0' : kind === 'object|false' ? 'an object or false' : `a ${kind}`}`);
  }
}

/** Both forms of connect() -> where to go and the options, validated. */
export function normalizeConnect(target: string | ConnectTarget, options: ConnectOptions | undefined): { url: SmbUrl; options: ConnectOptions } {
  let url: SmbUrl;
  let opts: ConnectOptions;
  if (typeof target === 'string') {
    check(options ?? {}, OPTION_KINDS);
    url = parseSmbUrl(target);
    opts = options ?? {};
    if (!url.share) throw new SmbError(Status.OBJECT_PATH_SYNTAX_BAD, `no share in "${target}"`);
  } else if (typeof target === 'object' && target !== null) {
    if (options !== undefined) throw bad('give the options inside the object (connect({ host, share, ... })), not as a second argument');
    check(target, { ...OPTION_KINDS, ...TARGET_KINDS });
    const { host, port, share, path, ...rest } = target;
    if (!host) throw bad('no host given');
    if (!share) throw bad('no share given');
    if (port !== undefined && !(Number.isInteger(port) && port > 0 && port < 65536)) throw bad(`bad port ${port}`);
    url = { host, port: port ?? 445, share, path: (path ?? '').replace(/^[\\/]+|[\\/]+$/g, ''), user: '', domain: '', password: undefined };
    opts = rest;
  } else {
    throw bad(`expected an smb:// URL or { host, share, username, ... }, got ${typeof target}`);
  }
  for (const s of opts.servers ?? []) {
    try {
      parseServer(s, url.port);
    } catch (e) {
      throw bad(`option "servers": ${(e as Error).message}`);
    }
  }
  const user = opts.username ?? url.user;
  // With Kerberos the user may come from the ticket cache (the client principal).
  if (!user && (opts.krb5 ?? 'off') === 'off') {
    throw new SmbError(Status.INVALID_PARAMETER,
      typeof target === 'string' ? `no user given: put one in the URL (smb://user@${url.host}/${url.share}) or pass { username }` : 'no user given: pass { username }');
  }
  return { url: { ...url, user }, options: opts };
}
