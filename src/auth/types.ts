// Result of one step of a server-side authentication exchange (GSS accept_sec_context).

export type AuthFailureReason = 'logon-failure' | 'invalid-token' | 'unsupported';

export type AuthStep =
  | { state: 'continue'; token: Buffer }
  | {
      state: 'done';
      token?: Buffer;
      /** GSS session key (NTLM: ExportedSessionKey, 16 bytes; zeros for guest/anonymous). */
      sessionKey: Buffer;
      user: string;
      domain: string;
      guest: boolean;
      anonymous: boolean;
    }
  | { state: 'failed'; reason: AuthFailureReason };
