// Tree connect (MS-SMB2 3.2.4.2.4): a share of a session. Requests on a tree carry its TreeId and
// are encrypted when the share demands it (ShareFlags ENCRYPT_DATA) or the session does.
import { Command, Dialect, HeaderFlags, IoctlFlags, Fsctl, ShareFlags, ShareType } from '../wire/constants.js';
import { decodeIoctlResponse, encodeIoctlRequest } from '../wire/ioctl.js';
import { decodeValidateNegotiateInfoResponse, encodeValidateNegotiateInfoRequest } from '../wire/fsctl.js';
import { RELATED_FILE_ID } from '../wire/common.js';
import type { NegotiateResult } from './negotiate.js';
import { decodeTreeConnectResponse, encodeTreeConnectRequest } from '../wire/tree-connect.js';
import { encodeTreeDisconnectRequest } from '../wire/tree-disconnect.js';
import { Status } from '../wire/status.js';
import type { SmbRequest, SmbResponse } from './connection.js';
import type { RequestOptions, Session } from './session.js';
import { SmbError, parse } from './errors.js';
import type { FileHandle } from './file.js';

export class Tree {
  /** Share capabilities of the TREE_CONNECT response (CONTINUOUS_AVAILABILITY: persistent handles). */
  capabilities = 0;
  /** Open handles of this tree: a reconnect reopens the durable ones (reconnect.ts). */
  readonly handles = new Set<FileHandle>();

  constructor(
    readonly session: Session,
    /** Changes when a reconnect connects the share again. */
    public id: number,
    readonly share: string,
    readonly shareType: number,
    readonly shareFlags: number,
    readonly maximalAccess: number,
    readonly encrypt: boolean,
  ) {}

  async request(req: SmbRequest, o: RequestOptions = {}): Promise<SmbResponse> {
    const [r] = await this.compound([req], o);
    return r!;
  }

  compound(reqs: SmbRequest[], o: RequestOptions = {}, throwOnError = true): Promise<SmbResponse[]> {
    // After a lost connection the TreeId changes with the reconnect: read it once that is done.
    const waiting = this.session.ready();
    if (waiting) return waiting.then(() => this.send(reqs, o, throwOnError));
    return this.send(reqs, o, throwOnError);
  }

  private send(reqs: SmbRequest[], o: RequestOptions, throwOnError: boolean): Promise<SmbResponse[]> {
    return this.session.compound(reqs, Object.assign({}, o, { treeId: this.id, encrypt: this.encrypt || o.encrypt }), throwOnError);
  }

  async disconnect(): Promise<void> {
    try {
      await this.request({ command: Command.TREE_DISCONNECT, body: encodeTreeDisconnectRequest() }, { timeoutMs: 5000 });
    } catch { /* best effort */ }
  }
}

/**
 * FSCTL_VALIDATE_NEGOTIATE_INFO (MS-SMB2 3.2.5.5 / 2.2.31.4): for 3.0 and 3.0.2, proves with a signed
 * exchange that nobody downgraded the NEGOTIATE. (3.1.1 has preauth integrity instead.) A mismatch
 * means tampering: the connection is dropped.
 */
export async function validateNegotiate(tree: Tree, neg: NegotiateResult): Promise<void> {
  const s = tree.session;
  if (neg.dialect !== Dialect.SMB3_00 && neg.dialect !== Dialect.SMB3_02) return;
  if (s.guest || s.anonymous) return;
  const input = encodeValidateNegotiateInfoRequest({
    capabilities: neg.clientCapabilities, guid: neg.clientGuid, securityMode: neg.clientSecurityMode, dialects: neg.dialects,
  });
  const res = await tree.request({
    command: Command.IOCTL,
    body: encodeIoctlRequest({
      ctlCode: Fsctl.VALIDATE_NEGOTIATE_INFO, fileId: RELATED_FILE_ID, input, maxInputResponse: 0, maxOutputResponse: 24,
      flags: IoctlFlags.IS_FSCTL,
    }),
  }, { sign: true, allow: [Status.NOT_SUPPORTED, Status.INVALID_DEVICE_REQUEST, Status.FILE_CLOSED] });
  const conn = s.channel().connection;
  const fail = (why: string): never => {
    const e = new SmbError(Status.ACCESS_DENIED, `negotiate validation failed (${why}): possible downgrade attack, connection dropped`);
    conn.fail(e);
    throw e;
  };
  // The connection verified the signature if there was one; here it must be there (or encrypted).
  if (!tree.encrypt && !s.encryptData && !(res.header.flags & HeaderFlags.SIGNED)) fail('unsigned response');
  if (res.header.status !== Status.SUCCESS) return; // server does not implement it (signed answer)
  const v = parse(() => decodeValidateNegotiateInfoResponse(decodeIoctlResponse(res.msg).output));
  if (v.dialect !== neg.dialect) fail('dialect');
  if (!v.guid.equals(neg.serverGuid)) fail('server GUID');
  if (v.securityMode !== neg.serverSecurityMode) fail('security mode');
  if (v.capabilities !== neg.serverCapabilities) fail('capabilities');
}

export async function connectTree(session: Session, host: string, share: string, forceEncrypt: boolean): Promise<Tree> {
  const path = `\\\\${host}\\${share}`;
  const body = encodeTreeConnectRequest({ flags: 0, path });
  // 3.x: sign TREE_CONNECT so a man in the middle cannot strip the share's ENCRYPT_DATA flag.
  const sign = session.dialect >= Dialect.SMB3_00 && !session.guest && !session.anonymous;
  let res: SmbResponse;
  try {
    res = await session.request({ command: Command.TREE_CONNECT, body }, { sign, encrypt: forceEncrypt, path: share });
  } catch (e) {
    if (e instanceof SmbError && e.status === Status.BAD_NETWORK_NAME) throw new SmbError(e.status, `no such share "${share}"`);
    throw e;
  }
  const r = parse(() => decodeTreeConnectResponse(res.msg));
  const encrypt = forceEncrypt || session.encryptData || (r.shareFlags & ShareFlags.ENCRYPT_DATA) !== 0;
  if (encrypt && !session.encryptionKey) {
    throw new SmbError(Status.ACCESS_DENIED, `share "${share}" requires encryption, which this dialect/cipher cannot do`);
  }
  if (r.shareType !== ShareType.DISK && r.shareType !== ShareType.PIPE) {
    throw new SmbError(Status.NOT_SUPPORTED, `share "${share}" is not a disk share`);
  }
  const tree = new Tree(session, res.header.treeId, share, r.shareType, r.shareFlags, r.maximalAccess, encrypt);
  tree.capabilities = r.capabilities;
  return tree;
}
