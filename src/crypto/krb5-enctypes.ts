// Kerberos 5 encryption types on node:crypto:
//   RFC 3961/3962 aes128-cts-hmac-sha1-96 (17), aes256-cts-hmac-sha1-96 (18)
//   RFC 8009      aes128-cts-hmac-sha256-128 (19), aes256-cts-hmac-sha384-192 (20)
// encrypt/decrypt with key usages, checksums, string-to-key, and the pieces below them
// (n-fold, DK/DR, CBC with ciphertext stealing). RC4-HMAC and DES are not offered.
import { createCipheriv, createDecipheriv, createHmac, pbkdf2Sync, randomBytes, timingSafeEqual } from 'node:crypto';

export const EncType = {
  AES128_CTS_HMAC_SHA1_96: 17,
  AES256_CTS_HMAC_SHA1_96: 18,
  AES128_CTS_HMAC_SHA256_128: 19,
  AES256_CTS_HMAC_SHA384_192: 20,
} as const;

/** Checksum types keyed by the enctype they belong to (RFC 3962 7, RFC 8009 8). */
export const CKSUM_FOR_ETYPE: Record<number, number> = { 17: 15, 18: 16, 19: 19, 20: 20 };

export class Krb5CryptoError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'Krb5CryptoError';
  }
}

// ---------------------------------------------------------------------------------------------
// RFC 3961 5.1: n-fold. Rotate the input right by 13 bits per copy, add copies with
// ones'-complement addition into lcm(n, len) bytes, then fold to n bytes.

export function nfold(input: Buffer, outBytes: number): Buffer {
  const inLen = input.length;
  const gcd = (a: number, b: number): number => (b === 0 ? a : gcd(b, a % b));
  const lcm = (outBytes * inLen) / gcd(outBytes, inLen);
  const bits = BigInt(inLen * 8);
  const mask = (1n << bits) - 1n;
  const v = BigInt('0x' + input.toString('hex'));
  const big = Buffer.alloc(lcm);
  for (let i = 0; i < lcm / inLen; i++) {
    const r = BigInt((13 * i) % (inLen * 8));
    const rot = ((v >> r) | (v << (bits - r))) & mask;
    Buffer.from(rot.toString(16).padStart(inLen * 2, '0'), 'hex').copy(big, i * inLen);
  }
  // ones'-complement sum of the lcm/outBytes chunks
  const out = new Array<number>(outBytes).fill(0);
  for (let off = 0; off < lcm; off += outBytes) {
    let carry = 0;
    for (let j = outBytes - 1; j >= 0; j--) {
      carry += out[j]! + big[off + j]!;
      out[j] = carry & 0xff;
      carry >>>= 8;
    }
    for (let j = outBytes - 1; j >= 0 && carry; j--) {
      carry += out[j]!;
      out[j] = carry & 0xff;
      carry >>>= 8;
    }
  }
  return Buffer.from(out);
}

// ---------------------------------------------------------------------------------------------
// AES-CBC with ciphertext stealing, zero IV (RFC 3962 5: the last two blocks are always swapped)

function aesName(key: Buffer): string {
  if (key.length === 16) return 'aes-128-cbc';
  if (key.length === 32) return 'aes-256-cbc';
  throw new Krb5CryptoError(`bad AES key length ${key.length}`);
}

function cbc(key: Buffer, data: Buffer, encrypt: boolean, iv: Buffer = Buffer.alloc(16)): Buffer {
  const c = encrypt ? createCipheriv(aesName(key), key, iv) : createDecipheriv(aesName(key), key, iv);
  c.setAutoPadding(false);
  return Buffer.concat([c.update(data), c.final()]);
}

export function ctsEncrypt(key: Buffer, plain: Buffer): Buffer {
  const n = plain.length;
  if (n < 16) throw new Krb5CryptoError('CTS needs at least one block');
  if (n === 16) return cbc(key, plain, true);
  const padded = Buffer.alloc(Math.ceil(n / 16) * 16);
  plain.copy(padded);
  const c = cbc(key, padded, true);
  const blocks = c.length / 16;
  const last = n - (blocks - 1) * 16; // bytes in the final (partial or full) block
  const prefix = c.subarray(0, (blocks - 2) * 16);
  const cnMinus1 = c.subarray((blocks - 2) * 16, (blocks - 1) * 16);
  const cn = c.subarray((blocks - 1) * 16);
  return Buffer.concat([prefix, cn, cnMinus1.subarray(0, last)]);
}

