// The client's DFS referral cache (seed 003, cifs.ko dfs_cache.c; MS-DFSC 3.1.1 ReferralCache):
// entries keyed by the path prefix a referral consumed, each with its flags, TTL (expiry), ordered
// target list and target hint (the last target that worked, else the first). Lookups:
//   findNoReq(path)      the longest live entry covering `path`; never asks a server (dfs_cache_noreq_find)
//   find(path, fetch)    the same, asking `fetch` when there is no live entry (dfs_cache_find). An
//                        expired entry is used only when the referral request itself fails (its
//                        server is down), so failover works while the DFS root is unreachable.
// Size is bounded (least recently used entry goes); a refresher renews entries before they expire.
import { DfsEntryFlags, DfsServerType, type DfsReferralResponse } from '../wire/dfs.js';
import { Status } from '../wire/status.js';
import { SmbError } from './errors.js';

/** Paths are `\host\share\...`; keys are lower-case with one separator style. */
export function dfsKey(p: string): string {
  return '\\' + p.replace(/\//g, '\\').split('\\').filter((c) => c !== '').join('\\').toLowerCase();
}

export interface DfsCacheEntry {
  /** The consumed prefix, as the server spelled it (`\host\root\link`). */
  path: string;
  key: string;
  /** Characters of the request path the referral consumed (PathConsumed / 2). */
  consumed: number;
  serverType: number;
  headerFlags: number;
  /** TargetSetBoundary etc. of the first entry. */
  entryFlags: number;
  /** Seconds, from the referral. */
  ttl: number;
  /** ms since the epoch. */
  expires: number;
  /** `\host\share[\path]`, in the server's order. */
  targets: string[];
  /** Index into targets. */
  hint: number;
  /** Host that answered the referral (where a refresh asks). */
  server: string;
  lastUsed: number;
}

export interface DfsCacheInfo {
  path: string;
  serverType: 'root' | 'link';
  ttl: number;
  /** Seconds until expiry (negative: expired). */
  ttlLeft: number;
  targets: string[];
  hint: string;
  server: string;
}

export interface DfsCacheOptions {
  maxEntries?: number;
  now?: () => number;
  /** Shortest TTL honoured, s (a server answering 0 would make every lookup a request). */
  minTtl?: number;
}

export type ReferralFetch = (path: string) => Promise<{ response: DfsReferralResponse; server: string }>;

export class DfsCache {
  private readonly entries = new Map<string, DfsCacheEntry>();
  readonly maxEntries: number;
  private readonly now: () => number;
  private readonly minTtl: number;
  private refresher: NodeJS.Timeout | undefined;
  private refreshing = false;

  constructor(o: DfsCacheOptions = {}) {
    this.maxEntries = Math.max(1, o.maxEntries ?? 256);
    this.now = o.now ?? Date.now;
    this.minTtl = o.minTtl ?? 1;
  }

  get size(): number {
    return this.entries.size;
  }

  /** The longest entry whose prefix covers `path` (whole components), live only unless `expiredToo`. */
  findNoReq(path: string, expiredToo = false): { entry: DfsCacheEntry; rest: string } | undefined {
    if (this.entries.size === 0) return undefined; // no link seen: the common case, no key to build
    const key = dfsKey(path);
    let best: DfsCacheEntry | undefined;
    for (const e of this.entries.values()) {
      if (!expiredToo && e.expires <= this.now()) continue;
      if (key !== e.key && !key.startsWith(e.key + '\\')) continue;
      if (!best || e.key.length > best.key.length) best = e;
    }
    if (!best) return undefined;
    best.lastUsed = this.now();
    return { entry: best, rest: restOf(path, best.key) };
  }

  /** A live entry for `path`, asking `fetch` when there is none; an expired one if `fetch` fails. */
  async find(path: string, fetch: ReferralFetch): Promise<{ entry: DfsCacheEntry; rest: string }> {
    const hit = this.findNoReq(path);
    if (hit) return hit;
    try {
      const { response, server } = await fetch(path);
      const entry = this.store(path, response, server);
      return { entry, rest: restOf(path, entry.key) };
    } catch (e) {
      const stale = this.findNoReq(path, true);
      if (stale && isUnreachable(e)) return stale;
      throw e;
    }
  }

  /** Stores a referral for request path `path`; replaces an entry for the same prefix (keeping its hint's target). */
  store(path: string, r: DfsReferralResponse, server: string): DfsCacheEntry {
    const targets = r.referrals.map((e) => e.networkAddress ?? '').filter((t) => dfsKey(t).split('\\').length >= 3);
    if (targets.length === 0) throw new SmbError(Status.INVALID_NETWORK_RESPONSE, `DFS referral for ${path} names no usable target`);
    const chars = r.pathConsumed / 2;
    const wanted = path.replace(/\//g, '\\');
    if (!Number.isInteger(chars) || chars < 1 || chars > wanted.length) {
      throw new SmbError(Status.INVALID_NETWORK_RESPONSE, `DFS referral for ${path}: PathConsumed ${r.pathConsumed} is outside the request path`);
    }
    // The consumed prefix ends on a component boundary (some servers count a trailing separator or NUL).
    const prefix = wanted.slice(0, chars).replace(/\\+$/, '').replace(/\0+$/, '');
    const key = dfsKey(prefix);
    if (key.split('\\').length < 3) throw new SmbError(Status.INVALID_NETWORK_RESPONSE, `DFS referral for ${path} consumes less than \\host\\share`);
    const first = r.referrals[0]!;
    const ttl = Math.max(this.minTtl, Math.min(...r.referrals.map((e) => e.timeToLive || this.minTtl)));
    const old = this.entries.get(key);
    const oldHint = old ? dfsKey(old.targets[old.hint] ?? '') : undefined;
    const hint = Math.max(0, targets.findIndex((t) => dfsKey(t) === oldHint));
    const entry: DfsCacheEntry = {
      path: prefix, key, consumed: prefix.length, serverType: first.serverType, headerFlags: r.referralHeaderFlags,
      entryFlags: first.referralEntryFlags & DfsEntryFlags.TARGET_SET_BOUNDARY, ttl, expires: this.now() + ttl * 1000,
      targets, hint, server, lastUsed: this.now(),
    };
    this.entries.delete(key);
    this.entries.set(key, entry);
    this.evict();
    return entry;
  }

  /** Targets in the order to try: from the hint on, then the ones before it. */
  ordered(e: DfsCacheEntry): string[] {
    return [...e.targets.slice(e.hint), ...e.targets.slice(0, e.hint)];
  }

  /** Records that `target` worked (dfs_cache_update_tgthint). */
  updateHint(e: DfsCacheEntry, target: string): void {
    const i = e.targets.findIndex((t) => dfsKey(t) === dfsKey(target));
    if (i >= 0) e.hint = i;
  }

  /** Moves the hint past `target` (it failed while in use). */
  skipTarget(e: DfsCacheEntry, target: string): void {
    const i = e.targets.findIndex((t) => dfsKey(t) === dfsKey(target));
    if (i >= 0 && i === e.hint) e.hint = (i + 1) % e.targets.length;
  }

  remove(key: string): void {
    this.entries.delete(dfsKey(key));
  }

  list(): DfsCacheInfo[] {
    const now = this.now();
    return [...this.entries.values()].map((e) => ({
      path: e.path, serverType: e.serverType === DfsServerType.ROOT ? 'root' : 'link', ttl: e.ttl,
      ttlLeft: Math.round((e.expires - now) / 1000), targets: [...e.targets], hint: e.targets[e.hint]!, server: e.server,
    }));
  }

  private evict(): void {
    while (this.entries.size > this.maxEntries) {
      let lru: DfsCacheEntry | undefined;
      for (const e of this.entries.values()) if (!lru || e.lastUsed < lru.lastUsed) lru = e;
      this.entries.delete(lru!.key);
    }
  }

  /**
   * Renews each entry when 3/4 of its TTL has gone (and retries an expired one every tick) by
   * asking `fetch` for the entry's own path. Failures leave the entry as it is. The timer is unref'd.
   */
  startRefresher(fetch: (e: DfsCacheEntry) => ReturnType<ReferralFetch>, tickMs = 1000): void {
    if (this.refresher) return;
    const tick = async (): Promise<void> => {
      if (this.refreshing) return;
      this.refreshing = true;
      try {
        const now = this.now();
        for (const e of [...this.entries.values()]) {
          if (now < e.expires - e.ttl * 250) continue;
          try {
            const { response, server } = await fetch(e);
            this.store(e.path, response, server);
          } catch { /* target or root down: keep the entry, try again next tick */ }
        }
      } finally {
        this.refreshing = false;
      }
    };
    this.refresher = setInterval(() => { void tick(); }, tickMs);
    this.refresher.unref();
  }

  stopRefresher(): void {
    if (this.refresher) clearInterval(this.refresher);
    this.refresher = undefined;
  }
}

/** The part of `path` after the entry's `key` prefix, with a leading separator ('' when none). */
function restOf(path: string, key: string): string {
  const comps = path.replace(/\//g, '\\').split('\\').filter((c) => c !== '');
  const n = key.split('\\').length - 1;
  const rest = comps.slice(n).join('\\');
  return rest ? '\\' + rest : '';
}

/** Statuses that mean "this server/target cannot be reached or has gone": try the next target. */
export function isUnreachable(e: unknown): boolean {
  if (!(e instanceof SmbError)) return false;
  switch (e.status) {
    case 0xc0000236: // CONNECTION_REFUSED
    case Status.CONNECTION_RESET:
    case Status.CONNECTION_DISCONNECTED:
    case Status.IO_TIMEOUT:
    case Status.BAD_NETWORK_PATH:
    case Status.BAD_NETWORK_NAME:
    case Status.NETWORK_NAME_DELETED:
    case Status.USER_SESSION_DELETED:
    case 0xc000023d: // HOST_UNREACHABLE
    case 0xc000023c: // NETWORK_UNREACHABLE
      return true;
    default:
      return false;
  }
}
