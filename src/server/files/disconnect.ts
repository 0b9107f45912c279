// Terminate the connection instead of answering (MS-SMB2 3.3.5.15.12 VALIDATE_NEGOTIATE_INFO mismatch).
import type { Reply, RequestContext } from '../types.js';
import { Status } from '../../wire/status.js';

export function internalDisconnect(ctx: RequestContext): Reply {
  // The request path exposes these on its context object (internal.ts); set them without
  // importing it, and also say so on the reply (types.ts Reply.disconnect).
  const c = ctx as unknown as { disconnectAfter?: boolean; noResponse?: boolean };
  c.disconnectAfter = true;
  c.noResponse = true;
  return { status: Status.ACCESS_DENIED, disconnect: true };
}
