// RFC 4120 section 5 messages: Ticket, EncTicketPart, AP-REQ, Authenticator, AP-REP,
// EncAPRepPart, AS-REQ/TGS-REQ (KDC-REQ), AS-REP/TGS-REP (KDC-REP), EncKDCRepPart, KRB-ERROR,
// PA-DATA, PA-ENC-TS-ENC and ETYPE-INFO2. Encoders and decoders; decoders throw WireError.
import { WireError } from '../../wire/buf.js';
import { readTlv, type Tlv } from '../der.js';
import {
  Fields, app, appFields, ctx, decFlags, decInt, decOctets, decSeqOf, decStr, decTime, flags, int, octetString, seq, str, time,
} from './asn1.js';

export const MsgType = { AS_REQ: 10, AS_REP: 11, TGS_REQ: 12, TGS_REP: 13, AP_REQ: 14, AP_REP: 15, KRB_ERROR: 30 } as const;
export const NameType = { PRINCIPAL: 1, SRV_INST: 2, SRV_HST: 3 } as const;
export const PaType = { TGS_REQ: 1, ENC_TIMESTAMP: 2, ETYPE_INFO2: 19 } as const;

/** RFC 4120 7.5.1 key usage numbers. */
export const KeyUsage = {
  PA_ENC_TIMESTAMP: 1,
  TICKET: 2,
  AS_REP_ENC: 3,
  TGS_REQ_AUTH_CKSUM: 6,
  TGS_REQ_AUTH: 7,
  TGS_REP_ENC_SESSION: 8,
  TGS_REP_ENC_SUBKEY: 9,
  AP_REQ_AUTH_CKSUM: 10,
  AP_REQ_AUTH: 11,
  AP_REP_ENC: 12,
} as const;

/** RFC 4120 7.5.9 error codes we act on. */
export const KrbErrorCode = {
  KDC_ERR_C_PRINCIPAL_UNKNOWN: 6,
  KDC_ERR_S_PRINCIPAL_UNKNOWN: 7,
  KDC_ERR_ETYPE_NOSUPP: 14,
  KDC_ERR_PREAUTH_FAILED: 24,
  KDC_ERR_PREAUTH_REQUIRED: 25,
  KRB_AP_ERR_BAD_INTEGRITY: 31,
  KRB_AP_ERR_TKT_EXPIRED: 32,
  KRB_AP_ERR_TKT_NYV: 33,
  KRB_AP_ERR_REPEAT: 34,
  KRB_AP_ERR_NOT_US: 35,
  KRB_AP_ERR_BADMATCH: 36,
  KRB_AP_ERR_SKEW: 37,
  KRB_AP_ERR_MODIFIED: 41,
  KRB_AP_ERR_NOKEY: 45,
  KRB_ERR_GENERIC: 60,
  KRB_ERR_RESPONSE_TOO_BIG: 52,
} as const;

/** APOptions bits (RFC 4120 5.5.1; bit 0 is the MSB). */
export const ApOptions = { USE_SESSION_KEY: 1 << 30, MUTUAL_REQUIRED: 1 << 29 } as const;
/** KDCOptions (RFC 4120 5.4.1). */
export const KdcOptions = { FORWARDABLE: 1 << 30, RENEWABLE: 1 << 23, CANONICALIZE: 1 << 16, RENEWABLE_OK: 1 << 4 } as const;

export interface PrincipalName { type: number; names: string[] }
export interface EncryptedData { etype: number; kvno?: number; cipher: Buffer }
export interface EncryptionKey { type: number; value: Buffer }
export interface Checksum { type: number; value: Buffer }
export interface PaData { type: number; value: Buffer }

export interface Ticket { realm: string; sname: PrincipalName; encPart: EncryptedData }
export interface EncTicketPart {
  flags: number;
  key: EncryptionKey;
  crealm: string;
  cname: PrincipalName;
  authtime: number;
  starttime?: number;
  endtime: number;
  renewTill?: number;
}
export interface ApReq { apOptions: number; ticket: Ticket; ticketDer: Buffer; authenticator: EncryptedData }
export interface Authenticator {
  crealm: string;
  cname: PrincipalName;
  cksum?: Checksum;
  cusec: number;
  ctime: number;
  subkey?: EncryptionKey;
  seqNumber?: number;
}
export interface EncApRepPart { ctime: number; cusec: number; subkey?: EncryptionKey; seqNumber?: number }
export interface KdcReqBody {
  options: number;
  cname?: PrincipalName;
  realm: string;
  sname?: PrincipalName;
  till: number;
  nonce: number;
  etypes: number[];
}
export interface KdcRep {
  msgType: number;
  padata: PaData[];
  crealm: string;
  cname: PrincipalName;
  ticket: Ticket;
  ticketDer: Buffer;
  encPart: EncryptedData;
}
export interface EncKdcRepPart {
  key: EncryptionKey;
  nonce: number;
  flags: number;
  authtime: number;
  starttime?: number;
  endtime: number;
  renewTill?: number;
  srealm: string;
  sname: PrincipalName;
}
export interface KrbError {
  errorCode: number;
  stime: number;
  susec: number;
  realm: string;
  sname: PrincipalName;
  crealm?: string;
  cname?: PrincipalName;
  eText?: string;
  eData?: Buffer;
}
export interface EtypeInfo2Entry { etype: number; salt?: string; s2kparams?: Buffer }

