import test from 'node:test';
import assert from 'node:assert/strict';
import { WireError } from './buf.js';
import { encodeCloseRequest, decodeCloseRequest, encodeCloseResponse, decodeCloseResponse, EMPTY_CLOSE_RESPONSE } from './close.js';
import { encodeFlushRequest, decodeFlushRequest, encodeFlushResponse, decodeFlushResponse } from './flush.js';
import {
  encodeReadRequest, decodeReadRequest, encodeReadResponse, decodeReadResponse, writeReadResponseHeader,
  READ_DATA_OFFSET, READ_RESPONSE_HEADER_SIZE,
} from './read.js';
import { encodeWriteRequest, decodeWriteRequest, encodeWriteResponse, decodeWriteResponse } from './write.js';
import { encodeLockRequest, decodeLockRequest, encodeLockResponse, decodeLockResponse } from './lock.js';
import { encodeCancelRequest, decodeCancelRequest } from './cancel.js';
import {
  encodeOplockBreak, encodeLeaseBreakNotification, encodeLeaseBreakAck, decodeOplockBreak,
  decodeLeaseBreakNotification, decodeLeaseBreakAck,
} from './oplock-break.js';
import { encodeHeader } from './header.js';
import { msgOf, hex } from './testutil.js';

const fid = { persistent: 1n, volatile: 0xffff0000ffffn };

test('CLOSE and FLUSH round-trip', () => {
  assert.deepEqual(decodeCloseRequest(msgOf(encodeCloseRequest({ flags: 1, fileId: fid }))), { flags: 1, fileId: fid });
  const res = { flags: 1, creationTime: 1n, lastAccessTime: 2n, lastWriteTime: 3n, changeTime: 4n, allocationSize: 5n, endOfFile: 6n, fileAttributes: 0x20 };
  assert.deepEqual(decodeCloseResponse(msgOf(encodeCloseResponse(res))), res);
  assert.equal(encodeCloseResponse(EMPTY_CLOSE_RESPONSE).length, 60);
  const v = hex('1800 0100 00000000 0100000000000000 0200000000000000');
  assert.deepEqual(decodeCloseRequest(msgOf(v)), { flags: 1, fileId: { persistent: 1n, volatile: 2n } });
  assert.throws(() => decodeCloseRequest(msgOf(v.subarray(0, 20))), WireError);
  assert.deepEqual(decodeFlushRequest(msgOf(encodeFlushRequest({ fileId: fid }))), { fileId: fid });
  assert.deepEqual(decodeFlushResponse(msgOf(encodeFlushResponse())), {});
  assert.throws(() => decodeFlushRequest(msgOf(hex('1900 0000 00000000'))), WireError);
});

test('READ round-trip, zero-copy header, hand-built vector', () => {
  const req = { padding: 0x50, flags: 0, length: 65536, offset: 4096n, fileId: fid, minimumCount: 0, channel: 0, remainingBytes: 0, readChannelInfo: Buffer.alloc(0) };
  const rb = encodeReadRequest(req);
  assert.equal(rb.length, 49);
  assert.deepEqual(decodeReadRequest(msgOf(rb)), req);
  const data = Buffer.from('hello world');
  const m = msgOf(encodeReadResponse({ data, dataRemaining: 0 }));
  const d = decodeReadResponse(m);
  assert.deepEqual(d.data, data);
  assert.equal(d.data.buffer, m.buffer); // a view
  const out = Buffer.alloc(64 + READ_RESPONSE_HEADER_SIZE + 3);
  encodeHeader({ command: 8 }).copy(out);
  out.write('abc', READ_DATA_OFFSET);
  writeReadResponseHeader(out, 64, 3, 7);
  assert.deepEqual(decodeReadResponse(out), { data: Buffer.from('abc'), dataRemaining: 7, flags: 0 });
  const v = hex('1100 50 00 02000000 00000000 00000000', '6869');
  assert.equal(decodeReadResponse(msgOf(v)).data.toString(), 'hi');
  const far = Buffer.from(v); far.writeUInt32LE(3, 4);
  assert.throws(() => decodeReadResponse(msgOf(far)), WireError);
  assert.throws(() => decodeReadRequest(msgOf(rb.subarray(0, 40))), WireError);
});

