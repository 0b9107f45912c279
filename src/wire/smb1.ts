// Just enough SMB1 to recognise a multi-protocol NEGOTIATE (MS-CIFS 2.2.4.52.1) and pick the SMB2
// answer of MS-SMB2 3.3.5.3.1. Layout: 32-byte SMB header (0xFF 'SMB', Command at 4), then
// WordCount(1)=0, ByteCount(2), and ByteCount bytes of { 0x02, ASCII dialect, NUL }.
import { WireError } from './buf.js';
import { Dialect } from './constants.js';

export const SMB1_HEADER_SIZE = 32;
export const SMB1_COM_NEGOTIATE = 0x72;

export interface Smb1Negotiate {
  /** Multiplex id of the request (not needed for the SMB2 answer, which uses MessageId 0). */
  mid: number;
  dialects: string[];
}

/** True when `buf` starts with an SMB1 header whose command is NEGOTIATE. */
export function isSmb1Negotiate(buf: Buffer): boolean {
  return buf.length >= SMB1_HEADER_SIZE && buf[0] === 0xff && buf[1] === 0x53 && buf[2] === 0x4d &&
    buf[3] === 0x42 && buf[4] === SMB1_COM_NEGOTIATE;
}

export function decodeSmb1Negotiate(buf: Buffer): Smb1Negotiate {
  if (!isSmb1Negotiate(buf)) throw new WireError('not an SMB1 NEGOTIATE');
  const mid = buf.readUInt16LE(30);
  if (buf.length < SMB1_HEADER_SIZE + 3) throw new WireError('truncated SMB1 NEGOTIATE');
  const wordCount = buf[SMB1_HEADER_SIZE]!;
  const bcAt = SMB1_HEADER_SIZE + 1 + wordCount * 2;
  if (bcAt + 2 > buf.length) throw new WireError('truncated SMB1 NEGOTIATE');
  const byteCount = buf.readUInt16LE(bcAt);
  const start = bcAt + 2;
  if (start + byteCount > buf.length) throw new WireError('SMB1 ByteCount beyond end');
  const dialects: string[] = [];
  let p = start;
  const end = start + byteCount;
  while (p < end) {
    if (buf[p] !== 0x02) throw new WireError('bad SMB1 dialect BufferFormat');
    const nul = buf.indexOf(0, p + 1);
    if (nul < 0 || nul >= end) throw new WireError('unterminated SMB1 dialect string');
    dialects.push(buf.toString('latin1', p + 1, nul));
    p = nul + 1;
  }
  return { mid, dialects };
}

/**
 * MS-SMB2 3.3.5.3.1: answer "SMB 2.???" with DialectRevision 0x02FF when the server speaks
 * anything newer than 2.0.2, else "SMB 2.002" with 0x0202; undefined = no SMB2 dialect offered.
 */
export function chooseSmb2DialectFromSmb1(dialects: string[], serverSupportsAbove202 = true): number | undefined {
  if (serverSupportsAbove202 && dialects.includes('SMB 2.???')) return Dialect.SMB2_WILDCARD;
  if (dialects.includes('SMB 2.002')) return Dialect.SMB2_02;
  return undefined;
}

/** Builds an SMB1 NEGOTIATE request (for tests and for clients probing old servers). */
export function encodeSmb1Negotiate(dialects: string[], mid = 0): Buffer {
  const strs = Buffer.concat(dialects.map((d) => Buffer.concat([Buffer.from([0x02]), Buffer.from(d, 'latin1'), Buffer.from([0])])));
  const out = Buffer.alloc(SMB1_HEADER_SIZE + 3 + strs.length);
  out.writeUInt32BE(0xff534d42, 0);
  out[4] = SMB1_COM_NEGOTIATE;
  out[9] = 0x18; // Flags: CASE_INSENSITIVE | CANONICALIZED_PATHS
  out.writeUInt16LE(0xc853, 10); // Flags2: UNICODE, NT_STATUS, EXTENDED_SECURITY, LONG_NAMES...
  out.writeUInt16LE(mid, 30);
  out[SMB1_HEADER_SIZE] = 0;
  out.writeUInt16LE(strs.length, SMB1_HEADER_SIZE + 1);
  strs.copy(out, SMB1_HEADER_SIZE + 3);
  return out;
}
