// Per-connection CommandSequenceWindow (MS-SMB2 3.3.1.1, 3.3.5.2.3) and credit grants (3.3.1.2).
// The window holds the MessageIds the client may use: [low, high). A request consumes
// CreditCharge consecutive ids; ids may arrive out of order, so used ids above `low` are kept
// until the gap below them closes.

/** Keep the client at most this many outstanding credits (Samba's default "smb2 max credits"). */
export const MAX_OUTSTANDING_CREDITS = 8192;

const MAX_SAFE_ID = BigInt(Number.MAX_SAFE_INTEGER);

export class CreditWindow {
  /** Lowest id not yet used. */
  private low = 0;
  /** One past the highest id granted. */
  private high = 1; // the first NEGOTIATE may use MessageId 0 (3.3.1.1)
  /** Ids in [low, high) already used out of order. */
  private readonly used = new Set<number>();

  constructor(private readonly maxOutstanding = MAX_OUTSTANDING_CREDITS) {}

  /** Credits the client holds now (granted, not yet consumed). */
  get outstanding(): number {
    return this.high - this.low - this.used.size;
  }

  get range(): { low: number; high: number } {
    return { low: this.low, high: this.high };
  }

  /** Whether consume(messageId, charge) would succeed now (nothing is consumed). */
  canConsume(messageId: bigint, charge: number): boolean {
    const n = Math.max(1, charge);
    if (messageId > MAX_SAFE_ID) return false;
    const m = Number(messageId);
    if (m < this.low || m + n > this.high) return false;
    for (let i = m; i < m + n; i++) if (this.used.has(i)) return false;
    return true;
  }

  /**
   * Consumes ids [messageId, messageId + charge). Returns false when any of them lies outside
   * the window or was already used (the caller disconnects, as Windows and Samba do).
   */
  consume(messageId: bigint, charge: number): boolean {
    const n = Math.max(1, charge);
    const m = Number(messageId);
    // In order with nothing used above it (a client waiting for each reply): just move `low`.
    if (m === this.low && this.used.size === 0 && messageId <= MAX_SAFE_ID && m + n <= this.high) {
      this.low += n;
      return true;
    }
    if (!this.canConsume(messageId, charge)) return false;
    for (let i = m; i < m + n; i++) this.used.add(i);
    while (this.used.has(this.low)) {
      this.used.delete(this.low);
      this.low++;
    }
    return true;
  }

  /**
   * Grants credits for a response: what the client asked (at least 1 so it never starves,
   * 3.3.1.2), bounded so the client never holds more than maxOutstanding.
   * `charge` is what the request consumed; a client asking for less than it spent still gets 1.
   */
  grant(requested: number): number {
    const room = this.maxOutstanding - this.outstanding;
    let g = Math.max(requested, 1);
    if (g > room) g = Math.max(room, 0);
    if (g === 0 && this.outstanding === 0) g = 1;
    this.high += g;
    return g;
  }
}
