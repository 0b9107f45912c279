// MIT keytab files (format 0x0502; 0x0501 read too): the service keys an acceptor decrypts
// tickets with. Layout: https://web.mit.edu/kerberos/krb5-devel/doc/formats/keytab_file_format.html
import * as fs from 'node:fs';
import { WireError } from '../../wire/buf.js';

export interface KeytabEntry {
  /** Name components, e.g. ['cifs', 'fileserver.test.local']. */
  names: string[];
  realm: string;
  nameType: number;
  timestamp: number;
  kvno: number;
  etype: number;
  key: Buffer;
}

export function parseKeytab(buf: Buffer): KeytabEntry[] {
  if (buf.length < 2 || buf[0] !== 5 || (buf[1] !== 1 && buf[1] !== 2)) throw new WireError('keytab: not an MIT keytab');
  const v1 = buf[1] === 1;
  const out: KeytabEntry[] = [];
  let p = 2;
  while (p + 4 <= buf.length) {
    const size = buf.readInt32BE(p);
    p += 4;
    if (size < 0) {
      p += -size; // a hole left by a removed entry
      continue;
    }
    if (size === 0) break;
    const end = p + size;
    if (end > buf.length) throw new WireError('keytab: entry past end of file');
    const r = { p };
    const u16 = (): number => {
      if (r.p + 2 > end) throw new WireError('keytab: truncated entry');
      const v = buf.readUInt16BE(r.p);
      r.p += 2;
      return v;
    };
    const u32 = (): number => {
      if (r.p + 4 > end) throw new WireError('keytab: truncated entry');
      const v = buf.readUInt32BE(r.p);
      r.p += 4;
      return v;
    };
    const bytes = (n: number): Buffer => {
      if (r.p + n > end) throw new WireError('keytab: truncated entry');
      const v = buf.subarray(r.p, r.p + n);
      r.p += n;
      return v;
    };
    let count = u16();
    if (v1) count -= 1;
    const realm = bytes(u16()).toString('utf8');
    const names: string[] = [];
    for (let i = 0; i < count; i++) names.push(bytes(u16()).toString('utf8'));
    const nameType = v1 ? 1 : u32();
    const timestamp = u32();
    let kvno = bytes(1)[0]!;
    const etype = u16();
    const key = Buffer.from(bytes(u16()));
    if (end - r.p >= 4) {
      const kvno32 = u32();
      if (kvno32 !== 0) kvno = kvno32;
    }
    out.push({ names, realm, nameType, timestamp, kvno, etype, key });
    p = end;
  }
  return out;
}

export function readKeytab(path: string): KeytabEntry[] {
  return parseKeytab(fs.readFileSync(path));
}

export function encodeKeytab(entries: KeytabEntry[]): Buffer {
  const parts: Buffer[] = [Buffer.from([5, 2])];
  const s16 = (s: string | Buffer): Buffer => {
    const b = Buffer.from(s);
    const l = Buffer.alloc(2);
    l.writeUInt16BE(b.length);
    return Buffer.concat([l, b]);
  };
  for (const e of entries) {
    const n = Buffer.alloc(2);
    n.writeUInt16BE(e.names.length);
    const tail = Buffer.alloc(4 + 4 + 1 + 2);
    tail.writeUInt32BE(e.nameType, 0);
    tail.writeUInt32BE(e.timestamp >>> 0, 4);
    tail[8] = e.kvno & 0xff;
    tail.writeUInt16BE(e.etype, 9);
    const kvno32 = Buffer.alloc(4);
    kvno32.writeUInt32BE(e.kvno >>> 0);
    const body = Buffer.concat([n, s16(e.realm), ...e.names.map(s16), tail, s16(e.key), kvno32]);
    const size = Buffer.alloc(4);
    size.writeInt32BE(body.length);
    parts.push(size, body);
  }
  return Buffer.concat(parts);
}

/** Entries for a service principal, in file order (case-insensitive on the host part, like MIT). */
export function keysFor(entries: KeytabEntry[], names: string[], realm: string): KeytabEntry[] {
  const want = names.map((s) => s.toLowerCase()).join('/');
  return entries.filter((e) => e.realm.toUpperCase() === realm.toUpperCase() && e.names.map((s) => s.toLowerCase()).join('/') === want);
}
