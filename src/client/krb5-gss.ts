// SPNEGO carrying Kerberos for the client session layer (GssClient): AP-REQ as the optimistic
// token of a NegTokenInit [MS-KRB5, KRB5], then the server's AP-REP checked for mutual
// authentication. Tickets come from the ccache (kinit) or the KDC (password / keytab).
import { decodeNegTokenInit, decodeNegTokenResp, encodeNegTokenInit, NEG_STATE, OID_KRB5, OID_MS_KRB5 } from '../auth/spnego.js';
import { Krb5Initiator, Krb5InitiatorContext } from '../auth/krb5/initiator.js';
import { defaultCcachePath, readCcache, type Ccache } from '../auth/krb5/ccache.js';
import { readKeytab } from '../auth/krb5/keytab.js';
import { loadKrb5Conf } from '../auth/krb5/krb5conf.js';
import type { GssClient } from './session.js';

export type Krb5Mode = 'required' | 'auto' | 'off';

export interface KerberosOptions {
  /** Realm of the user (default: from user@REALM, the ccache, or krb5.conf default_realm). */
  realm?: string;
  /** KDC "host:port" list (default: krb5.conf [realms]). */
  kdc?: string[];
  /** FILE: ccache path (default: KRB5CCNAME or /tmp/krb5cc_UID); false: do not read one. */
  ccache?: string | false;
  /** Keytab with the user's keys (instead of a password). */
  keytab?: string;
  /** Service principal to ask for (default cifs/<host of the URL>). */
  servicePrincipal?: string;
}

export interface Krb5GssOptions extends KerberosOptions {
  /** user or user@REALM; empty: the ccache's principal */
  user: string;
  password?: string;
  host: string;
}

/** Shared by every channel of one client: tickets are fetched once. */
export class Krb5Credentials {
  private initiator: Krb5Initiator | undefined;

  constructor(private readonly o: Krb5GssOptions) {}

  private init(): Krb5Initiator {
    if (this.initiator) return this.initiator;
    const conf = loadKrb5Conf();
    let ccache: Ccache | undefined;
    const ccPath = this.o.ccache === false ? undefined : this.o.ccache ?? defaultCcachePath();
    if (ccPath) {
      try {
        ccache = readCcache(ccPath);
      } catch {
        ccache = undefined; // no cache: password or keytab
      }
    }
    let user = this.o.user;
    let realm = this.o.realm;
    const at = user.lastIndexOf('@');
    if (at >= 0) {
      realm ??= user.slice(at + 1);
      user = user.slice(0, at);
    }
    if (!user && ccache) user = ccache.primary.name.names.join('/');
    realm ??= ccache?.primary.realm ?? conf.defaultRealm;
    if (!user) throw new Error('Kerberos: no user name and no ccache');
    if (!realm) throw new Error('Kerberos: no realm (user@REALM, a ccache or krb5.conf default_realm)');
    // A ccache of another principal is not ours to use.
    if (ccache && (ccache.primary.name.names.join('/').toLowerCase() !== user.toLowerCase() || ccache.primary.realm.toUpperCase() !== realm.toUpperCase())) {
      ccache = undefined;
    }
    this.initiator = new Krb5Initiator({
      principal: user, realm, password: this.o.password || undefined, ccache,
      keytab: this.o.keytab ? readKeytab(this.o.keytab) : undefined,
      kdcs: this.o.kdc ?? conf.kdcs.get(realm) ?? [],
    });
    return this.initiator;
  }

  async context(): Promise<Krb5InitiatorContext> {
    const ini = this.init();
    const cred = await ini.serviceTicket(this.o.servicePrincipal ?? `cifs/${this.o.host}`);
    return new Krb5InitiatorContext(cred);
  }
}

export class SpnegoKrb5Gss implements GssClient {
  private ctx: Krb5InitiatorContext | undefined;
  private done = false;

  constructor(private readonly creds: Krb5Credentials) {}

  /** True when the server's NEGOTIATE hint lists a Kerberos OID (or says nothing). */
  static serverOffersKrb5(hint: Buffer): boolean {
    if (hint.length === 0) return true;
    try {
      const m = decodeNegTokenInit(hint).mechTypes;
      return m.includes(OID_KRB5) || m.includes(OID_MS_KRB5);
    } catch {
      return false;
    }
  }

  async step(serverToken: Buffer): Promise<Buffer> {
    if (!this.ctx) {
      this.ctx = await this.creds.context();
      return encodeNegTokenInit({ mechTypes: [OID_MS_KRB5, OID_KRB5], mechToken: this.ctx.apReq() });
    }
    if (this.done) return Buffer.alloc(0);
    const resp = decodeNegTokenResp(serverToken);
    if (resp.negState === NEG_STATE.REJECT) throw new Error('SPNEGO: server rejected Kerberos');
    if (resp.supportedMech && resp.supportedMech !== OID_KRB5 && resp.supportedMech !== OID_MS_KRB5) {
      throw new Error('SPNEGO: server chose a mechanism other than Kerberos');
    }
    if (!resp.responseToken) throw new Error('SPNEGO: no AP-REP from the server (mutual authentication failed)');
    this.ctx.apRep(resp.responseToken);
    this.done = true;
    return Buffer.alloc(0);
  }

  sessionKey(): Buffer | undefined {
    return this.done ? this.ctx?.sessionKey : undefined;
  }
}
