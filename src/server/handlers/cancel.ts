// CANCEL (MS-SMB2 3.3.5.16) is handled inside the request path (connection.ts onCancel): it
// consumes no MessageId, aborts the target's AbortSignal and never gets a response. This handler
// exists only so every command has a module; the dispatcher never calls it.
import type { Handler } from '../types.js';
import { internal } from '../internal.js';
import { Status } from '../../wire/status.js';

export const handler: Handler = async (c) => {
  internal(c).noResponse = true;
  return { status: Status.SUCCESS };
};
