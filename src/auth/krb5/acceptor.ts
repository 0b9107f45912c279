// Kerberos acceptor (RFC 4120 3.2.3, RFC 4121 4.1): AP-REQ in, AP-REP out.
// Finds the service key in the keytab, decrypts the ticket and the authenticator, checks
// clock skew, ticket times and the replay cache, and answers with a mutual-authentication
// AP-REP carrying a fresh acceptor subkey. The GSS session key is then the acceptor subkey
// (RFC 4121 2; MS-KILE 3.1.1.2 and MS-SMB2 3.3.5.5.3 take the GSS session key as-is).
import { randomBytes, randomInt } from 'node:crypto';
import { enctype, isSupportedEtype } from '../../crypto/krb5-enctypes.js';
import type { KeytabEntry } from './keytab.js';
import {
  ApOptions, KeyUsage, KrbErrorCode, decApReq, decAuthenticator, decEncTicketPart, encApRep, encEncApRepPart, principalToString,
  type ApReq, type Authenticator, type EncTicketPart, type EncryptionKey,
} from './messages.js';
import { GSS_CHECKSUM_TYPE, GssFlags, TokId, decodeGssChecksum, unwrapGssToken, wrapGssToken } from './gss.js';
import { ReplayCache } from './replay-cache.js';

export const DEFAULT_SKEW_MS = 5 * 60 * 1000;

export interface AcceptorOptions {
  /** Service keys (reloaded by the caller when the file changes). */
  keytab: () => KeytabEntry[];
  /** Only tickets of this realm are accepted when set. */
  realm?: string;
  skewMs?: number;
  replay?: ReplayCache;
  now?: () => number;
  /** Send an acceptor subkey in the AP-REP (default true, like MIT and Windows). */
  acceptorSubkey?: boolean;
}

export type AcceptResult =
  | {
      ok: true;
      /** client principal without realm, e.g. "alice" */
      client: string;
      realm: string;
      /** the GSS session key (acceptor subkey, else initiator subkey, else ticket session key) */
      sessionKey: Buffer;
      /** GSS AP-REP token, when mutual authentication was asked for */
      token?: Buffer;
      gssFlags: number;
      ticket: EncTicketPart;
    }
  | { ok: false; code: number; message: string };

const fail = (code: number, message: string): AcceptResult => ({ ok: false, code, message });

export class Krb5Acceptor {
  readonly replay: ReplayCache;
  private readonly skewMs: number;

  constructor(private readonly opts: AcceptorOptions) {
    this.skewMs = opts.skewMs ?? DEFAULT_SKEW_MS;
    this.replay = opts.replay ?? new ReplayCache(this.skewMs);
  }

  /** `token` is the GSS krb5 initial context token (0x60 ... 01 00 AP-REQ). Never throws. */
  accept(token: Buffer): AcceptResult {
    let apReq: ApReq;
    try {
      const g = unwrapGssToken(token);
      if (g.tokId !== TokId.AP_REQ) return fail(KrbErrorCode.KRB_ERR_GENERIC, 'not an AP-REQ token');
      apReq = decApReq(g.inner);
    } catch (e) {
      return fail(KrbErrorCode.KRB_ERR_GENERIC, `malformed AP-REQ: ${(e as Error).message}`);
    }
    try {
      return this.check(apReq);
    } catch (e) {
      return fail(KrbErrorCode.KRB_ERR_GENERIC, `bad AP-REQ: ${(e as Error).message}`);
    }
  }

