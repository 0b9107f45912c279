// Server-wide state (MS-SMB2 3.3.1.1): the global session table keyed by SessionId, the global
// open table keyed by persistent FileId, opens by path (share modes, oplocks), one Vfs per share,
// and the notifier that delivers unsolicited breaks on any live channel of a session.
import { randomBytes } from 'node:crypto';
import * as closeModule from './handlers/close.js';
import * as createModule from './handlers/create.js';
import type { FileId, Notifier, Open, ShareTree } from './types.js';
import type { Authenticator, ServerCore, TeardownReason } from './internal.js';
import type { Session } from './session.js';
import type { Connection } from './connection.js';
import type { ServerConfig, ShareConfig } from '../config/config.js';
import { privateStatePaths, stateHome } from './private-state.js';
import type { Vfs } from '../vfs/types.js';
import { LocalVfs } from '../vfs/local.js';
import { keepDisconnected } from './durable.js';
import { foldCase } from '../vfs/path.js';
import { msToFiletime } from '../wire/buf.js';
import type { UserDb } from '../auth/userdb.js';
import { NtlmServer } from '../auth/ntlm-server.js';
import { OID_KRB5, OID_MS_KRB5, OID_NTLMSSP, SpnegoServer, serverNegotiateHint } from '../auth/spnego.js';
import { Krb5Service } from '../auth/krb5/service.js';
import type { RpcServerInfo } from '../rpc/iface.js';

/** close.ts may export `closeOpen` (types.ts OpenCloser). */
type OpenCloser = import("./types.js").OpenCloser;

function exported<T>(mod: object, name: string): T | undefined {
  return (mod as Record<string, unknown>)[name] as T | undefined;
}

export class ServerStateImpl implements ServerCore {
  readonly serverGuid = randomBytes(16);
  readonly startTime = msToFiletime(Date.now());
  readonly sessions = new Map<bigint, Session>();
  readonly connections = new Set<Connection>();
  readonly notifier: Notifier;
  readonly leasing: boolean;
  readonly negotiateHint: Buffer;
  /** Kerberos acceptor shared by every exchange (one replay cache), when a keytab is configured. */
  private readonly krb5: Krb5Service | undefined;
  private readonly opens = new Map<bigint, Open>();
  /** share name (folded) -> opens of that share, for opensByPath. */
  private readonly opensByShare = new Map<string, Set<Open>>();
  /** Open.fileKey -> opens of that file (every stream, every share: one identity per file). */
  private readonly opensByKey = new Map<string, Set<Open>>();
  private readonly vfs = new Map<string, Vfs>();
  private nextFileId = 1n;

  constructor(
    readonly config: ServerConfig,
    readonly users: UserDb,
    private readonly logger: (line: string) => void,
  ) {
    this.leasing = exported<boolean>(createModule, 'SUPPORTS_LEASING') === true;
    this.krb5 = config.kerberos ? new Krb5Service({
      keytabPath: config.kerberos.keytab, realm: config.kerberos.realm, usernameMap: config.usernameMap,
      userExists: (name) => users.lookup(name, '') !== undefined, log: (l) => this.log(l),
    }) : undefined;
    this.negotiateHint = serverNegotiateHint([
      ...(this.krb5 ? [OID_MS_KRB5, OID_KRB5] : []), ...(config.ntlmAuth === false ? [] : [OID_NTLMSSP]),
    ]);
    this.notifier = {
      sendUnsolicited: (sessionId: bigint, command: number, body: Buffer, preferConnectionId?: number): void => {
        const s = this.sessions.get(sessionId);
        if (s) {
          const ch = s.anyChannel(preferConnectionId);
          if (ch) ch.connection.sendUnsolicited(s, command, body);
          return;
        }
        // No session (2.0.2-style oplock break with SessionId 0): the given connection, if any.
        for (const c of this.connections) {
          if (c.id === preferConnectionId && !c.closed) c.sendUnsolicited(undefined, command, body);
        }
      },
    };
  }

  log(line: string): void {
    try {
      this.logger(line);
    } catch {
      // a broken logger must not break the server
    }
  }

  // ------------------------------------------------------------------ sessions

  allocSessionId(): bigint {
    for (;;) {
      // Random ids so they are not guessable; never 0. 32 bits wide as Samba's (smbXsrv
      // session_global_id): smb2.session-id and other clients keep the id in a 32-bit variable.
      const id = BigInt(randomBytes(4).readUInt32LE(0));
      if (id !== 0n && !this.sessions.has(id)) return id;
    }
  }

  newAuthenticator(): Authenticator {
    const ntlm = this.config.ntlmAuth === false ? undefined : new NtlmServer({
      lookup: this.users.lookup,
      serverName: this.config.netbiosName,
      domainName: this.config.workgroup,
      allowGuest: this.config.mapToGuest === 'bad user',
      allowAnonymous: true,
    });
    const spnego = new SpnegoServer(ntlm, this.krb5);
    return { step: (token: Buffer) => spnego.accept(token) };
  }

  async destroySession(session: Session, reason: TeardownReason): Promise<void> {
    if (this.sessions.get(session.id) === session) this.sessions.delete(session.id);
    session.state = 'expired';
    for (const c of this.connections) c.abortSession(session);
    session.channels.clear();
    for (const tree of [...session.trees.values()]) await this.closeTree(session, tree, reason);
    for (const open of [...session.opens.values()]) await this.closeOpen(open, reason);
  }

  // ------------------------------------------------------------------ shares and trees

