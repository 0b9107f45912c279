// Named pipes on IPC$ (MS-SMB2 3.3.5.9: CREATE on a pipe share opens a named pipe; READ/WRITE and
// FSCTL_PIPE_TRANSCEIVE move DCE/RPC PDUs through an RpcPipe).
import type { Open, Reply, RequestContext } from '../types.js';
import { encodeCreateResponse, type CreateRequest } from '../../wire/create.js';
import { encodeReadResponse } from '../../wire/read.js';
import { encodeWriteResponse } from '../../wire/write.js';
import { Status } from '../../wire/status.js';
import { CreateAction, OplockLevel } from '../../wire/constants.js';
import { RpcPipe, isKnownPipe } from '../../rpc/pipe.js';
import { attachState, newNode } from '../open-file.js';
import { inList } from '../share-users.js';

export async function openPipe(ctx: RequestContext, req: CreateRequest): Promise<Reply> {
  const tree = ctx.tree!;
  const session = ctx.session!;
  const name = req.name.replace(/^\\+/, '');
  if (!isKnownPipe(name)) return { status: Status.OBJECT_NAME_NOT_FOUND };
  // Administrators ([global] admin users) may see share paths (srvsvc levels 2 / 502).
  const pipe = new RpcPipe(name, ctx.server.rpcInfo(inList(ctx.server.config.adminUsers, session) && !session.guest && !session.anonymous));
  const fileId = ctx.server.newFileId();
  const open: Open = {
    fileId, tree, session, path: pipe.name, isDirectory: false, handle: undefined, pipe,
    grantedAccess: req.desiredAccess >>> 0, shareAccess: req.shareAccess, createOptions: req.createOptions,
    oplockLevel: OplockLevel.NONE, deleteOnClose: false, dirCursor: undefined, extra: new Map(),
  };
  attachState(open, newNode());
  ctx.server.registerOpen(open);
  ctx.setRelatedFileId(fileId);
  return {
    status: Status.SUCCESS,
    body: encodeCreateResponse({
      oplockLevel: OplockLevel.NONE, flags: 0, createAction: CreateAction.OPENED, creationTime: 0n, lastAccessTime: 0n,
      lastWriteTime: 0n, changeTime: 0n, allocationSize: 4096n, endOfFile: 0n, fileAttributes: 0x80, fileId, contexts: [],
    }),
  };
}

function pipeOf(open: Open): RpcPipe {
  return open.pipe as RpcPipe;
}

export async function pipeRead(_ctx: RequestContext, open: Open, length: number): Promise<Reply> {
  const pipe = pipeOf(open);
  const data = pipe.read(length);
  if (!data || data.length === 0) return { status: Status.PIPE_EMPTY };
  // Message mode: the rest of the PDU is still queued -> BUFFER_OVERFLOW with the data (3.3.5.12).
  const status = pipe.messageRemaining > 0 && data.length === length ? Status.BUFFER_OVERFLOW : Status.SUCCESS;
  return { status, body: encodeReadResponse({ data, dataRemaining: 0 }) };
}

export async function pipeWrite(_ctx: RequestContext, open: Open, data: Buffer): Promise<Reply> {
  pipeOf(open).write(data);
  return { status: Status.SUCCESS, body: encodeWriteResponse({ count: data.length, remaining: 0 }) };
}

export function pipeTransceive(open: Open, input: Buffer, maxOutput: number): { status: number; output: Buffer } {
  const pipe = pipeOf(open);
  const output = pipe.transceive(input, maxOutput);
  return { status: pipe.messageRemaining > 0 && output.length === maxOutput ? Status.BUFFER_OVERFLOW : Status.SUCCESS, output };
}
