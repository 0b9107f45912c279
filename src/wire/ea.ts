// FILE_FULL_EA_INFORMATION list (MS-FSCC 2.4.15): NextEntryOffset(4) | Flags(1) | EaNameLength(1)
// | EaValueLength(2) | EaName (ASCII, NUL-terminated) | EaValue; entries 4-byte aligned.
// Used by the ExtA create context, QUERY_INFO/SET_INFO FileFullEaInformation.
import { Reader, Writer, WireError } from './buf.js';

export interface FullEa {
  /** FILE_NEED_EA = 0x80. */
  flags: number;
  name: string;
  value: Buffer;
}

export function fullEaEntrySize(e: FullEa): number {
  return 8 + Buffer.byteLength(e.name, 'latin1') + 1 + e.value.length;
}

export function encodeFullEaList(list: FullEa[]): Buffer {
  const w = new Writer(64);
  list.forEach((e, i) => {
    const start = w.pos;
    const name = Buffer.from(e.name, 'latin1');
    if (name.length > 255) throw new WireError('EA name too long');
    w.u32(0).u8(e.flags).u8(name.length).u16(e.value.length).bytes(name).u8(0).bytes(e.value);
    if (i < list.length - 1) {
      w.align(4);
      w.setU32(start, w.pos - start);
    }
  });
  return w.finish();
}

export function decodeFullEaList(buf: Buffer): FullEa[] {
  const out: FullEa[] = [];
  const r = new Reader(buf);
  let off = 0;
  while (buf.length > 0) {
    if (out.length >= 4096) throw new WireError('too many EAs');
    r.at(off);
    const next = r.u32();
    const flags = r.u8();
    const nameLen = r.u8();
    const valueLen = r.u16();
    const name = r.bytes(nameLen).toString('latin1');
    r.skip(1); // NUL
    const value = r.bytes(valueLen);
    if (next && off + next < r.pos) throw new WireError('bad EA NextEntryOffset', 0x80000014);
    out.push({ flags, name, value });
    if (!next) break;
    off += next;
    if (off > buf.length) throw new WireError('EA NextEntryOffset beyond end', 0x80000014);
  }
  return out;
}
