// Kerberos initiator: gets a TGT (AS-REQ, with PA-ENC-TIMESTAMP after PREAUTH_REQUIRED, RFC 4120
// 3.1 and 5.2.7.2), a service ticket (TGS-REQ, 3.3), builds the GSS AP-REQ with a subkey and
// mutual authentication (RFC 4121 4.1) and verifies the AP-REP. Tickets come from a FILE: ccache
// when one holds them, else from the KDC with a password or keytab key.
import { randomBytes, randomInt } from 'node:crypto';
import { SUPPORTED_ETYPES, enctype, isSupportedEtype } from '../../crypto/krb5-enctypes.js';
import { WireError } from '../../wire/buf.js';
import type { Ccache, Credential } from './ccache.js';
import { kdcExchange } from './kdc-client.js';
import type { KeytabEntry } from './keytab.js';
import {
  ApOptions, KdcOptions, KeyUsage, KrbErrorCode, MsgType, NameType, PaType,
  decApRep, decEncApRepPart, decEncKdcRepPart, decEtypeInfo2, decKdcRep, decKrbError, decMethodData,
  encApReq, encAuthenticator, encEncryptedData, encKdcReq, encKdcReqBody, encPaEncTsEnc, principalToString,
  type EncryptionKey, type KrbError, type PrincipalName,
} from './messages.js';
import { GSS_CHECKSUM_TYPE, GssFlags, TokId, encodeGssChecksum, unwrapGssToken, wrapGssToken } from './gss.js';

export class KerberosError extends Error {
  constructor(message: string, readonly code?: number) {
    super(message);
    this.name = 'KerberosError';
  }
}

/** A ticket and its session key: what a ccache entry holds. */
export interface TicketCred {
  client: PrincipalName;
  crealm: string;
  server: PrincipalName;
  srealm: string;
  key: EncryptionKey;
  ticket: Buffer;
  authtime: number;
  starttime: number;
  endtime: number;
  renewTill: number;
  flags: number;
}

export interface InitiatorOptions {
  /** "user" or "user@REALM" */
  principal: string;
  realm: string;
  password?: string;
  /** Keys of the client principal (a client keytab). */
  keytab?: KeytabEntry[];
  /** Tickets already obtained (kinit's ccache). */
  ccache?: Ccache;
  /** KDC addresses ("host:port") for the realm. */
  kdcs: string[];
  now?: () => number;
  timeoutMs?: number;
}

const DAY = 24 * 3600 * 1000;

function fromCache(c: Credential): TicketCred {
  return {
    client: c.client.name, crealm: c.client.realm, server: c.server.name, srealm: c.server.realm,
    key: { type: c.keyType, value: c.key }, ticket: c.ticket, authtime: c.authtime, starttime: c.starttime || c.authtime,
    endtime: c.endtime, renewTill: c.renewTill, flags: c.flags,
  };
}

const samePrincipal = (a: PrincipalName, b: PrincipalName): boolean =>
  a.names.length === b.names.length && a.names.every((s, i) => s.toLowerCase() === b.names[i]!.toLowerCase());

export class Krb5Initiator {
  readonly client: PrincipalName;
  readonly realm: string;
  private tgt: TicketCred | undefined;
  private readonly services = new Map<string, TicketCred>();

  constructor(private readonly opts: InitiatorOptions) {
    const at = opts.principal.lastIndexOf('@');
    this.client = { type: NameType.PRINCIPAL, names: (at >= 0 ? opts.principal.slice(0, at) : opts.principal).split('/') };
    this.realm = at >= 0 ? opts.principal.slice(at + 1) : opts.realm;
  }

  private now(): number {
    return (this.opts.now ?? Date.now)();
  }

  private valid(c: TicketCred): boolean {
    return c.endtime > this.now() + 60_000;
  }

  private async kdc(req: Buffer): Promise<Buffer> {
    let last: Error | undefined;
    for (const k of this.opts.kdcs) {
      try {
        return await kdcExchange(k, req, this.opts.timeoutMs);
      } catch (e) {
        last = e as Error;
      }
    }
    throw new KerberosError(last ? last.message : `no KDC known for realm ${this.realm}`);
  }