export function ctsDecrypt(key: Buffer, cipher: Buffer): Buffer {
  const n = cipher.length;
  if (n < 16) throw new Krb5CryptoError('CTS needs at least one block');
  if (n === 16) return cbc(key, cipher, false);
  const blocks = Math.ceil(n / 16);
  const last = n - (blocks - 1) * 16;
  const prefix = cipher.subarray(0, (blocks - 2) * 16);
  const cn = cipher.subarray((blocks - 2) * 16, (blocks - 1) * 16); // swapped: real last block first
  const tail = cipher.subarray((blocks - 1) * 16); // first `last` bytes of C(n-1)
  // Decrypt Cn with ECB to recover the rest of C(n-1): Dn = D(Cn) = Pn ^ C(n-1) (zero padded).
  const dn = cbc(key, cn, false);
  const cnMinus1 = Buffer.concat([tail, dn.subarray(last)]);
  const iv = blocks > 2 ? prefix.subarray(prefix.length - 16) : Buffer.alloc(16);
  const headPlain = prefix.length > 0 ? cbc(key, prefix, false) : Buffer.alloc(0);
  const pnMinus1 = cbc(key, cnMinus1, false, iv);
  const pn = Buffer.alloc(last);
  for (let i = 0; i < last; i++) pn[i] = dn[i]! ^ cnMinus1[i]!;
  return Buffer.concat([headPlain, pnMinus1, pn]);
}

// ---------------------------------------------------------------------------------------------
// Enctype profiles

export interface EncTypeProfile {
  readonly etype: number;
  readonly name: string;
  readonly keyBytes: number;
  /** Checksum / MAC length in bytes. */
  readonly macBytes: number;
  readonly cksumType: number;
  stringToKey(password: Buffer | string, salt: Buffer | string, iterations?: number): Buffer;
  /** Kc (0x99), Ke (0xAA) or Ki (0x55) for a key usage. */
  derive(key: Buffer, usage: number, which: 0x99 | 0xaa | 0x55): Buffer;
  encrypt(key: Buffer, usage: number, plain: Buffer, confounder?: Buffer): Buffer;
  /** Throws Krb5CryptoError when the integrity check fails. */
  decrypt(key: Buffer, usage: number, cipher: Buffer): Buffer;
  checksum(key: Buffer, usage: number, data: Buffer): Buffer;
}

const usageConstant = (usage: number, which: number): Buffer => {
  const b = Buffer.alloc(5);
  b.writeUInt32BE(usage >>> 0, 0);
  b[4] = which;
  return b;
};

/** RFC 3961 5.1 DR/DK for AES: K1 = E(nfold(constant)), K2 = E(K1), ...; AES random-to-key is identity. */
export function dk(key: Buffer, constant: Buffer): Buffer {
  let block = constant.length === 16 ? constant : nfold(constant, 16);
  const out: Buffer[] = [];
  let have = 0;
  while (have < key.length) {
    block = cbc(key, block, true);
    out.push(block);
    have += 16;
  }
  return Buffer.concat(out).subarray(0, key.length);
}

function checkKey(p: { keyBytes: number; name: string }, key: Buffer): void {
  if (key.length !== p.keyBytes) throw new Krb5CryptoError(`${p.name} needs a ${p.keyBytes}-byte key, got ${key.length}`);
}

function aesSha1(etype: number, keyBytes: number): EncTypeProfile {
  const p: EncTypeProfile = {
    etype,
    name: `aes${keyBytes * 8}-cts-hmac-sha1-96`,
    keyBytes,
    macBytes: 12,
    cksumType: CKSUM_FOR_ETYPE[etype]!,
    stringToKey(password, salt, iterations = 4096) {
      const tkey = pbkdf2Sync(password, salt, iterations, keyBytes, 'sha1');
      return dk(tkey, Buffer.from('kerberos'));
    },
    derive(key, usage, which) {
      checkKey(p, key);
      return dk(key, usageConstant(usage, which));
    },
    encrypt(key, usage, plain, confounder = randomBytes(16)) {
      const data = Buffer.concat([confounder, plain]);
      const c = ctsEncrypt(p.derive(key, usage, 0xaa), data);
      const h = createHmac('sha1', p.derive(key, usage, 0x55)).update(data).digest().subarray(0, 12);
      return Buffer.concat([c, h]);
    },
    decrypt(key, usage, cipher) {
      if (cipher.length < 16 + 12) throw new Krb5CryptoError('ciphertext too short');
      const c = cipher.subarray(0, cipher.length - 12);
      const data = ctsDecrypt(p.derive(key, usage, 0xaa), c);
      const h = createHmac('sha1', p.derive(key, usage, 0x55)).update(data).digest().subarray(0, 12);
      if (!timingSafeEqual(h, cipher.subarray(cipher.length - 12))) throw new Krb5CryptoError(`integrity check failed (usage ${usage})`);
      return data.subarray(16);
    },
    checksum(key, usage, data) {
      return createHmac('sha1', p.derive(key, usage, 0x99)).update(data).digest().subarray(0, 12);
    },
  };
  return p;
}

