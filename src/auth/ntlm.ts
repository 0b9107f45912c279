// NTLMSSP (MS-NLMP): message codecs (2.2.1.1-3), AV pairs (2.2.2.1), NTLMv2 (3.3.2),
// key exchange (3.4.5.1 KXKEY, KEY_EXCH), MIC (3.1.5.1.2 / 3.2.5.1.2) and GSS MIC (3.4.4.2).
import { createHash, createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { WireError } from '../wire/buf.js';
import { md4 } from '../crypto/md4.js';
import { Rc4, rc4 } from '../crypto/rc4.js';

export const NTLMSSP_SIGNATURE = Buffer.from('NTLMSSP\0', 'latin1');
export const NTLM_NEGOTIATE = 1;
export const NTLM_CHALLENGE = 2;
export const NTLM_AUTHENTICATE = 3;

/** NegotiateFlags (MS-NLMP 2.2.2.5). */
export const NTLMSSP = {
  NEGOTIATE_UNICODE: 0x00000001,
  NEGOTIATE_OEM: 0x00000002,
  REQUEST_TARGET: 0x00000004,
  NEGOTIATE_SIGN: 0x00000010,
  NEGOTIATE_SEAL: 0x00000020,
  NEGOTIATE_DATAGRAM: 0x00000040,
  NEGOTIATE_LM_KEY: 0x00000080,
  NEGOTIATE_NTLM: 0x00000200,
  ANONYMOUS: 0x00000800,
  NEGOTIATE_OEM_DOMAIN_SUPPLIED: 0x00001000,
  NEGOTIATE_OEM_WORKSTATION_SUPPLIED: 0x00002000,
  NEGOTIATE_ALWAYS_SIGN: 0x00008000,
  TARGET_TYPE_DOMAIN: 0x00010000,
  TARGET_TYPE_SERVER: 0x00020000,
  NEGOTIATE_EXTENDED_SESSIONSECURITY: 0x00080000,
  NEGOTIATE_IDENTIFY: 0x00100000,
  REQUEST_NON_NT_SESSION_KEY: 0x00400000,
  NEGOTIATE_TARGET_INFO: 0x00800000,
  NEGOTIATE_VERSION: 0x02000000,
  NEGOTIATE_128: 0x20000000,
  NEGOTIATE_KEY_EXCH: 0x40000000,
  NEGOTIATE_56: 0x80000000,
} as const;

/** AV_PAIR ids (MS-NLMP 2.2.2.1). */
export const AV = {
  EOL: 0,
  NbComputerName: 1,
  NbDomainName: 2,
  DnsComputerName: 3,
  DnsDomainName: 4,
  DnsTreeName: 5,
  Flags: 6,
  Timestamp: 7,
  SingleHost: 8,
  TargetName: 9,
  ChannelBindings: 10,
} as const;

/** MsvAvFlags bit: the AUTHENTICATE message carries a MIC. */
export const AV_FLAG_MIC_PRESENT = 0x2;

/** 8-byte VERSION structure we send: Windows 10.0, build 0, NTLMSSP_REVISION_W2K3 (15). */
export const NTLM_VERSION = Buffer.from([10, 0, 0, 0, 0, 0, 0, 15]);

export interface AvPair {
  id: number;
  value: Buffer;
}

export interface NegotiateMessage {
  flags: number;
  domain: string;
  workstation: string;
  version?: Buffer;
}

export interface ChallengeMessage {
  flags: number;
  targetName: string;
  serverChallenge: Buffer; // 8 bytes
  targetInfo: Buffer; // raw AV_PAIR list
  version?: Buffer;
}

export interface AuthenticateMessage {
  flags: number;
  lmResponse: Buffer;
  ntResponse: Buffer;
  domain: string;
  user: string;
  workstation: string;
  encryptedRandomSessionKey: Buffer;
  version?: Buffer;
  /** MIC field (16 bytes) when the message layout has room for it, else undefined. */
  mic?: Buffer;
  /** Offset of the MIC field within the message (72) when present. */
  micOffset?: number;
}

// ---------------------------------------------------------------------------------------------
// Helpers

function str(s: string, unicode: boolean): Buffer {
  return unicode ? Buffer.from(s, 'utf16le') : Buffer.from(s, 'latin1');
}

function unstr(b: Buffer, unicode: boolean): string {
  if (unicode) {
    if (b.length % 2) throw new WireError('odd-length NTLM unicode string');
    return b.toString('utf16le');
  }
  return b.toString('latin1');
}

function readFields(msg: Buffer, at: number, what: string): Buffer {
  if (at + 8 > msg.length) throw new WireError(`NTLM ${what} fields truncated`);
  const len = msg.readUInt16LE(at);
  const off = msg.readUInt32LE(at + 4);
  if (len === 0) return Buffer.alloc(0);
  if (off > msg.length || off + len > msg.length) throw new WireError(`NTLM ${what} out of range`);
  return msg.subarray(off, off + len);
}

function checkHeader(msg: Buffer, type: number, minLen: number): void {
  if (msg.length < minLen) throw new WireError('NTLM message truncated');
  if (!msg.subarray(0, 8).equals(NTLMSSP_SIGNATURE)) throw new WireError('not an NTLMSSP message');
  if (msg.readUInt32LE(8) !== type) throw new WireError(`NTLM message type ${msg.readUInt32LE(8)} where ${type} expected`);
}

/** Builds header + fixed part + payload with (len,maxlen,offset) descriptors patched in. */
class MsgBuilder {
  private fixed: Buffer;
  private payload: Buffer[] = [];
  private off: number;

  constructor(type: number, fixedLen: number) {
    this.fixed = Buffer.alloc(fixedLen);
    NTLMSSP_SIGNATURE.copy(this.fixed, 0);
    this.fixed.writeUInt32LE(type, 8);
    this.off = fixedLen;
  }

  u32(at: number, v: number): this {
    this.fixed.writeUInt32LE(v >>> 0, at);
    return this;
  }

  raw(at: number, b: Buffer): this {
    b.copy(this.fixed, at);
    return this;
  }

  field(at: number, data: Buffer): this {
    this.fixed.writeUInt16LE(data.length, at);
    this.fixed.writeUInt16LE(data.length, at + 2);
    this.fixed.writeUInt32LE(this.off, at + 4);
    if (data.length) {
      this.payload.push(data);
      this.off += data.length;
    }
    return this;
  }

  finish(): Buffer {
    return Buffer.concat([this.fixed, ...this.payload]);
  }
}

export function isNtlmssp(token: Buffer): boolean {
  return token.length >= 12 && token.subarray(0, 8).equals(NTLMSSP_SIGNATURE);
}

export function ntlmMessageType(token: Buffer): number {
  return isNtlmssp(token) ? token.readUInt32LE(8) : 0;
}

// ---------------------------------------------------------------------------------------------
// AV pairs

export function parseAvPairs(buf: Buffer): AvPair[] {
  const out: AvPair[] = [];
  let p = 0;
  while (p + 4 <= buf.length) {
    const id = buf.readUInt16LE(p);
    const len = buf.readUInt16LE(p + 2);
    p += 4;
    if (id === AV.EOL) return out;
    if (p + len > buf.length) throw new WireError('AV_PAIR out of range');
    out.push({ id, value: buf.subarray(p, p + len) });
    p += len;
  }
  // A list without MsvAvEOL is malformed, but be lenient for an empty list.
  if (buf.length === 0) return out;
  throw new WireError('AV_PAIR list not terminated');
}

export function encodeAvPairs(pairs: AvPair[]): Buffer {
  const parts: Buffer[] = [];
  for (const p of pairs) {
    if (p.id === AV.EOL) continue;
    const h = Buffer.alloc(4);
    h.writeUInt16LE(p.id, 0);
    h.writeUInt16LE(p.value.length, 2);
    parts.push(h, p.value);
  }
  parts.push(Buffer.alloc(4));
  return Buffer.concat(parts);
}

export function findAv(pairs: AvPair[], id: number): Buffer | undefined {
  return pairs.find((p) => p.id === id)?.value;
}

// ---------------------------------------------------------------------------------------------
// NEGOTIATE_MESSAGE (2.2.1.1)

export function encodeNegotiate(m: NegotiateMessage): Buffer {
  const flags = m.flags | NTLMSSP.NEGOTIATE_VERSION;
  return new MsgBuilder(NTLM_NEGOTIATE, 40)
    .u32(12, flags)
    .field(16, Buffer.from(m.domain, 'latin1')) // OEM per spec
    .field(24, Buffer.from(m.workstation, 'latin1'))
    .raw(32, m.version ?? NTLM_VERSION)
    .finish();
}

export function decodeNegotiate(msg: Buffer): NegotiateMessage {
  checkHeader(msg, NTLM_NEGOTIATE, 16);
  const flags = msg.readUInt32LE(12);
  let domain = '';
  let workstation = '';
  if (msg.length >= 32) {
    if (flags & NTLMSSP.NEGOTIATE_OEM_DOMAIN_SUPPLIED) domain = readFields(msg, 16, 'domain').toString('latin1');
    if (flags & NTLMSSP.NEGOTIATE_OEM_WORKSTATION_SUPPLIED) workstation = readFields(msg, 24, 'workstation').toString('latin1');
  }
  const version = flags & NTLMSSP.NEGOTIATE_VERSION && msg.length >= 40 ? msg.subarray(32, 40) : undefined;
  return { flags, domain, workstation, version };
}

// ---------------------------------------------------------------------------------------------
// CHALLENGE_MESSAGE (2.2.1.2)

export function encodeChallenge(m: ChallengeMessage): Buffer {
  if (m.serverChallenge.length !== 8) throw new RangeError('server challenge must be 8 bytes');
  const unicode = (m.flags & NTLMSSP.NEGOTIATE_UNICODE) !== 0;
  return new MsgBuilder(NTLM_CHALLENGE, 56)
    .field(12, m.targetName ? str(m.targetName, unicode) : Buffer.alloc(0))
    .u32(20, m.flags)
    .raw(24, m.serverChallenge)
    .field(40, m.flags & NTLMSSP.NEGOTIATE_TARGET_INFO ? m.targetInfo : Buffer.alloc(0))
    .raw(48, m.version ?? NTLM_VERSION)
    .finish();
}

export function decodeChallenge(msg: Buffer): ChallengeMessage {
  checkHeader(msg, NTLM_CHALLENGE, 32);
  const flags = msg.readUInt32LE(20);
  const unicode = (flags & NTLMSSP.NEGOTIATE_UNICODE) !== 0;
  const targetName = unstr(readFields(msg, 12, 'target name'), unicode);
  const serverChallenge = msg.subarray(24, 32);
  const targetInfo = msg.length >= 48 ? readFields(msg, 40, 'target info') : Buffer.alloc(0);
  const version = flags & NTLMSSP.NEGOTIATE_VERSION && msg.length >= 56 ? msg.subarray(48, 56) : undefined;
  return { flags, targetName, serverChallenge, targetInfo, version };
}

// ---------------------------------------------------------------------------------------------
// AUTHENTICATE_MESSAGE (2.2.1.3)

export const AUTH_MIC_OFFSET = 72;

/** Encodes with Version and a MIC field (zeros unless `mic` given). */
export function encodeAuthenticate(m: Omit<AuthenticateMessage, 'micOffset'>): Buffer {
  const unicode = (m.flags & NTLMSSP.NEGOTIATE_UNICODE) !== 0;
  return new MsgBuilder(NTLM_AUTHENTICATE, 88)
    .field(28, str(m.domain, unicode))
    .field(36, str(m.user, unicode))
    .field(44, str(m.workstation, unicode))
    .field(12, m.lmResponse)
    .field(20, m.ntResponse)
    .field(52, m.encryptedRandomSessionKey)
    .u32(60, m.flags)
    .raw(64, m.version ?? NTLM_VERSION)
    .raw(AUTH_MIC_OFFSET, m.mic ?? Buffer.alloc(16))
    .finish();
}

export function decodeAuthenticate(msg: Buffer): AuthenticateMessage {
  checkHeader(msg, NTLM_AUTHENTICATE, 64);
  const flags = msg.readUInt32LE(60);
  const unicode = (flags & NTLMSSP.NEGOTIATE_UNICODE) !== 0;
  // The payload starts at the lowest non-empty field offset; Version/MIC exist only below it.
  let payloadStart = msg.length;
  for (const at of [12, 20, 28, 36, 44, 52]) {
    const len = msg.readUInt16LE(at);
    const off = msg.readUInt32LE(at + 4);
    if (len > 0 && off < payloadStart) payloadStart = off;
  }
  const m: AuthenticateMessage = {
    flags,
    lmResponse: readFields(msg, 12, 'LM response'),
    ntResponse: readFields(msg, 20, 'NT response'),
    domain: unstr(readFields(msg, 28, 'domain'), unicode),
    user: unstr(readFields(msg, 36, 'user'), unicode),
    workstation: unstr(readFields(msg, 44, 'workstation'), unicode),
    encryptedRandomSessionKey: readFields(msg, 52, 'session key'),
  };
  if (payloadStart >= 72 && flags & NTLMSSP.NEGOTIATE_VERSION) m.version = msg.subarray(64, 72);
  if (payloadStart >= 88) {
    m.mic = msg.subarray(AUTH_MIC_OFFSET, AUTH_MIC_OFFSET + 16);
    m.micOffset = AUTH_MIC_OFFSET;
  }
  return m;
}

// ---------------------------------------------------------------------------------------------
// Crypto (MS-NLMP 3.3.2, 3.4.5)

const hmacMd5 = (key: Buffer, ...data: Buffer[]): Buffer => {
  const h = createHmac('md5', key);
  for (const d of data) h.update(d);
  return h.digest();
};

/** NT hash = NTOWFv1 = MD4(UTF-16LE(password)). */
export function ntHash(password: string): Buffer {
  return md4(Buffer.from(password, 'utf16le'));
}

/** NTOWFv2 = HMAC_MD5(NT hash, UNICODE(Uppercase(User) || UserDom)). */
export function ntowfv2(ntHashValue: Buffer, user: string, domain: string): Buffer {
  return hmacMd5(ntHashValue, Buffer.from(user.toUpperCase() + domain, 'utf16le'));
}

/** NTLMv2_CLIENT_CHALLENGE "temp" (2.2.2.7): 01 01 Z(6) Time ClientChallenge Z(4) AvPairs Z(4). */
export function ntlmv2ClientBlob(timestamp: Buffer, clientChallenge: Buffer, avPairs: Buffer): Buffer {
  const head = Buffer.alloc(28);
  head[0] = 1;
  head[1] = 1;
  timestamp.copy(head, 8);
  clientChallenge.copy(head, 16);
  return Buffer.concat([head, avPairs, Buffer.alloc(4)]);
}

export interface Ntlmv2Response {
  ntResponse: Buffer; // NTProofStr || temp
  lmResponse: Buffer; // LMv2 response (24 bytes)
  ntProofStr: Buffer;
  sessionBaseKey: Buffer;
}

/** ComputeResponse for NTLMv2 (3.3.2). */
export function computeNtlmv2Response(
  responseKey: Buffer,
  serverChallenge: Buffer,
  clientChallenge: Buffer,
  timestamp: Buffer,
  avPairs: Buffer,
): Ntlmv2Response {
  const temp = ntlmv2ClientBlob(timestamp, clientChallenge, avPairs);
  const ntProofStr = hmacMd5(responseKey, serverChallenge, temp);
  const lmResponse = Buffer.concat([hmacMd5(responseKey, serverChallenge, clientChallenge), clientChallenge]);
  return {
    ntResponse: Buffer.concat([ntProofStr, temp]),
    lmResponse,
    ntProofStr,
    sessionBaseKey: hmacMd5(responseKey, ntProofStr),
  };
}

/**
 * Server-side check of an NTLMv2 NtChallengeResponse. Returns the SessionBaseKey on success,
 * undefined when the proof does not match. Responses of 24 bytes or less (LM/NTLMv1) never match.
 */
export function verifyNtlmv2Response(responseKey: Buffer, serverChallenge: Buffer, ntResponse: Buffer): Buffer | undefined {
  if (ntResponse.length < 16 + 28) return undefined;
  const proof = ntResponse.subarray(0, 16);
  const temp = ntResponse.subarray(16);
  const expect = hmacMd5(responseKey, serverChallenge, temp);
  if (!timingSafeEqual(proof, expect)) return undefined;
  return hmacMd5(responseKey, proof);
}

/** ExportedSessionKey from KeyExchangeKey (= SessionBaseKey for NTLMv2) and the AUTHENTICATE fields. */
export function exportedSessionKey(keyExchangeKey: Buffer, flags: number, encryptedRandomSessionKey: Buffer): Buffer {
  if (flags & NTLMSSP.NEGOTIATE_KEY_EXCH && flags & (NTLMSSP.NEGOTIATE_SIGN | NTLMSSP.NEGOTIATE_SEAL)) {
    if (encryptedRandomSessionKey.length !== 16) throw new WireError('EncryptedRandomSessionKey must be 16 bytes');
    return rc4(keyExchangeKey, encryptedRandomSessionKey);
  }
  return keyExchangeKey;
}

/** MIC = HMAC_MD5(ExportedSessionKey, NEGOTIATE || CHALLENGE || AUTHENTICATE with MIC zeroed). */
export function computeMic(exportedKey: Buffer, negotiate: Buffer, challenge: Buffer, authenticate: Buffer): Buffer {
  const auth = Buffer.from(authenticate);
  auth.fill(0, AUTH_MIC_OFFSET, AUTH_MIC_OFFSET + 16);
  return hmacMd5(exportedKey, negotiate, challenge, auth);
}

const MAGIC = {
  clientSign: 'session key to client-to-server signing key magic constant\0',
  serverSign: 'session key to server-to-client signing key magic constant\0',
  clientSeal: 'session key to client-to-server sealing key magic constant\0',
  serverSeal: 'session key to server-to-client sealing key magic constant\0',
};

/** SIGNKEY / SEALKEY with extended session security and 128-bit keys (3.4.5.2, 3.4.5.3). */
export function ntlmSessionKeys(exportedKey: Buffer): { clientSign: Buffer; serverSign: Buffer; clientSeal: Buffer; serverSeal: Buffer } {
  const md5 = (s: string): Buffer => createHash('md5').update(exportedKey).update(Buffer.from(s, 'latin1')).digest();
  return {
    clientSign: md5(MAGIC.clientSign),
    serverSign: md5(MAGIC.serverSign),
    clientSeal: md5(MAGIC.clientSeal),
    serverSeal: md5(MAGIC.serverSeal),
  };
}

/**
 * GSS_GetMIC for NTLM with extended session security and key exchange (3.4.4.2):
 * Version(1) || RC4(sealKey, HMAC_MD5(signKey, SeqNum || msg)[0..7]) || SeqNum.
 * `sealer` is the direction's RC4 handle (stateful across messages); pass a fresh one for the first use.
 */
export function ntlmGetMic(signKey: Buffer, sealer: Rc4, seqNum: number, message: Buffer): Buffer {
  const seq = Buffer.alloc(4);
  seq.writeUInt32LE(seqNum >>> 0);
  const mac = hmacMd5(signKey, seq, message).subarray(0, 8);
  const out = Buffer.alloc(16);
  out.writeUInt32LE(1, 0);
  sealer.update(mac).copy(out, 4);
  seq.copy(out, 12);
  return out;
}

/** FILETIME now as 8 little-endian bytes. */
export function filetimeNow(): Buffer {
  const b = Buffer.alloc(8);
  b.writeBigUInt64LE(BigInt(Date.now()) * 10000n + 116444736000000000n);
  return b;
}

export function randomKey(): Buffer {
  return randomBytes(16);
}

export { Rc4 };
