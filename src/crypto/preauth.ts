// SMB 3.1.1 pre-authentication integrity (MS-SMB2 3.2.5.2, 3.3.5.4):
// H(0) = 64 zero bytes, H(n) = SHA-512(H(n-1) || message), over NEGOTIATE and SESSION_SETUP
// requests/responses (except the final successful SESSION_SETUP response).
import { createHash } from 'node:crypto';

export class PreauthHash {
  private h: Buffer;

  constructor(initial?: Buffer) {
    if (initial && initial.length !== 64) throw new RangeError('preauth hash must be 64 bytes');
    this.h = initial ? Buffer.from(initial) : Buffer.alloc(64);
  }

  /** H = SHA512(H || message); `message` is the whole SMB2 message (header + body), no transport header. */
  update(message: Buffer | Buffer[]): this {
    const hash = createHash('sha512').update(this.h);
    if (Array.isArray(message)) for (const m of message) hash.update(m);
    else hash.update(message);
    this.h = hash.digest();
    return this;
  }

  /** Current value (a copy). */
  get value(): Buffer {
    return Buffer.from(this.h);
  }

  clone(): PreauthHash {
    return new PreauthHash(this.h);
  }
}
