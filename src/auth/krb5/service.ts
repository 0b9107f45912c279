// The server's Kerberos side as SPNEGO sees it: one Krb5Acceptor for the whole server (so the
// replay cache covers every connection), keys from a keytab file re-read when it changes, and the
// client principal mapped to a local user.
import * as fs from 'node:fs';
import type { AuthStep } from '../types.js';
import { Krb5Acceptor } from './acceptor.js';
import { parseKeytab, type KeytabEntry } from './keytab.js';
import { loadUsernameMap, mapPrincipal } from './user-map.js';

export interface Krb5ServiceOptions {
  keytabPath: string;
  realm?: string;
  usernameMap?: string;
  /** Does the local user exist (and may log on)? */
  userExists: (name: string) => boolean;
  log?: (line: string) => void;
  skewMs?: number;
  now?: () => number;
}

export class Krb5Service {
  readonly acceptor: Krb5Acceptor;
  private entries: KeytabEntry[] = [];
  private mtimeMs = -1;

  constructor(private readonly opts: Krb5ServiceOptions) {
    this.acceptor = new Krb5Acceptor({ keytab: () => this.keys(), realm: opts.realm, skewMs: opts.skewMs, now: opts.now });
  }

  private keys(): KeytabEntry[] {
    try {
      const st = fs.statSync(this.opts.keytabPath);
      if (st.mtimeMs !== this.mtimeMs) {
        this.entries = parseKeytab(fs.readFileSync(this.opts.keytabPath));
        this.mtimeMs = st.mtimeMs;
      }
    } catch (e) {
      this.opts.log?.(`kerberos: cannot read keytab ${this.opts.keytabPath}: ${(e as Error).message}`);
      this.entries = [];
      this.mtimeMs = -1;
    }
    return this.entries;
  }

  /** One GSS krb5 token (AP-REQ) -> done with the AP-REP, or failed. */
  accept(token: Buffer): AuthStep {
    const r = this.acceptor.accept(token);
    if (!r.ok) {
      this.opts.log?.(`kerberos: AP-REQ refused: ${r.message} (krb5 error ${r.code})`);
      return { state: 'failed', reason: 'logon-failure' };
    }
    let user: string | undefined;
    try {
      user = mapPrincipal(r.client, r.realm, this.opts.realm, loadUsernameMap(this.opts.usernameMap));
    } catch (e) {
      this.opts.log?.(`kerberos: username map: ${(e as Error).message}`);
    }
    if (!user || !this.opts.userExists(user)) {
      this.opts.log?.(`kerberos: ${r.client}@${r.realm} maps to no local user`);
      return { state: 'failed', reason: 'logon-failure' };
    }
    this.opts.log?.(`kerberos: ${r.client}@${r.realm} authenticated as ${user}`);
    return { state: 'done', token: r.token, sessionKey: r.sessionKey, user, domain: r.realm, guest: false, anonymous: false };
  }
}
