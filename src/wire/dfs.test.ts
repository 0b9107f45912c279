import test from 'node:test';
import assert from 'node:assert/strict';
import { WireError } from './buf.js';
import * as d from './dfs.js';
import { hex } from './testutil.js';

const u = (s: string): Buffer => Buffer.from(s + '\0', 'utf16le');
const u16 = (n: number): string => Buffer.from([n & 0xff, n >> 8]).toString('hex');

test('REQ_GET_DFS_REFERRAL and _EX round-trip and vector', () => {
  const req = { maxReferralLevel: 4, requestFileName: '\\srv\\dfsroot\\link' };
  assert.deepEqual(d.decodeDfsReferralRequest(d.encodeDfsReferralRequest(req)), req);
  // MS-DFSC 4.5's request: MaxReferralLevel 3, "\dfsn-dev\testroot1".
  const v = Buffer.concat([hex('0300'), u('\\dfsn-dev\\testroot1')]);
  assert.deepEqual(d.decodeDfsReferralRequest(v), { maxReferralLevel: 3, requestFileName: '\\dfsn-dev\\testroot1' });
  assert.throws(() => d.decodeDfsReferralRequest(hex('0400')), WireError);

  const ex = { maxReferralLevel: 4, requestFileName: '\\srv\\root', siteName: 'Default-First-Site' };
  const b = d.encodeDfsReferralRequestEx(ex);
  assert.equal(b.readUInt16LE(2), d.DfsRequestFlags.SITE_NAME);
  assert.equal(b.readUInt32LE(4), b.length - 8);
  assert.deepEqual(d.decodeDfsReferralRequestEx(b), ex);
  assert.deepEqual(d.decodeDfsReferralRequestEx(d.encodeDfsReferralRequestEx({ maxReferralLevel: 3, requestFileName: '\\a\\b' })), { maxReferralLevel: 3, requestFileName: '\\a\\b' });
  const big = Buffer.from(b); big.writeUInt32LE(1000, 4);
  assert.throws(() => d.decodeDfsReferralRequestEx(big), /out of range/);
  const badName = Buffer.from(b); badName.writeUInt16LE(500, 8);
  assert.throws(() => d.decodeDfsReferralRequestEx(badName), WireError);
});

test('RESP_GET_DFS_REFERRAL laid out as the MS-DFSC 4.5 trace (two v3 root targets)', () => {
  // Header: PathConsumed 0x26 ("\dfsn-dev\testroot1" = 19 chars), 2 entries, ReferralServers|StorageServers.
  // Entries at 8 and 42 (34 bytes each); strings from 76: DFSPath, DFSAlternatePath, then the targets.
  const path = u('\\dfsn-dev\\testroot1'); // 40 bytes
  const t1 = u('\\DFSN-SRV1\\testroot1');
  const t2 = u('\\DFSN-SRV2\\testroot1');
  const s0 = 76, alt = s0 + path.length, n1 = alt + path.length, n2 = n1 + t1.length;
  const entry = (at: number, net: number): string =>
    '0300 2200 0100 0000 2c010000' + u16(s0 - at) + u16(alt - at) + u16(net - at) + '00'.repeat(16);
  const buf = Buffer.concat([hex('2600 0200 03000000', entry(8, n1), entry(42, n2)), path, path, t1, t2]);
  assert.equal(buf.readUInt16LE(8 + 16), n1 - 8); // NetworkAddressOffset, from its entry
  const r = d.decodeDfsReferralResponse(buf);
  assert.equal(r.pathConsumed, 0x26);
  assert.equal(r.referralHeaderFlags, d.DfsHeaderFlags.REFERRAL_SERVERS | d.DfsHeaderFlags.STORAGE_SERVERS);
  assert.deepEqual(r.referrals.map((e) => [e.version, e.serverType, e.timeToLive, e.dfsPath, e.networkAddress]), [
    [3, 1, 300, '\\dfsn-dev\\testroot1', '\\DFSN-SRV1\\testroot1'],
    [3, 1, 300, '\\dfsn-dev\\testroot1', '\\DFSN-SRV2\\testroot1'],
  ]);
});

