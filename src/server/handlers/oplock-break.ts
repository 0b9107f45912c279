// SMB2 OPLOCK_BREAK acknowledgement (MS-SMB2 3.3.5.22.1). Lease acks: no leases are granted, so
// any lease acknowledgement is answered with STATUS_OBJECT_NAME_NOT_FOUND (3.3.5.22.2).
import { Status } from '../../wire/status.js';
import { decodeOplockBreak, encodeOplockBreak } from '../../wire/oplock-break.js';
import { acknowledge } from '../oplocks.js';
import { handlerOf, requireOpen } from '../files/util.js';

export const handler = handlerOf(async (ctx) => {
  const req = decodeOplockBreak(ctx.msg);
  if (req.kind !== 'oplock') {
    return { status: req.kind === 'lease-ack' ? Status.OBJECT_NAME_NOT_FOUND : Status.INVALID_PARAMETER };
  }
  const open = requireOpen(ctx, req.fileId);
  const r = acknowledge(open, req.oplockLevel);
  if (r.status) return { status: r.status };
  return { status: Status.SUCCESS, body: encodeOplockBreak({ oplockLevel: r.level, fileId: open.fileId }) };
});
