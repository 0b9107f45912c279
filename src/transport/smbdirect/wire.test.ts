import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  decodeBufferDescriptors, decodeDataTransfer, decodeNegotiateRequest, decodeNegotiateResponse, encodeBufferDescriptors,
  encodeDataHeader, encodeNegotiateRequest, encodeNegotiateResponse,
} from './wire.js';

// MS-SMBD 4.1 Establishing a Connection: the example negotiate request and response
const REQ = '0001' + '0001' + '0000' + '0a00' + '00040000' + '00040000' + '00000200';
const RESP = '0001' + '0001' + '0001' + '0000' + '0a00' + '0a00' + '00000000' + '00001000' + '00040000' + '00040000' + '00000200';

test('negotiate request and response: the MS-SMBD 4.1 example', () => {
  const req = { minVersion: 0x100, maxVersion: 0x100, creditsRequested: 10, preferredSendSize: 1024, maxReceiveSize: 1024, maxFragmentedSize: 131072 };
  assert.equal(encodeNegotiateRequest(req).toString('hex'), REQ);
  assert.deepEqual(decodeNegotiateRequest(Buffer.from(REQ, 'hex')), req);
  const resp = { minVersion: 0x100, maxVersion: 0x100, negotiatedVersion: 0x100, creditsRequested: 10, creditsGranted: 10, status: 0,
    maxReadWriteSize: 1048576, preferredSendSize: 1024, maxReceiveSize: 1024, maxFragmentedSize: 131072 };
  assert.equal(encodeNegotiateResponse(resp).toString('hex'), RESP);
  assert.deepEqual(decodeNegotiateResponse(Buffer.from(RESP, 'hex')), resp);
  assert.throws(() => decodeNegotiateRequest(Buffer.from(REQ, 'hex').subarray(0, 19)));
  assert.throws(() => decodeNegotiateResponse(Buffer.from(RESP, 'hex').subarray(0, 31)));
});

test('data transfer: header bytes, empty message, 3.1.5.8 checks', () => {
  const h = encodeDataHeader({ creditsRequested: 255, creditsGranted: 3, flags: 1, remainingDataLength: 100 }, 5);
  assert.equal(h.toString('hex'), 'ff00' + '0300' + '0100' + '0000' + '64000000' + '18000000' + '05000000' + '00000000');
  const msg = Buffer.concat([h, Buffer.from('hello')]);
  const d = decodeDataTransfer(msg, 1 << 20);
  assert.equal(d.data.toString(), 'hello');
  assert.equal(d.remainingDataLength, 100);
  const empty = encodeDataHeader({ creditsRequested: 1, creditsGranted: 0, flags: 0, remainingDataLength: 0 }, 0);
  assert.equal(empty.length, 20);
  assert.equal(decodeDataTransfer(empty, 1 << 20).data.length, 0);

  assert.throws(() => decodeDataTransfer(msg.subarray(0, 19), 1 << 20), /at least 20/);
  const noCredit = Buffer.from(msg); noCredit.writeUInt16LE(0, 0);
  assert.throws(() => decodeDataTransfer(noCredit, 1 << 20), /CreditsRequested is 0/);
  const odd = Buffer.from(msg); odd.writeUInt32LE(20, 12);
  assert.throws(() => decodeDataTransfer(odd, 1 << 20), /aligned/);
});

test('data transfer: misaligned offset, data past the end, too large in total', () => {
  const msg = Buffer.concat([encodeDataHeader({ creditsRequested: 1, creditsGranted: 0, flags: 0, remainingDataLength: 0 }, 8), Buffer.alloc(8)]);
  const mis = Buffer.from(msg); mis.writeUInt32LE(28, 12);
  assert.throws(() => decodeDataTransfer(mis, 1 << 20), /aligned/);
  const past = Buffer.from(msg); past.writeUInt32LE(9, 16);
  assert.throws(() => decodeDataTransfer(past, 1 << 20), /beyond/);
  const big = Buffer.from(msg); big.writeUInt32LE(200000, 8);
  assert.throws(() => decodeDataTransfer(big, 131072), /MaxFragmentedSize/);
});

test('buffer descriptor V1 list', () => {
  const b = encodeBufferDescriptors([{ offset: 0x1000n, token: 0x11223344, length: 0x10000 }]);
  assert.equal(b.toString('hex'), '0010000000000000' + '44332211' + '00000100');
  assert.deepEqual(decodeBufferDescriptors(b), [{ offset: 0x1000n, token: 0x11223344, length: 0x10000 }]);
  assert.throws(() => decodeBufferDescriptors(b.subarray(0, 15)));
  assert.throws(() => decodeBufferDescriptors(Buffer.alloc(0)));
});
