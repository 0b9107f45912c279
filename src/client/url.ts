// smb://[domain;]user[:password]@host[:port]/share[/path] (the password part is accepted but the
// CLI never puts it there; see docs/client.md).
import { Status } from '../wire/status.js';
import { SmbError } from './errors.js';

export interface SmbUrl {
  host: string;
  port: number;
  user: string;
  domain: string;
  password: string | undefined;
  share: string;
  /** Path inside the share, '/'-separated, '' for the root. */
  path: string;
}

export function parseSmbUrl(url: string): SmbUrl {
  try {
    return parseUrl(url);
  } catch (e) {
    if (e instanceof URIError) throw new SmbError(Status.OBJECT_PATH_SYNTAX_BAD, `bad %-escape in "${url}"`);
    throw e;
  }
}

function parseUrl(url: string): SmbUrl {
  const m = /^smb:\/\/(?:([^@/]*)@)?(\[[^\]]+\]|[^/:]+)(?::(\d+))?(?:\/([^/]*)(\/.*)?)?$/i.exec(url);
  if (!m) throw new SmbError(Status.OBJECT_PATH_SYNTAX_BAD, `not an smb:// URL: "${url}" (expected smb://[domain;]user@host[:port]/share[/path])`);
  let userinfo = m[1] ? decodeURIComponent(m[1]) : '';
  let password: string | undefined;
  const colon = userinfo.indexOf(':');
  if (colon >= 0) {
    password = userinfo.slice(colon + 1);
    userinfo = userinfo.slice(0, colon);
  }
  let domain = '';
  let user = userinfo;
  const semi = userinfo.indexOf(';');
  if (semi >= 0) {
    domain = userinfo.slice(0, semi);
    user = userinfo.slice(semi + 1);
  } else if (userinfo.includes('\\')) {
    [domain, user] = userinfo.split('\\', 2) as [string, string];
  }
  const host = m[2]!.replace(/^\[|\]$/g, '');
  const port = m[3] ? Number(m[3]) : 445;
  if (!(port > 0 && port < 65536)) throw new SmbError(Status.OBJECT_PATH_SYNTAX_BAD, `bad port in "${url}"`);
  const share = m[4] ? decodeURIComponent(m[4]) : '';
  const path = m[5] ? decodeURIComponent(m[5]).replace(/^\/+|\/+$/g, '') : '';
  return { host, port, user, domain, password, share, path };
}
