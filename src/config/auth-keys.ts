// smb.conf keys of the authentication setup (Samba names): `kerberos method`,
// `dedicated keytab file`, `realm`, `ntlm auth`, `username map`. Kept out of config.ts so the
// Kerberos work touches that shared file in three lines.

export interface AuthConfig {
  /** Kerberos acceptor settings; undefined = Kerberos off (no keytab configured). */
  kerberos?: { keytab: string; realm?: string };
  /** `ntlm auth = no` (or `disabled`) refuses NTLM: Kerberos only. */
  ntlmAuth: boolean;
  /** Samba `username map` file: maps Kerberos principals to local users. */
  usernameMap?: string;
}

export interface AuthKeyState {
  method?: string;
  keytab?: string;
  realm?: string;
}

export function defaultAuthConfig(): AuthConfig {
  return { ntlmAuth: true };
}

/** Applies one [global] key; false when the key is not one of these. */
export function applyAuthKey(
  cfg: AuthConfig, st: AuthKeyState, key: string, v: string, where: string, warnings: string[], resolvePath: (p: string) => string,
): boolean {
  switch (key) {
    case 'kerberosmethod':
      st.method = v.trim().toLowerCase();
      return true;
    case 'dedicatedkeytabfile':
      st.keytab = resolvePath(v.trim().replace(/^(FILE|WRFILE):/i, ''));
      return true;
    case 'realm':
      st.realm = v.trim().toUpperCase();
      return true;
    case 'ntlmauth': {
      const s = v.trim().toLowerCase();
      if (['no', 'false', 'off', '0', 'disabled'].includes(s)) cfg.ntlmAuth = false;
      else if (['yes', 'true', 'on', '1', 'ntlmv2-only', 'mschapv2-and-ntlmv2-only', 'ntlmv1-permitted'].includes(s)) cfg.ntlmAuth = true;
      else warnings.push(`${where}: bad value ${JSON.stringify(v)}`);
      return true;
    }
    case 'usernamemap':
      cfg.usernameMap = resolvePath(v.trim());
      return true;
    default:
      return false;
  }
}

/** Settles the Kerberos settings once every [global] key is read. */
export function finishAuthConfig(cfg: AuthConfig, st: AuthKeyState, warnings: string[], env: NodeJS.ProcessEnv = process.env): void {
  const method = st.method ?? (st.keytab ? 'dedicated keytab' : undefined);
  if (method === 'dedicated keytab') {
    if (!st.keytab) warnings.push('kerberos method = dedicated keytab needs "dedicated keytab file"; Kerberos is off');
    else cfg.kerberos = { keytab: st.keytab, realm: st.realm };
  } else if (method === 'system keytab' || method === 'secrets and keytab') {
    cfg.kerberos = { keytab: (env.KRB5_KTNAME ?? '/etc/krb5.keytab').replace(/^(FILE|WRFILE):/i, ''), realm: st.realm };
  } else if (method !== undefined && method !== 'secrets only') {
    warnings.push(`kerberos method ${JSON.stringify(method)} is not supported; Kerberos is off`);
  }
  if (!cfg.ntlmAuth && !cfg.kerberos) warnings.push('ntlm auth = no without a Kerberos keytab: nobody can log on');
}
