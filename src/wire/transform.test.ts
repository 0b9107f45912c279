import { test } from 'node:test';
import assert from 'node:assert/strict';
import { WireError } from './buf.js';
import { decodeTransformHeader, encodeTransformHeader, isTransformHeader, transformSessionId, TRANSFORM_HEADER_SIZE } from './transform.js';

// Transformed WRITE request from "SMB 3.1.1 Encryption in Windows 10", appendix A.1 (header only).
const HDR = Buffer.from(
  'FD534D42BD73D97D2BC9001BCAFAC0FDFF5FEEBCC7D6822D269CAF48904C664C0000000087000000' + '000001002500000000100000',
  'hex',
);

test('transform: decode the published header', () => {
  assert.equal(HDR.length, TRANSFORM_HEADER_SIZE);
  assert.ok(isTransformHeader(HDR));
  const h = decodeTransformHeader(HDR);
  assert.equal(h.signature.toString('hex'), 'bd73d97d2bc9001bcafac0fdff5feebc');
  assert.equal(h.nonce.toString('hex'), 'c7d6822d269caf48904c664c00000000');
  assert.equal(h.originalMessageSize, 0x87);
  assert.equal(h.flags, 1);
  assert.equal(h.sessionId, 0x100000000025n);
  assert.equal(transformSessionId(HDR), 0x100000000025n);
  assert.deepEqual(encodeTransformHeader(h), HDR);
});

test('transform: malformed input raises WireError', () => {
  assert.throws(() => decodeTransformHeader(HDR.subarray(0, 51)), WireError);
  const smb2 = Buffer.from(HDR);
  smb2[0] = 0xfe;
  assert.equal(isTransformHeader(smb2), false);
  assert.throws(() => decodeTransformHeader(smb2), WireError);
  assert.throws(() => transformSessionId(Buffer.alloc(3)), WireError);
  assert.equal(isTransformHeader(Buffer.alloc(0)), false);
});
