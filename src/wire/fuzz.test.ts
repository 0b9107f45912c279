// Bounded robustness check: truncated and bit-flipped valid messages must either decode or throw
// WireError, never another exception type. Deterministic PRNG, a few thousand cases in total.
import test from 'node:test';
import assert from 'node:assert/strict';
import { WireError } from './buf.js';
import { msgOf } from './testutil.js';
import * as neg from './negotiate.js';
import * as cr from './create.js';
import * as cc from './create-contexts.js';
import * as qd from './query-directory.js';
import * as fd from './fscc-dir.js';
import * as sec from './security.js';
import * as fs from './fsctl.js';
import * as cn from './change-notify.js';
import * as io from './ioctl.js';
import * as er from './error.js';
import { FileInfoClass as C } from './constants.js';

let seed = 12345;
const rnd = (n: number) => { seed = (seed * 1103515245 + 12345) & 0x7fffffff; return seed % n; };

function mutate(valid: Buffer, decode: (b: Buffer) => unknown, rounds = 150): void {
  for (let i = 0; i < rounds; i++) {
    const b = Buffer.from(valid.subarray(0, i % 3 === 0 ? rnd(valid.length + 1) : valid.length));
    for (let k = 0; k < 3 && b.length; k++) b[rnd(b.length)] = rnd(256);
    try { decode(b); } catch (e) { assert.ok(e instanceof WireError, `${(e as Error).name}: ${(e as Error).message}`); }
  }
}

test('decoders only ever throw WireError on damaged input', () => {
  const fid = { persistent: 1n, volatile: 2n };
  mutate(msgOf(neg.encodeNegotiateRequest({ securityMode: 1, capabilities: 0, clientGuid: Buffer.alloc(16), dialects: [0x311], contexts: [
    { kind: 'preauth', hashAlgorithms: [1], salt: Buffer.alloc(32) }, { kind: 'encryption', ciphers: [2] }, { kind: 'netname', netName: 'x' }] })), neg.decodeNegotiateRequest);
  mutate(msgOf(cr.encodeCreateRequest({ securityFlags: 0, requestedOplockLevel: 0, impersonationLevel: 2, smbCreateFlags: 0n, desiredAccess: 1,
    fileAttributes: 0, shareAccess: 1, createDisposition: 1, createOptions: 0, name: 'abc',
    contexts: [{ name: 'MxAc', data: Buffer.alloc(0) }, { name: 'RqLs', data: cc.encodeLease({ version: 1, leaseKey: Buffer.alloc(16), leaseState: 1, leaseFlags: 0, leaseDuration: 0n }) }] })), (m) => {
    const r = cr.decodeCreateRequest(m);
    for (const c of r.contexts) if (c.name === 'RqLs') cc.decodeLease(c.data);
  });
  mutate(msgOf(qd.encodeQueryDirectoryRequest({ fileInformationClass: 37, flags: 0, fileIndex: 0, fileId: fid, fileName: '*', outputBufferLength: 100 })), qd.decodeQueryDirectoryRequest);
  const entries = fd.encodeDirEntries(C.FileIdBothDirectoryInformation, [
    { name: 'abc', shortName: 'ABC', fileIndex: 0, creationTime: 0n, lastAccessTime: 0n, lastWriteTime: 0n, changeTime: 0n, endOfFile: 0n, allocationSize: 0n, attributes: 0, eaSize: 0, fileId: 0n },
    { name: 'de', fileIndex: 0, creationTime: 0n, lastAccessTime: 0n, lastWriteTime: 0n, changeTime: 0n, endOfFile: 0n, allocationSize: 0n, attributes: 0, eaSize: 0, fileId: 0n }], 1000).buf;
  mutate(entries, (b) => fd.decodeDirEntries(C.FileIdBothDirectoryInformation, b));
  mutate(sec.encodeSecurityDescriptor({ control: 0, owner: 'S-1-5-32-544', group: 'S-1-1-0', dacl: { revision: 2, aces: [{ type: 0, flags: 0, mask: 1, sid: 'S-1-1-0' }] } }), sec.decodeSecurityDescriptor);
  mutate(fs.encodeDfsReferralResponse({ pathConsumed: 2, referralHeaderFlags: 0, referrals: [{ version: 4, serverType: 0, referralEntryFlags: 0, timeToLive: 1, dfsPath: '\\a', networkAddress: '\\b' }] }), fs.decodeDfsReferralResponse);
  for (const v of [1, 2, 3] as const) {
    mutate(fs.encodeDfsReferralResponse({ pathConsumed: 2, referralHeaderFlags: 0, referrals: [{ version: v, serverType: 0, referralEntryFlags: 0, timeToLive: 1, dfsPath: '\\a', networkAddress: '\\b' }] }, v), fs.decodeDfsReferralResponse);
  }
  mutate(fs.encodeDfsReferralRequestEx({ maxReferralLevel: 4, requestFileName: '\\a\\b', siteName: 's' }), fs.decodeDfsReferralRequestEx);
  mutate(fs.encodeNetworkInterfaceInfo([{ ifIndex: 1, capability: 0, linkSpeed: 1n, family: 'ipv4', address: '1.2.3.4' }]), fs.decodeNetworkInterfaceInfo);
  mutate(cn.encodeNotifyEntries([{ action: 1, fileName: 'a' }, { action: 2, fileName: 'b' }]).buf, cn.decodeNotifyEntries);
  mutate(msgOf(io.encodeIoctlResponse({ ctlCode: 1, fileId: fid, input: Buffer.alloc(0), output: Buffer.alloc(24), flags: 0 })), io.decodeIoctlResponse);
  mutate(msgOf(er.encodeErrorResponse({ errorContextCount: 1, errorData: er.encodeErrorContexts([{ errorId: 0, data: Buffer.alloc(5) }]) })), (m) => {
    const e = er.decodeErrorResponse(m);
    er.decodeErrorContexts(e.errorData, e.errorContextCount);
  });
});
