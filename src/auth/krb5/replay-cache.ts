// Authenticator replay cache (RFC 4120 3.2.3): an authenticator seen before within the clock
// skew window is refused. Entries are keyed by a hash of the authenticator's ciphertext (as MIT
// does), kept until they can no longer pass the skew check, and bounded in number.
import { createHash } from 'node:crypto';

export class ReplayCache {
  /** key -> expiry (ms); Map keeps insertion order, so the oldest entries come first. */
  private readonly seen = new Map<string, number>();

  constructor(private readonly skewMs: number, private readonly maxEntries = 100_000) {}

  /** Records the authenticator; false if it was already recorded and is not yet expired. */
  check(authenticatorCipher: Buffer, ctime: number, now: number): boolean {
    this.prune(now);
    const key = createHash('sha256').update(authenticatorCipher).digest('base64');
    const exp = this.seen.get(key);
    if (exp !== undefined && exp >= now) return false;
    if (this.seen.size >= this.maxEntries) {
      const oldest = this.seen.keys().next();
      if (!oldest.done) this.seen.delete(oldest.value);
    }
    this.seen.set(key, ctime + 2 * this.skewMs);
    return true;
  }

  get size(): number {
    return this.seen.size;
  }

  private prune(now: number): void {
    for (const [k, exp] of this.seen) {
      if (exp >= now) break; // insertion order ~ expiry order; stop at the first live one
      this.seen.delete(k);
    }
  }
}
