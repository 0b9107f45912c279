import test from 'node:test';
import assert from 'node:assert/strict';
import { WireError } from './buf.js';
import { Fsctl } from './constants.js';
import { encodeIoctlRequest, decodeIoctlRequest, encodeIoctlResponse, decodeIoctlResponse } from './ioctl.js';
import * as f from './fsctl.js';
import {
  encodeChangeNotifyRequest, decodeChangeNotifyRequest, encodeChangeNotifyResponse, decodeChangeNotifyResponse,
  encodeNotifyEntries, decodeNotifyEntries, NotifyAction,
} from './change-notify.js';
import { msgOf, hex } from './testutil.js';

const fid = { persistent: 0xffffffffffffffffn, volatile: 0xffffffffffffffffn };
const guid = Buffer.from('00112233445566778899aabbccddeeff', 'hex');

test('IOCTL request/response round-trip and vector', () => {
  const input = f.encodeValidateNegotiateInfoRequest({ capabilities: 0x7f, guid, securityMode: 1, dialects: [0x202, 0x210, 0x300, 0x302, 0x311] });
  const req = { ctlCode: Fsctl.VALIDATE_NEGOTIATE_INFO, fileId: fid, input, maxInputResponse: 0, maxOutputResponse: 24, flags: 1, output: Buffer.alloc(0) };
  const m = msgOf(encodeIoctlRequest(req));
  assert.equal(m.readUInt32LE(64 + 24), 120);
  const d = decodeIoctlRequest(m);
  assert.deepEqual(d, req);
  assert.deepEqual(f.decodeValidateNegotiateInfoRequest(d.input).dialects, [0x202, 0x210, 0x300, 0x302, 0x311]);
  const out = f.encodeValidateNegotiateInfoResponse({ capabilities: 0x2f, guid, securityMode: 1, dialect: 0x311 });
  assert.equal(out.length, 24);
  const res = { ctlCode: Fsctl.VALIDATE_NEGOTIATE_INFO, fileId: fid, input: Buffer.alloc(0), output: out, flags: 0 };
  const rm = msgOf(encodeIoctlResponse(res));
  assert.equal(rm.readUInt32LE(64 + 24), 112); // InputOffset
  assert.equal(rm.readUInt32LE(64 + 32), 112); // OutputOffset
  assert.deepEqual(decodeIoctlResponse(rm), res);
  assert.deepEqual(f.decodeValidateNegotiateInfoResponse(decodeIoctlResponse(rm).output).dialect, 0x311);
  // Hand-built FSCTL_QUERY_NETWORK_INTERFACE_INFO request with no input.
  const v = hex('3900 0000 fc011400', 'ff'.repeat(16), '00000000 00000000 00000000 78000000 00000000 00000100 01000000 00000000');
  const dv = decodeIoctlRequest(msgOf(v));
  assert.equal(dv.ctlCode, Fsctl.QUERY_NETWORK_INTERFACE_INFO);
  assert.equal(dv.maxOutputResponse, 65536);
  assert.equal(dv.input.length, 0);
  const bad = Buffer.from(v); bad.writeUInt32LE(0x78, 24); bad.writeUInt32LE(10, 28);
  assert.throws(() => decodeIoctlRequest(msgOf(bad)), WireError);
  assert.throws(() => decodeIoctlResponse(msgOf(v)), WireError);
});

test('NETWORK_INTERFACE_INFO list round-trips IPv4 and IPv6', () => {
  const list: f.NetworkInterfaceInfo[] = [
    { ifIndex: 1, capability: f.InterfaceCapability.RSS, linkSpeed: 10_000_000_000n, family: 'ipv4', address: '192.168.1.10', port: 0 },
    { ifIndex: 2, capability: 0, linkSpeed: 1_000_000_000n, family: 'ipv6', address: 'fe80::1:2', port: 0, flowInfo: 0, scopeId: 3 },
    { ifIndex: 3, capability: 0, linkSpeed: 1n, family: 'ipv6', address: '::ffff:a00:1', port: 0, flowInfo: 0, scopeId: 0 },
  ];
  const b = f.encodeNetworkInterfaceInfo(list);
  assert.equal(b.length, 3 * 152);
  assert.equal(b.readUInt32LE(0), 152);
  assert.equal(b.readUInt32LE(304), 0);
  assert.equal(b.subarray(24, 32).toString('hex'), '02000000c0a8010a');
  assert.deepEqual(f.decodeNetworkInterfaceInfo(b), list);
  assert.equal(f.decodeNetworkInterfaceInfo(f.encodeNetworkInterfaceInfo([{ ...list[2]!, address: '::ffff:10.0.0.1' }]))[0]!.address, '::ffff:a00:1');
  assert.throws(() => f.decodeNetworkInterfaceInfo(b.subarray(0, 100)), WireError);
  assert.throws(() => f.encodeNetworkInterfaceInfo([{ ...list[0]!, address: '1.2.3' }]), WireError);
  assert.throws(() => f.encodeNetworkInterfaceInfo([{ ...list[1]!, address: '1:2:3:4:5:6:7:8:9::' }]), WireError);
});

