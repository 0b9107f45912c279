// MS-DFSC referral messages, carried in FSCTL_DFS_GET_REFERRALS(_EX) (MS-SMB2 2.2.31 / 3.3.5.15.2):
//   REQ_GET_DFS_REFERRAL (2.2.2), REQ_GET_DFS_REFERRAL_EX (2.2.3), RESP_GET_DFS_REFERRAL (2.2.4)
//   with DFS_REFERRAL_V1..V4 entries (2.2.5.1 .. 2.2.5.4).
// Entry layouts (string offsets are relative to the start of *their entry*, 2.2.5.2+):
//   v1 (8 + name): Version(2) Size(2) ServerType(2) ReferralEntryFlags(2) ShareName (inline UTF-16, NUL)
//   v2 (22):       ... Flags(2) Proximity(4) TimeToLive(4) DFSPathOffset(2) DFSAlternatePathOffset(2) NetworkAddressOffset(2)
//   v3/v4 (34):    ... Flags(2) TimeToLive(4) DFSPathOffset(2) DFSAlternatePathOffset(2) NetworkAddressOffset(2) ServiceSiteGuid(16)
//   v3 NameListReferral (2.2.5.3.2): ... TimeToLive(4) SpecialNameOffset(2) NumberOfExpandedNames(2) ExpandedNameOffset(2)
import { Reader, Writer, WireError, utf16 } from './buf.js';

/**
 * Most referral entries a decoder accepts. MS-DFSC sets no limit (NumberOfReferrals is 16 bits);
 * a namespace link with hundreds of targets is already unusual, and every entry costs a failover
 * attempt, so a response naming more is refused rather than walked.
 */
export const DFS_MAX_REFERRALS = 256;
/** Longest path (characters) a referral string may have: MAX_PATH-ish, like Windows' 32 Ki limit. */
export const DFS_MAX_PATH = 32767;

// ---- REQ_GET_DFS_REFERRAL (2.2.2): MaxReferralLevel(2) | RequestFileName (UTF-16, NUL)
export interface DfsReferralRequest { maxReferralLevel: number; requestFileName: string; siteName?: string }

export function encodeDfsReferralRequest(v: DfsReferralRequest): Buffer {
  return new Writer(4 + v.requestFileName.length * 2).u16(v.maxReferralLevel).bytes(utf16(v.requestFileName)).u16(0).finish();
}

export function decodeDfsReferralRequest(b: Buffer): DfsReferralRequest {
  if (b.length < 4) throw new WireError('truncated DFS referral request');
  const maxReferralLevel = b.readUInt16LE(0);
  // A missing terminator at the very end is tolerated (Windows does).
  const tail = b.subarray(2);
  let nul = tail.length & ~1;
  for (let i = 0; i + 1 < tail.length; i += 2) if (tail.readUInt16LE(i) === 0) { nul = i; break; }
  if (nul / 2 > DFS_MAX_PATH) throw new WireError('DFS referral request path too long');
  return { maxReferralLevel, requestFileName: tail.toString('utf16le', 0, nul) };
}

// ---- REQ_GET_DFS_REFERRAL_EX (2.2.3): MaxReferralLevel(2) | RequestFlags(2) | RequestDataLength(4)
//      | RequestData (2.2.3.1): RequestFileNameLength(2) | RequestFileName | SiteNameLength(2) | SiteName
//      Lengths are in bytes; the strings are not NUL-terminated (Windows sends a terminator inside the length).
export const DfsRequestFlags = { SITE_NAME: 0x1 } as const;

export function encodeDfsReferralRequestEx(v: DfsReferralRequest): Buffer {
  const name = utf16(v.requestFileName + '\0');
  const site = v.siteName !== undefined ? utf16(v.siteName + '\0') : undefined;
  const dataLen = 2 + name.length + (site ? 2 + site.length : 0);
  const w = new Writer(8 + dataLen).u16(v.maxReferralLevel).u16(site ? DfsRequestFlags.SITE_NAME : 0).u32(dataLen);
  w.u16(name.length).bytes(name);
  if (site) w.u16(site.length).bytes(site);
  return w.finish();
}

