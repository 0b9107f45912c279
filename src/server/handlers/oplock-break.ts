// SMB2 OPLOCK_BREAK acknowledgement: oplocks (MS-SMB2 3.3.5.22.1) and leases (3.3.5.22.2, leases.ts).
import { Status } from '../../wire/status.js';
import { decodeOplockBreak, encodeOplockBreak, encodeLeaseBreakAck } from '../../wire/oplock-break.js';
import { acknowledgeLease } from '../leases.js';
import { acknowledge } from '../oplocks.js';
import { handlerOf, requireOpen } from '../files/util.js';

export const handler = handlerOf(async (ctx) => {
  const req = decodeOplockBreak(ctx.msg);
  if (req.kind === 'lease-ack') {
    // 3.3.5.22.2: the lease is found by ClientGuid + LeaseKey.
    const r = acknowledgeLease(ctx.server, ctx.conn.clientGuid, req.leaseKey, req.leaseState);
    if (r.status) return { status: r.status };
    return { status: Status.SUCCESS, body: encodeLeaseBreakAck({ flags: 0, leaseKey: req.leaseKey, leaseState: r.state, leaseDuration: 0n }) };
  }
  if (req.kind !== 'oplock') return { status: Status.INVALID_PARAMETER };
  const open = requireOpen(ctx, req.fileId);
  const r = acknowledge(open, req.oplockLevel);
  if (r.status) return { status: r.status };
  return { status: Status.SUCCESS, body: encodeOplockBreak({ oplockLevel: r.level, fileId: open.fileId }) };
});
