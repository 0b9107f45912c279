// LOGOFF (MS-SMB2 3.3.5.6): closes the session's opens and trees on every channel and removes
// the session from the global table. The response is still signed with the session key.
import type { Handler } from '../types.js';
import { internal } from '../internal.js';
import { decodeLogoffRequest, encodeLogoffResponse } from '../../wire/logoff.js';
import { Status } from '../../wire/status.js';

export const handler: Handler = async (c) => {
  const ctx = internal(c);
  decodeLogoffRequest(ctx.msg);
  const session = ctx.sessionObj;
  if (!session) return { status: Status.USER_SESSION_DELETED };
  await ctx.server.destroySession(session, 'logoff');
  return { status: Status.SUCCESS, body: encodeLogoffResponse() };
};
