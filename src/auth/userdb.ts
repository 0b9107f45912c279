// User database holding NT hashes only, in Samba's smbpasswd line format:
//   name:uid:LMHASH:NTHASH:[FLAGS      ]:LCT-XXXXXXXX:
// LM hashes are never stored (32 'X'). User names are case-insensitive.
import { readFileSync, renameSync, writeFileSync } from 'node:fs';
import { ntHash } from './ntlm.js';
import type { UserLookup } from './ntlm-server.js';

interface Entry {
  name: string;
  uid: number;
  ntHash?: Buffer; // undefined = no usable password
  flags: string; // inside the brackets, e.g. "U          "
  lct: number; // last change time, seconds since epoch
}

const NO_LM = 'X'.repeat(32);
const HEX32 = /^[0-9a-fA-F]{32}$/;

function formatFlags(flags: string): string {
  return '[' + flags.padEnd(11, ' ').slice(0, 11) + ']';
}

export class UserDb {
  private users = new Map<string, Entry>();

  static empty(): UserDb {
    return new UserDb();
  }

  static load(path: string): UserDb {
    return UserDb.parse(readFileSync(path, 'utf8'), path);
  }

  static parse(text: string, source = 'smbpasswd'): UserDb {
    const db = new UserDb();
    const lines = text.split(/\r?\n/);
    lines.forEach((line, i) => {
      const t = line.trim();
      if (t === '' || t.startsWith('#')) return;
      const f = t.split(':');
      if (f.length < 6 || f[0] === '') throw new Error(`${source}:${i + 1}: malformed smbpasswd line`);
      const [name, uid, , nt, flags, lct] = f as [string, string, string, string, string, string];
      const m = /^\[(.*)\]$/.exec(flags);
      const lctm = /^LCT-([0-9a-fA-F]{1,8})$/.exec(lct);
      db.users.set(name.toLowerCase(), {
        name,
        uid: Number.parseInt(uid, 10) || 0,
        ntHash: HEX32.test(nt) ? Buffer.from(nt, 'hex') : undefined,
        flags: m ? m[1]! : 'U',
        lct: lctm ? Number.parseInt(lctm[1]!, 16) : 0,
      });
    });
    return db;
  }

  /** Adds or replaces `user` with the NT hash of `password` (the password itself is not kept). */
  add(user: string, password: string): void {
    this.addHash(user, ntHash(password));
  }

  addHash(user: string, hash: Buffer): void {
    if (!user || /[:\r\n]/.test(user)) throw new Error(`invalid user name ${JSON.stringify(user)}`);
    if (hash.length !== 16) throw new Error('NT hash must be 16 bytes');
    const key = user.toLowerCase();
    const old = this.users.get(key);
    const uid = old?.uid ?? this.nextUid();
    this.users.set(key, { name: old?.name ?? user, uid, ntHash: Buffer.from(hash), flags: 'U', lct: Math.floor(Date.now() / 1000) });
  }

  del(user: string): boolean {
    return this.users.delete(user.toLowerCase());
  }

  list(): string[] {
    return [...this.users.values()].map((e) => e.name).sort();
  }

  /** NT hash lookup (domain ignored: local accounts). Disabled or password-less accounts are not found. */
  lookup: UserLookup = (user: string) => {
    const e = this.users.get(user.toLowerCase());
    if (!e || !e.ntHash || e.flags.includes('D')) return undefined;
    return { ntHash: e.ntHash };
  };

  serialize(): string {
    let out = '';
    for (const e of this.users.values()) {
      const nt = e.ntHash ? e.ntHash.toString('hex').toUpperCase() : 'NO PASSWORD' + 'X'.repeat(21);
      const lct = 'LCT-' + (e.lct >>> 0).toString(16).toUpperCase().padStart(8, '0');
      out += `${e.name}:${e.uid}:${NO_LM}:${nt}:${formatFlags(e.flags)}:${lct}:\n`;
    }
    return out;
  }

  /** Writes atomically with mode 0600. */
  save(path: string): void {
    const tmp = `${path}.tmp-${process.pid}`;
    writeFileSync(tmp, this.serialize(), { mode: 0o600 });
    renameSync(tmp, path);
  }

  private nextUid(): number {
    let max = 999;
    for (const e of this.users.values()) if (e.uid > max) max = e.uid;
    return max + 1;
  }
}
