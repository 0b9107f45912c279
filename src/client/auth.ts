// Adapts the auth/ initiators (SpnegoClient wrapping NtlmClient, NTLMv2) to the session layer's
// GssClient interface.
import { NtlmClient } from '../auth/ntlm-client.js';
import { SpnegoClient } from '../auth/spnego.js';
import type { GssClient } from './session.js';

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

export function createGss(creds: Credentials): GssClient {
  return new SpnegoNtlmGss(creds);
}