test('RESP_GET_DFS_REFERRAL versions 1-4 round-trip (TargetSetBoundary only in v4)', () => {
  const res: d.DfsReferralResponse = {
    pathConsumed: 34, referralHeaderFlags: d.DfsHeaderFlags.STORAGE_SERVERS,
    referrals: [
      { version: 4, serverType: 0, referralEntryFlags: d.DfsEntryFlags.TARGET_SET_BOUNDARY, timeToLive: 300, dfsPath: '\\srv\\dfsroot\\link', dfsAlternatePath: '\\srv\\dfsroot\\link', networkAddress: '\\other\\share' },
      { version: 4, serverType: 0, referralEntryFlags: 0, timeToLive: 300, dfsPath: '\\srv\\dfsroot\\link', dfsAlternatePath: '\\srv\\dfsroot\\link', networkAddress: '\\third\\share' },
    ],
  };
  assert.deepEqual(d.decodeDfsReferralResponse(d.encodeDfsReferralResponse(res, 4)), res);
  const v3 = d.decodeDfsReferralResponse(d.encodeDfsReferralResponse(res, 3));
  assert.deepEqual(v3.referrals.map((e) => [e.version, e.referralEntryFlags, e.networkAddress]), [[3, 0, '\\other\\share'], [3, 0, '\\third\\share']]);
  const v2 = d.decodeDfsReferralResponse(d.encodeDfsReferralResponse(res, 2));
  assert.equal(v2.referrals[1]!.version, 2);
  assert.equal(v2.referrals[1]!.timeToLive, 300);
  assert.equal(v2.referrals[1]!.proximity, 0);
  assert.equal(v2.referrals[1]!.networkAddress, '\\third\\share');
  const v1b = d.encodeDfsReferralResponse(res, 1);
  // v1: 8-byte entry head + inline ShareName; Size covers the name.
  assert.equal(v1b.readUInt16LE(10), 8 + u('\\other\\share').length);
  const v1 = d.decodeDfsReferralResponse(v1b);
  assert.deepEqual(v1.referrals.map((e) => [e.version, e.networkAddress]), [[1, '\\other\\share'], [1, '\\third\\share']]);
  // String offsets are per entry: the second entry's DFSPathOffset is 34 smaller than the first's.
  const b4 = d.encodeDfsReferralResponse(res, 4);
  assert.equal(b4.readUInt16LE(8 + 12) - b4.readUInt16LE(42 + 12), 34);
});

test('NameListReferral (v3 DC referral)', () => {
  const sn = u('\\dom'), e1 = u('\\dc1'), e2 = u('\\dc2');
  const nl = Buffer.concat([hex('0000 0100 00000000', '0300 2200 0000 0200 58020000', '2200 0200', u16(34 + sn.length), '00'.repeat(16)), sn, e1, e2]);
  const dn = d.decodeDfsReferralResponse(nl).referrals[0]!;
  assert.equal(dn.specialName, '\\dom');
  assert.deepEqual(dn.expandedNames, ['\\dc1', '\\dc2']);
  const many = Buffer.from(nl); many.writeUInt16LE(10_000, 8 + 14);
  assert.throws(() => d.decodeDfsReferralResponse(many), /limit/);
});

test('damaged responses: truncated, offsets out of range, bad Size, unknown version, 10,000 targets', () => {
  const good = d.encodeDfsReferralResponse({ pathConsumed: 8, referralHeaderFlags: 2, referrals: [
    { version: 4, serverType: 0, referralEntryFlags: 0, timeToLive: 5, dfsPath: '\\a\\b', networkAddress: '\\c\\d' }] }, 4);
  assert.equal(d.decodeDfsReferralResponse(good).referrals[0]!.networkAddress, '\\c\\d');
  for (let cut = 0; cut < good.length; cut++) {
    assert.throws(() => d.decodeDfsReferralResponse(good.subarray(0, cut)), WireError, `cut at ${cut}`);
  }
  const off = Buffer.from(good); off.writeUInt16LE(0xfff0, 8 + 16);
  assert.throws(() => d.decodeDfsReferralResponse(off), /NetworkAddress offset out of range/);
  const noNul = Buffer.from(good); noNul.fill(0x41, good.length - 2);
  assert.throws(() => d.decodeDfsReferralResponse(noNul), /unterminated/);
  const size = Buffer.from(good); size.writeUInt16LE(4, 10);
  assert.throws(() => d.decodeDfsReferralResponse(size), /Size/);
  const ver = Buffer.from(good); ver.writeUInt16LE(9, 8);
  assert.throws(() => d.decodeDfsReferralResponse(ver), /version 9/);
  // 10,000 targets: refused from the header, before any entry is walked.
  const huge = Buffer.alloc(8 + 10_000 * 34); huge.writeUInt16LE(10_000, 2);
  const t0 = process.hrtime.bigint();
  assert.throws(() => d.decodeDfsReferralResponse(huge), /10000 targets/);
  assert.ok(process.hrtime.bigint() - t0 < 50_000_000n);
  const lying = Buffer.from(good); lying.writeUInt16LE(200, 2);
  assert.throws(() => d.decodeDfsReferralResponse(lying), /truncated/);
});
