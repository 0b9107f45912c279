// Adapts the auth/ initiators (SpnegoClient wrapping NtlmClient, NTLMv2) to the session layer's
// GssClient interface.
import { NtlmClient } from '../auth/ntlm-client.js';
import { SpnegoClient } from '../auth/spnego.js';
import type { GssClient } from './session.js';
import { Krb5Credentials, SpnegoKrb5Gss, type Krb5Mode } from './krb5-gss.js';

export interface Credentials {
  user: string;
  password: string;
  domain: string;
  workstation?: string;
}

export class SpnegoNtlmGss implements GssClient {
  private readonly ntlm: NtlmClient;
  private readonly spnego: SpnegoClient;
  private started = false;

  constructor(creds: Credentials) {
    this.ntlm = new NtlmClient({ user: creds.user, password: creds.password, domain: creds.domain, workstation: creds.workstation });
    this.spnego = new SpnegoClient(this.ntlm);
  }

  step(serverToken: Buffer): Buffer {
    if (!this.started) {
      this.started = true;
      return this.spnego.initial(serverToken.length ? serverToken : undefined);
    }
    return this.spnego.step(serverToken) ?? Buffer.alloc(0);
  }

  sessionKey(): Buffer | undefined {
    try { return this.ntlm.sessionKey; } catch { return undefined; }
  }
}

/** Kerberos first when the server offers it and a ticket can be had; NTLM only in 'auto' mode. */
class Krb5OrNtlmGss implements GssClient {
  private inner: GssClient | undefined;

  constructor(private readonly mode: Krb5Mode, private readonly krb5: Krb5Credentials, private readonly ntlm: () => GssClient) {}

  async step(serverToken: Buffer): Promise<Buffer> {
    if (!this.inner) {
      if (SpnegoKrb5Gss.serverOffersKrb5(serverToken)) {
        const k = new SpnegoKrb5Gss(this.krb5);
        try {
          const token = await k.step(serverToken);
          this.inner = k;
          return token;
        } catch (e) {
          if (this.mode === 'required') throw e;
        }
      } else if (this.mode === 'required') {
        throw new Error('Kerberos required but the server does not offer it');
      }
      this.inner = this.ntlm();
    }
    return this.inner.step(serverToken);
  }

  sessionKey(): Buffer | undefined {
    return this.inner?.sessionKey();
  }
}

/** A GSS factory for one client: every call gives a fresh exchange (one per channel). */
export function gssFactory(creds: Credentials, krb5?: { mode: Krb5Mode; credentials: Krb5Credentials }): () => GssClient {
  if (!krb5 || krb5.mode === 'off') return () => new SpnegoNtlmGss(creds);
  return () => new Krb5OrNtlmGss(krb5.mode, krb5.credentials, () => new SpnegoNtlmGss(creds));
}

export function createGss(creds: Credentials): GssClient {
  return new SpnegoNtlmGss(creds);
}