test('copychunk, resume key, zero data, allocated ranges', () => {
  const key = Buffer.alloc(24, 5);
  const cc = { sourceKey: key, chunks: [{ sourceOffset: 0n, targetOffset: 100n, length: 4096 }] };
  const b = f.encodeCopyChunkCopy(cc);
  assert.equal(b.length, 32 + 24);
  assert.deepEqual(f.decodeCopyChunkCopy(b), cc);
  assert.deepEqual(f.decodeCopyChunkResponse(f.encodeCopyChunkResponse({ chunksWritten: 1, chunkBytesWritten: 0, totalBytesWritten: 4096 })), { chunksWritten: 1, chunkBytesWritten: 0, totalBytesWritten: 4096 });
  assert.deepEqual(f.decodeResumeKeyResponse(f.encodeResumeKeyResponse(key)).resumeKey, key);
  assert.deepEqual(f.decodeZeroDataInformation(f.encodeZeroDataInformation({ fileOffset: 1n, beyondFinalZero: 9n })), { fileOffset: 1n, beyondFinalZero: 9n });
  const ranges = [{ fileOffset: 0n, length: 10n }, { fileOffset: 100n, length: 5n }];
  assert.deepEqual(f.decodeAllocatedRanges(f.encodeAllocatedRanges(ranges)), ranges);
  const trunc = Buffer.from(b); trunc.writeUInt32LE(2, 24);
  assert.throws(() => f.decodeCopyChunkCopy(trunc), WireError);
  assert.throws(() => f.decodeAllocatedRanges(Buffer.alloc(10)), WireError);
});

test('DFS referral request/response encode and decode', () => {
  const req = { maxReferralLevel: 4, requestFileName: '\\srv\\dfsroot\\link' };
  assert.deepEqual(f.decodeDfsReferralRequest(f.encodeDfsReferralRequest(req)), req);
  const res: f.DfsReferralResponse = {
    pathConsumed: 34, referralHeaderFlags: f.DfsHeaderFlags.STORAGE_SERVERS,
    referrals: [
      { version: 4, serverType: 0, referralEntryFlags: f.DfsEntryFlags.TARGET_SET_BOUNDARY, timeToLive: 300, dfsPath: '\\srv\\dfsroot\\link', dfsAlternatePath: '\\srv\\dfsroot\\link', networkAddress: '\\other\\share' },
      { version: 4, serverType: 0, referralEntryFlags: 0, timeToLive: 300, dfsPath: '\\srv\\dfsroot\\link', dfsAlternatePath: '\\srv\\dfsroot\\link', networkAddress: '\\third\\share' },
    ],
  };
  assert.deepEqual(f.decodeDfsReferralResponse(f.encodeDfsReferralResponse(res)), res);
  // Hand-built v3 response: one root target. Entry at 8 (34 bytes), strings at 42.
  const p = Buffer.from('\\a\\b\0', 'utf16le');
  const t = Buffer.from('\\c\\d\0', 'utf16le');
  const v = Buffer.concat([hex('0a00 0100 03000000', '0300 2200 0100 0000 58020000', '2200 2200', (34 + p.length).toString(16).padStart(2, '0') + '00', '00'.repeat(16)), p, t]);
  const d = f.decodeDfsReferralResponse(v);
  assert.deepEqual(d.referrals[0], { version: 3, serverType: 1, referralEntryFlags: 0, timeToLive: 600, dfsPath: '\\a\\b', dfsAlternatePath: '\\a\\b', networkAddress: '\\c\\d' });
  assert.equal(d.pathConsumed, 10);
  // NameListReferral (domain referral): SpecialName + 2 expanded names.
  const sn = Buffer.from('\\dom\0', 'utf16le');
  const e1 = Buffer.from('\\dc1\0', 'utf16le');
  const e2 = Buffer.from('\\dc2\0', 'utf16le');
  const nl = Buffer.concat([hex('0000 0100 00000000', '0300 2200 0000 0200 58020000', '2200 0200', (34 + sn.length).toString(16).padStart(2, '0') + '00', '00'.repeat(16)), sn, e1, e2]);
  const dn = f.decodeDfsReferralResponse(nl).referrals[0]!;
  assert.equal(dn.specialName, '\\dom');
  assert.deepEqual(dn.expandedNames, ['\\dc1', '\\dc2']);
  const bad = Buffer.from(v); bad.writeUInt16LE(0x200, 8 + 12);
  assert.throws(() => f.decodeDfsReferralResponse(bad), WireError);
  const badSize = Buffer.from(v); badSize.writeUInt16LE(0x400, 10);
  assert.throws(() => f.decodeDfsReferralResponse(badSize), WireError);
});

test('CHANGE_NOTIFY round-trip and FILE_NOTIFY_INFORMATION entries', () => {
  const req = { flags: 1, outputBufferLength: 4096, fileId: { persistent: 1n, volatile: 2n }, completionFilter: 0x17 };
  assert.deepEqual(decodeChangeNotifyRequest(msgOf(encodeChangeNotifyRequest(req))), req);
  const entries = [{ action: NotifyAction.RENAMED_OLD_NAME, fileName: 'a.txt' }, { action: NotifyAction.RENAMED_NEW_NAME, fileName: 'dir\\b' }];
  const { buf, fits } = encodeNotifyEntries(entries, 1000);
  assert.ok(fits);
  assert.equal(buf.readUInt32LE(0), 24); // 12 + 10 -> 24 (4-byte aligned)
  assert.deepEqual(decodeNotifyEntries(decodeChangeNotifyResponse(msgOf(encodeChangeNotifyResponse({ buffer: buf }))).buffer), entries);
  assert.equal(encodeNotifyEntries(entries, 10).fits, false);
  const v = hex('00000000 01000000 02000000 7800');
  assert.deepEqual(decodeNotifyEntries(v), [{ action: 1, fileName: 'x' }]);
  assert.throws(() => decodeNotifyEntries(hex('00000000 01000000 08000000 7800')), WireError);
  assert.throws(() => decodeChangeNotifyRequest(msgOf(hex('2000 0100 00100000'))), WireError);
});
