// Adapts the auth/ initiators to the session layer's GssClient. SPNEGO wrapping is used when
// auth/spnego-client.ts provides it; raw NTLMSSP (which Samba and Windows accept in
// SESSION_SETUP) is the fallback.
import { NtlmClient } from '../auth/ntlm-client.js';
import type { GssClient } from './session.js';

export interface Credentials {
  user: string;
  password: string;
  domain: string;
  workstation?: string;
}

const NTLMSSP_SIG = Buffer.from('NTLMSSP\0', 'latin1');

export class RawNtlmGss implements GssClient {
  private readonly ntlm: NtlmClient;
  private sent = 0;

  constructor(creds: Credentials) {
    this.ntlm = new NtlmClient({ user: creds.user, password: creds.password, domain: creds.domain, workstation: creds.workstation });
  }

  step(serverToken: Buffer): Buffer {
    if (this.sent === 0) {
      this.sent = 1;
      return this.ntlm.negotiate();
    }
    if (this.sent === 1) {
      // The CHALLENGE may arrive raw or inside an SPNEGO negTokenResp: find the NTLMSSP signature.
      const at = serverToken.indexOf(NTLMSSP_SIG);
      if (at < 0) throw new Error('server did not send an NTLMSSP challenge');
      this.sent = 2;
      return this.ntlm.authenticate(serverToken.subarray(at));
    }
    return Buffer.alloc(0);
  }

  sessionKey(): Buffer | undefined {
    try { return this.ntlm.sessionKey; } catch { return undefined; }
  }
}

export function createGss(creds: Credentials): GssClient {
  return new RawNtlmGss(creds);
}
