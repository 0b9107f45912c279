// Named pipes on IPC$ (MS-SMB2 3.3.5.9: CREATE on a pipe share opens a named pipe).
import type { Open, Reply, RequestContext } from '../types.js';
import type { CreateRequest } from '../../wire/create.js';
import { Status } from '../../wire/status.js';

export async function openPipe(_ctx: RequestContext, _req: CreateRequest): Promise<Reply> {
  return { status: Status.OBJECT_NAME_NOT_FOUND };
}

export async function pipeRead(_ctx: RequestContext, _open: Open, _length: number): Promise<Reply> {
  return { status: Status.PIPE_DISCONNECTED };
}

export async function pipeWrite(_ctx: RequestContext, _open: Open, _data: Buffer): Promise<Reply> {
  return { status: Status.PIPE_DISCONNECTED };
}
