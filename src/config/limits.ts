// Resource limits of the server ([global] keys of smb.conf; docs/config.md, docs/security.md).
// Each one bounds what one client can make the server hold or spend; the defaults follow Samba or
// Windows where they have such a limit, and are chosen so that no legitimate client meets them.

export interface Limits {
  /** Largest frame before a session is authenticated on the connection (bytes). */
  maxUnauthFrame: number;
  /** A frame must arrive within this (plus 1 s per 64 KiB of its length), ms; 0 = no limit. */
  frameTimeoutMs: number;
  /** A connection must authenticate a session within this, ms; 0 = no limit. */
  authTimeoutMs: number;
  /** A connection with no open files and no request for this long is closed, ms; 0 = never (Samba deadtime). */
  deadtimeMs: number;
  /** Connections in total; 0 = no limit (Samba "max smbd processes"). */
  maxConnections: number;
  /** Connections from one client address; 0 = no limit. */
  maxConnectionsPerClient: number;
  /** SESSION_SETUP exchanges in progress on one connection. */
  maxPendingSessions: number;
  /** Sessions established on one connection. */
  maxSessionsPerConnection: number;
  /** Opens per session (Samba "max open files"). */
  maxOpenFiles: number;
  /** File descriptors kept free for new connections and the server itself. */
  fdReserve: number;
  /** Elements in one LOCK request. */
  maxLockElements: number;
  /** Byte-range locks held on one file. */
  maxLocksPerFile: number;
  /** Durable/persistent opens kept for a reconnect, server-wide (server/durable.ts). */
  maxDisconnectedOpens: number;
}

export const DEFAULT_LIMITS: Readonly<Limits> = {
  // The largest legal SESSION_SETUP is 64 + 24 + 65535 bytes (a 16-bit SecurityBufferLength).
  maxUnauthFrame: 68 * 1024,
  frameTimeoutMs: 30_000,
  authTimeoutMs: 60_000,
  deadtimeMs: 15 * 60_000,
  maxConnections: 2048,
  maxConnectionsPerClient: 256,
  maxPendingSessions: 16,
  maxSessionsPerConnection: 1024,
  maxOpenFiles: 16384,
  fdReserve: 64,
  // ksmbd caps LockCount at 64 (the size of Open.LockSequenceArray, MS-SMB2 3.3.1.10).
  maxLockElements: 64,
  maxLocksPerFile: 100_000,
  // Each holds a file descriptor, its locks and share mode: as many as one session may open.
  maxDisconnectedOpens: 16384,
};

export function defaultLimits(): Limits {
  return { ...DEFAULT_LIMITS };
}

/** Keys this module parses (canonical: lower case, no spaces or underscores), unit, and field. */
const KEYS: Record<string, { field: keyof Limits; scale: number; min: number; max: number }> = {
  maxunauthenticatedframe: { field: 'maxUnauthFrame', scale: 1, min: 4096, max: 16 * 1024 * 1024 },
  frametimeout: { field: 'frameTimeoutMs', scale: 1000, min: 0, max: 86_400 },
  authtimeout: { field: 'authTimeoutMs', scale: 1000, min: 0, max: 86_400 },
  deadtime: { field: 'deadtimeMs', scale: 60_000, min: 0, max: 1_000_000 },
  maxsmbdprocesses: { field: 'maxConnections', scale: 1, min: 0, max: 1_000_000 },
  maxconnectionsperclient: { field: 'maxConnectionsPerClient', scale: 1, min: 0, max: 1_000_000 },
  maxpendingsessions: { field: 'maxPendingSessions', scale: 1, min: 1, max: 65_535 },
  maxsessionsperconnection: { field: 'maxSessionsPerConnection', scale: 1, min: 1, max: 65_535 },
  maxopenfiles: { field: 'maxOpenFiles', scale: 1, min: 1, max: 10_000_000 },
  fdreserve: { field: 'fdReserve', scale: 1, min: 0, max: 100_000_000 },
  maxlockelements: { field: 'maxLockElements', scale: 1, min: 1, max: 65_535 },
  maxlocksperfile: { field: 'maxLocksPerFile', scale: 1, min: 1, max: 100_000_000 },
  maxdisconnecteddurableopens: { field: 'maxDisconnectedOpens', scale: 1, min: 0, max: 10_000_000 },
};

/**
 * Applies one [global] key if it is a limit; returns false when it is not one. Times may be
 * fractional (e.g. "deadtime = 0.5" for 30 s), counts are integers.
 */
export function applyLimitKey(limits: Limits, key: string, value: string, where: string, warnings: string[]): boolean {
  const k = KEYS[key];
  if (!k) return false;
  const n = Number(value.trim());
  const integral = k.scale === 1;
  if (value.trim() === '' || !Number.isFinite(n) || n < k.min || n > k.max || (integral && !Number.isInteger(n))) {
    warnings.push(`${where}: bad value ${JSON.stringify(value)} (${k.min}..${k.max}${integral ? '' : ', may be fractional'})`);
    return true;
  }
  limits[k.field] = Math.round(n * k.scale);
  return true;
}
