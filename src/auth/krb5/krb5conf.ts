// The two things the initiator needs from krb5.conf (MIT profile syntax): the default realm and
// each realm's KDC addresses. Everything else in the file is ignored.
import * as fs from 'node:fs';

export interface Krb5Conf {
  defaultRealm?: string;
  /** REALM -> ["host:port", ...] */
  kdcs: Map<string, string[]>;
}

export function parseKrb5Conf(text: string): Krb5Conf {
  const conf: Krb5Conf = { kdcs: new Map() };
  let section = '';
  let realm: string | undefined;
  for (const raw of text.split(/\r?\n/)) {
    const line = raw.replace(/[#;].*$/, '').trim();
    if (!line) continue;
    const sec = /^\[(.+)\]$/.exec(line);
    if (sec) {
      section = sec[1]!.trim().toLowerCase();
      realm = undefined;
      continue;
    }
    if (section === 'libdefaults') {
      const m = /^default_realm\s*=\s*(\S+)/.exec(line);
      if (m) conf.defaultRealm = m[1];
    } else if (section === 'realms') {
      const open = /^(\S+)\s*=\s*\{$/.exec(line);
      if (open) realm = open[1];
      else if (line === '}') realm = undefined;
      else if (realm) {
        const m = /^kdc\s*=\s*(\S+)/.exec(line);
        if (m) conf.kdcs.set(realm, [...(conf.kdcs.get(realm) ?? []), m[1]!]);
      }
    }
  }
  return conf;
}

/** KRB5_CONFIG (first file of a ':' list) or /etc/krb5.conf; an empty config when unreadable. */
export function loadKrb5Conf(env: NodeJS.ProcessEnv = process.env): Krb5Conf {
  const files = (env.KRB5_CONFIG ?? '/etc/krb5.conf').split(':');
  for (const f of files) {
    try {
      return parseKrb5Conf(fs.readFileSync(f, 'utf8'));
    } catch {
      // next
    }
  }
  return { kdcs: new Map() };
}