export function decodeDfsReferralRequestEx(b: Buffer): DfsReferralRequest {
  const r = new Reader(b);
  const maxReferralLevel = r.u16();
  const flags = r.u16();
  const dataLen = r.u32();
  if (dataLen > r.remaining) throw new WireError('DFS referral request data out of range');
  const data = new Reader(r.bytes(dataLen));
  const nameLen = data.u16();
  const out: DfsReferralRequest = { maxReferralLevel, requestFileName: stripNul(data.bytes(nameLen), 'RequestFileName') };
  if (flags & DfsRequestFlags.SITE_NAME) out.siteName = stripNul(data.bytes(data.u16()), 'SiteName');
  return out;
}

function stripNul(b: Buffer, what: string): string {
  if (b.length % 2) throw new WireError(`odd-length ${what}`);
  if (b.length / 2 > DFS_MAX_PATH) throw new WireError(`${what} too long`);
  return b.toString('utf16le').replace(/\0+$/, '');
}

// ---- RESP_GET_DFS_REFERRAL (2.2.4): PathConsumed(2) | NumberOfReferrals(2) | ReferralHeaderFlags(4)
//      | entries | strings
/** ReferralHeaderFlags (2.2.4): R = targets are DFS root servers, S = storage servers, T = target failback. */
export const DfsHeaderFlags = { REFERRAL_SERVERS: 0x1, STORAGE_SERVERS: 0x2, TARGET_FAILBACK: 0x4 } as const;
/** ReferralEntryFlags (2.2.5.3 / 2.2.5.4): T (TargetSetBoundary) exists only in v4. */
export const DfsEntryFlags = { NAME_LIST_REFERRAL: 0x2, TARGET_SET_BOUNDARY: 0x4 } as const;
export const DfsServerType = { NON_ROOT: 0x0, ROOT: 0x1 } as const;

export interface DfsReferralEntry {
  version: number;
  serverType: number;
  referralEntryFlags: number;
  timeToLive: number;
  /** Normal referrals (v1 carries only networkAddress, its ShareName). */
  dfsPath?: string;
  dfsAlternatePath?: string;
  networkAddress?: string;
  /** v2 only. */
  proximity?: number;
  /** NameListReferral (v3 domain / DC referrals). */
  specialName?: string;
  expandedNames?: string[];
}

export interface DfsReferralResponse {
  /** Bytes (not characters) of the request path matched (2.2.4). */
  pathConsumed: number;
  referralHeaderFlags: number;
  referrals: DfsReferralEntry[];
}

const ENTRY_SIZE: Record<number, number> = { 2: 22, 3: 34, 4: 34 };

/**
 * Encodes a response with every entry in `version` (1..4; a server answers at the level the client
 * asked for, 3.2.5.1). Normal (non-NameList) entries only; strings follow all entries and are shared.
 */
export function encodeDfsReferralResponse(v: DfsReferralResponse, version: 1 | 2 | 3 | 4 = 4): Buffer {
  const w = new Writer(256);
  w.u16(v.pathConsumed).u16(v.referrals.length).u32(v.referralHeaderFlags);
  if (version === 1) {
    for (const e of v.referrals) {
      const name = utf16((e.networkAddress ?? '') + '\0');
      w.u16(1).u16(8 + name.length).u16(e.serverType).u16(0).bytes(name);
    }
    return w.finish();
  }
  const size = ENTRY_SIZE[version]!;
  const n = v.referrals.length;
  const strings: Buffer[] = [];
  let strPos = 8 + size * n;
  const stringAt = new Map<string, number>();
  const place = (s: string): number => {
    const hit = stringAt.get(s);
    if (hit !== undefined) return hit;
    const b = utf16(s + '\0');
    const at = strPos;
    strings.push(b);
    strPos += b.length;
    stringAt.set(s, at);
    return at;
  };
  v.referrals.forEach((e, i) => {
    const entryAt = 8 + size * i;
    const p = place(e.dfsPath ?? '');
    const alt = place(e.dfsAlternatePath ?? e.dfsPath ?? '');
    const net = place(e.networkAddress ?? '');
    if (strPos - entryAt > 0xffff) throw new WireError('DFS referral response too large for 16-bit offsets');
    w.u16(version).u16(size).u16(e.serverType).u16(version === 4 ? e.referralEntryFlags & DfsEntryFlags.TARGET_SET_BOUNDARY : 0);
    if (version === 2) w.u32(e.proximity ?? 0);
    w.u32(e.timeToLive).u16(p - entryAt).u16(alt - entryAt).u16(net - entryAt);
    if (version !== 2) w.zeros(16);
  });
  for (const s of strings) w.bytes(s);
  return w.finish();
}

