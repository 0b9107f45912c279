import test from 'node:test';
import assert from 'node:assert/strict';
import { WireError } from './buf.js';
import {
  encodeCreateRequest, decodeCreateRequest, encodeCreateResponse, decodeCreateResponse,
  encodeCreateContexts, decodeCreateContexts, type CreateRequest, type CreateResponse,
} from './create.js';
import * as cc from './create-contexts.js';
import { msgOf, hex } from './testutil.js';

const fid = { persistent: 0x1122n, volatile: 0x3344n };
const key = Buffer.alloc(16, 0xab);

test('CREATE request/response round-trip with contexts', () => {
  const req: CreateRequest = {
    securityFlags: 0, requestedOplockLevel: 0xff, impersonationLevel: 2, smbCreateFlags: 0n,
    desiredAccess: 0x12019f, fileAttributes: 0x80, shareAccess: 7, createDisposition: 3, createOptions: 0x40,
    name: 'dir\\file.txt',
    contexts: [
      { name: 'MxAc', data: cc.encodeMxAcRequest() },
      { name: 'QFid', data: Buffer.alloc(0) },
      { name: 'RqLs', data: cc.encodeLease({ version: 2, leaseKey: key, leaseState: 7, leaseFlags: 0, leaseDuration: 0n, parentLeaseKey: Buffer.alloc(16), epoch: 1 }) },
      { name: 'DH2Q', data: cc.encodeDH2QRequest({ timeout: 0, flags: 0, createGuid: key }) },
      { name: cc.CreateContextName.POSIX, data: cc.encodePosixCreateRequest(0o644) },
    ],
  };
  const m = msgOf(encodeCreateRequest(req));
  assert.equal(m.readUInt32LE(64 + 48) % 8, 0);
  const d = decodeCreateRequest(m);
  assert.deepEqual(d, req);
  assert.deepEqual(cc.decodeLease(d.contexts[2]!.data).epoch, 1);
  assert.deepEqual(cc.decodeDH2QRequest(d.contexts[3]!.data).createGuid, key);
  assert.equal(cc.decodePosixCreateRequest(d.contexts[4]!.data).mode, 0o644);

  const res: CreateResponse = {
    oplockLevel: 0xff, flags: 0, createAction: 2, creationTime: 1n, lastAccessTime: 2n, lastWriteTime: 3n, changeTime: 4n,
    allocationSize: 4096n, endOfFile: 5n, fileAttributes: 0x20, fileId: fid,
    contexts: [
      { name: 'MxAc', data: cc.encodeMxAcResponse({ queryStatus: 0, maximalAccess: 0x1f01ff }) },
      { name: 'QFid', data: cc.encodeQFidResponse(cc.makeDiskFileId(77n, 1n)) },
      { name: 'RqLs', data: cc.encodeLease({ version: 1, leaseKey: key, leaseState: 3, leaseFlags: 0, leaseDuration: 0n }) },
    ],
  };
  const rm = msgOf(encodeCreateResponse(res));
  assert.equal(rm.readUInt32LE(64 + 80), 152);
  const rd = decodeCreateResponse(rm);
  assert.deepEqual(rd, res);
  assert.deepEqual(cc.decodeMxAcResponse(rd.contexts[0]!.data), { queryStatus: 0, maximalAccess: 0x1f01ff });
  assert.equal(cc.decodeQFidResponse(rd.contexts[1]!.data).diskFileId.readBigUInt64LE(0), 77n);
  assert.equal(cc.decodeLease(rd.contexts[2]!.data).version, 1);
  const none = encodeCreateResponse({ ...res, contexts: [] });
  assert.equal(none.length, 89);
  assert.deepEqual(decodeCreateResponse(msgOf(none)).contexts, []);
});

