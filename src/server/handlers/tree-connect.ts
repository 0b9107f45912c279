// TREE_CONNECT (MS-SMB2 3.3.5.7): share lookup by the last component of \\server\share, access
// by "guest ok" and the Samba user lists (share-users.ts: valid/invalid users, read/write list),
// MaximalAccess, and per-share encryption.
import { scaleOutCaps } from '../cluster/hooks.js';
import type { Handler, ShareTree } from '../types.js';
import { internal } from '../internal.js';
import { decodeTreeConnectRequest, encodeTreeConnectResponse } from '../../wire/tree-connect.js';
import { Dialect, ShareCapabilities, ShareFlags, ShareType } from '../../wire/constants.js';
import { dfsRole } from '../../config/dfs.js';
import { Status } from '../../wire/status.js';
import { continuouslyAvailable } from '../durable.js';
import { shareAccess } from '../share-users.js';

/** FILE_ALL_ACCESS and FILE_GENERIC_READ | FILE_GENERIC_EXECUTE (MS-DTYP 2.4.3 / MS-SMB2 2.2.13.1). */
const ALL_ACCESS = 0x001f01ff;
const READ_ACCESS = 0x001200a9;

/** "\\server\share" -> "share"; undefined when the path has another shape. */
export function shareNameOf(unc: string): string | undefined {
  const p = unc.replace(/\0+$/, '');
  if (!p.startsWith('\\\\')) return undefined;
  const parts = p.slice(2).split('\\');
  if (parts.length !== 2 || !parts[0] || !parts[1]) return undefined;
  return parts[1];
}

export const handler: Handler = async (c) => {
  const ctx = internal(c);
  const session = ctx.sessionObj;
  if (!session) return { status: Status.USER_SESSION_DELETED };
  const req = decodeTreeConnectRequest(ctx.msg);
  const name = shareNameOf(req.path);
  if (name === undefined) return { status: Status.BAD_NETWORK_NAME };
  const share = ctx.server.findShare(name);
  if (!share) return { status: Status.BAD_NETWORK_NAME };
  const isIpc = share.ipc === true;

  // Guests and null sessions are the guest account for the user lists, as in Samba.
  const access = isIpc ? { allowed: true, readOnly: true, admin: false } : shareAccess(share, session);
  if (!isIpc) {
    if ((session.guest || session.anonymous) && !share.guestOk) return { status: Status.ACCESS_DENIED };
    if (!access.allowed) {
      ctx.server.log(`tree connect to [${share.name}] refused for ${session.anonymous ? '(anonymous)' : session.user}${session.guest ? ' (guest)' : ''}: user lists`);
      return { status: Status.ACCESS_DENIED };
    }
  }

  // Encryption (3.3.5.7): "smb encrypt = required" globally or on the share forces it;
  // "desired" turns it on when this session can encrypt.
  const canEncrypt = ctx.conn.dialect >= Dialect.SMB3_00 && session.encryptionKey.length > 0;
  const global = ctx.server.config.smbEncrypt;
  const mode = share.encrypt === 'default' ? global : share.encrypt;
  let encrypt = session.encryptData;
  if (mode === 'required' && !isIpc) {
    if (!canEncrypt) return { status: Status.ACCESS_DENIED };
    encrypt = true;
  } else if (mode === 'desired' && canEncrypt) {
    encrypt = true;
  }

  const readOnly = access.readOnly;
  const maximalAccess = readOnly ? READ_ACCESS : ALL_ACCESS;
  const id = session.allocTreeId();
  const tree: ShareTree = {
    id,
    share,
    vfs: dfsRole(share) === 'proxy' ? undefined : ctx.server.vfsFor(share), // a proxy share is only a referral
    isIpc,
    readOnly,
    admin: access.admin,
    maximalAccess,
    encrypt,
  };
  session.trees.set(id, tree);
  ctx.responseTreeId = id;
  let shareFlags = isIpc ? ShareFlags.NO_CACHING : ShareFlags.MANUAL_CACHING;
  if (encrypt) shareFlags |= ShareFlags.ENCRYPT_DATA;
  // 2.2.10: a DFS share says so, so the client sends DFS paths and expects PATH_NOT_COVERED.
  const dfs = !isIpc && dfsRole(share) !== undefined;
  if (dfs) shareFlags |= ShareFlags.DFS | ShareFlags.DFS_ROOT;
  const body = encodeTreeConnectResponse({
    shareType: isIpc ? ShareType.PIPE : ShareType.DISK,
    shareFlags,
    // Persistent handles (2.2.10, 3.3.5.7): shares configured for continuous availability, SMB 3.x.
    capabilities: (dfs ? ShareCapabilities.DFS : 0) |
      (ctx.conn.dialect >= Dialect.SMB3_00 && continuouslyAvailable(share) ? ShareCapabilities.CONTINUOUS_AVAILABILITY | scaleOutCaps(ctx.server) : 0),
    maximalAccess,
  });
  return { status: Status.SUCCESS, body };
};