/** A NUL-terminated UTF-16 string at `at` of `b`, bounded by the buffer and DFS_MAX_PATH. */
function readUtf16z(b: Buffer, at: number, what: string): string {
  if (at < 0 || at >= b.length) throw new WireError(`DFS ${what} offset out of range`);
  const limit = Math.min(b.length, at + 2 * (DFS_MAX_PATH + 1));
  let end = at;
  while (end + 1 < limit && b.readUInt16LE(end) !== 0) end += 2;
  if (end + 1 >= limit) throw new WireError(`unterminated DFS ${what}`);
  return b.toString('utf16le', at, end);
}

/**
 * Decodes a referral response. Every entry's Size, version and string offsets are checked against
 * the buffer; more than DFS_MAX_REFERRALS entries, or than the buffer can hold, is a WireError.
 */
export function decodeDfsReferralResponse(b: Buffer, maxReferrals = DFS_MAX_REFERRALS): DfsReferralResponse {
  const r = new Reader(b);
  const pathConsumed = r.u16();
  const n = r.u16();
  const referralHeaderFlags = r.u32();
  if (n > maxReferrals) throw new WireError(`DFS referral response names ${n} targets (limit ${maxReferrals})`);
  if (n * 8 > r.remaining) throw new WireError(`truncated DFS referral response (${n} entries in ${r.remaining} bytes)`);
  const referrals: DfsReferralEntry[] = [];
  let off = 8;
  for (let i = 0; i < n; i++) {
    r.at(off);
    const version = r.u16();
    const size = r.u16();
    const serverType = r.u16();
    const referralEntryFlags = r.u16();
    const min = version === 1 ? 10 : ENTRY_SIZE[version];
    if (min === undefined) throw new WireError(`unknown DFS referral version ${version}`);
    if (size < min || off + size > b.length) throw new WireError(`bad DFS referral entry Size ${size} (entry ${i}, version ${version})`);
    const e: DfsReferralEntry = { version, serverType, referralEntryFlags, timeToLive: 0 };
    const str = (rel: number, what: string): string => readUtf16z(b, off + rel, what);
    if (version === 1) {
      // ShareName lies inside the entry.
      e.networkAddress = readUtf16z(b.subarray(0, off + size), off + 8, 'ShareName');
    } else if (version === 2) {
      e.proximity = r.u32();
      e.timeToLive = r.u32();
      e.dfsPath = str(r.u16(), 'DFSPath');
      e.dfsAlternatePath = str(r.u16(), 'DFSAlternatePath');
      e.networkAddress = str(r.u16(), 'NetworkAddress');
    } else {
      e.timeToLive = r.u32();
      if (version === 3 && referralEntryFlags & DfsEntryFlags.NAME_LIST_REFERRAL) {
        const specialOff = r.u16();
        const count = r.u16();
        const expOff = r.u16();
        if (count > maxReferrals) throw new WireError(`DFS NameListReferral names ${count} servers (limit ${maxReferrals})`);
        e.specialName = str(specialOff, 'SpecialName');
        e.expandedNames = [];
        let p = off + expOff;
        for (let k = 0; k < count; k++) {
          const s = readUtf16z(b, p, 'ExpandedName');
          e.expandedNames.push(s);
          p += s.length * 2 + 2;
        }
      } else {
        e.dfsPath = str(r.u16(), 'DFSPath');
        e.dfsAlternatePath = str(r.u16(), 'DFSAlternatePath');
        e.networkAddress = str(r.u16(), 'NetworkAddress');
      }
    }
    referrals.push(e);
    off += size;
  }
  return { pathConsumed, referralHeaderFlags, referrals };
}