  /** A service ticket for `service` (e.g. cifs/fileserver.test.local), from the ccache or the KDC. */
  async serviceTicket(service: string): Promise<TicketCred> {
    const sname: PrincipalName = { type: NameType.SRV_INST, names: service.split('/') };
    const key = service.toLowerCase();
    const cached = this.services.get(key);
    if (cached && this.valid(cached)) return cached;
    const fromCc = this.opts.ccache?.credentials.find((c) =>
      samePrincipal(c.server.name, sname) && c.server.realm.toUpperCase() === this.realm.toUpperCase() && !c.isSkey && isSupportedEtype(c.keyType));
    if (fromCc && this.valid(fromCache(fromCc))) {
      this.services.set(key, fromCache(fromCc));
      return fromCache(fromCc);
    }
    const tgt = await this.getTgt();
    const st = await this.tgsReq(tgt, sname);
    this.services.set(key, st);
    return st;
  }

  async getTgt(): Promise<TicketCred> {
    if (this.tgt && this.valid(this.tgt)) return this.tgt;
    const krbtgt: PrincipalName = { type: NameType.SRV_INST, names: ['krbtgt', this.realm] };
    const cc = this.opts.ccache?.credentials.find((c) => samePrincipal(c.server.name, krbtgt) && isSupportedEtype(c.keyType));
    if (cc && this.valid(fromCache(cc))) return (this.tgt = fromCache(cc));
    if (this.opts.password === undefined && !this.opts.keytab?.length) {
      throw new KerberosError(`no valid ticket for ${principalToString(this.client, this.realm)} and no password or keytab to get one`);
    }
    this.tgt = await this.asReq(krbtgt);
    return this.tgt;
  }

  private clientKey(etype: number, salt: string, s2kparams?: Buffer): Buffer {
    const kt = this.opts.keytab?.find((e) => e.etype === etype && samePrincipal({ type: 1, names: e.names }, this.client));
    if (kt) return kt.key;
    if (this.opts.password === undefined) throw new KerberosError(`no key of enctype ${etype} for ${principalToString(this.client, this.realm)}`);
    const iter = s2kparams && s2kparams.length === 4 ? s2kparams.readUInt32BE(0) : undefined;
    return enctype(etype).stringToKey(this.opts.password, salt, iter);
  }