/** RFC 8009 3: KDF-HMAC-SHA2(key, label, k) = k-truncate(HMAC(key, 00000001 | label | 00 | k)). */
function kdfHmacSha2(hash: 'sha256' | 'sha384', key: Buffer, label: Buffer, bits: number): Buffer {
  const k = Buffer.alloc(4);
  k.writeUInt32BE(bits);
  return createHmac(hash, key).update(Buffer.from([0, 0, 0, 1])).update(label).update(Buffer.from([0])).update(k).digest().subarray(0, bits / 8);
}

function aesSha2(etype: number, keyBytes: number, hash: 'sha256' | 'sha384', macBytes: number): EncTypeProfile {
  const name = keyBytes === 16 ? 'aes128-cts-hmac-sha256-128' : 'aes256-cts-hmac-sha384-192';
  const p: EncTypeProfile = {
    etype,
    name,
    keyBytes,
    macBytes,
    cksumType: CKSUM_FOR_ETYPE[etype]!,
    stringToKey(password, salt, iterations = 32768) {
      // RFC 8009 4: saltp = enctype-name | 0x00 | salt
      const saltp = Buffer.concat([Buffer.from(name), Buffer.from([0]), Buffer.from(salt)]);
      const tkey = pbkdf2Sync(password, saltp, iterations, keyBytes, hash);
      return kdfHmacSha2(hash, tkey, Buffer.from('kerberos'), keyBytes * 8);
    },
    derive(key, usage, which) {
      checkKey(p, key);
      // Ke is a full AES key; Kc and Ki are MAC-length keys (RFC 8009 5).
      const bits = which === 0xaa ? keyBytes * 8 : macBytes * 8;
      return kdfHmacSha2(hash, key, usageConstant(usage, which), bits);
    },
    encrypt(key, usage, plain, confounder = randomBytes(16)) {
      const c = ctsEncrypt(p.derive(key, usage, 0xaa), Buffer.concat([confounder, plain]));
      const h = createHmac(hash, p.derive(key, usage, 0x55)).update(Buffer.alloc(16)).update(c).digest().subarray(0, macBytes);
      return Buffer.concat([c, h]);
    },
    decrypt(key, usage, cipher) {
      if (cipher.length < 16 + macBytes) throw new Krb5CryptoError('ciphertext too short');
      const c = cipher.subarray(0, cipher.length - macBytes);
      const h = createHmac(hash, p.derive(key, usage, 0x55)).update(Buffer.alloc(16)).update(c).digest().subarray(0, macBytes);
      if (!timingSafeEqual(h, cipher.subarray(cipher.length - macBytes))) throw new Krb5CryptoError(`integrity check failed (usage ${usage})`);
      return ctsDecrypt(p.derive(key, usage, 0xaa), c).subarray(16);
    },
    checksum(key, usage, data) {
      return createHmac(hash, p.derive(key, usage, 0x99)).update(data).digest().subarray(0, macBytes);
    },
  };
  return p;
}

const PROFILES = new Map<number, EncTypeProfile>([
  [17, aesSha1(17, 16)],
  [18, aesSha1(18, 32)],
  [19, aesSha2(19, 16, 'sha256', 16)],
  [20, aesSha2(20, 32, 'sha384', 24)],
]);

/** Strongest first: the order we offer in AS-REQ/TGS-REQ. */
export const SUPPORTED_ETYPES: readonly number[] = [18, 17, 20, 19];

export function enctype(etype: number): EncTypeProfile {
  const p = PROFILES.get(etype);
  if (!p) throw new Krb5CryptoError(`unsupported enctype ${etype}`);
  return p;
}

export function isSupportedEtype(etype: number): boolean {
  return PROFILES.has(etype);
}

/** The enctype whose checksum type is `cksumType` (for verifying a checksum with a key). */
export function etypeForChecksum(cksumType: number): EncTypeProfile | undefined {
  for (const p of PROFILES.values()) if (p.cksumType === cksumType) return p;
  return undefined;
}
