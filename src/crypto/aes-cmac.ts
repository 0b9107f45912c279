// AES-CMAC (RFC 4493) on top of node's AES-CBC: CBC-MAC with a zero IV is exactly the CMAC
// chain, so we feed every byte except the final block through one cipher object and only
// handle the (sub-key-masked) final block ourselves. Used for SMB 3.x signing (MS-SMB2 3.1.4.1).
import { createCipheriv } from 'node:crypto';

const ZERO16 = Buffer.alloc(16);
const RB = 0x87;

function cbcName(key: Buffer): string {
  if (key.length === 16) return 'aes-128-cbc';
  if (key.length === 24) return 'aes-192-cbc';
  if (key.length === 32) return 'aes-256-cbc';
  throw new RangeError(`aes-cmac: bad key length ${key.length}`);
}

function encryptBlock(alg: string, key: Buffer, block: Buffer): Buffer {
  const c = createCipheriv(alg, key, ZERO16);
  c.setAutoPadding(false);
  return c.update(block);
}

/** Left shift a 16-byte block by one bit; XOR Rb if the MSB was set (RFC 4493 2.3). */
function dbl(b: Buffer): Buffer {
  const out = Buffer.alloc(16);
  for (let i = 0; i < 15; i++) out[i] = ((b[i]! << 1) | (b[i + 1]! >>> 7)) & 0xff;
  out[15] = (b[15]! << 1) & 0xff;
  if (b[0]! & 0x80) out[15]! ^= RB;
  return out;
}

/** 16-byte AES-CMAC of the concatenation of `data` under `key` (16 bytes for SMB). */
export function aesCmac(key: Buffer, data: Buffer | Buffer[]): Buffer {
  const alg = cbcName(key);
  const parts = Array.isArray(data) ? data : [data];
  let total = 0;
  for (const p of parts) total += p.length;

  const l = encryptBlock(alg, key, ZERO16);
  const k1 = dbl(l);
  // Length of the final block: a full block if total is a non-zero multiple of 16.
  const complete = total > 0 && total % 16 === 0;
  const lastLen = total === 0 ? 0 : complete ? 16 : total % 16;
  const headLen = total - lastLen;

  const cipher = createCipheriv(alg, key, ZERO16);
  cipher.setAutoPadding(false);
  let chain: Buffer = ZERO16;
  const last = Buffer.alloc(16);
  let pos = 0;
  let lastFill = 0;
  for (const p of parts) {
    if (p.length === 0) continue;
    const end = pos + p.length;
    if (pos < headLen) {
      const take = Math.min(p.length, headLen - pos);
      const out = cipher.update(take === p.length ? p : p.subarray(0, take));
      if (out.length >= 16) chain = out.subarray(out.length - 16);
      if (take < p.length) {
        p.copy(last, lastFill, take);
        lastFill += p.length - take;
      }
    } else {
      p.copy(last, lastFill);
      lastFill += p.length;
    }
    pos = end;
  }
  cipher.final();

  let mask: Buffer;
  if (complete) {
    mask = k1;
  } else {
    last[lastLen] = 0x80; // padding 10^i
    mask = dbl(k1);
  }
  const m = Buffer.alloc(16);
  for (let i = 0; i < 16; i++) m[i] = last[i]! ^ mask[i]! ^ chain[i]!;
  return encryptBlock(alg, key, m);
}
