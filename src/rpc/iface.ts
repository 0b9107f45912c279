/** An RPC interface served over a named pipe. */
import type { SyntaxId } from './pdu.js';

export interface RpcServerInfo {
  /** NetBIOS name of the server, e.g. "FILESERVER". */
  serverName: string;
  /** Workgroup / domain. */
  domain: string;
  comment: string;
  shares(): Array<{ name: string; type: number; comment: string; path: string }>;
  versionMajor: number;
  versionMinor: number;
  /**
   * The caller is a server administrator (`admin users` in [global]): only then do the srvsvc
   * levels that carry local paths (SHARE_INFO_2 / _502) answer (MS-SRVS 3.1.4.8 / 3.1.4.10).
   */
  callerIsAdmin?: boolean;
}

export interface RpcInterface {
  name: string;
  syntax: SyntaxId;
  /** Handle one call; return the response stub, or undefined if opnum is not implemented. Throw NdrError on bad stub. */
  call(opnum: number, stub: Buffer, info: RpcServerInfo): Buffer | undefined;
}

/** Win32 error codes returned as WERROR / NET_API_STATUS. */
export const WError = {
  OK: 0,
  ACCESS_DENIED: 5,
  INVALID_PARAMETER: 87,
  INVALID_LEVEL: 124,
  MORE_DATA: 234,
  NERR_NET_NAME_NOT_FOUND: 2310,
} as const;

/** Share types (MS-SRVS 2.2.2.4). */
export const SType = {
  DISKTREE: 0x00000000,
  PRINTQ: 0x00000001,
  DEVICE: 0x00000002,
  IPC: 0x00000003,
  TEMPORARY: 0x40000000,
  SPECIAL: 0x80000000,
} as const;