  /** RFC 4120 3.1: AS exchange. The first request goes without pre-authentication; a
   *  PREAUTH_REQUIRED answer names the enctype and salt (ETYPE-INFO2) for PA-ENC-TIMESTAMP. */
  private async asReq(sname: PrincipalName): Promise<TicketCred> {
    const etypes = this.opts.keytab?.length
      ? SUPPORTED_ETYPES.filter((e) => this.opts.keytab!.some((k) => k.etype === e))
      : [...SUPPORTED_ETYPES];
    const nonce = randomInt(1, 0x7fffffff);
    const body = encKdcReqBody({
      options: KdcOptions.FORWARDABLE | KdcOptions.CANONICALIZE | KdcOptions.RENEWABLE_OK,
      cname: this.client, realm: this.realm, sname, till: this.now() + DAY, nonce, etypes,
    });
    let padata: { type: number; value: Buffer }[] = [];
    let usedKey: { etype: number; key: Buffer } | undefined;
    for (let attempt = 0; attempt < 2; attempt++) {
      const reply = await this.kdc(encKdcReq(MsgType.AS_REQ, padata, body));
      const tag = reply[0];
      if (tag === 0x7e) {
        const err = decKrbError(reply);
        if (err.errorCode !== KrbErrorCode.KDC_ERR_PREAUTH_REQUIRED || attempt > 0) throw krbErr('AS-REQ', err);
        const info = decMethodData(err.eData ?? Buffer.alloc(0)).find((p) => p.type === PaType.ETYPE_INFO2);
        const entries = info ? decEtypeInfo2(info.value) : [];
        const choice = entries.find((e) => etypes.includes(e.etype)) ?? { etype: etypes[0]!, salt: undefined, s2kparams: undefined };
        const salt = choice.salt ?? this.realm + this.client.names.join('');
        const key = this.clientKey(choice.etype, salt, choice.s2kparams);
        const t = this.now();
        const ts = enctype(choice.etype).encrypt(key, KeyUsage.PA_ENC_TIMESTAMP, encPaEncTsEnc(t, (t % 1000) * 1000));
        padata = [{ type: PaType.ENC_TIMESTAMP, value: encEncryptedData({ etype: choice.etype, cipher: ts }) }];
        usedKey = { etype: choice.etype, key };
        continue;
      }
      const rep = decKdcRep(reply);
      if (rep.msgType !== MsgType.AS_REP) throw new KerberosError('KDC answered AS-REQ with something else');
      if (!usedKey || usedKey.etype !== rep.encPart.etype) {
        // no pre-authentication was needed: the reply's padata carries the salt
        const info = rep.padata.find((p) => p.type === PaType.ETYPE_INFO2);
        const e = info ? decEtypeInfo2(info.value).find((x) => x.etype === rep.encPart.etype) : undefined;
        usedKey = { etype: rep.encPart.etype, key: this.clientKey(rep.encPart.etype, e?.salt ?? this.realm + this.client.names.join(''), e?.s2kparams) };
      }
      let part;
      try {
        part = decEncKdcRepPart(enctype(rep.encPart.etype).decrypt(usedKey.key, KeyUsage.AS_REP_ENC, rep.encPart.cipher));
      } catch {
        throw new KerberosError('AS-REP does not decrypt: wrong password or key', KrbErrorCode.KDC_ERR_PREAUTH_FAILED);
      }
      if (part.nonce !== nonce) throw new KerberosError('AS-REP nonce mismatch');
      return {
        client: rep.cname, crealm: rep.crealm, server: part.sname, srealm: part.srealm, key: part.key, ticket: rep.ticketDer,
        authtime: part.authtime, starttime: part.starttime ?? part.authtime, endtime: part.endtime, renewTill: part.renewTill ?? 0, flags: part.flags,
      };
    }
    throw new KerberosError('AS exchange did not finish');
  }

  /** RFC 4120 3.3: TGS exchange with the TGT in a PA-TGS-REQ AP-REQ. */
  private async tgsReq(tgt: TicketCred, sname: PrincipalName): Promise<TicketCred> {
    const nonce = randomInt(1, 0x7fffffff);
    const body = encKdcReqBody({
      options: KdcOptions.FORWARDABLE | KdcOptions.CANONICALIZE, realm: this.realm, sname, till: this.now() + DAY, nonce,
      etypes: [...SUPPORTED_ETYPES],
    });
    const p = enctype(tgt.key.type);
    const t = this.now();
    const auth = encAuthenticator({
      crealm: tgt.crealm, cname: tgt.client, ctime: t, cusec: (t % 1000) * 1000,
      cksum: { type: p.cksumType, value: p.checksum(tgt.key.value, KeyUsage.TGS_REQ_AUTH_CKSUM, body) },
    });
    const apReq = encApReq(tgt.ticket, 0, { etype: tgt.key.type, cipher: p.encrypt(tgt.key.value, KeyUsage.TGS_REQ_AUTH, auth) });
    const reply = await this.kdc(encKdcReq(MsgType.TGS_REQ, [{ type: PaType.TGS_REQ, value: apReq }], body));
    if (reply[0] === 0x7e) throw krbErr(`TGS-REQ for ${principalToString(sname, this.realm)}`, decKrbError(reply));
    const rep = decKdcRep(reply);
    if (rep.msgType !== MsgType.TGS_REP) throw new KerberosError('KDC answered TGS-REQ with something else');
    const part = decEncKdcRepPart(p.decrypt(tgt.key.value, KeyUsage.TGS_REP_ENC_SESSION, rep.encPart.cipher));
    if (part.nonce !== nonce) throw new KerberosError('TGS-REP nonce mismatch');
    return {
      client: rep.cname, crealm: rep.crealm, server: part.sname, srealm: part.srealm, key: part.key, ticket: rep.ticketDer,
      authtime: part.authtime, starttime: part.starttime ?? part.authtime, endtime: part.endtime, renewTill: part.renewTill ?? 0, flags: part.flags,
    };
  }
}

