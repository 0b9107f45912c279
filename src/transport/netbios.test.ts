import { test } from 'node:test';
import assert from 'node:assert/strict';
import { decodeNetbiosName, decodeSessionRequest, encodeNetbiosName, encodeSessionRequest, negativeResponse, positiveResponse } from './netbios.js';

test('first-level encoding: the RFC 1001 14.1 example "FRED"', () => {
  const b = encodeNetbiosName('Fred');
  assert.equal(b[0], 32);
  assert.equal(b.subarray(1, 33).toString('latin1'), 'EGFCEFEECACACACACACACACACACACACA');
  assert.equal(b[33], 0);
  assert.deepEqual(decodeNetbiosName(b, 0), { name: 'FRED', suffix: 0x20, next: 34 });
});

test('session request / responses (RFC 1002 4.3.2-4.3.4)', () => {
  const req = encodeSessionRequest('SERVER', 'CLIENT');
  assert.equal(req[0], 0x81);
  assert.equal(req.readUInt16BE(2), 68);
  assert.deepEqual(decodeSessionRequest(req.subarray(4)), { called: 'SERVER', calling: 'CLIENT' });
  assert.deepEqual([...positiveResponse()], [0x82, 0, 0, 0]);
  assert.deepEqual([...negativeResponse(0x8f)], [0x83, 0, 0, 1, 0x8f]);
  assert.throws(() => decodeSessionRequest(req.subarray(4, 40)));
  const bad = Buffer.from(req.subarray(4));
  bad[5] = 0x20; // not 'A'..'P'
  assert.throws(() => decodeSessionRequest(bad), /encoding/);
});