  findShare(name: string): ShareConfig | undefined {
    const n = name.toLowerCase();
    return this.config.shares.find((s) => s.name.toLowerCase() === n);
  }

  /** Serves share `name` from `vfs` instead of a LocalVfs on its path (startServer's `vfs` option). */
  useVfs(name: string, vfs: Vfs): void {
    this.vfs.set(name.toLowerCase(), vfs);
  }

  vfsFor(share: ShareConfig): Vfs | undefined {
    if (share.ipc) return undefined;
    const key = share.name.toLowerCase();
    let v = this.vfs.get(key);
    if (!v) {
      v = new LocalVfs(share.path, { label: share.name, hiddenPaths: privateStatePaths(this.config), stateHome: stateHome() });
      this.vfs.set(key, v);
    }
    return v;
  }

  async closeTree(session: Session, tree: ShareTree, reason: TeardownReason): Promise<void> {
    session.trees.delete(tree.id);
    for (const open of [...session.opens.values()]) {
      if (open.tree === tree) await this.closeOpen(open, reason);
    }
  }

  // ------------------------------------------------------------------ opens

  newFileId(): FileId {
    const n = this.nextFileId++;
    return { persistent: n, volatile: n };
  }

  /** Keeps new FileIds above `id` (persistent opens restored after a restart, durable.ts). */
  reserveFileId(id: bigint): void {
    if (id >= this.nextFileId) this.nextFileId = id + 1n;
  }

  registerOpen(open: Open): void {
    this.opens.set(open.fileId.persistent, open);
    open.session.opens.set(open.fileId.volatile, open);
    const key = open.tree.share.name.toLowerCase();
    let set = this.opensByShare.get(key);
    if (!set) this.opensByShare.set(key, (set = new Set()));
    set.add(open);
    if (open.fileKey !== undefined) {
      let byKey = this.opensByKey.get(open.fileKey);
      if (!byKey) this.opensByKey.set(open.fileKey, (byKey = new Set()));
      byKey.add(open);
    }
  }

  unregisterOpen(open: Open): void {
    if (this.opens.get(open.fileId.persistent) === open) this.opens.delete(open.fileId.persistent);
    if (open.session.opens.get(open.fileId.volatile) === open) open.session.opens.delete(open.fileId.volatile);
    this.opensByShare.get(open.tree.share.name.toLowerCase())?.delete(open);
    if (open.fileKey !== undefined) {
      const byKey = this.opensByKey.get(open.fileKey);
      if (byKey?.delete(open) && byKey.size === 0) this.opensByKey.delete(open.fileKey);
    }
  }

  opensByFile(fileKey: string): Open[] {
    const set = this.opensByKey.get(fileKey);
    const local = set ? [...set] : [];
    // Cluster mode: other nodes' opens of the file, mirrored (cluster/coordinator.ts).
    return this.remoteOpens ? local.concat(this.remoteOpens(fileKey)) : local;
  }

  /** Cluster mode: the mirrored opens other nodes hold on a file. */
  remoteOpens: ((fileKey: string) => Open[]) | undefined;

  /** This node's own opens of a file. */
  localOpensByFile(fileKey: string): Open[] {
    const set = this.opensByKey.get(fileKey);
    return set ? [...set] : [];
  }

  /** Opens by current path (scans the share's opens so renames need no re-indexing). */
  opensByPath(shareName: string, path: string): Open[] {
    const set = this.opensByShare.get(shareName.toLowerCase());
    if (!set) return [];
    // The lookup's own folding rule (vfs/path.ts foldCase), never another one.
    const want = foldCase(path);
    const out: Open[] = [];
    for (const o of set) if (foldCase(o.path) === want) out.push(o);
    return out;
  }

  openByPersistentId(id: bigint): Open | undefined {
    return this.opens.get(id);
  }

  get openCount(): number {
    return this.opens.size;
  }

  async closeOpen(open: Open, reason: TeardownReason): Promise<void> {
    // A durable open outlives its connection and its session (durable.ts; a LOGOFF too, as Samba:
    // smb2.durable-open.reopen4).
    if ((reason === 'disconnect' || reason === 'logoff') && keepDisconnected(this, open)) return;
    const closer = exported<OpenCloser>(closeModule, 'closeOpen');
    try {
      if (closer) {
        await closer(open, this);
      } else {
        this.unregisterOpen(open);
        await open.handle?.close();
        const pipe = open.pipe as { close?: () => unknown } | undefined;
        await pipe?.close?.();
      }
    } catch (e) {
      this.log(`close of ${open.tree.share.name}/${open.path} (${reason}) failed: ${(e as Error).message}`);
    } finally {
      this.unregisterOpen(open);
    }
  }

  // ------------------------------------------------------------------ rpc

  rpcInfo(callerIsAdmin = false): RpcServerInfo {
    const config = this.config;
    return {
      callerIsAdmin,
      serverName: config.netbiosName,
      domain: config.workgroup,
      comment: config.serverString,
      versionMajor: 10,
      versionMinor: 0,
      shares: () => config.shares
        .filter((s) => s.browseable || s.ipc)
        .map((s) => ({
          name: s.name,
          // MS-SRVS 2.2.2.4: STYPE_IPC | STYPE_SPECIAL for IPC$, STYPE_SPECIAL for other "$" shares.
          type: s.ipc ? 0x80000003 : s.name.endsWith('$') ? 0x80000000 : 0,
          comment: s.comment,
          path: s.ipc ? '' : s.path,
        })),
    };
  }
}
