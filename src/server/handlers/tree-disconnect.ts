// TREE_DISCONNECT (MS-SMB2 3.3.5.8): closes the tree's opens, then forgets the tree.
import type { Handler } from '../types.js';
import { internal } from '../internal.js';
import { decodeTreeDisconnectRequest, encodeTreeDisconnectResponse } from '../../wire/tree-disconnect.js';
import { Status } from '../../wire/status.js';

export const handler: Handler = async (c) => {
  const ctx = internal(c);
  decodeTreeDisconnectRequest(ctx.msg);
  const session = ctx.sessionObj;
  const tree = ctx.tree;
  if (!session || !tree) return { status: Status.NETWORK_NAME_DELETED };
  await ctx.server.closeTree(session, tree, 'tree-disconnect');
  return { status: Status.SUCCESS, body: encodeTreeDisconnectResponse() };
};