/** A ccache entry for a ticket (the inverse of fromCache), e.g. to hand tickets to MIT tools. */
export function toCcacheCredential(t: TicketCred): Credential {
  return {
    client: { realm: t.crealm, name: t.client }, server: { realm: t.srealm, name: t.server }, keyType: t.key.type, key: t.key.value,
    authtime: t.authtime, starttime: t.starttime, endtime: t.endtime, renewTill: t.renewTill, isSkey: false, flags: t.flags, ticket: t.ticket,
  };
}

function krbErr(what: string, e: KrbError): KerberosError {
  return new KerberosError(`${what}: KDC error ${e.errorCode}${e.eText ? ` (${e.eText})` : ''}`, e.errorCode);
}

/** One GSS krb5 context on the initiator side: AP-REQ out, AP-REP in, session key. */
export class Krb5InitiatorContext {
  private subkey: EncryptionKey | undefined;
  private ctime = 0;
  private cusec = 0;
  private key: Buffer | undefined;

  constructor(private readonly cred: TicketCred, private readonly now: () => number = Date.now) {}

  /** RFC 4121 4.1: the initial context token, mutual authentication with a fresh subkey. */
  apReq(): Buffer {
    const sk = this.cred.key;
    const p = enctype(sk.type);
    this.subkey = { type: sk.type, value: randomBytes(p.keyBytes) };
    const t = this.now();
    this.ctime = Math.floor(t / 1000) * 1000;
    this.cusec = randomInt(0, 1_000_000);
    const flags = GssFlags.MUTUAL | GssFlags.REPLAY | GssFlags.SEQUENCE | GssFlags.CONF | GssFlags.INTEG;
    const auth = encAuthenticator({
      crealm: this.cred.crealm, cname: this.cred.client, ctime: t, cusec: this.cusec,
      cksum: { type: GSS_CHECKSUM_TYPE, value: encodeGssChecksum(flags) }, subkey: this.subkey, seqNumber: randomInt(0, 0x7fffffff),
    });
    const req = encApReq(this.cred.ticket, ApOptions.MUTUAL_REQUIRED, { etype: sk.type, cipher: p.encrypt(sk.value, KeyUsage.AP_REQ_AUTH, auth) });
    return wrapGssToken(TokId.AP_REQ, req);
  }

  /** Verifies the acceptor's AP-REP; the session key is its subkey, else ours. Throws when forged. */
  apRep(token: Buffer): void {
    const g = unwrapGssToken(token);
    if (g.tokId === TokId.KRB_ERROR) {
      const e = decKrbError(g.inner);
      throw new KerberosError(`server refused the ticket: error ${e.errorCode}${e.eText ? ` (${e.eText})` : ''}`, e.errorCode);
    }
    if (g.tokId !== TokId.AP_REP) throw new WireError('not an AP-REP token');
    const enc = decApRep(g.inner);
    const sk = this.cred.key;
    let part;
    try {
      part = decEncApRepPart(enctype(sk.type).decrypt(sk.value, KeyUsage.AP_REP_ENC, enc.cipher));
    } catch {
      throw new KerberosError('AP-REP does not decrypt with the ticket session key: not the server we asked for');
    }
    if (part.ctime !== this.ctime || part.cusec !== this.cusec) throw new KerberosError('AP-REP does not answer our authenticator');
    this.key = (part.subkey ?? this.subkey!).value;
  }

  get sessionKey(): Buffer | undefined {
    return this.key;
  }
}