const opt = <T>(v: T | undefined, f: (v: T) => Buffer): Buffer | undefined => (v === undefined ? undefined : f(v));

// ------------------------------------------------------------------------------ small types

export function principalToString(p: PrincipalName, realm?: string): string {
  return p.names.join('/') + (realm ? `@${realm}` : '');
}

/** "a/b@REALM" -> name and realm (realm undefined when absent). */
export function parsePrincipal(s: string, type: number = NameType.PRINCIPAL): { name: PrincipalName; realm?: string } {
  const at = s.lastIndexOf('@');
  const names = (at >= 0 ? s.slice(0, at) : s).split('/');
  return { name: { type, names }, realm: at >= 0 ? s.slice(at + 1) : undefined };
}

export const encPrincipal = (p: PrincipalName): Buffer => seq(ctx(0, int(p.type)), ctx(1, seq(...p.names.map(str))));
export function decPrincipal(t: Tlv): PrincipalName {
  const f = new Fields(t, 'PrincipalName');
  return { type: decInt(f.get(0)), names: decSeqOf(f.get(1)).map(decStr) };
}

export const encEncryptedData = (e: EncryptedData): Buffer =>
  seq(ctx(0, int(e.etype)), opt(e.kvno, (k) => ctx(1, int(k))), ctx(2, octetString(e.cipher)));
export function decEncryptedData(t: Tlv): EncryptedData {
  const f = new Fields(t, 'EncryptedData');
  const kvno = f.opt(1);
  return { etype: decInt(f.get(0)), kvno: kvno ? decInt(kvno) : undefined, cipher: decOctets(f.get(2)) };
}

export const encKey = (k: EncryptionKey): Buffer => seq(ctx(0, int(k.type)), ctx(1, octetString(k.value)));
export function decKey(t: Tlv): EncryptionKey {
  const f = new Fields(t, 'EncryptionKey');
  return { type: decInt(f.get(0)), value: decOctets(f.get(1)) };
}

export const encChecksum = (c: Checksum): Buffer => seq(ctx(0, int(c.type)), ctx(1, octetString(c.value)));
export function decChecksum(t: Tlv): Checksum {
  const f = new Fields(t, 'Checksum');
  return { type: decInt(f.get(0)), value: decOctets(f.get(1)) };
}

export const encPaData = (p: PaData): Buffer => seq(ctx(1, int(p.type)), ctx(2, octetString(p.value)));
function decPaDataList(t: Tlv | undefined): PaData[] {
  if (!t) return [];
  return decSeqOf(t).map((e) => {
    const f = new Fields(e, 'PA-DATA');
    return { type: decInt(f.get(1)), value: decOctets(f.get(2)) };
  });
}

// ------------------------------------------------------------------------------ Ticket

export const encTicket = (t: Ticket): Buffer =>
  app(1, seq(ctx(0, int(5)), ctx(1, str(t.realm)), ctx(2, encPrincipal(t.sname)), ctx(3, encEncryptedData(t.encPart))));
export function decTicket(t: Tlv): Ticket {
  if (t.tag !== 0x61) throw new WireError('krb5: Ticket expected');
  const f = new Fields(readTlv(t.content, 0), 'Ticket');
  if (decInt(f.get(0)) !== 5) throw new WireError('krb5: Ticket tkt-vno is not 5');
  return { realm: decStr(f.get(1)), sname: decPrincipal(f.get(2)), encPart: decEncryptedData(f.get(3)) };
}

