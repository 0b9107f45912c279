// ECHO (MS-SMB2 3.3.5.17): answered at once, session optional.
import type { Handler } from '../types.js';
import { decodeEchoRequest, encodeEchoResponse } from '../../wire/echo.js';
import { Status } from '../../wire/status.js';

export const handler: Handler = async (ctx) => {
  decodeEchoRequest(ctx.msg);
  return { status: Status.SUCCESS, body: encodeEchoResponse() };
};
