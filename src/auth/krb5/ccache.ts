// MIT FILE: credential caches (format 0x0504 read and written; 0x0503 read): the TGT and
// service tickets `kinit` leaves behind. Layout:
// https://web.mit.edu/kerberos/krb5-devel/doc/formats/ccache_file_format.html
import * as fs from 'node:fs';
import * as os from 'node:os';
import { WireError } from '../../wire/buf.js';
import type { PrincipalName } from './messages.js';

export interface CcachePrincipal { realm: string; name: PrincipalName }

export interface Credential {
  client: CcachePrincipal;
  server: CcachePrincipal;
  keyType: number;
  key: Buffer;
  /** ms since epoch */
  authtime: number;
  starttime: number;
  endtime: number;
  renewTill: number;
  isSkey: boolean;
  flags: number;
  /** DER of the Ticket ([APPLICATION 1]). */
  ticket: Buffer;
}

export interface Ccache { primary: CcachePrincipal; credentials: Credential[] }

class R {
  p = 0;
  constructor(private readonly b: Buffer) {}
  need(n: number): void {
    if (this.p + n > this.b.length) throw new WireError('ccache: truncated');
  }
  u8(): number { this.need(1); return this.b[this.p++]!; }
  u16(): number { this.need(2); const v = this.b.readUInt16BE(this.p); this.p += 2; return v; }
  u32(): number { this.need(4); const v = this.b.readUInt32BE(this.p); this.p += 4; return v; }
  data(): Buffer { const n = this.u32(); this.need(n); const v = this.b.subarray(this.p, this.p + n); this.p += n; return v; }
  get done(): boolean { return this.p >= this.b.length; }
}

function readPrincipal(r: R, v3plus: boolean): CcachePrincipal {
  const type = v3plus ? r.u32() : 1;
  const count = r.u32();
  if (count > 64) throw new WireError('ccache: too many name components');
  const realm = r.data().toString('utf8');
  const names: string[] = [];
  for (let i = 0; i < count; i++) names.push(r.data().toString('utf8'));
  return { realm, name: { type, names } };
}

export function parseCcache(buf: Buffer): Ccache {
  const r = new R(buf);
  const version = r.u16();
  if (version !== 0x0504 && version !== 0x0503) throw new WireError(`ccache: unsupported version 0x${version.toString(16)}`);
  if (version === 0x0504) {
    const hlen = r.u16();
    r.need(hlen);
    r.p += hlen; // header tags (KDC time offset): not needed
  }
  const primary = readPrincipal(r, true);
  const credentials: Credential[] = [];
  while (!r.done) {
    const client = readPrincipal(r, true);
    const server = readPrincipal(r, true);
    const keyType = r.u16();
    if (version === 0x0503) r.u16(); // etype, repeated
    const key = Buffer.from(r.data());
    const authtime = r.u32() * 1000;
    const starttime = r.u32() * 1000;
    const endtime = r.u32() * 1000;
    const renewTill = r.u32() * 1000;
    const isSkey = r.u8() !== 0;
    const flags = r.u32();
    for (let n = r.u32(), i = 0; i < n; i++) { r.u16(); r.data(); } // addresses
    for (let n = r.u32(), i = 0; i < n; i++) { r.u16(); r.data(); } // authdata
    const ticket = Buffer.from(r.data());
    r.data(); // second ticket
    if (server.realm === 'X-CACHECONF:') continue; // configuration entries, not tickets
    credentials.push({ client, server, keyType, key, authtime, starttime, endtime, renewTill, isSkey, flags, ticket });
  }
  return { primary, credentials };
}

function writePrincipal(p: CcachePrincipal): Buffer {
  const d = (s: string): Buffer => {
    const b = Buffer.from(s, 'utf8');
    const l = Buffer.alloc(4);
    l.writeUInt32BE(b.length);
    return Buffer.concat([l, b]);
  };
  const h = Buffer.alloc(8);
  h.writeUInt32BE(p.name.type, 0);
  h.writeUInt32BE(p.name.names.length, 4);
  return Buffer.concat([h, d(p.realm), ...p.name.names.map(d)]);
}

export function encodeCcache(c: Ccache): Buffer {
  const parts: Buffer[] = [Buffer.from([5, 4, 0, 0]), writePrincipal(c.primary)];
  const data = (b: Buffer): Buffer => {
    const l = Buffer.alloc(4);
    l.writeUInt32BE(b.length);
    return Buffer.concat([l, b]);
  };
  for (const cr of c.credentials) {
    const kt = Buffer.alloc(2);
    kt.writeUInt16BE(cr.keyType);
    const times = Buffer.alloc(16 + 1 + 4 + 8);
    times.writeUInt32BE(Math.floor(cr.authtime / 1000), 0);
    times.writeUInt32BE(Math.floor(cr.starttime / 1000), 4);
    times.writeUInt32BE(Math.floor(cr.endtime / 1000), 8);
    times.writeUInt32BE(Math.floor(cr.renewTill / 1000), 12);
    times[16] = cr.isSkey ? 1 : 0;
    times.writeUInt32BE(cr.flags >>> 0, 17);
    // 21..28: zero address and authdata counts
    parts.push(writePrincipal(cr.client), writePrincipal(cr.server), kt, data(cr.key), times, data(cr.ticket), data(Buffer.alloc(0)));
  }
  return Buffer.concat(parts);
}

/** The FILE: cache path from KRB5CCNAME (or MIT's default /tmp/krb5cc_UID); undefined for other types. */
export function defaultCcachePath(env: NodeJS.ProcessEnv = process.env): string | undefined {
  const name = env.KRB5CCNAME;
  if (!name) return `/tmp/krb5cc_${os.userInfo().uid}`;
  if (name.startsWith('FILE:')) return name.slice(5);
  if (/^[A-Z]+:/.test(name)) return undefined; // KEYRING:, KCM:, MEMORY:, DIR: are not files we read
  return name;
}

export function readCcache(path: string): Ccache {
  return parseCcache(fs.readFileSync(path));
}

export function writeCcache(path: string, c: Ccache): void {
  fs.writeFileSync(path, encodeCcache(c), { mode: 0o600 });
}