test('hand-built CREATE request vector (name + MxAc + QFid chain) decodes', () => {
  const name = Buffer.from('a.txt', 'utf16le');
  const body = Buffer.concat([hex(
    '3900 00 00 02000000 0000000000000000 0000000000000000',
    '89001200 80000000 07000000 01000000 40000000',
    '7800 0a00 88000000 2c000000'), name, hex('000000000000'),
    hex('18000000 1000 0400 0000 0000 00000000', Buffer.from('MxAc').toString('hex'), '00000000'),
    hex('00000000 1000 0400 0000 0000 00000000', Buffer.from('QFid').toString('hex'))]);
  const d = decodeCreateRequest(msgOf(body));
  assert.equal(d.name, 'a.txt');
  assert.equal(d.desiredAccess, 0x120089);
  assert.equal(d.createDisposition, 1);
  assert.deepEqual(d.contexts.map((c) => c.name), ['MxAc', 'QFid']);
  assert.deepEqual(decodeCreateContexts(encodeCreateContexts(d.contexts)), d.contexts);
});

test('create context payload helpers', () => {
  assert.deepEqual(cc.decodeMxAcRequest(cc.encodeMxAcRequest(99n)), { timestamp: 99n });
  assert.equal(cc.decodeAlSi(cc.encodeAlSi(8192n)), 8192n);
  assert.equal(cc.decodeTWrp(cc.encodeTWrp(5n)), 5n);
  assert.deepEqual(cc.decodeDHnC(cc.encodeDHnC(fid)).fileId, fid);
  assert.equal(cc.encodeDHnQRequest().length, 16);
  assert.deepEqual(cc.decodeDH2C(cc.encodeDH2C({ fileId: fid, createGuid: key, flags: 2 })), { fileId: fid, createGuid: key, flags: 2 });
  assert.deepEqual(cc.decodeDH2QResponse(cc.encodeDH2QResponse({ timeout: 60000, flags: 0 })), { timeout: 60000, flags: 0 });
  const eas = [{ flags: 0, name: 'user.a', value: Buffer.from('xyz') }, { flags: 0x80, name: 'B', value: Buffer.alloc(0) }];
  assert.deepEqual(cc.decodeExtA(cc.encodeExtA(eas)), eas);
  assert.equal(cc.encodeLease({ version: 2, leaseKey: key, leaseState: 1, leaseFlags: 0, leaseDuration: 0n }).length, 52);
  assert.throws(() => cc.decodeLease(Buffer.alloc(40)), WireError);
  assert.throws(() => cc.decodeMxAcResponse(Buffer.alloc(4)), WireError);
});

test('malformed CREATE throws WireError', () => {
  const m = msgOf(encodeCreateRequest({
    securityFlags: 0, requestedOplockLevel: 0, impersonationLevel: 2, smbCreateFlags: 0n, desiredAccess: 1,
    fileAttributes: 0, shareAccess: 1, createDisposition: 1, createOptions: 0, name: 'x',
    contexts: [{ name: 'MxAc', data: Buffer.alloc(0) }, { name: 'AlSi', data: cc.encodeAlSi(1n) }],
  }));
  assert.throws(() => decodeCreateRequest(m.subarray(0, 100)), WireError);
  const bad = Buffer.from(m); bad.writeUInt16LE(56, 64);
  assert.throws(() => decodeCreateRequest(bad), WireError);
  const far = Buffer.from(m); far.writeUInt32LE(m.length, 64 + 48);
  assert.throws(() => decodeCreateRequest(far), WireError);
  const ctxOff = m.readUInt32LE(64 + 48);
  const next = Buffer.from(m); next.writeUInt32LE(0x1000, ctxOff);
  assert.throws(() => decodeCreateRequest(next), WireError);
  const data = Buffer.from(m); data.writeUInt32LE(0x100, ctxOff + 24 + 12);
  assert.throws(() => decodeCreateRequest(data), WireError);
  const odd = Buffer.from(m); odd.writeUInt16LE(3, 64 + 46);
  assert.throws(() => decodeCreateRequest(odd), WireError);
});