export function encEncTicketPart(p: EncTicketPart): Buffer {
  return app(3, seq(
    ctx(0, flags(p.flags)), ctx(1, encKey(p.key)), ctx(2, str(p.crealm)), ctx(3, encPrincipal(p.cname)),
    ctx(4, seq(ctx(0, int(1)), ctx(1, octetString(Buffer.alloc(0))))), // transited: DOMAIN-X500-COMPRESS, empty
    ctx(5, time(p.authtime)), opt(p.starttime, (v) => ctx(6, time(v))), ctx(7, time(p.endtime)), opt(p.renewTill, (v) => ctx(8, time(v))),
  ));
}
export function decEncTicketPart(buf: Buffer): EncTicketPart {
  const f = appFields(buf, 3, 'EncTicketPart');
  const st = f.opt(6);
  const rt = f.opt(8);
  return {
    flags: decFlags(f.get(0)), key: decKey(f.get(1)), crealm: decStr(f.get(2)), cname: decPrincipal(f.get(3)),
    authtime: decTime(f.get(5)), starttime: st ? decTime(st) : undefined, endtime: decTime(f.get(7)), renewTill: rt ? decTime(rt) : undefined,
  };
}

// ------------------------------------------------------------------------------ AP-REQ / AP-REP

export function encApReq(ticketDer: Buffer, apOptions: number, authenticator: EncryptedData): Buffer {
  return app(14, seq(ctx(0, int(5)), ctx(1, int(MsgType.AP_REQ)), ctx(2, flags(apOptions)), ctx(3, ticketDer), ctx(4, encEncryptedData(authenticator))));
}
export function decApReq(buf: Buffer): ApReq {
  const f = appFields(buf, 14, 'AP-REQ');
  if (decInt(f.get(0)) !== 5 || decInt(f.get(1)) !== MsgType.AP_REQ) throw new WireError('krb5: not an AP-REQ');
  const tk = f.get(3);
  return { apOptions: decFlags(f.get(2)), ticket: decTicket(tk), ticketDer: tk.raw, authenticator: decEncryptedData(f.get(4)) };
}

export function encAuthenticator(a: Authenticator): Buffer {
  return app(2, seq(
    ctx(0, int(5)), ctx(1, str(a.crealm)), ctx(2, encPrincipal(a.cname)), opt(a.cksum, (c) => ctx(3, encChecksum(c))),
    ctx(4, int(a.cusec)), ctx(5, time(a.ctime)), opt(a.subkey, (k) => ctx(6, encKey(k))), opt(a.seqNumber, (n) => ctx(7, int(n))),
  ));
}
export function decAuthenticator(buf: Buffer): Authenticator {
  const f = appFields(buf, 2, 'Authenticator');
  if (decInt(f.get(0)) !== 5) throw new WireError('krb5: authenticator-vno is not 5');
  const ck = f.opt(3);
  const sk = f.opt(6);
  const sn = f.opt(7);
  return {
    crealm: decStr(f.get(1)), cname: decPrincipal(f.get(2)), cksum: ck ? decChecksum(ck) : undefined,
    cusec: decInt(f.get(4)), ctime: decTime(f.get(5)), subkey: sk ? decKey(sk) : undefined, seqNumber: sn ? decInt(sn) : undefined,
  };
}

export const encApRep = (encPart: EncryptedData): Buffer =>
  app(15, seq(ctx(0, int(5)), ctx(1, int(MsgType.AP_REP)), ctx(2, encEncryptedData(encPart))));
export function decApRep(buf: Buffer): EncryptedData {
  const f = appFields(buf, 15, 'AP-REP');
  if (decInt(f.get(1)) !== MsgType.AP_REP) throw new WireError('krb5: not an AP-REP');
  return decEncryptedData(f.get(2));
}

export const encEncApRepPart = (p: EncApRepPart): Buffer =>
  app(27, seq(ctx(0, time(p.ctime)), ctx(1, int(p.cusec)), opt(p.subkey, (k) => ctx(2, encKey(k))), opt(p.seqNumber, (n) => ctx(3, int(n)))));
export function decEncApRepPart(buf: Buffer): EncApRepPart {
  const f = appFields(buf, 27, 'EncAPRepPart');
  const sk = f.opt(2);
  const sn = f.opt(3);
  return { ctime: decTime(f.get(0)), cusec: decInt(f.get(1)), subkey: sk ? decKey(sk) : undefined, seqNumber: sn ? decInt(sn) : undefined };
}

// ------------------------------------------------------------------------------ KDC exchanges

export function encKdcReqBody(b: KdcReqBody): Buffer {
  return seq(
    ctx(0, flags(b.options)), opt(b.cname, (c) => ctx(1, encPrincipal(c))), ctx(2, str(b.realm)), opt(b.sname, (s) => ctx(3, encPrincipal(s))),
    ctx(5, time(b.till)), ctx(7, int(b.nonce)), ctx(8, seq(...b.etypes.map(int))),
  );
}

export function encKdcReq(msgType: 10 | 12, padata: PaData[], bodyDer: Buffer): Buffer {
  return app(msgType, seq(
    ctx(1, int(5)), ctx(2, int(msgType)), padata.length ? ctx(3, seq(...padata.map(encPaData))) : undefined, ctx(4, bodyDer),
  ));
}