test('WRITE round-trip with view data and channel info', () => {
  const req = { offset: 10n, fileId: fid, channel: 0, remainingBytes: 0, flags: 1, data: Buffer.from('payload'), writeChannelInfo: Buffer.alloc(0) };
  const m = msgOf(encodeWriteRequest(req));
  assert.equal(m.readUInt16LE(66), 112);
  const d = decodeWriteRequest(m);
  assert.deepEqual(d, req);
  assert.equal(d.data.buffer, m.buffer);
  const rdma = { ...req, channel: 1, writeChannelInfo: Buffer.alloc(16, 9) };
  assert.deepEqual(decodeWriteRequest(msgOf(encodeWriteRequest(rdma))), rdma);
  assert.deepEqual(decodeWriteResponse(msgOf(encodeWriteResponse({ count: 7, remaining: 0 }))), { count: 7, remaining: 0 });
  const v = hex('3100 7000 03000000 0000000000000000 01000000000000000200000000000000 00000000 00000000 0000 0000 00000000', '414243');
  assert.equal(decodeWriteRequest(msgOf(v)).data.toString(), 'ABC');
  const trunc = Buffer.from(v); trunc.writeUInt32LE(4, 4);
  assert.throws(() => decodeWriteRequest(msgOf(trunc)), WireError);
});

test('LOCK round-trip and vector', () => {
  const req = { lockSequenceNumber: 3, lockSequenceIndex: 5, fileId: fid, locks: [{ offset: 0n, length: 10n, flags: 0x12 }, { offset: 10n, length: 1n, flags: 4 }] };
  assert.deepEqual(decodeLockRequest(msgOf(encodeLockRequest(req))), req);
  const v = hex('3000 0100 53000000 01000000000000000200000000000000 0a00000000000000 1400000000000000 02000000 00000000');
  const d = decodeLockRequest(msgOf(v));
  assert.deepEqual(d.locks, [{ offset: 10n, length: 20n, flags: 2 }]);
  assert.equal(d.lockSequenceNumber, 3);
  assert.equal(d.lockSequenceIndex, 5);
  const two = Buffer.from(v); two.writeUInt16LE(2, 2);
  assert.throws(() => decodeLockRequest(msgOf(two)), WireError);
  assert.deepEqual(decodeLockResponse(msgOf(encodeLockResponse())), {});
  assert.deepEqual(decodeCancelRequest(msgOf(encodeCancelRequest())), {});
});

test('OPLOCK_BREAK oplock and lease forms', () => {
  assert.deepEqual(decodeOplockBreak(msgOf(encodeOplockBreak({ oplockLevel: 1, fileId: fid }))), { kind: 'oplock', oplockLevel: 1, fileId: fid });
  const n = { newEpoch: 2, flags: 1, leaseKey: Buffer.alloc(16, 1), currentLeaseState: 7, newLeaseState: 1, breakReason: 0, accessMaskHint: 0, shareMaskHint: 0 };
  assert.deepEqual(decodeLeaseBreakNotification(msgOf(encodeLeaseBreakNotification(n))), n);
  const a = { flags: 0, leaseKey: Buffer.alloc(16, 2), leaseState: 1, leaseDuration: 0n };
  assert.deepEqual(decodeLeaseBreakAck(msgOf(encodeLeaseBreakAck(a))), a);
  assert.equal(decodeOplockBreak(msgOf(encodeLeaseBreakAck(a))).kind, 'lease-ack');
  const v = hex('2400 0000 00000000', 'cc'.repeat(16), '01000000 0000000000000000');
  const d = decodeOplockBreak(msgOf(v));
  assert.equal(d.kind, 'lease-ack');
  assert.throws(() => decodeOplockBreak(msgOf(hex('2000 0000'))), WireError);
  assert.throws(() => decodeOplockBreak(msgOf(v.subarray(0, 30))), WireError);
});
