import test from 'node:test';
import assert from 'node:assert/strict';
import { DfsCache, dfsKey } from './dfs-cache.js';
import { SmbError } from './errors.js';
import { Status } from '../wire/status.js';
import type { DfsReferralResponse } from '../wire/dfs.js';

const link = (prefix: string, targets: string[], ttl = 60): DfsReferralResponse => ({
  pathConsumed: prefix.length * 2, referralHeaderFlags: 2,
  referrals: targets.map((t, i) => ({ version: 4, serverType: 0, referralEntryFlags: i ? 0 : 4, timeToLive: ttl, dfsPath: prefix, networkAddress: t })),
});

function clock(): { now: () => number; advance(ms: number): void } {
  let t = 1_000_000;
  return { now: () => t, advance: (ms) => { t += ms; } };
}

test('find with and without a referral request; longest prefix on whole components; TTL expiry', async () => {
  const c = clock();
  const cache = new DfsCache({ now: c.now });
  let asked = 0;
  const fetch = async (p: string) => { asked++; return { response: link('\\srv\\root\\link', ['\\a\\s', '\\b\\s'], 10), server: 'srv' }; };
  assert.equal(cache.findNoReq('\\srv\\root\\link\\f'), undefined);
  const hit = await cache.find('\\srv\\root\\link\\dir\\f', fetch);
  assert.equal(asked, 1);
  assert.equal(hit.entry.path, '\\srv\\root\\link');
  assert.equal(hit.rest, '\\dir\\f');
  assert.equal(cache.findNoReq('\\SRV\\Root\\LINK\\x')!.rest, '\\x'); // case-insensitive
  assert.equal(cache.findNoReq('\\srv\\root\\linkother'), undefined); // component boundary
  await cache.find('\\srv\\root\\link\\g', fetch);
  assert.equal(asked, 1, 'answered from the cache');
  c.advance(10_001);
  assert.equal(cache.findNoReq('\\srv\\root\\link\\f'), undefined, 'expired entries are not served');
  await cache.find('\\srv\\root\\link\\g', fetch);
  assert.equal(asked, 2, 'expired -> asked again');
  assert.equal(cache.list()[0]!.ttlLeft, 10);
});

test('an expired entry is used only when the referral request fails because the server is down', async () => {
  const c = clock();
  const cache = new DfsCache({ now: c.now });
  await cache.find('\\srv\\r\\l\\f', async () => ({ response: link('\\srv\\r\\l', ['\\a\\s']), server: 'srv' }));
  c.advance(61_000);
  const down = async (): Promise<never> => { throw new SmbError(0xc0000236, 'refused'); };
  assert.equal((await cache.find('\\srv\\r\\l\\f', down)).entry.path, '\\srv\\r\\l');
  const bad = async (): Promise<never> => { throw new SmbError(Status.ACCESS_DENIED); };
  await assert.rejects(cache.find('\\srv\\r\\l\\f', bad), (e: SmbError) => e.status === Status.ACCESS_DENIED);
});

test('target hint: ordered from the hint, updated on success, skipped on failure, kept across a refresh', () => {
  const cache = new DfsCache();
  const e = cache.store('\\s\\r\\l', link('\\s\\r\\l', ['\\a\\x', '\\b\\x', '\\c\\x']), 's');
  assert.deepEqual(cache.ordered(e), ['\\a\\x', '\\b\\x', '\\c\\x']);
  cache.updateHint(e, '\\B\\X');
  assert.deepEqual(cache.ordered(e), ['\\b\\x', '\\c\\x', '\\a\\x']);
  cache.skipTarget(e, '\\b\\x');
  assert.equal(e.targets[e.hint], '\\c\\x');
  const again = cache.store('\\s\\r\\l', link('\\s\\r\\l', ['\\c\\x', '\\a\\x']), 's');
  assert.equal(again.targets[again.hint], '\\c\\x');
  assert.equal(cache.size, 1);
});

test('bounded size: the least recently used entry goes', () => {
  const c = clock();
  const cache = new DfsCache({ maxEntries: 3, now: c.now });
  for (const n of ['a', 'b', 'c']) { cache.store(`\\s\\r\\${n}`, link(`\\s\\r\\${n}`, ['\\t\\x']), 's'); c.advance(1); }
  cache.findNoReq('\\s\\r\\a\\f'); // touch a
  c.advance(1);
  cache.store('\\s\\r\\d', link('\\s\\r\\d', ['\\t\\x']), 's');
  assert.deepEqual(cache.list().map((e) => e.path).sort(), ['\\s\\r\\a', '\\s\\r\\c', '\\s\\r\\d']);
});

test('bad referrals are refused: PathConsumed out of range or short of \\host\\share, no usable target', () => {
  const cache = new DfsCache();
  assert.throws(() => cache.store('\\s\\r\\l', { ...link('\\s\\r\\l', ['\\a\\x']), pathConsumed: 400 }, 's'), /PathConsumed/);
  assert.throws(() => cache.store('\\s\\r\\l', { ...link('\\s\\r\\l', ['\\a\\x']), pathConsumed: 3 }, 's'), /PathConsumed/);
  assert.throws(() => cache.store('\\s\\r\\l', link('\\s', ['\\a\\x']), 's'), /less than/);
  assert.throws(() => cache.store('\\s\\r\\l', link('\\s\\r\\l', ['', 'nohost']), 's'), /no usable target/);
  assert.equal(cache.size, 0);
  assert.equal(dfsKey('//A/b\\C\\'), '\\a\\b\\c');
});

test('the refresher renews an entry before it expires', async () => {
  const cache = new DfsCache({ minTtl: 1 });
  cache.store('\\s\\r\\l', link('\\s\\r\\l', ['\\a\\x'], 1), 's');
  let asked = 0;
  cache.startRefresher(async (e) => { asked++; return { response: link(e.path, ['\\a\\x'], 1), server: 's' }; }, 50);
  await new Promise((r) => setTimeout(r, 1500));
  cache.stopRefresher();
  assert.ok(asked >= 1, `refreshed ${asked} times`);
  assert.ok(cache.findNoReq('\\s\\r\\l\\f'), 'still live after 1.5 TTLs');
});
