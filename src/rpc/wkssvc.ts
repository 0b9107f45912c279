/**
 * wkssvc (MS-WKST), interface 6bffd098-a112-3610-9833-46c3f87e345a v1.0.
 * Implemented: NetrWkstaGetInfo (opnum 0), levels 100, 101, 102.
 */
import { NdrReader, NdrWriter } from './ndr.js';
import { WError, type RpcInterface } from './iface.js';
import { PLATFORM_ID_NT } from './srvsvc.js';

export const WKSSVC_SYNTAX = { uuid: '6bffd098-a112-3610-9833-46c3f87e345a', versionMajor: 1, versionMinor: 0 };
export const WkssvcOp = { NetrWkstaGetInfo: 0 } as const;

export const wkssvc: RpcInterface = {
  name: 'wkssvc',
  syntax: WKSSVC_SYNTAX,
  call(opnum, stub, info) {
    if (opnum !== WkssvcOp.NetrWkstaGetInfo) return undefined;
    const r = new NdrReader(stub);
    r.wstringPtr(); // ServerName
    const level = r.u32();
    const w = new NdrWriter();
    w.u32(level); // union discriminant (MS-WKST 2.2.4.1 WKSTA_INFO)
    if (level !== 100 && level !== 101 && level !== 102) {
      w.u32(0).u32(WError.INVALID_LEVEL);
      return w.finish();
    }
    // WKSTA_INFO_100/101/102 (MS-WKST 2.2.5.1 - 2.2.5.3)
    w.uniquePtr(level, (x) => {
      x.u32(PLATFORM_ID_NT);
      x.wstringPtr(info.serverName);
      x.wstringPtr(info.domain);
      x.u32(info.versionMajor).u32(info.versionMinor);
      if (level === 100) return;
      x.wstringPtr(''); // lanroot
      if (level === 102) x.u32(0); // logged_on_users
    });
    w.flush();
    w.u32(WError.OK);
    return w.finish();
  },
};

export function encodeNetrWkstaGetInfoRequest(serverName: string, level: number): Buffer {
  const w = new NdrWriter();
  w.wstringPtr(serverName).flush();
  w.u32(level);
  return w.finish();
}

export function decodeNetrWkstaGetInfoResponse(stub: Buffer): {
  level: number; platformId?: number; computerName?: string; langroup?: string; versionMajor?: number; versionMinor?: number; status: number;
} {
  const r = new NdrReader(stub);
  const level = r.u32();
  if (!r.ptr()) return { level, status: r.u32() };
  const platformId = r.u32();
  const pc = r.ptr();
  const pl = r.ptr();
  const versionMajor = r.u32();
  const versionMinor = r.u32();
  let pr = 0;
  if (level >= 101) pr = r.ptr();
  if (level === 102) r.u32();
  const computerName = pc ? r.wstring() : undefined;
  const langroup = pl ? r.wstring() : undefined;
  if (pr) r.wstring();
  return { level, platformId, computerName, langroup, versionMajor, versionMinor, status: r.u32() };
}
