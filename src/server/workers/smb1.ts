// An SMB1 multi-protocol NEGOTIATE carries no ClientGuid, but the SMB2 NEGOTIATE that follows
// the upgrade does (MS-SMB2 3.3.5.3.1: the server answers "SMB 2.???" and the client negotiates
// again). The primary answers the SMB1 step itself, with the same code and the same inputs a
// worker would use, reads the next frame and routes by its ClientGuid; the worker replays the SMB1
// step on its own connection (state and credits as if it had answered) before the SMB2 frame.
import type { Connection } from '../connection.js';
import { CreditWindow } from '../credits.js';
import { handleSmb1Negotiate } from '../handlers/negotiate.js';
import type { ServerConfig } from '../../config/config.js';
import { Dialect } from '../../wire/constants.js';

export interface Smb1Answer {
  /** the SMB2 NEGOTIATE response to send (no framing) */
  reply: Buffer;
  /** true for "SMB 2.???": an SMB2 NEGOTIATE (with a ClientGuid) comes next */
  wildcard: boolean;
}

/**
 * The answer a worker would give to this SMB1 NEGOTIATE, or undefined when it offers no SMB2
 * dialect we serve (the worker would drop the connection too). `negotiateHint` is the SPNEGO hint
 * a worker reported (its ServerStateImpl builds it from the auth config).
 */
export function answerSmb1(frame: Buffer, config: ServerConfig, serverGuid: Buffer, negotiateHint: Buffer): Smb1Answer | undefined {
  // the part of a Connection handleSmb1Negotiate reads and writes
  const conn = {
    server: { config, serverGuid, negotiateHint },
    credits: new CreditWindow(),
    dialect: 0,
    negotiated: false,
    negotiate: undefined as unknown,
  };
  const reply = handleSmb1Negotiate(conn as unknown as Connection, frame);
  if (!reply) return undefined;
  return { reply, wildcard: conn.dialect === Dialect.SMB2_WILDCARD };
}
