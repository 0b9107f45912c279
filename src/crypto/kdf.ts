// SMB 3.x key derivation (MS-SMB2 3.1.4.2): SP800-108 KDF in counter mode, PRF = HMAC-SHA256,
// r = 32, with the fixed input laid out as [i]_32 || Label || 0x00 || Context || [L]_32.
// Labels and contexts below include their terminating NUL, as MS-SMB2 3.2.5.3.1 / 3.3.5.5.3 list them.
import { createHmac } from 'node:crypto';

export const DIALECT_202 = 0x0202;
export const DIALECT_210 = 0x0210;
export const DIALECT_300 = 0x0300;
export const DIALECT_302 = 0x0302;
export const DIALECT_311 = 0x0311;

/** SP800-108 counter-mode KDF with HMAC-SHA256. `label`/`context` are used verbatim. */
export function kdf(key: Buffer, label: Buffer, context: Buffer, bits: 128 | 256): Buffer {
  const n = Math.ceil(bits / 256); // HMAC-SHA256 yields 256 bits per iteration
  const l = Buffer.alloc(4);
  l.writeUInt32BE(bits);
  const sep = Buffer.alloc(1);
  const out: Buffer[] = [];
  for (let i = 1; i <= n; i++) {
    const ctr = Buffer.alloc(4);
    ctr.writeUInt32BE(i);
    out.push(createHmac('sha256', key).update(ctr).update(label).update(sep).update(context).update(l).digest());
  }
  return Buffer.concat(out).subarray(0, bits / 8);
}

export interface SessionKeys {
  signingKey: Buffer;
  /** Client -> server traffic key (client encrypts, server decrypts). */
  serverInKey: Buffer;
  /** Server -> client traffic key (server encrypts, client decrypts). */
  serverOutKey: Buffer;
  applicationKey: Buffer;
}

const z = (s: string): Buffer => Buffer.from(s + '\0', 'latin1');
const L_SMB2AESCMAC = z('SMB2AESCMAC');
const C_SMBSIGN = z('SmbSign');
const L_SMB2AESCCM = z('SMB2AESCCM');
const C_SERVERIN = z('ServerIn ');
const C_SERVEROUT = z('ServerOut');
const L_SMB2APP = z('SMB2APP');
const C_SMBRPC = z('SmbRpc');
const L_SIGN311 = z('SMBSigningKey');
const L_C2S311 = z('SMBC2SCipherKey');
const L_S2C311 = z('SMBS2CCipherKey');
const L_APP311 = z('SMBAppKey');

/** Session.SessionKey: first 16 bytes of the GSS key, right-padded with zeros (MS-SMB2 3.2.1.3). */
export function sessionKey16(key: Buffer): Buffer {
  const out = Buffer.alloc(16);
  key.copy(out, 0, 0, Math.min(16, key.length));
  return out;
}

function is3x(dialect: number): boolean {
  return dialect >= DIALECT_300;
}

function need311Hash(preauthHash: Buffer | undefined): Buffer {
  if (!preauthHash || preauthHash.length !== 64) throw new RangeError('SMB 3.1.1 key derivation needs the 64-byte preauth hash');
  return preauthHash;
}

/** Session.SigningKey / Channel.SigningKey for `dialect` (MS-SMB2 3.3.5.5.3, 3.2.5.3.1). */
export function deriveSigningKey(dialect: number, sessionKey: Buffer, preauthHash?: Buffer): Buffer {
  const sk = sessionKey16(sessionKey);
  if (!is3x(dialect)) return sk;
  if (dialect >= DIALECT_311) return kdf(sk, L_SIGN311, need311Hash(preauthHash), 128);
  return kdf(sk, L_SMB2AESCMAC, C_SMBSIGN, 128);
}

/**
 * All session keys. `sessionKey` is the full GSS session key; 128-bit keys use its first 16 bytes,
 * while AES-256 ciphers (cipherId 3/4) derive 256-bit keys from the full key (MS-SMB2 3.3.5.5.3).
 * For 2.x the signing key is the session key and there are no encryption keys (empty buffers).
 */
export function deriveSessionKeys(
  dialect: number,
  sessionKey: Buffer,
  preauthHash: Buffer | undefined,
  cipherId: number,
): SessionKeys {
  const sk = sessionKey16(sessionKey);
  if (!is3x(dialect)) {
    return { signingKey: sk, serverInKey: Buffer.alloc(0), serverOutKey: Buffer.alloc(0), applicationKey: sk };
  }
  const aes256 = cipherId === 3 || cipherId === 4;
  const encKdk = aes256 ? sessionKey : sk;
  const bits: 128 | 256 = aes256 ? 256 : 128;
  if (dialect >= DIALECT_311) {
    const ctx = need311Hash(preauthHash);
    return {
      signingKey: kdf(sk, L_SIGN311, ctx, 128),
      serverInKey: kdf(encKdk, L_C2S311, ctx, bits),
      serverOutKey: kdf(encKdk, L_S2C311, ctx, bits),
      applicationKey: kdf(sk, L_APP311, ctx, 128),
    };
  }
  return {
    signingKey: kdf(sk, L_SMB2AESCMAC, C_SMBSIGN, 128),
    serverInKey: kdf(sk, L_SMB2AESCCM, C_SERVERIN, 128),
    serverOutKey: kdf(sk, L_SMB2AESCCM, C_SERVEROUT, 128),
    applicationKey: kdf(sk, L_SMB2APP, C_SMBRPC, 128),
  };
}
