// Maps a Kerberos client principal to a local user name: Samba's `username map` file
// (lines "local = name1 name2 ...", names may be quoted or "*"; a line starting with '!'
// stops at its match; otherwise the last matching line wins), then the bare name when the
// principal belongs to our realm.
import * as fs from 'node:fs';

interface Rule { local: string; names: string[]; stop: boolean }

export function parseUsernameMap(text: string): Rule[] {
  const rules: Rule[] = [];
  for (const raw of text.split(/\r?\n/)) {
    const line = raw.trim();
    if (!line || line.startsWith('#') || line.startsWith(';')) continue;
    const eq = line.indexOf('=');
    if (eq < 0) continue;
    let local = line.slice(0, eq).trim();
    const stop = local.startsWith('!');
    if (stop) local = local.slice(1).trim();
    const names = [...line.slice(eq + 1).matchAll(/"([^"]*)"|(\S+)/g)].map((m) => m[1] ?? m[2]!);
    if (local) rules.push({ local, names, stop });
  }
  return rules;
}

/** The local user for `client@realm`, or undefined if the principal maps to nobody. */
export function mapPrincipal(client: string, realm: string, ourRealm: string | undefined, rules: Rule[]): string | undefined {
  const full = `${client}@${realm}`.toLowerCase();
  const sameRealm = !ourRealm || realm.toUpperCase() === ourRealm.toUpperCase();
  let mapped: string | undefined;
  for (const r of rules) {
    const hit = r.names.some((n) => {
      const l = n.toLowerCase();
      return l === '*' || l === full || (sameRealm && l === client.toLowerCase());
    });
    if (!hit) continue;
    mapped = r.local;
    if (r.stop) break;
  }
  if (mapped) return mapped;
  // A principal of another realm, or one with instances (a/b), needs an explicit map line.
  if (!sameRealm || client.includes('/')) return undefined;
  return client;
}

export function loadUsernameMap(path: string | undefined): Rule[] {
  if (!path) return [];
  return parseUsernameMap(fs.readFileSync(path, 'utf8'));
}
