// RC4 (ARCFOUR) stream cipher: node's OpenSSL 3 no longer ships it in the default provider,
// and NTLM needs it for KEY_EXCH (MS-NLMP 3.4.5.1 / 3.1.5.1.2) and sealing of GSS MICs.

export class Rc4 {
  private s = new Uint8Array(256);
  private i = 0;
  private j = 0;

  constructor(key: Buffer) {
    if (key.length === 0) throw new RangeError('rc4: empty key');
    const s = this.s;
    for (let k = 0; k < 256; k++) s[k] = k;
    let j = 0;
    for (let k = 0; k < 256; k++) {
      j = (j + s[k]! + key[k % key.length]!) & 0xff;
      const t = s[k]!;
      s[k] = s[j]!;
      s[j] = t;
    }
  }

  /** Encrypts/decrypts `data` into a new buffer, advancing the key stream. */
  update(data: Buffer): Buffer {
    const out = Buffer.alloc(data.length);
    const s = this.s;
    let i = this.i, j = this.j;
    for (let k = 0; k < data.length; k++) {
      i = (i + 1) & 0xff;
      j = (j + s[i]!) & 0xff;
      const t = s[i]!;
      s[i] = s[j]!;
      s[j] = t;
      out[k] = data[k]! ^ s[(s[i]! + s[j]!) & 0xff]!;
    }
    this.i = i;
    this.j = j;
    return out;
  }
}

/** One-shot RC4 with a fresh key schedule. */
export function rc4(key: Buffer, data: Buffer): Buffer {
  return new Rc4(key).update(data);
}
