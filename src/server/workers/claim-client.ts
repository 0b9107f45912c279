// The worker's side of file claims (cluster/claims.ts) over process IPC to the primary's
// ClaimHost (claim-host.ts). Claims travel on the same channel as the Kv calls (ipc-kv.ts), so
// the primary sees a worker's Kv writes and claim messages in the order the worker sent them.
import { KvUnavailableError } from '../cluster/kv.js';
import type { ClaimState, FileClaims } from '../cluster/claims.js';
import type { ClaimMsg, ToWorker } from './messages.js';

const CALL_TIMEOUT_MS = 10_000;

export class ClaimClient implements FileClaims {
  private nextId = 1;
  private readonly calls = new Map<number, { resolve(s: ClaimState): void; reject(e: Error): void; timer: NodeJS.Timeout }>();
  /** One request per file in flight. */
  private readonly pending = new Map<string, Promise<ClaimState>>();
  private revoke: (fileKey: string) => Promise<boolean> = async () => false;

  /** `send` posts to the primary (false: the channel is gone); feed every message from it to `receive`. */
  constructor(private readonly send: (m: ClaimMsg) => boolean) {}

  /** Returns true when the message was for the claims. */
  receive(msg: ToWorker): boolean {
    if (msg.t === 'claim-res') {
      const c = this.calls.get(msg.id);
      if (c) {
        this.calls.delete(msg.id);
        clearTimeout(c.timer);
        c.resolve(msg.shared ? 'shared' : 'mine');
      }
      return true;
    }
    if (msg.t === 'revoke') {
      const { rid, key } = msg;
      this.revoke(key).then((held) => this.send({ t: 'revoked', rid, held }), () => this.send({ t: 'revoked', rid, held: true }));
      return true;
    }
    return false;
  }

  claim(fileKey: string): Promise<ClaimState> {
    const p = this.pending.get(fileKey);
    if (p) return p;
    const id = this.nextId++;
    const call = new Promise<ClaimState>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.calls.delete(id);
        reject(new KvUnavailableError(`file claims: no answer from the primary in ${CALL_TIMEOUT_MS} ms`));
      }, CALL_TIMEOUT_MS);
      this.calls.set(id, { resolve, reject, timer });
      if (!this.send({ t: 'claim', id, key: fileKey })) {
        this.calls.delete(id);
        clearTimeout(timer);
        reject(new KvUnavailableError('file claims: the primary is gone'));
      }
    });
    const done = call.finally(() => this.pending.delete(fileKey));
    this.pending.set(fileKey, done);
    return done;
  }

  release(fileKeys: string[]): void {
    if (fileKeys.length) this.send({ t: 'release', keys: fileKeys });
  }

  onRevoke(handler: (fileKey: string) => Promise<boolean>): void {
    this.revoke = handler;
  }

  close(): void {
    for (const [id, c] of this.calls) {
      clearTimeout(c.timer);
      c.reject(new KvUnavailableError('file claims: closed'));
      this.calls.delete(id);
    }
  }
}
