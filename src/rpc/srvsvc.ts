/**
 * srvsvc (MS-SRVS), interface 4b324fc8-1670-01d3-1278-5a47bf6ee188 v3.0.
 * Implemented: NetrShareEnum (15), NetrShareGetInfo (16), NetrServerGetInfo (21).
 */
import { NdrReader, NdrWriter } from './ndr.js';
import { WError, type RpcInterface, type RpcServerInfo } from './iface.js';

export const SRVSVC_SYNTAX = { uuid: '4b324fc8-1670-01d3-1278-5a47bf6ee188', versionMajor: 3, versionMinor: 0 };

export const SrvsvcOp = { NetrShareEnum: 15, NetrShareGetInfo: 16, NetrServerGetInfo: 21 } as const;

type Share = ReturnType<RpcServerInfo['shares']>[number];

/** Host path -> the Windows-looking form clients expect ("C:\srv\data"). */
function winPath(p: string): string {
  if (p === '') return '';
  return /^[A-Za-z]:/.test(p) ? p.replace(/\//g, '\\') : 'C:' + p.replace(/\//g, '\\');
}

const SHARE_LEVELS = new Set([0, 1, 2, 501, 502]);
const GETINFO_LEVELS = new Set([0, 1, 2, 501, 502, 1005]);
/**
 * Levels with the share's local path: administrators only. MS-SRVS 3.1.4.8 / 3.1.4.10 let the
 * server check the caller; Windows requires Administrators / Server Operators for them and
 * answers ERROR_ACCESS_DENIED otherwise, as Samba does for non-admins.
 */
const PATH_LEVELS = new Set([2, 502]);

/** Scalars of SHARE_INFO_<level> (MS-SRVS 2.2.4.22 - 2.2.4.29); string referents are deferred. */
function shareInfoScalars(w: NdrWriter, level: number, s: Share): void {
  if (level === 1005) {
    w.u32(0); // shi1005_flags: manual caching, no ABE
    return;
  }
  w.wstringPtr(s.name);
  if (level === 0) return;
  w.u32(s.type);
  w.wstringPtr(s.comment);
  if (level === 1) return;
  if (level === 501) {
    w.u32(0); // shi501_flags
    return;
  }
  // 2 and 502
  w.u32(0); // permissions (ignored by servers in user-level security)
  w.u32(0xffffffff); // max_uses: unlimited
  w.u32(0); // current_uses
  w.wstringPtr(winPath(s.path));
  w.wstringPtr(undefined); // passwd
  if (level === 502) {
    w.u32(0); // shi502_reserved = length of security descriptor
    w.uniquePtr(undefined, () => {}); // security descriptor
  }
}

function netrShareEnum(stub: Buffer, info: RpcServerInfo): Buffer {
  const r = new NdrReader(stub);
  r.wstringPtr(); // ServerName
  const level = r.u32();
  const tag = r.u32();
  let resume = 0;
  let resumePtr = false;
  // Container pointer; clients send an empty container (EntriesRead 0, Buffer null).
  const containerPtr = r.ptr();
  let parseTail = true;
  if (containerPtr !== 0) {
    r.u32(); // EntriesRead
    if (r.ptr() !== 0) parseTail = false; // a non-empty input buffer: ignore the rest of the input
  }
  if (parseTail) {
    r.u32(); // PreferedMaximumLength (we always return everything)
    if (r.ptr() !== 0) {
      resumePtr = true;
      resume = r.u32();
    }
  }
  void tag;
  const w = new NdrWriter();
  const refused = !SHARE_LEVELS.has(level) ? WError.INVALID_LEVEL : PATH_LEVELS.has(level) && !info.callerIsAdmin ? WError.ACCESS_DENIED : WError.OK;
  if (refused !== WError.OK) {
    w.u32(level).u32(level).u32(0); // InfoStruct with a null container
    w.u32(0); // TotalEntries
    w.uniquePtr(resumePtr ? 0 : undefined, (x, v) => x.u32(v)).flush();
    w.u32(refused);
    return w.finish();
  }
  const all = info.shares();
  const list = all.slice(Math.min(resume, all.length));
  // SHARE_ENUM_STRUCT: Level, then the union (discriminant + unique pointer to the container)
  w.u32(level).u32(level);
  w.uniquePtr(list, (x, items) => {
    x.u32(items.length); // EntriesRead
    x.uniquePtr(items, (y, arr) => y.conformantArray(arr, (z, s) => shareInfoScalars(z, level, s)));
  });
  w.flush();
  w.u32(all.length); // TotalEntries
  w.uniquePtr(resumePtr ? 0 : undefined, (x, v) => x.u32(v)).flush(); // ResumeHandle: 0 = done
  w.u32(WError.OK);
  return w.finish();
}

function netrShareGetInfo(stub: Buffer, info: RpcServerInfo): Buffer {
  const r = new NdrReader(stub);
  r.wstringPtr(); // ServerName
  const netName = r.wstring(); // [in, string] WCHAR* NetName: top-level ref pointer, no referent id
  const level = r.u32();
  const w = new NdrWriter();
  const share = info.shares().find((s) => s.name.toLowerCase() === netName.toLowerCase());
  let status: number = WError.OK;
  if (!GETINFO_LEVELS.has(level)) status = WError.INVALID_LEVEL;
  else if (PATH_LEVELS.has(level) && !info.callerIsAdmin) status = WError.ACCESS_DENIED;
  else if (!share) status = WError.NERR_NET_NAME_NOT_FOUND;
  w.u32(level); // union discriminant
  if (status === WError.OK) {
    w.uniquePtr(share!, (x, s) => {
      shareInfoScalars(x, level, s);
    });
    w.flush();
  } else {
    w.u32(0);
  }
  w.u32(status);
  return w.finish();
}

/** SV_TYPE_WORKSTATION | SV_TYPE_SERVER | SV_TYPE_NT | SV_TYPE_SERVER_NT (MS-SRVS 2.2.2.7) */
export const SERVER_TYPE = 0x00000001 | 0x00000002 | 0x00001000 | 0x00008000;
export const PLATFORM_ID_NT = 500;

function netrServerGetInfo(stub: Buffer, info: RpcServerInfo): Buffer {
  const r = new NdrReader(stub);
  r.wstringPtr();
  const level = r.u32();
  const w = new NdrWriter();
  w.u32(level);
  if (level !== 100 && level !== 101 && level !== 102) {
    w.u32(0).u32(WError.INVALID_LEVEL);
    return w.finish();
  }
  w.uniquePtr(level, (x) => {
    x.u32(PLATFORM_ID_NT);
    x.wstringPtr(info.serverName);
    if (level === 100) return;
    x.u32(info.versionMajor).u32(info.versionMinor).u32(SERVER_TYPE);
    x.wstringPtr(info.comment);
    if (level === 101) return;
    x.u32(0xffffffff); // sv102_users
    x.i32(-1); // sv102_disc: no auto-disconnect
    x.u32(0); // sv102_hidden
    x.u32(240); // sv102_announce
    x.u32(3000); // sv102_anndelta
    x.u32(0); // sv102_licenses
    x.wstringPtr('C:\\'); // sv102_userpath
  });
  w.flush();
  w.u32(WError.OK);
  return w.finish();
}

export const srvsvc: RpcInterface = {
  name: 'srvsvc',
  syntax: SRVSVC_SYNTAX,
  call(opnum, stub, info) {
    switch (opnum) {
      case SrvsvcOp.NetrShareEnum:
        return netrShareEnum(stub, info);
      case SrvsvcOp.NetrShareGetInfo:
        return netrShareGetInfo(stub, info);
      case SrvsvcOp.NetrServerGetInfo:
        return netrServerGetInfo(stub, info);
      default:
        return undefined;
    }
  },
};

// ------------------------------------------------------------ client-side helpers (tests, smbts client)

/** Encode a NetrShareEnum request stub. */
export function encodeNetrShareEnumRequest(serverName: string, level: number, resume?: number): Buffer {
  const w = new NdrWriter();
  w.wstringPtr(serverName).flush();
  w.u32(level).u32(level);
  w.uniquePtr(level, (x) => x.u32(0).u32(0)); // empty container
  w.flush();
  w.u32(0xffffffff);
  w.uniquePtr(resume, (x, v) => x.u32(v)).flush();
  return w.finish();
}

export interface ShareInfo {
  name: string;
  type?: number;
  comment?: string;
  path?: string;
  flags?: number;
}

function readShareInfo(r: NdrReader, level: number): { info: ShareInfo; refs: Array<keyof ShareInfo> } {
  const refs: Array<keyof ShareInfo> = [];
  const info: ShareInfo = { name: '' };
  if (level === 1005) {
    info.flags = r.u32();
    return { info, refs };
  }
  if (r.ptr()) refs.push('name');
  if (level === 0) return { info, refs };
  info.type = r.u32();
  if (r.ptr()) refs.push('comment');
  if (level === 1) return { info, refs };
  if (level === 501) {
    info.flags = r.u32();
    return { info, refs };
  }
  r.u32();
  r.u32();
  r.u32();
  if (r.ptr()) refs.push('path');
  if (r.ptr()) refs.push('passwd' as keyof ShareInfo);
  if (level === 502) {
    const n = r.u32();
    if (r.ptr()) refs.push(`sd:${n}` as keyof ShareInfo);
  }
  return { info, refs };
}

function readDeferred(r: NdrReader, info: ShareInfo, refs: Array<keyof ShareInfo>): void {
  for (const k of refs) {
    const key = k as string;
    if (key.startsWith('sd:')) {
      const n = r.u32();
      r.bytes(n);
      continue;
    }
    const s = r.wstring();
    if (key !== 'passwd') (info as unknown as Record<string, string>)[key] = s;
  }
}

/** Decode a NetrShareEnum response stub. */
export function decodeNetrShareEnumResponse(stub: Buffer): { level: number; shares: ShareInfo[]; total: number; status: number } {
  const r = new NdrReader(stub);
  const level = r.u32();
  r.u32();
  const shares: ShareInfo[] = [];
  if (r.ptr()) {
    const count = r.u32();
    if (r.ptr()) {
      const max = r.u32();
      if (max !== count) throw new Error('array size mismatch');
      const items = [];
      for (let i = 0; i < count; i++) items.push(readShareInfo(r, level));
      for (const it of items) {
        readDeferred(r, it.info, it.refs);
        shares.push(it.info);
      }
    }
  }
  const total = r.u32();
  if (r.ptr()) r.u32();
  const status = r.u32();
  return { level, shares, total, status };
}

export function encodeNetrShareGetInfoRequest(serverName: string, netName: string, level: number): Buffer {
  const w = new NdrWriter();
  w.wstringPtr(serverName).flush();
  w.wstring(netName);
  w.u32(level);
  return w.finish();
}

export function decodeNetrShareGetInfoResponse(stub: Buffer): { level: number; share?: ShareInfo; status: number } {
  const r = new NdrReader(stub);
  const level = r.u32();
  let share: ShareInfo | undefined;
  if (r.ptr()) {
    const it = readShareInfo(r, level);
    readDeferred(r, it.info, it.refs);
    share = it.info;
  }
  return { level, share, status: r.u32() };
}
