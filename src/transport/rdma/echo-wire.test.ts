import { test } from 'node:test';
import assert from 'node:assert/strict';
import { checkPattern, decodeReply, decodeRequest, encodeReply, encodeRequest, fillPattern, Op, SEND_WITH_INV } from './echo-wire.js';

test('ECHO-REQ / ECHO-REP bytes', () => {
  const req = encodeRequest({ op: Op.ECHO, messageId: 7, echoFactor: 2, maxResponse: 0x100, data: Buffer.from('ab') });
  // opcode, message_id, echo_factor (le16), data_len, max_response, data
  assert.equal(req.toString('hex'), '01000000' + '07000000' + '0200' + '02000000' + '00010000' + '6162');
  assert.deepEqual(decodeRequest(req), { op: Op.ECHO, messageId: 7, echoFactor: 2, maxResponse: 256, data: Buffer.from('ab') });
  const rep = encodeReply({ op: Op.ECHO, messageId: 7, status: 0, data: Buffer.from('abab') });
  assert.equal(rep.toString('hex'), '01000080' + '07000000' + '00000000' + '04000000' + '61626162');
  assert.deepEqual(decodeReply(rep), { op: Op.ECHO, messageId: 7, status: 0, data: Buffer.from('abab') });
});

test('SETUP-LBUF and READ-LBUF-TO-DESCS bytes', () => {
  const s = encodeRequest({ op: Op.SETUP_LBUF, messageId: 1, lbufIdx: 3, size: 0x1000, nonce: 0x1122334455667788n });
  assert.equal(s.toString('hex'), '02000000' + '01000000' + '03000000' + '00100000' + '8877665544332211');
  const r = encodeRequest({ op: Op.READ_LBUF_TO_DESCS, messageId: 2, lbufIdx: 3, flags: SEND_WITH_INV, offset: 8, length: 16,
    descs: [{ offset: 0x10n, token: 0xabcd, length: 16 }] });
  // lbuf_idx, flags, offset, length, num_descs, DESCRIPTOR {le64 iova, le32 rkey, le32 length}
  assert.equal(r.toString('hex'), '03000000' + '02000000' + '03000000' + '01000000' + '08000000' + '10000000' + '01000000'
    + '1000000000000000' + 'cdab0000' + '10000000');
  assert.deepEqual(decodeRequest(r), { op: Op.READ_LBUF_TO_DESCS, messageId: 2, lbufIdx: 3, flags: 1, offset: 8, length: 16, descs: [{ offset: 16n, token: 0xabcd, length: 16 }] });
  const w = encodeReply({ op: Op.WRITE_DESCS_TO_LBUF, messageId: 2, status: 0xc000000d, nwritten: 0 });
  assert.equal(w.toString('hex'), '04000080' + '02000000' + '0d0000c0' + '00000000');
});

test('truncated and hostile requests are WireErrors', () => {
  const r = encodeRequest({ op: Op.WRITE_DESCS_TO_LBUF, messageId: 2, lbufIdx: 0, flags: 0, offset: 0, length: 16, descs: [{ offset: 0n, token: 1, length: 16 }] });
  for (let n = 0; n < r.length; n++) assert.throws(() => decodeRequest(r.subarray(0, n)), /truncated/);
  const huge = Buffer.from(r);
  huge.writeUInt32LE(0xffffffff, 24); // num_descs
  assert.throws(() => decodeRequest(huge), /descriptors/);
  const echo = encodeRequest({ op: Op.ECHO, messageId: 1, echoFactor: 1, maxResponse: 1, data: Buffer.alloc(4) });
  echo.writeUInt32LE(1 << 30, 10); // data_len beyond the message
  assert.throws(() => decodeRequest(echo), /truncated/);
  assert.throws(() => decodeRequest(Buffer.from('0900000001000000', 'hex')), /unknown opcode/);
});

test('LBUF pattern: nonce ^ ofs as little-endian u64s', () => {
  const b = Buffer.alloc(20);
  fillPattern(b, 0x0102030405060708n);
  assert.equal(b.readBigUInt64LE(0), 0x0102030405060708n);
  assert.equal(b.readBigUInt64LE(8), 0x0102030405060708n ^ 8n);
  assert.equal(b.subarray(16).toString('hex'), Buffer.from([0x08 ^ 16, 0x07, 0x06, 0x05]).toString('hex'));
  assert.equal(checkPattern(b, 0x0102030405060708n), -1);
  // a piece at offset 8 of the LBUF
  const part = Buffer.alloc(8);
  fillPattern(part, 0xffn, 8);
  assert.equal(part.readBigUInt64LE(0), 0xffn ^ 8n);
  assert.equal(checkPattern(part, 0xffn, 8), -1);
  b[13] ^= 1;
  assert.equal(checkPattern(b, 0x0102030405060708n), 8);
  b[13] ^= 1;
  b[18] ^= 1;
  assert.equal(checkPattern(b, 0x0102030405060708n), 18);
});
