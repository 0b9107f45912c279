// The one error type the client API throws: an NTSTATUS with a plain message for people, and the
// Node errno-style `code` ('ENOENT', 'EEXIST', ...) that fs/promises users test for.
import { Status, statusMessage, statusName } from '../wire/status.js';

/** Not in wire/status.ts yet (MS-ERREF 2.3.1). */
export const STATUS_CONNECTION_REFUSED = 0xc0000236;

/** Client-side statuses wire/status.ts does not name (MS-ERREF 2.3.1). */
const EXTRA_NAMES = new Map<number, string>([[STATUS_CONNECTION_REFUSED, 'CONNECTION_REFUSED']]);

/** NTSTATUS -> the errno name fs/promises would use for the same failure. */
const CODES = new Map<number, string>([
  [Status.OBJECT_NAME_NOT_FOUND, 'ENOENT'], [Status.OBJECT_PATH_NOT_FOUND, 'ENOENT'], [Status.NO_SUCH_FILE, 'ENOENT'],
  [Status.BAD_NETWORK_NAME, 'ENOENT'], [Status.DELETE_PENDING, 'ENOENT'],
  [Status.OBJECT_NAME_COLLISION, 'EEXIST'],
  [Status.ACCESS_DENIED, 'EACCES'], [Status.NETWORK_ACCESS_DENIED, 'EACCES'], [Status.CANNOT_DELETE, 'EACCES'],
  [Status.LOGON_FAILURE, 'EACCES'],
  [Status.MEDIA_WRITE_PROTECTED, 'EROFS'],
  [Status.NOT_A_DIRECTORY, 'ENOTDIR'], [Status.FILE_IS_A_DIRECTORY, 'EISDIR'], [Status.DIRECTORY_NOT_EMPTY, 'ENOTEMPTY'],
  [Status.SHARING_VIOLATION, 'EBUSY'], [Status.DISK_FULL, 'ENOSPC'],
  [Status.INVALID_PARAMETER, 'EINVAL'], [Status.OBJECT_PATH_SYNTAX_BAD, 'EINVAL'], [Status.OBJECT_NAME_INVALID, 'EINVAL'],
  [Status.NOT_SUPPORTED, 'ENOTSUP'], [Status.NOT_SAME_DEVICE, 'EXDEV'],
  [Status.IO_TIMEOUT, 'ETIMEDOUT'], [Status.CANCELLED, 'ABORT_ERR'], [Status.FILE_CLOSED, 'EBADF'],
  [Status.CONNECTION_DISCONNECTED, 'ECONNRESET'], [Status.CONNECTION_RESET, 'ECONNRESET'],
  [STATUS_CONNECTION_REFUSED, 'ECONNREFUSED'], [Status.BAD_NETWORK_PATH, 'ENOTFOUND'],
]);

/** The errno-style code for an NTSTATUS ('EIO' when fs has no closer one). */
export function errnoCode(status: number): string {
  return CODES.get(status >>> 0) ?? 'EIO';
}

export class SmbError extends Error {
  readonly status: number;
  readonly statusName: string;
  /** 'ENOENT', 'EEXIST', 'EACCES', 'ENOTDIR', 'EISDIR', 'ENOTEMPTY', ... as fs/promises; 'EIO' otherwise. */
  readonly code: string;
  /** Share-relative path the failed operation was about, when there is one. */
  readonly path: string | undefined;

  constructor(status: number, message?: string, path?: string) {
    const plain = message ?? (EXTRA_NAMES.has(status >>> 0) ? EXTRA_NAMES.get(status >>> 0)!.toLowerCase().replace(/_/g, ' ') : statusMessage(status));
    super(path !== undefined ? `${path}: ${plain}` : plain);
    this.name = 'SmbError';
    this.status = status >>> 0;
    this.statusName = EXTRA_NAMES.get(this.status) ?? statusName(status);
    this.code = errnoCode(this.status);
    this.path = path;
  }
}

/** The error an aborted call rejects with, as fs/promises: name 'AbortError', code 'ABORT_ERR'. */
export class AbortError extends Error {
  readonly code = 'ABORT_ERR';
  constructor(reason?: unknown) {
    super('The operation was aborted', reason !== undefined ? { cause: reason } : undefined);
    this.name = 'AbortError';
  }
}

/** Throws AbortError when `signal` is aborted (call between awaits). */
export function checkAbort(signal: AbortSignal | undefined): void {
  if (signal?.aborted) throw new AbortError(signal.reason);
}

/** Races `p` against `signal`: rejects with AbortError as soon as it fires (the work itself is left to finish). */
export function abortable<T>(p: Promise<T>, signal: AbortSignal | undefined): Promise<T> {
  if (!signal) return p;
  if (signal.aborted) {
    p.catch(() => undefined);
    return Promise.reject(new AbortError(signal.reason));
  }
  return new Promise<T>((resolve, reject) => {
    const onAbort = (): void => reject(new AbortError(signal.reason));
    signal.addEventListener('abort', onAbort, { once: true });
    p.then((v) => { signal.removeEventListener('abort', onAbort); resolve(v); },
      (e: unknown) => { signal.removeEventListener('abort', onAbort); reject(e); });
  });
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
