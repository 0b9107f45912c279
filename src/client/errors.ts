// The one error type the client API throws: an NTSTATUS with a plain message for people.
import { Status, statusMessage, statusName } from '../wire/status.js';

/** Not in wire/status.ts yet (MS-ERREF 2.3.1). */
export const STATUS_CONNECTION_REFUSED = 0xc0000236;

export class SmbError extends Error {
  readonly status: number;
  readonly statusName: string;
  /** Share-relative path the failed operation was about, when there is one. */
  readonly path: string | undefined;

  constructor(status: number, message?: string, path?: string) {
    const plain = message ?? statusMessage(status);
    super(path !== undefined ? `${path}: ${plain}` : plain);
    this.name = 'SmbError';
    this.status = status >>> 0;
    this.statusName = statusName(status);
    this.path = path;
  }
}

/** Wraps any failure (WireError, socket error, SmbError) as an SmbError. */
export function toSmbError(err: unknown, fallbackStatus: number = Status.INVALID_NETWORK_RESPONSE, prefix?: string): SmbError {
  if (err instanceof SmbError) return err;
  const e = err as { message?: string; code?: string; name?: string };
  let msg = e?.message ?? String(err);
  let status = fallbackStatus;
  switch (e?.code) {
    case 'ECONNREFUSED': status = STATUS_CONNECTION_REFUSED; msg = `connection refused (${msg})`; break;
    case 'ECONNRESET': case 'EPIPE': status = Status.CONNECTION_RESET; msg = 'connection reset by server'; break;
    case 'ENOTFOUND': case 'EAI_AGAIN': status = Status.BAD_NETWORK_PATH; msg = `host not found (${msg})`; break;
    case 'ETIMEDOUT': status = Status.IO_TIMEOUT; msg = 'connection timed out'; break;
    default: break;
  }
  if (e?.name === 'WireError') msg = `malformed response from server: ${msg}`;
  return new SmbError(status, prefix ? `${prefix}: ${msg}` : msg);
}

/**
 * Runs a wire/ decoder on a response; a malformed response (WireError) becomes an SmbError
 * "malformed response from server" so callers only ever see SmbError.
 */
export function parse<T>(decode: () => T, what?: string): T {
  try {
    return decode();
  } catch (e) {
    const err = toSmbError(e, Status.INVALID_NETWORK_RESPONSE);
    throw what ? new SmbError(err.status, `${what}: ${err.message}`) : err;
  }
}