  private check(req: ApReq): AcceptResult {
    const now = (this.opts.now ?? Date.now)();
    const t = req.ticket;
    if (req.apOptions & ApOptions.USE_SESSION_KEY) return fail(KrbErrorCode.KRB_AP_ERR_NOKEY, 'user-to-user tickets are not supported');
    if (this.opts.realm && t.realm.toUpperCase() !== this.opts.realm.toUpperCase()) {
      return fail(KrbErrorCode.KRB_AP_ERR_NOT_US, `ticket for realm ${t.realm}`);
    }
    const sname = principalToString(t.sname, t.realm);
    const want = t.sname.names.map((s) => s.toLowerCase()).join('/');
    const forUs = this.opts.keytab().filter((e) =>
      e.realm.toUpperCase() === t.realm.toUpperCase() && e.names.map((s) => s.toLowerCase()).join('/') === want);
    if (forUs.length === 0) return fail(KrbErrorCode.KRB_AP_ERR_NOT_US, `no key for ${sname}`);
    if (!isSupportedEtype(t.encPart.etype)) return fail(KrbErrorCode.KDC_ERR_ETYPE_NOSUPP, `ticket enctype ${t.encPart.etype}`);
    const keys = forUs.filter((e) => e.etype === t.encPart.etype);
    if (keys.length === 0) return fail(KrbErrorCode.KRB_AP_ERR_NOKEY, `no ${t.encPart.etype} key for ${sname}`);
    // Prefer the key with the ticket's kvno, then the others (a keytab may lag a kvno behind).
    keys.sort((a, b) => Number(b.kvno === t.encPart.kvno) - Number(a.kvno === t.encPart.kvno));
    const prof = enctype(t.encPart.etype);
    let encTicket: EncTicketPart | undefined;
    for (const k of keys) {
      try {
        encTicket = decEncTicketPart(prof.decrypt(k.key, KeyUsage.TICKET, t.encPart.cipher));
        break;
      } catch {
        // wrong key: try the next one
      }
    }
    if (!encTicket) return fail(KrbErrorCode.KRB_AP_ERR_BAD_INTEGRITY, `ticket for ${sname} does not decrypt with the keytab`);

    const sk = encTicket.key;
    if (!isSupportedEtype(sk.type) || !isSupportedEtype(req.authenticator.etype) || req.authenticator.etype !== sk.type) {
      return fail(KrbErrorCode.KDC_ERR_ETYPE_NOSUPP, 'session key enctype');
    }
    let auth: Authenticator;
    try {
      auth = decAuthenticator(enctype(sk.type).decrypt(sk.value, KeyUsage.AP_REQ_AUTH, req.authenticator.cipher));
    } catch {
      return fail(KrbErrorCode.KRB_AP_ERR_BAD_INTEGRITY, 'authenticator does not decrypt with the ticket session key');
    }
    const cname = principalToString(encTicket.cname);
    if (auth.crealm !== encTicket.crealm || principalToString(auth.cname) !== cname) {
      return fail(KrbErrorCode.KRB_AP_ERR_BADMATCH, 'authenticator and ticket name different clients');
    }
    if (Math.abs(now - auth.ctime) > this.skewMs) return fail(KrbErrorCode.KRB_AP_ERR_SKEW, `clock skew ${Math.round((now - auth.ctime) / 1000)} s`);
    const start = encTicket.starttime ?? encTicket.authtime;
    if (start - this.skewMs > now) return fail(KrbErrorCode.KRB_AP_ERR_TKT_NYV, 'ticket not yet valid');
    if (encTicket.endtime + this.skewMs < now) return fail(KrbErrorCode.KRB_AP_ERR_TKT_EXPIRED, 'ticket expired');

    // RFC 4121 4.1.1 GSS checksum carries the context flags. impacket (and old Windows) send
    // none; like MIT we then take the flags from the AP options. The authenticator is already
    // authenticated by the session key, so nothing is lost.
    let gssFlags = 0;
    if (auth.cksum?.type === GSS_CHECKSUM_TYPE) gssFlags = decodeGssChecksum(auth.cksum.value).flags;
    else if (req.apOptions & ApOptions.MUTUAL_REQUIRED) gssFlags = GssFlags.MUTUAL;
    // Record only authenticators that passed every other check, so garbage cannot fill the cache.
    if (!this.replay.check(req.authenticator.cipher, auth.ctime, now)) return fail(KrbErrorCode.KRB_AP_ERR_REPEAT, 'replayed authenticator');

    if (auth.subkey && (!isSupportedEtype(auth.subkey.type) || auth.subkey.value.length !== enctype(auth.subkey.type).keyBytes)) {
      return fail(KrbErrorCode.KDC_ERR_ETYPE_NOSUPP, 'authenticator subkey of an unsupported type or size');
    }
    let sessionKey = (auth.subkey ?? sk).value;
    let token: Buffer | undefined;
    if ((req.apOptions & ApOptions.MUTUAL_REQUIRED) || (gssFlags & GssFlags.MUTUAL)) {
      let subkey: EncryptionKey | undefined;
      if (this.opts.acceptorSubkey !== false) {
        const type = auth.subkey?.type ?? sk.type;
        subkey = { type, value: randomBytes(enctype(type).keyBytes) };
        sessionKey = subkey.value;
      }
      // RFC 4120 5.5.2: EncAPRepPart is sealed with the ticket session key, usage 12.
      const part = encEncApRepPart({ ctime: auth.ctime, cusec: auth.cusec, subkey, seqNumber: randomInt(0, 0x7fffffff) });
      const enc = enctype(sk.type).encrypt(sk.value, KeyUsage.AP_REP_ENC, part);
      token = wrapGssToken(TokId.AP_REP, encApRep({ etype: sk.type, cipher: enc }));
    }
    return { ok: true, client: cname, realm: encTicket.crealm, sessionKey, token, gssFlags, ticket: encTicket };
  }
}