export function decKdcReq(buf: Buffer): { msgType: number; padata: PaData[]; body: KdcReqBody } {
  const t = readTlv(buf, 0);
  const n = t.tag & 0x1f;
  if (t.tag !== 0x6a && t.tag !== 0x6c) throw new WireError('krb5: not a KDC-REQ');
  const f = appFields(buf, n, 'KDC-REQ');
  const b = new Fields(f.get(4), 'KDC-REQ-BODY');
  const cn = b.opt(1);
  const sn = b.opt(3);
  return {
    msgType: decInt(f.get(2)), padata: decPaDataList(f.opt(3)),
    body: {
      options: decFlags(b.get(0)), cname: cn ? decPrincipal(cn) : undefined, realm: decStr(b.get(2)), sname: sn ? decPrincipal(sn) : undefined,
      till: decTime(b.get(5)), nonce: decInt(b.get(7)), etypes: decSeqOf(b.get(8)).map(decInt),
    },
  };
}

export function decKdcRep(buf: Buffer): KdcRep {
  const t = readTlv(buf, 0);
  if (t.tag !== 0x6b && t.tag !== 0x6d) throw new WireError('krb5: not a KDC-REP');
  const f = appFields(buf, t.tag & 0x1f, 'KDC-REP');
  const tk = f.get(5);
  return {
    msgType: decInt(f.get(1)), padata: decPaDataList(f.opt(2)), crealm: decStr(f.get(3)), cname: decPrincipal(f.get(4)),
    ticket: decTicket(tk), ticketDer: tk.raw, encPart: decEncryptedData(f.get(6)),
  };
}

/** EncASRepPart [APPLICATION 25] or EncTGSRepPart [APPLICATION 26] (MIT sends 25 for both at times). */
export function decEncKdcRepPart(buf: Buffer): EncKdcRepPart {
  const t = readTlv(buf, 0);
  if (t.tag !== 0x79 && t.tag !== 0x7a) throw new WireError('krb5: not an EncKDCRepPart');
  const f = appFields(buf, t.tag & 0x1f, 'EncKDCRepPart');
  const st = f.opt(6);
  const rt = f.opt(8);
  return {
    key: decKey(f.get(0)), nonce: decInt(f.get(2)), flags: decFlags(f.get(4)), authtime: decTime(f.get(5)),
    starttime: st ? decTime(st) : undefined, endtime: decTime(f.get(7)), renewTill: rt ? decTime(rt) : undefined,
    srealm: decStr(f.get(9)), sname: decPrincipal(f.get(10)),
  };
}

export function encKrbError(e: KrbError): Buffer {
  return app(30, seq(
    ctx(0, int(5)), ctx(1, int(MsgType.KRB_ERROR)), ctx(4, time(e.stime)), ctx(5, int(e.susec)), ctx(6, int(e.errorCode)),
    opt(e.crealm, (v) => ctx(7, str(v))), opt(e.cname, (v) => ctx(8, encPrincipal(v))), ctx(9, str(e.realm)), ctx(10, encPrincipal(e.sname)),
    opt(e.eText, (v) => ctx(11, str(v))), opt(e.eData, (v) => ctx(12, octetString(v))),
  ));
}
export function decKrbError(buf: Buffer): KrbError {
  const f = appFields(buf, 30, 'KRB-ERROR');
  const cr = f.opt(7);
  const cn = f.opt(8);
  const et = f.opt(11);
  const ed = f.opt(12);
  return {
    errorCode: decInt(f.get(6)), stime: decTime(f.get(4)), susec: decInt(f.get(5)), realm: decStr(f.get(9)), sname: decPrincipal(f.get(10)),
    crealm: cr ? decStr(cr) : undefined, cname: cn ? decPrincipal(cn) : undefined, eText: et ? decStr(et) : undefined, eData: ed ? decOctets(ed) : undefined,
  };
}

/** METHOD-DATA in a PREAUTH_REQUIRED error's e-data. */
export const decMethodData = (buf: Buffer): PaData[] => decPaDataList(readTlv(buf, 0));

export const encPaEncTsEnc = (ms: number, usec: number): Buffer => seq(ctx(0, time(ms)), ctx(1, int(usec)));

export function decEtypeInfo2(buf: Buffer): EtypeInfo2Entry[] {
  return decSeqOf(readTlv(buf, 0)).map((e) => {
    const f = new Fields(e, 'ETYPE-INFO2-ENTRY');
    const s = f.opt(1);
    const p = f.opt(2);
    return { etype: decInt(f.get(0)), salt: s ? decStr(s) : undefined, s2kparams: p ? decOctets(p) : undefined };
  });
}
